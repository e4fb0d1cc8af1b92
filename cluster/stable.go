package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/faultline-dev/faultline/raftint"
)

// recheckInterval bounds the wait between two stability checks when no
// timeline event arrives; index catch-up produces no event.
const recheckInterval = 2 * time.Millisecond

// WaitStable implements Cluster. It checks after every timeline event, and
// at least every few milliseconds, until the check passes or ctx ends.
func (c *Local) WaitStable(ctx context.Context) (Stable, error) {
	return c.WaitConverged(ctx, 0)
}

// WaitConverged implements Cluster.
func (c *Local) WaitConverged(ctx context.Context, index uint64) (Stable, error) {
	var last string
	for {
		seq := c.timeline.LastSeq()
		st, why := c.checkStable(index)
		if why == "" {
			return st, nil
		}
		last = why
		wait, cancel := context.WithTimeout(ctx, recheckInterval)
		_, _ = c.timeline.Wait(wait, seq, func(raftint.Event) bool { return true })
		cancel()
		if ctx.Err() != nil {
			return Stable{}, fmt.Errorf("%w: %s", ctx.Err(), last)
		}
	}
}

// checkStable returns the stable state, or why the cluster is not stable.
func (c *Local) checkStable(index uint64) (Stable, string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return Stable{}, "cluster closed"
	}
	statuses := make(map[string]raftint.Status)
	for _, m := range c.members {
		if m.node != nil {
			statuses[m.id] = m.node.Status()
		}
	}
	c.mu.Unlock()
	return stableOf(statuses, index)
}

// stableOf decides stability from one status per running node. Every node
// must have applied index; when index is 0, the leader must have committed
// its whole log and every node must have applied it.
func stableOf(statuses map[string]raftint.Status, index uint64) (Stable, string) {
	if len(statuses) == 0 {
		return Stable{}, "no node is running"
	}
	leader := ""
	for id, s := range statuses {
		if s.State == "Leader" {
			if leader != "" {
				return Stable{}, fmt.Sprintf("two nodes are leader: %s and %s", leader, id)
			}
			leader = id
		}
	}
	if leader == "" {
		return Stable{}, "no node is leader"
	}
	ls := statuses[leader]
	if index == 0 {
		// A leader commits nothing of an earlier term until an entry of its
		// own term commits, so right after an election its commit index can
		// lag behind entries that are already committed.
		if ls.CommitIndex < ls.LastIndex {
			return Stable{}, fmt.Sprintf("leader %s has committed %d of its %d entries", leader, ls.CommitIndex, ls.LastIndex)
		}
		index = ls.CommitIndex
	}
	for id, s := range statuses {
		switch {
		case s.LeaderID != leader:
			return Stable{}, fmt.Sprintf("%s follows %q, not %s", id, s.LeaderID, leader)
		case s.Term != ls.Term:
			return Stable{}, fmt.Sprintf("%s is in term %d, the leader in %d", id, s.Term, ls.Term)
		case s.AppliedIndex < index:
			return Stable{}, fmt.Sprintf("%s applied %d, short of index %d", id, s.AppliedIndex, index)
		}
	}
	return Stable{Leader: leader, Term: ls.Term, CommitIndex: ls.CommitIndex, At: time.Now()}, ""
}

// Leader returns the running node that is leader in the highest term.
func Leader(c Cluster) (string, raftint.Status, error) {
	best, bestStatus := "", raftint.Status{}
	for _, id := range c.Nodes() {
		s, err := c.Status(id)
		if err != nil {
			continue
		}
		if s.State == "Leader" && (best == "" || s.Term > bestStatus.Term) {
			best, bestStatus = id, s
		}
	}
	if best == "" {
		return "", raftint.Status{}, ErrNoLeader
	}
	return best, bestStatus, nil
}
