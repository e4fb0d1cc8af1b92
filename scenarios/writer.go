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
	prefix  string
	timeout time.Duration

	mu       sync.Mutex
	allowed  func(id string) bool
	acks     []ack
	failures int
	notify   chan struct{} // closed and replaced on every ack
	stop     chan struct{}
	done     chan struct{}
}

func startWriter(c cluster.Cluster, prefix string, timeout time.Duration, allowed func(string) bool) *writer {
	w := &writer{
		c: c, allowed: allowed, prefix: prefix, timeout: timeout,
		notify: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{}),
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

// setAllowed changes the nodes the writer may write through.
func (w *writer) setAllowed(allowed func(string) bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.allowed = allowed
}

// writeOnce tries one write and reports whether it was acknowledged.
func (w *writer) writeOnce(n int) bool {
	leader := w.leader()
	if leader == "" {
		w.mu.Lock()
		w.failures++
		w.mu.Unlock()
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
	close(w.notify)
	w.notify = make(chan struct{})
	return true
}

func (w *writer) leader() string {
	w.mu.Lock()
	allowed := w.allowed
	w.mu.Unlock()
	for _, id := range w.c.Nodes() {
		if !allowed(id) {
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
	if tl == nil {
		select {
		case <-ctx.Done():
		case <-w.stop:
		}
		return
	}
	seq := tl.LastSeq()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-w.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	_, _ = tl.Wait(ctx, seq, func(raftint.Event) bool { return true })
	cancel()
	<-stopped
}

// waitAckAfter returns the first write acknowledged after t, waiting until
// one arrives or ctx ends.
func (w *writer) waitAckAfter(ctx context.Context, t time.Time) (ack, bool) {
	for {
		w.mu.Lock()
		for _, a := range w.acks {
			if a.At.After(t) {
				w.mu.Unlock()
				return a, true
			}
		}
		notify := w.notify
		w.mu.Unlock()
		select {
		case <-notify:
		case <-ctx.Done():
			return ack{}, false
		}
	}
}

// Stop ends the writer and waits for its last write to return. It is
// idempotent but not safe to call from two goroutines at once.
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

// Failures returns how many write attempts failed or found no leader.
func (w *writer) Failures() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failures
}
