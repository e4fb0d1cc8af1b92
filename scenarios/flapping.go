package scenarios

import (
	"context"
	"fmt"
	"time"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
)

// PhaseSettle is the time from the last heal until the cluster is stable.
const PhaseSettle = "settle"

// FlappingLeadership isolates the current leader, heals, and repeats, so
// leadership moves Flaps times. Every flap must recover, the cluster must
// settle after the last one, and every daemon must then see raft's leader
// and term.
type FlappingLeadership struct {
	// Flaps is the number of isolations; zero means 3.
	Flaps int
	// Interval is the pause between a flap's heal and the next isolation;
	// zero means two heartbeat timeouts.
	Interval time.Duration
}

// Name implements Scenario.
func (FlappingLeadership) Name() string { return "flapping-leadership" }

// Description implements Scenario.
func (FlappingLeadership) Description() string {
	return "isolate the leader, heal and repeat; every flap must elect a new leader and the cluster must settle"
}

// BlastRadius implements Scenario.
func (FlappingLeadership) BlastRadius() BlastRadius { return RadiusCluster }

// DefaultTarget implements Scenario.
func (FlappingLeadership) DefaultTarget() Target { return TargetNetworkPartition }

// MinNodes implements Scenario.
func (FlappingLeadership) MinNodes() int { return 3 }

// Phases implements Scenario.
func (FlappingLeadership) Phases() []string { return []string{PhaseRTO, PhaseSettle} }

// Run implements Scenario. The repetition's RTO is the slowest flap's.
func (s FlappingLeadership) Run(ctx context.Context, env Env) (Repetition, error) {
	flaps, interval := s.Flaps, s.Interval
	if flaps == 0 {
		flaps = 3
	}
	if interval == 0 {
		interval = 2 * env.Timing.HeartbeatTimeout
	}
	t, err := newTrial(ctx, env)
	if err != nil {
		return t.rep, err
	}
	leader := t.stable.Leader
	t.startWriter(func(id string) bool { return id != leader })
	var lastHeal time.Time
	for i := 1; i <= flaps; i++ {
		next, rto, err := s.flap(ctx, t, leader)
		if err != nil {
			return t.finish(ctx)
		}
		t.rep.Durations[fmt.Sprintf("flap_%d_rto", i)] = rto
		if rto > t.rep.RTO {
			t.rep.RTO = rto
		}
		leader = next
		lastHeal = time.Now()
		if i < flaps {
			if err := hold(ctx, interval); err != nil {
				return t.finish(ctx)
			}
		}
	}
	t.rep.Durations[PhaseRTO] = t.rep.RTO
	t.rep.Recovered = true
	cctx, cancel := context.WithTimeout(ctx, env.Target.Max)
	defer cancel()
	st, err := t.c.WaitStable(cctx)
	if err != nil {
		t.rep.Recovered = false
		t.rep.Error = fmt.Sprintf("cluster did not settle after the last flap: %v", err)
		return t.finish(ctx)
	}
	t.rep.Durations[PhaseSettle] = st.At.Sub(lastHeal)
	t.rep.Counts["flaps"] = int64(flaps)
	if ds, ok := t.c.(Daemons); ok {
		t.rep.Violations = append(t.rep.Violations, checkDaemonLeaders(env, ds)...)
	}
	return t.finish(ctx)
}

// flap isolates leader, waits for a write through another node, heals and
// waits for the cluster to converge. It returns the new leader and the RTO.
func (s FlappingLeadership) flap(ctx context.Context, t *trial, leader string) (string, time.Duration, error) {
	seq := t.tl.LastSeq()
	added, err := t.c.AddFaults(netchaos.Isolate(leader, netchaos.KindPartition)...)
	if err != nil {
		return "", 0, err
	}
	fault, _ := firstEvent(t.tl.Since(seq), func(e raftint.Event) bool { return e.Kind == raftint.EventFault })
	t.markFault(fault.At)
	t.w.setAllowed(func(id string) bool { return id != leader })
	rctx, cancel := context.WithDeadline(ctx, fault.At.Add(t.env.Target.Max))
	a, ok := t.w.waitAckAfter(rctx, fault.At)
	cancel()
	ids := []string{added[0].ID, added[1].ID}
	if !ok {
		t.c.RemoveFaults(ids...)
		t.rep.Error = fmt.Sprintf("flap away from %s did not recover within %v", leader, t.env.Target.Max)
		return "", 0, ErrNotRecovered
	}
	target := uint64(0)
	if _, ls, err := cluster.Leader(t.c); err == nil {
		target = ls.CommitIndex
	}
	if err := t.c.RemoveFaults(ids...); err != nil {
		return "", 0, err
	}
	cctx, cancel := context.WithTimeout(ctx, t.env.Target.Max)
	defer cancel()
	st, err := t.c.WaitConverged(cctx, target)
	if err != nil {
		t.rep.Error = fmt.Sprintf("cluster did not converge after flap away from %s: %v", leader, err)
		return "", 0, err
	}
	return st.Leader, a.At.Sub(fault.At), nil
}
