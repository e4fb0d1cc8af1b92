package raftint

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hashicorp/raft"
)

func TestThreeNodesReplicate(t *testing.T) {
	checkLeaks(t)
	nodes, leader := startCluster(t, 3, newTestLogger(t))

	const writes = 20
	var lastIndex uint64
	for i := range writes {
		index, err := leader.Put(fmt.Sprintf("k%02d", i), fmt.Sprintf("v%d", i), testApplyTimeout)
		if err != nil {
			t.Fatalf("Put on leader %s: %v", leader.ID(), err)
		}
		lastIndex = index
	}
	waitForApplied(t, nodes, lastIndex)

	want := leader.Snapshot()
	if len(want) != writes {
		t.Fatalf("leader has %d keys, want %d", len(want), writes)
	}
	wantIndex, wantHash := leader.StateHash()
	for _, node := range nodes {
		index, hash := node.StateHash()
		if index != wantIndex || hash != wantHash {
			t.Errorf("node %s state (%d, %s), want the leader's (%d, %s)", node.ID(), index, hash, wantIndex, wantHash)
		}
		if value, ok := node.Get("k07"); !ok || value != "v7" {
			t.Errorf("node %s Get(k07) = %q, %v, want v7", node.ID(), value, ok)
		}
	}
}

func TestFollowerRejectsWrites(t *testing.T) {
	checkLeaks(t)
	nodes, leader := startCluster(t, 3, newTestLogger(t))

	// Once a write reaches every node, each follower has heard from the
	// leader and holds the key.
	index, err := leader.Put("k", "v", testApplyTimeout)
	if err != nil {
		t.Fatalf("Put on leader: %v", err)
	}
	waitForApplied(t, nodes, index)

	for _, node := range nodes {
		if node == leader {
			continue
		}
		t.Run(node.ID(), func(t *testing.T) {
			_, err := node.Put("k", "from follower", testApplyTimeout)
			if !errors.Is(err, raft.ErrNotLeader) {
				t.Errorf("Put on follower error = %v, want raft.ErrNotLeader", err)
			}

			_, _, err = node.ReadLinearizable("k", testApplyTimeout)
			if !errors.Is(err, raft.ErrNotLeader) {
				t.Errorf("ReadLinearizable on follower error = %v, want raft.ErrNotLeader", err)
			}

			if value, ok := node.Get("k"); !ok || value != "v" {
				t.Errorf("follower Get(k) = %q, %v, want v", value, ok)
			}
			if status := node.Status(); status.LeaderID != leader.ID() {
				t.Errorf("follower Status().LeaderID = %q, want %q", status.LeaderID, leader.ID())
			}
		})
	}
}

func TestClusterTimeline(t *testing.T) {
	checkLeaks(t)
	nodes, leader := startCluster(t, 3, newTestLogger(t))
	timeline := leader.Timeline()

	// Every node records the leader once it hears from it.
	for _, node := range nodes {
		waitForEvent(t, timeline, 0, func(e Event) bool {
			return e.Node == node.ID() && e.Kind == EventLeader && e.Leader == leader.ID()
		})
	}

	lastAt := map[string]Event{}
	for _, e := range timeline.Events() {
		if e.Kind != EventState && e.Kind != EventLeader {
			continue
		}
		if e.Kind == EventLeader && e.Leader != "" && e.Term < 1 {
			t.Errorf("leader event with term %d: %v", e.Term, e)
		}

		// State and leader changes of one node come from raft's main
		// goroutine, so their timestamps follow Seq order.
		if prev, ok := lastAt[e.Node]; ok && e.At.Before(prev.At) {
			t.Errorf("event %v is timestamped %s before the earlier %v", e, prev.At.Sub(e.At), prev)
		}
		lastAt[e.Node] = e
	}

	votes := 0
	for _, e := range timeline.Events() {
		if e.Kind == EventVoteRequest && e.Peer == leader.ID() {
			votes++
		}
	}
	if votes == 0 {
		t.Errorf("no vote or pre-vote request from leader %s recorded; timeline:\n%s", leader.ID(), formatEvents(timeline.Events()))
	}
	if dropped := timeline.Dropped(); dropped != 0 {
		t.Errorf("Dropped() = %d, want 0 with the default buffer", dropped)
	}
}

// TestSkippedEntryDiverges shows that a replica whose state machine skips
// one entry ends at the same applied index with a different hash, which is
// what a convergence checker compares.
func TestSkippedEntryDiverges(t *testing.T) {
	checkLeaks(t)
	nodes, leader := startCluster(t, 3, newTestLogger(t))

	var faulty *Node
	for _, node := range nodes {
		if node != leader {
			faulty = node
			break
		}
	}
	faulty.FSM().SetApplyHook(func(_ uint64, cmd Command) bool {
		return cmd.Key == "lost"
	})

	if _, err := leader.Put("kept", "1", testApplyTimeout); err != nil {
		t.Fatalf("Put: %v", err)
	}
	index, err := leader.Put("lost", "2", testApplyTimeout)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	waitForApplied(t, nodes, index)

	_, leaderHash := leader.StateHash()
	faultyIndex, faultyHash := faulty.StateHash()
	if faultyIndex != index {
		t.Errorf("faulty node applied index %d, want %d", faultyIndex, index)
	}
	if faultyHash == leaderHash {
		t.Error("faulty node has the leader's hash although it skipped an entry")
	}
	if _, ok := faulty.Get("lost"); ok {
		t.Error("faulty node stored the skipped key")
	}
}
