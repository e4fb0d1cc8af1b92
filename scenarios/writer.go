package scenarios

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/raftint"
)

// writeInterval paces the writer once a write has succeeded; failed writes
// are retried as soon as a leader is known.
const writeInterval = 10 * time.Millisecond

// ack is one write that a leader acknowledged.
type ack struct {
	Key, Value, Node string
	Index            uint64
	At               time.Time
}

// writer writes unique keys through whichever allowed node is leader, as a
// client on one side of a partition would, and records every acknowledged
// write with the time its commit returned.
type writer struct {
	c       cluster.Cluster
	allowed func(id string) bool
	prefix  string
	timeout time.Duration

	mu       sync.Mutex
	acks     []ack
	failures int
	first    chan struct{}
	stop     chan struct{}
	done     chan struct{}
}

func startWriter(c cluster.Cluster, prefix string, timeout time.Duration, allowed func(string) bool) *writer {
	w := &writer{
		c: c, allowed: allowed, prefix: prefix, timeout: timeout,
		first: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go w.run()
	return w
}

func (w *writer) run() {
	defer close(w.done)
	tl := w.c.Timeline()
	for n := 0; ; n++ {
		select {
		case <-w.stop:
			return
		default:
		}
		if w.writeOnce(n) {
			w.pause(nil, writeInterval)
			continue
		}
		w.pause(tl, writeInterval)
	}
}

// writeOnce tries one write and reports whether it was acknowledged.
func (w *writer) writeOnce(n int) bool {
	leader := w.leader()
	if leader == "" {
		return false
	}
	key := fmt.Sprintf("%s-%06d", w.prefix, n)
	value := fmt.Sprint(n)
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	index, err := w.c.Put(ctx, leader, key, value)
	cancel()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.failures++
		return false
	}
	at := time.Now()
	w.acks = append(w.acks, ack{Key: key, Value: value, Node: leader, Index: index, At: at})
	w.c.Timeline().Record(raftint.Event{At: at, Kind: raftint.EventWrite, Node: leader, Index: index, Detail: key})
	if len(w.acks) == 1 {
		close(w.first)
	}
	return true
}

func (w *writer) leader() string {
	for _, id := range w.c.Nodes() {
		if !w.allowed(id) {
			continue
		}
		if s, err := w.c.Status(id); err == nil && s.State == "Leader" {
			return id
		}
	}
	return ""
}

// pause waits for d, or for the next timeline event when tl is set, so a
// new leader is tried as soon as raft reports it.
func (w *writer) pause(tl *raftint.Timeline, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if tl != nil {
		seq := tl.LastSeq()
		go func() {
			select {
			case <-w.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		_, _ = tl.Wait(ctx, seq, func(raftint.Event) bool { return true })
		return
	}
	select {
	case <-ctx.Done():
	case <-w.stop:
	}
}

// Stop ends the writer and waits for its last write to return.
func (w *writer) Stop() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// Acks returns every acknowledged write.
func (w *writer) Acks() []ack {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]ack(nil), w.acks...)
}

// Failures returns how many writes failed.
func (w *writer) Failures() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failures
}
