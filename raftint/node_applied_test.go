package raftint

import (
	"sync"
	"testing"
)

func TestStatusAppliedIndexWaitsForStateMachine(t *testing.T) {
	checkLeaks(t)
	node := openSingleLeader(t, nil)
	if _, err := node.Put("fast", "1", testApplyTimeout); err != nil {
		t.Fatalf("Put: %v", err)
	}

	// Hold the state machine inside Apply for the entry of key "slow".
	entered := make(chan uint64, 1)
	release := make(chan struct{})
	node.FSM().SetApplyHook(func(index uint64, cmd Command) bool {
		if cmd.Key == "slow" {
			entered <- index
			<-release
		}
		return false
	})

	var wg sync.WaitGroup
	wg.Add(1)
	var putErr error
	go func() {
		defer wg.Done()
		_, putErr = node.Put("slow", "2", testApplyTimeout)
	}()
	// Release the state machine even if a check below fails, so the Put
	// goroutine and raft can stop.
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
		wg.Wait()
	}()

	slow := <-entered
	waitUntil(t, "raft to count the held entry as applied", func() bool {
		return node.Raft().AppliedIndex() >= slow
	})
	if got := node.Status().AppliedIndex; got != slow-1 {
		t.Errorf("Status().AppliedIndex = %d while entry %d is being applied, want %d", got, slow, slow-1)
	}
	if _, ok := node.Get("slow"); ok {
		t.Fatal("key visible before its entry was applied")
	}

	close(release)
	wg.Wait()
	if putErr != nil {
		t.Fatalf("Put slow: %v", putErr)
	}
	if got := node.Status().AppliedIndex; got < slow {
		t.Errorf("Status().AppliedIndex = %d after the entry was applied, want at least %d", got, slow)
	}
}

func TestStatusAppliedIndexSkipsBarriers(t *testing.T) {
	checkLeaks(t)
	node := openSingleLeader(t, nil)
	index, err := node.Put("k", "v", testApplyTimeout)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}

	// Each linearizable read appends a barrier entry, which raft never
	// passes to the state machine.
	for range 5 {
		if _, _, err := node.ReadLinearizable("k", testApplyTimeout); err != nil {
			t.Fatalf("ReadLinearizable: %v", err)
		}
	}

	// raft completes a barrier future on the state machine goroutine and
	// may advance its own applied index a moment later.
	waitUntil(t, "raft to count the barriers as applied", func() bool {
		return node.Raft().AppliedIndex() >= index+5
	})
	raftApplied := node.Raft().AppliedIndex()
	if got := node.FSM().AppliedIndex(); got != index {
		t.Errorf("state machine applied index = %d, want the write's %d", got, index)
	}
	if got := node.Status().AppliedIndex; got != raftApplied {
		t.Errorf("Status().AppliedIndex = %d, want raft's %d because barriers have no effect", got, raftApplied)
	}
}
