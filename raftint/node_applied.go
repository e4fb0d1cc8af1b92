package raftint

import (
	"errors"
	"sync"

	"github.com/hashicorp/raft"
	bolterrors "go.etcd.io/bbolt/errors"
)

// appliedTracker computes the highest log index whose effect the state
// machine already reflects. raft.Raft.AppliedIndex cannot serve: raft
// advances it when it queues entries for the state machine, so a caller
// that sees it reach an index and then reads the map can miss the entry.
// KV.AppliedIndex cannot serve alone either: no-op and barrier entries never
// reach the state machine, so it stays below the commit index after an
// election or a linearizable read.
type appliedTracker struct {
	mu sync.Mutex

	// through is an index up to which every entry is reflected in the state
	// machine or has no effect on it. Entries at or below raft's applied
	// index are committed and never change, so it stays valid.
	through uint64
}

// appliedIndex returns the highest index I such that the state machine
// reflects every entry up to I. It reads the entries between the state
// machine's applied index and raft's from the log store and stops at the
// first command or configuration entry, which the state machine has not
// consumed yet. Entries it has checked are cached, so a run of barriers is
// read once.
//
// NOTE: after an InstallSnapshot that left stale entries above the
// snapshot's index in this node's log, the result stays below raft's
// applied index until the next command is applied. It errs low, never high.
func (n *Node) appliedIndex() uint64 {
	// Read raft's index first: every entry up to it was queued before the
	// state machine's index is read below.
	queued := n.raft.AppliedIndex()
	consumed := n.kv.AppliedIndex()

	n.applied.mu.Lock()
	defer n.applied.mu.Unlock()

	through := max(n.applied.through, consumed)
	for through < queued {
		var entry raft.Log
		err := n.store.GetLog(through+1, &entry)
		switch {
		case errors.Is(err, raft.ErrLogNotFound):
			// Compacted into a snapshot the state machine was restored
			// from, or the index raft skips after installing a snapshot.
		case errors.Is(err, bolterrors.ErrDatabaseNotOpen):
			// The node is shut down, and its state machine no longer moves.
			n.applied.through = through
			return through
		case err != nil:
			n.logger.Warn("read log entry to compute the applied index failed", "index", through+1, "error", err)
			n.applied.through = through
			return through
		case entry.Type == raft.LogCommand || entry.Type == raft.LogConfiguration:
			n.applied.through = through
			return through
		}
		through++
	}
	n.applied.through = through
	return through
}
