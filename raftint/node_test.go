package raftint

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	bolterrors "go.etcd.io/bbolt/errors"
)

// recordingSink is a LeadershipSink that keeps every call.
type recordingSink struct {
	mu    sync.Mutex
	calls []sinkCall
}

type sinkCall struct {
	term   uint64
	leader string // "" for LeadershipLost
}

func (s *recordingSink) SetLeadership(term uint64, leaderID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, sinkCall{term: term, leader: leaderID})
}

func (s *recordingSink) LeadershipLost(term uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, sinkCall{term: term})
}

func (s *recordingSink) snapshot() []sinkCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkCall(nil), s.calls...)
}

// openSingleLeader opens and bootstraps a one-node cluster and waits until
// the node leads.
func openSingleLeader(t *testing.T, sink LeadershipSink) *Node {
	t.Helper()
	node := openNode(t, nodeOptions{id: "n1", dir: t.TempDir(), sink: sink, logger: newTestLogger(t)})
	if err := node.Bootstrap(nil); err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	waitForEvent(t, node.Timeline(), 0, isLeaderState)
	return node
}

func TestSingleNodeBecomesLeader(t *testing.T) {
	checkLeaks(t)
	sink := &recordingSink{}
	node := openSingleLeader(t, sink)

	leaderEvent := waitForEvent(t, node.Timeline(), 0, func(e Event) bool {
		return e.Kind == EventLeader && e.Leader == "n1"
	})
	if leaderEvent.Term < 1 {
		t.Errorf("leader event term = %d, want at least 1", leaderEvent.Term)
	}

	status := node.Status()
	if status.State != "Leader" {
		t.Errorf("Status().State = %q, want Leader", status.State)
	}
	if status.LeaderID != "n1" {
		t.Errorf("Status().LeaderID = %q, want n1", status.LeaderID)
	}
	if status.LeaderAddr != string(node.transport.LocalAddr()) {
		t.Errorf("Status().LeaderAddr = %q, want %q", status.LeaderAddr, node.transport.LocalAddr())
	}
	if status.Term != leaderEvent.Term {
		t.Errorf("Status().Term = %d, want the leader event term %d", status.Term, leaderEvent.Term)
	}

	// The sink runs on the observer goroutine after the event is recorded,
	// so wait for it rather than read it once.
	var calls []sinkCall
	waitUntil(t, "the sink to receive the leader", func() bool {
		calls = sink.snapshot()
		return len(calls) > 0 && calls[len(calls)-1].leader != ""
	})
	if last := calls[len(calls)-1]; last != (sinkCall{term: leaderEvent.Term, leader: "n1"}) {
		t.Errorf("last sink call = %+v, want SetLeadership(%d, n1)", last, leaderEvent.Term)
	}
}

func TestNodeKVOperations(t *testing.T) {
	checkLeaks(t)
	node := openSingleLeader(t, nil)

	// The steps run in order on key "a" of one node. Each starts from the
	// state the previous ones left.
	put := func(value string) func() (bool, uint64, error) {
		return func() (bool, uint64, error) {
			index, err := node.Put("a", value, testApplyTimeout)
			return true, index, err
		}
	}
	del := func() (bool, uint64, error) {
		index, err := node.Delete("a", testApplyTimeout)
		return true, index, err
	}
	cas := func(expected *string, value string) func() (bool, uint64, error) {
		return func() (bool, uint64, error) {
			return node.CompareAndSet("a", expected, value, testApplyTimeout)
		}
	}

	steps := []struct {
		name      string
		run       func() (ok bool, index uint64, err error)
		wantOK    bool
		wantValue string
		wantFound bool
	}{
		{name: "put", run: put("1"), wantOK: true, wantValue: "1", wantFound: true},
		{name: "put overwrites", run: put("2"), wantOK: true, wantValue: "2", wantFound: true},
		{name: "cas with wrong expected value", run: cas(ptr("1"), "3"), wantOK: false, wantValue: "2", wantFound: true},
		{name: "cas with current value", run: cas(ptr("2"), "3"), wantOK: true, wantValue: "3", wantFound: true},
		{name: "cas absent on present key", run: cas(nil, "4"), wantOK: false, wantValue: "3", wantFound: true},
		{name: "delete", run: del, wantOK: true, wantFound: false},
		{name: "delete absent key", run: del, wantOK: true, wantFound: false},
		{name: "cas absent on absent key", run: cas(nil, "5"), wantOK: true, wantValue: "5", wantFound: true},
	}

	var lastIndex uint64
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			ok, index, err := step.run()
			if err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			if ok != step.wantOK {
				t.Errorf("ok = %v, want %v", ok, step.wantOK)
			}
			if index <= lastIndex {
				t.Errorf("log index %d does not follow the previous %d", index, lastIndex)
			}
			lastIndex = index

			value, found := node.Get("a")
			if found != step.wantFound || value != step.wantValue {
				t.Errorf("Get(a) = %q, %v, want %q, %v", value, found, step.wantValue, step.wantFound)
			}

			value, found, err = node.ReadLinearizable("a", testApplyTimeout)
			if err != nil {
				t.Fatalf("ReadLinearizable: %v", err)
			}
			if found != step.wantFound || value != step.wantValue {
				t.Errorf("ReadLinearizable(a) = %q, %v, want %q, %v", value, found, step.wantValue, step.wantFound)
			}
		})
	}

	if got := node.Snapshot(); len(got) != 1 || got["a"] != "5" {
		t.Errorf("Snapshot() = %v, want map[a:5]", got)
	}
	index, hash := node.StateHash()
	if index != lastIndex {
		t.Errorf("StateHash index = %d, want the last write index %d", index, lastIndex)
	}
	if hash == "" {
		t.Error("StateHash returned an empty hash")
	}
}

func TestNodeMalformedEntry(t *testing.T) {
	checkLeaks(t)
	node := openSingleLeader(t, nil)

	future := node.Raft().Apply([]byte{0xee}, testApplyTimeout)
	if err := future.Error(); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	err, ok := future.Response().(error)
	if !ok || !errors.Is(err, ErrMalformedCommand) {
		t.Fatalf("response = %#v, want an error wrapping ErrMalformedCommand", future.Response())
	}

	if _, err := node.Put("after", "bad entry", testApplyTimeout); err != nil {
		t.Fatalf("Put after a malformed entry: %v", err)
	}
}

func TestNodeShutdownIdempotent(t *testing.T) {
	checkLeaks(t)
	node := openSingleLeader(t, nil)
	index, err := node.Put("k", "v", testApplyTimeout)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	// The barrier of a linearizable read leaves an entry past the state
	// machine's index, which Status must check in the closed log store.
	if _, _, err := node.ReadLinearizable("k", testApplyTimeout); err != nil {
		t.Fatalf("ReadLinearizable: %v", err)
	}

	if err := node.Shutdown(); err != nil {
		t.Fatalf("first Shutdown: %v", err)
	}
	if err := node.Shutdown(); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if err := node.Crash(); err != nil {
		t.Errorf("Crash after Shutdown: %v", err)
	}
	status := node.Status()
	if status.State != raft.Shutdown.String() {
		t.Errorf("state after Shutdown = %q, want Shutdown", status.State)
	}
	if status.AppliedIndex < index {
		t.Errorf("Status().AppliedIndex after Shutdown = %d, want at least the write's %d", status.AppliedIndex, index)
	}

	_, err = node.Put("k", "v", testApplyTimeout)
	if !errors.Is(err, raft.ErrRaftShutdown) {
		t.Errorf("Put after Shutdown error = %v, want raft.ErrRaftShutdown", err)
	}
}

func TestOpenLockedDataDir(t *testing.T) {
	checkLeaks(t)
	logger := newTestLogger(t)
	dir := t.TempDir()
	openNode(t, nodeOptions{id: "n1", dir: dir, logger: logger})

	transport := newTransport(t, "127.0.0.1:0", logger)
	defer transport.Close()
	cfg := DefaultConfig()
	cfg.ID, cfg.DataDir, cfg.Transport, cfg.Profile = "n1-copy", dir, transport, ProfileFast
	cfg.BoltTimeout = 50 * time.Millisecond

	_, err := Open(cfg)
	if !errors.Is(err, bolterrors.ErrTimeout) {
		t.Fatalf("Open on a locked data dir error = %v, want bbolt ErrTimeout", err)
	}
}
