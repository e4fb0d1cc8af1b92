package scenarios

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/faultline-dev/faultline/daemon"
	"github.com/faultline-dev/faultline/netchaos"
)

// LeaderFailover runs a leader-scoped operation on the raft leader's daemon,
// isolates that leader, and measures how long until the new leader's daemon
// runs the operation. The old leader's daemon must refuse leader-scoped work
// once it has stepped down, and keep running local work.
type LeaderFailover struct{}

// InProcessOnly reports that the scenario needs the in-process target.
func (LeaderFailover) InProcessOnly() bool { return true }

// Name implements Scenario.
func (LeaderFailover) Name() string { return "leader-failover" }

// Description implements Scenario.
func (LeaderFailover) Description() string {
	return "leader-scoped daemon operations move with raft leadership when the leader is isolated; local operations keep running"
}

// BlastRadius implements Scenario.
func (LeaderFailover) BlastRadius() BlastRadius { return RadiusNode }

// DefaultTarget implements Scenario.
func (LeaderFailover) DefaultTarget() Target { return TargetNetworkPartition }

// MinNodes implements Scenario.
func (LeaderFailover) MinNodes() int { return 3 }

// Phases implements Scenario.
func (LeaderFailover) Phases() []string { return []string{PhaseStepDown, PhaseRTO, PhaseHeal} }

// Run implements Scenario. The RTO runs from the fault to the first
// leader-scoped operation that a new leader's daemon completes.
func (LeaderFailover) Run(ctx context.Context, env Env) (Repetition, error) {
	ds, ok := env.Cluster.(Daemons)
	if !ok {
		return Repetition{}, ErrNoDaemon
	}
	t, err := newTrial(ctx, env)
	if err != nil {
		return t.rep, err
	}
	old := t.stable.Leader
	oldDaemon, err := ds.Daemon(old)
	if err != nil {
		return t.rep, err
	}
	opID := fmt.Sprintf("failover-%d", env.Index)
	leaderOp := daemon.Operation{ID: opID, Handler: daemon.Succeed("led"), Scope: daemon.ScopeLeader, Timeout: time.Second}
	if _, err := runOp(ctx, oldDaemon, leaderOp); err != nil {
		t.rep.Violations = append(t.rep.Violations, fmt.Sprintf("leader-scoped operation failed on leader %s: %v", old, err))
	}
	if err := t.inject(netchaos.Isolate(old, netchaos.KindPartition)...); err != nil {
		return t.rep, err
	}

	// The new leader's daemon runs the leader-scoped operation.
	rctx, cancel := t.recoverCtx(ctx)
	defer cancel()
	newLeader, err := firstLeaderRun(rctx, env, ds, old, leaderOp)
	if err != nil {
		t.rep.Error = err.Error()
		return t.finish(ctx)
	}
	t.rep.Recovered = true
	t.rep.RTO = time.Since(t.faultAt)
	t.rep.Durations[PhaseRTO] = t.rep.RTO

	// The isolated old leader refuses leader-scoped work and keeps local
	// work going.
	if _, err := t.tl.Wait(rctx, t.seq, isStepDown(old)); err == nil {
		_, err := runOp(ctx, oldDaemon, leaderOp)
		if !errors.Is(err, daemon.ErrNotLeader) && !errors.Is(err, daemon.ErrNoLeader) {
			t.rep.Violations = append(t.rep.Violations, fmt.Sprintf("stepped-down %s ran a leader-scoped operation: %v", old, err))
		}
	}
	local := daemon.Operation{ID: opID + "-local", Handler: daemon.Succeed("local"), Timeout: time.Second}
	if _, err := runOp(ctx, oldDaemon, local); err != nil {
		t.rep.Violations = append(t.rep.Violations, fmt.Sprintf("isolated %s failed a local operation: %v", old, err))
	}
	if err := t.heal(ctx); err != nil {
		return t.finish(ctx)
	}
	t.measureLeaderLoss(old)
	t.rep.Violations = append(t.rep.Violations, checkDaemonLeaders(env, ds)...)
	env.Log.Info("leader-scoped work moved", "from", old, "to", newLeader)
	return t.finish(ctx)
}

// firstLeaderRun tries op on every daemon but old's until one runs it, and
// returns that node.
func firstLeaderRun(ctx context.Context, env Env, ds Daemons, old string, op daemon.Operation) (string, error) {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, id := range env.Cluster.Nodes() {
			if id == old {
				continue
			}
			d, err := ds.Daemon(id)
			if err != nil {
				continue
			}
			if _, err := runOp(ctx, d, op); err == nil {
				return id, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no daemon ran the leader-scoped operation within %v of the fault", env.Target.Max)
		case <-tick.C:
		}
	}
}

// checkDaemonLeaders compares every daemon's view of the leader with raft's
// once the cluster is stable.
func checkDaemonLeaders(env Env, ds Daemons) []string {
	ctx, cancel := context.WithTimeout(context.Background(), env.stableWait())
	defer cancel()
	st, err := env.Cluster.WaitStable(ctx)
	if err != nil {
		return []string{fmt.Sprintf("cluster not stable for the daemon check: %v", err)}
	}
	var violations []string
	for _, id := range env.Cluster.Nodes() {
		d, err := ds.Daemon(id)
		if err != nil {
			continue
		}
		// The observer feeds the daemon asynchronously: give it until the
		// deadline to catch up with raft.
		for {
			h := d.Health()
			if h.LeaderID == st.Leader && h.Term == st.Term && h.IsLeader == (id == st.Leader) {
				break
			}
			if ctx.Err() != nil {
				violations = append(violations, fmt.Sprintf("daemon of %s sees leader %q in term %d, raft has %s in term %d",
					id, h.LeaderID, h.Term, st.Leader, st.Term))
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	return violations
}

// ConflictingLeaders announces two leaders to one daemon, as a split brain
// would, and checks that the newest term wins whatever the order.
type ConflictingLeaders struct{}

// Name implements Scenario.
func (ConflictingLeaders) Name() string { return "conflicting-leaders" }

// Description implements Scenario.
func (ConflictingLeaders) Description() string {
	return "announce two leaders to a daemon in either order; the announcement of the newest term wins"
}

// BlastRadius implements Scenario.
func (ConflictingLeaders) BlastRadius() BlastRadius { return RadiusInstance }

// DefaultTarget implements Scenario.
func (ConflictingLeaders) DefaultTarget() Target { return TargetOperationFailure }

// MinNodes implements Scenario.
func (ConflictingLeaders) MinNodes() int { return 1 }

// Phases implements Scenario.
func (ConflictingLeaders) Phases() []string { return []string{PhaseRTO} }

// Run implements Scenario on a daemon of its own, so the announcements do
// not fight the cluster's real leadership.
func (ConflictingLeaders) Run(ctx context.Context, env Env) (Repetition, error) {
	rep := Repetition{Index: env.Index, Durations: map[string]time.Duration{PhaseRTO: 0}, Counts: map[string]int64{}}
	cfg := daemon.DefaultConfig()
	cfg.NodeID = "node-0"
	d, err := daemon.New(cfg)
	if err != nil {
		return rep, err
	}
	if err := d.Start(ctx); err != nil {
		return rep, err
	}
	defer d.Stop(context.Background())
	base := uint64(env.Rand.IntN(1000) + 2)
	steps := []struct {
		term   uint64
		leader string
		want   string
	}{
		{base, "node-0", "node-0"},
		{base, "node-1", "node-0"},     // a second leader in the same term is ignored
		{base - 1, "node-2", "node-0"}, // an older term is ignored
		{base + 1, "node-1", "node-1"}, // a newer term wins
	}
	for i, s := range steps {
		d.SetLeadership(s.term, s.leader)
		if h := d.Health(); h.LeaderID != s.want {
			rep.Violations = append(rep.Violations, fmt.Sprintf("step %d: announcing %s in term %d left leader %q, want %s",
				i+1, s.leader, s.term, h.LeaderID, s.want))
		}
	}
	if d.Health().IsLeader {
		rep.Violations = append(rep.Violations, "node-0 still leads after node-1 won a newer term")
	}
	rep.Recovered = true
	return rep, nil
}
