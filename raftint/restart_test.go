package raftint

import (
	"fmt"
	"maps"
	"testing"

	"github.com/hashicorp/raft"
)

func TestRestartKeepsCommittedEntries(t *testing.T) {
	tests := []struct {
		name          string
		snapshotAfter int // take a snapshot after this many writes; 0 takes none
		writes        int
		graceful      bool // stop with Shutdown instead of Crash
	}{
		{name: "log replay", writes: 30},
		{name: "snapshot and log", snapshotAfter: 20, writes: 30},
		{name: "snapshot only", snapshotAfter: 30, writes: 30},
		{name: "graceful shutdown", snapshotAfter: 20, writes: 30, graceful: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			logger := newTestLogger(t)
			timeline := NewTimeline()
			dir := t.TempDir()

			first := openNode(t, nodeOptions{id: "n1", dir: dir, timeline: timeline, logger: logger, compactLog: true})
			if err := first.Bootstrap(nil); err != nil {
				t.Fatalf("Bootstrap: %v", err)
			}
			waitForEvent(t, timeline, 0, isLeaderState)

			want := make(map[string]string)
			for i := range tt.writes {
				key, value := fmt.Sprintf("k%02d", i), fmt.Sprintf("v%d", i)
				if _, err := first.Put(key, value, testApplyTimeout); err != nil {
					t.Fatalf("Put %s: %v", key, err)
				}
				want[key] = value
				if i+1 == tt.snapshotAfter {
					if err := first.Raft().Snapshot().Error(); err != nil {
						t.Fatalf("Snapshot: %v", err)
					}
				}
			}
			wantIndex, wantHash := first.StateHash()

			addr := string(first.transport.LocalAddr())
			stop := first.Crash
			if tt.graceful {
				stop = first.Shutdown
			}
			if err := stop(); err != nil {
				t.Fatalf("stop node: %v", err)
			}
			beforeRestart := timeline.LastSeq()

			second := openNode(t, nodeOptions{id: "n1", dir: dir, addr: addr, timeline: timeline, logger: logger, compactLog: true})
			if err := second.Bootstrap(nil); err != nil {
				t.Fatalf("Bootstrap after restart: %v", err)
			}
			waitForEvent(t, timeline, beforeRestart, isLeaderState)
			waitForApplied(t, []*Node{second}, wantIndex)

			// With a snapshot the log no longer starts at the bootstrap entry
			// at index 1: it starts later, or is empty (first index 0) when
			// the snapshot covered it all. The state can then only have come
			// from restoring the snapshot.
			firstIndex, err := second.store.FirstIndex()
			if err != nil {
				t.Fatalf("read first log index: %v", err)
			}
			if compacted := firstIndex != 1; compacted != (tt.snapshotAfter > 0) {
				t.Errorf("first log index after restart = %d, want compaction = %v", firstIndex, tt.snapshotAfter > 0)
			}

			if got := second.Snapshot(); !maps.Equal(got, want) {
				t.Errorf("after restart the map has %d keys, want %d: %v", len(got), len(want), got)
			}
			if index, hash := second.StateHash(); index != wantIndex || hash != wantHash {
				t.Errorf("after restart state is (%d, %s), want (%d, %s)", index, hash, wantIndex, wantHash)
			}
			if _, err := second.Put("after", "restart", testApplyTimeout); err != nil {
				t.Errorf("Put after restart: %v", err)
			}
		})
	}
}

func TestCrashedFollowerCatchesUp(t *testing.T) {
	checkLeaks(t)
	logger := newTestLogger(t)
	nodes, leader := startCluster(t, 3, logger)
	timeline := leader.Timeline()

	var follower *Node
	for _, node := range nodes {
		if node != leader {
			follower = node
			break
		}
	}
	id, dir, addr := follower.ID(), follower.cfg.DataDir, string(follower.transport.LocalAddr())
	if err := follower.Crash(); err != nil {
		t.Fatalf("Crash %s: %v", id, err)
	}
	waitForEvent(t, timeline, 0, func(e Event) bool {
		return e.Node == id && e.Kind == EventState && e.State == raft.Shutdown.String()
	})

	// The two remaining nodes are a quorum, so writes keep committing.
	var lastIndex uint64
	for i := range 10 {
		index, err := leader.Put(fmt.Sprintf("k%d", i), "while down", testApplyTimeout)
		if err != nil {
			t.Fatalf("Put with %s down: %v", id, err)
		}
		lastIndex = index
	}

	restarted := openNode(t, nodeOptions{id: id, dir: dir, addr: addr, timeline: timeline, logger: logger})
	servers := []raft.Server{}
	for _, node := range nodes {
		servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(node.ID()), Address: node.transport.LocalAddr()})
	}
	if err := restarted.Bootstrap(servers); err != nil {
		t.Fatalf("Bootstrap after restart: %v", err)
	}
	waitForApplied(t, []*Node{restarted}, lastIndex)

	_, wantHash := leader.StateHash()
	if _, hash := restarted.StateHash(); hash != wantHash {
		t.Errorf("restarted follower hash %s, want the leader's %s", hash, wantHash)
	}
}
