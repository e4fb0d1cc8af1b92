package bench

import (
	"context"
	"time"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/raftint"
)

// writerPause bounds the wait between two attempts when no timeline event
// arrives, as the scenario writer's pause does.
const writerPause = 10 * time.Millisecond

// firstWriter is the client side of the crash measurement, built like the
// writer of the leader-isolation scenario. It writes through whichever node
// other than the excluded one is leader. It retries at once when the
// timeline records an event, and otherwise every writerPause. It records
// its acknowledged write as an EventWrite stamped when the commit returned,
// and then stops.
type firstWriter struct {
	c        cluster.Cluster
	excluded string
	key      string
	timeout  time.Duration
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{}
}

func startFirstWriter(c cluster.Cluster, excluded, key string, timeout time.Duration) *firstWriter {
	ctx, cancel := context.WithCancel(context.Background())
	w := &firstWriter{c: c, excluded: excluded, key: key, timeout: timeout, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go w.run()
	return w
}

func (w *firstWriter) run() {
	defer close(w.done)
	tl := w.c.Timeline()
	for w.ctx.Err() == nil {
		seq := tl.LastSeq()
		if w.tryWrite() {
			return
		}
		wait, cancel := context.WithTimeout(w.ctx, writerPause)
		_, _ = tl.Wait(wait, seq, func(raftint.Event) bool { return true })
		cancel()
	}
}

// tryWrite writes once through the current leader, if it is allowed, and
// reports whether the write was acknowledged.
func (w *firstWriter) tryWrite() bool {
	leader := ""
	for _, id := range w.c.Nodes() {
		if id == w.excluded {
			continue
		}
		if s, err := w.c.Status(id); err == nil && s.State == "Leader" {
			leader = id
			break
		}
	}
	if leader == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(w.ctx, w.timeout)
	defer cancel()
	index, err := w.c.Put(ctx, leader, w.key, "written")
	if err != nil {
		return false
	}
	w.c.Timeline().Record(raftint.Event{At: time.Now(), Kind: raftint.EventWrite, Node: leader, Index: index, Detail: w.key})
	return true
}

// Stop ends the writer and waits for its goroutine. It is idempotent.
func (w *firstWriter) Stop() {
	w.cancel()
	<-w.done
}
