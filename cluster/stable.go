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
	return waitConverged(ctx, c.timeline, recheckInterval, c.statuses, index)
}

// statuses returns the status of every running node.
func (c *Local) statuses() (map[string]raftint.Status, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, "cluster closed"
	}
	statuses := make(map[string]raftint.Status)
	for _, m := range c.members {
		if m.node != nil {
			statuses[m.id] = m.node.Status()
		}
	}
	return statuses, ""
}

// waitConverged samples the nodes' statuses after every timeline event, and
// at least every interval, until every running node follows one leader and
// has applied index. When index is 0, the target is the leader's last log
// index when it was first seen leading. That index covers the entry of the
// leader's own term, which a new leader must commit before its commit index
// means anything, and it stays fixed while clients keep writing. A change of
// leader takes a new target.
func waitConverged(ctx context.Context, tl *raftint.Timeline, interval time.Duration,
	sample func() (map[string]raftint.Status, string), index uint64) (Stable, error) {
	var last, targetLeader string
	var targetTerm, target uint64
	for {
		seq := tl.LastSeq()
		statuses, why := sample()
		if why == "" {
			want := index
			if want == 0 {
				if leader, ls, ok := soleLeader(statuses); ok {
					if leader != targetLeader || ls.Term != targetTerm {
						targetLeader, targetTerm, target = leader, ls.Term, ls.LastIndex
					}
					want = target
				}
			}
			var st Stable
			if st, why = stableOf(statuses, want); why == "" {
				return st, nil
			}
		}
		last = why
		wait, cancel := context.WithTimeout(ctx, interval)
		_, _ = tl.Wait(wait, seq, func(raftint.Event) bool { return true })
		cancel()
		if ctx.Err() != nil {
			return Stable{}, fmt.Errorf("%w: %s", ctx.Err(), last)
		}
	}
}

// soleLeader returns the one node in the Leader state, if exactly one is.
func soleLeader(statuses map[string]raftint.Status) (string, raftint.Status, bool) {
	leader := ""
	for id, s := range statuses {
		if s.State == "Leader" {
			if leader != "" {
				return "", raftint.Status{}, false
			}
			leader = id
		}
	}
	return leader, statuses[leader], leader != ""
}

// stableOf decides stability from one status per running node: one leader,
// every node following it in its term and having applied index, or the
// leader's commit index when index is 0.
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
