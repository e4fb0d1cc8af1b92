package scenarios

import (
	"context"
	"fmt"
	"time"

	"github.com/faultline-dev/faultline/netchaos"
)

// PhaseCatchUp is the time from the heal until the isolated node has
// applied the leader's commit index at the heal.
const PhaseCatchUp = "catch_up"

// FollowerIsolation rejects every link of one follower while writes go on,
// long enough for the leader's replication to that follower to back off,
// then heals. The leader and term must not change, because pre-vote keeps
// the returning follower from starting a real election; the catch-up time
// is the RTO.
type FollowerIsolation struct {
	// Hold is how long the follower stays cut off; zero means ten heartbeat
	// timeouts, which lets raft's replication backoff grow past a second.
	Hold time.Duration
}

// Name implements Scenario.
func (FollowerIsolation) Name() string { return "follower-isolation" }

// Description implements Scenario.
func (FollowerIsolation) Description() string {
	return "cut one follower off while writes go on, heal, and measure its catch-up; leader and term must not change"
}

// BlastRadius implements Scenario.
func (FollowerIsolation) BlastRadius() BlastRadius { return RadiusNode }

// DefaultTarget implements Scenario.
func (FollowerIsolation) DefaultTarget() Target { return TargetNetworkPartition }

// MinNodes implements Scenario.
func (FollowerIsolation) MinNodes() int { return 3 }

// Phases implements Scenario.
func (FollowerIsolation) Phases() []string { return []string{PhaseCatchUp} }

// Run implements Scenario.
func (s FollowerIsolation) Run(ctx context.Context, env Env) (Repetition, error) {
	holdFor := s.Hold
	if holdFor == 0 {
		holdFor = 10 * env.Timing.HeartbeatTimeout
	}
	t, err := newTrial(ctx, env)
	if err != nil {
		return t.rep, err
	}
	leader := t.stable.Leader
	followers := t.followers()
	victim := followers[env.Rand.IntN(len(followers))]
	t.startWriter(func(id string) bool { return true })
	if err := t.inject(netchaos.Isolate(victim, netchaos.KindReject)...); err != nil {
		return t.rep, err
	}
	if err := hold(ctx, holdFor); err != nil {
		return t.finish(ctx)
	}
	t.rep.Durations["isolated"] = holdFor
	if err := t.heal(ctx); err != nil {
		return t.finish(ctx)
	}
	t.rep.Recovered = true
	t.rep.RTO = t.rep.Durations[PhaseHeal]
	t.rep.Durations[PhaseCatchUp] = t.rep.RTO
	delete(t.rep.Durations, PhaseHeal)

	st, err := t.c.WaitStable(ctx)
	if err == nil && (st.Leader != leader || st.Term != t.stable.Term) {
		t.rep.Violations = append(t.rep.Violations, fmt.Sprintf(
			"leadership moved from %s (term %d) to %s (term %d) although only follower %s was cut off",
			leader, t.stable.Term, st.Leader, st.Term, victim))
	}
	return t.finish(ctx)
}
