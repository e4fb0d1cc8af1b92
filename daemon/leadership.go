package daemon

import (
	"context"
	"fmt"
)

// LeadershipSink receives raft leadership notifications. *Daemon implements
// it, and a raft observer calls it for every leadership change it observes.
type LeadershipSink interface {
	// SetLeadership announces that leaderID leads in term.
	SetLeadership(term uint64, leaderID string)
	// LeadershipLost announces that no leader is known in term.
	LeadershipLost(term uint64)
}

var _ LeadershipSink = (*Daemon)(nil)

// LeadershipChange is one leadership notification. An empty LeaderID means
// that no leader is known in Term.
type LeadershipChange struct {
	Term     uint64
	LeaderID string
}

// LeadershipSource delivers leadership notifications, in the order in which
// they happened. Closing the channel ends Follow.
type LeadershipSource interface {
	Leadership() <-chan LeadershipChange
}

// leadership is the daemon's view of the raft leader. Raft elects at most one
// leader per term, so the view keeps the first leader announced for the
// newest term and ignores announcements of older terms.
type leadership struct {
	term     uint64
	leaderID string
}

func (l *leadership) isLeader(nodeID string) bool {
	return l.leaderID != "" && l.leaderID == nodeID
}

// check returns nil if nodeID leads, or ErrNoLeader or ErrNotLeader.
func (l *leadership) check(nodeID string) error {
	switch {
	case l.leaderID == "":
		return fmt.Errorf("%w in term %d: wait for an election", ErrNoLeader, l.term)
	case l.leaderID != nodeID:
		return fmt.Errorf("%w: node %q leads in term %d, this is node %q", ErrNotLeader, l.leaderID, l.term, nodeID)
	}
	return nil
}

// apply applies a notification and reports whether the view changed, or why
// the notification was ignored.
//
//   - An older term than the current one is ignored.
//   - A newer term replaces the view.
//   - In the same term a leader may be learnt after "no leader", because
//     raft can learn the leader late in a term, and may be lost again.
//   - A second, different leader in the same term is ignored. Raft's
//     election safety allows one leader per term, so the later claim is
//     stale or wrong.
func (l *leadership) apply(term uint64, leaderID string) (changed bool, ignored string) {
	switch {
	case term < l.term:
		return false, fmt.Sprintf("term %d is older than the current term %d", term, l.term)
	case term > l.term:
		changed = true
	case leaderID == l.leaderID:
		return false, ""
	case leaderID != "" && l.leaderID != "":
		return false, fmt.Sprintf("term %d already has leader %q", term, l.leaderID)
	default:
		changed = true
	}
	l.term, l.leaderID = term, leaderID
	return changed, ""
}

// SetLeadership records that leaderID leads in term. The daemon leads when
// leaderID is its own node ID. A notification of an older term is ignored.
func (d *Daemon) SetLeadership(term uint64, leaderID string) {
	d.changeLeadership(term, leaderID)
}

// LeadershipLost records that no leader is known in term. Leader-scoped runs
// in progress on this node are cancelled if it was the leader.
func (d *Daemon) LeadershipLost(term uint64) {
	d.changeLeadership(term, "")
}

func (d *Daemon) changeLeadership(term uint64, leaderID string) {
	d.mu.Lock()
	defer d.mu.Unlock()

	previous := d.leadership
	changed, ignored := d.leadership.apply(term, leaderID)
	if ignored != "" {
		d.log.Warn("leadership notification ignored", "term", term, "leader_id", leaderID, "reason", ignored)
		return
	}
	if !changed {
		return
	}

	isLeader := d.leadership.isLeader(d.cfg.NodeID)
	if previous.isLeader(d.cfg.NodeID) && !isLeader {
		d.cancelLeaderRuns()
	}
	d.log.Info("leadership changed", "term", term, "leader_id", leaderID, "is_leader", isLeader,
		"previous_term", previous.term, "previous_leader_id", previous.leaderID)

	// The event is sent under d.mu so that subscribers see leadership
	// changes in the order they were applied. Sending never blocks.
	d.subs.emit(Event{Type: EventLeadershipChanged, Term: term, LeaderID: leaderID, IsLeader: isLeader})
}

// cancelLeaderRuns cancels leader-scoped runs in progress. The caller holds
// d.mu.
func (d *Daemon) cancelLeaderRuns() {
	for r := range d.active {
		if r.e.op.Scope == ScopeLeader {
			r.cancel(errCancelledByLeadership)
		}
	}
}

// Follow applies the notifications of src on a goroutine owned by the
// daemon until src's channel closes, ctx ends or Stop begins. It returns
// ErrStopped after Stop.
func (d *Daemon) Follow(ctx context.Context, src LeadershipSource) error {
	changes := src.Leadership()

	d.mu.Lock()
	defer d.mu.Unlock()
	if d.state >= lifecycleStopping {
		return fmt.Errorf("%w: cannot follow a leadership source", ErrStopped)
	}
	d.goOwned(func() { d.follow(ctx, changes) })
	return nil
}

func (d *Daemon) follow(ctx context.Context, changes <-chan LeadershipChange) {
	for {
		select {
		case change, ok := <-changes:
			if !ok {
				d.log.Debug("leadership source closed")
				return
			}
			d.changeLeadership(change.Term, change.LeaderID)
		case <-ctx.Done():
			return
		case <-d.stopCh:
			return
		}
	}
}
