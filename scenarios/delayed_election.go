package scenarios

import (
	"context"
	"fmt"
	"time"

	"github.com/faultline-dev/faultline/netchaos"
)

// PhaseUnavailable is how long no write could commit.
const PhaseUnavailable = "unavailable"

// DelayedElection isolates the leader and holds every vote and pre-vote
// among the remaining nodes for Delay, so the election can only finish after
// it. The RTO should be about Delay plus one election. Meanwhile the
// majority's daemons refuse leader-scoped operations with ErrNoLeader, and
// the window until one runs again is measured.
type DelayedElection struct {
	// Delay is how long votes are held; zero means four heartbeat timeouts
	// of the profile.
	Delay time.Duration
}

// Name implements Scenario.
func (DelayedElection) Name() string { return "delayed-election" }

// Description implements Scenario.
func (DelayedElection) Description() string {
	return "isolate the leader and hold votes and pre-votes among the rest for a delay; RTO is about delay plus election"
}

// BlastRadius implements Scenario.
func (DelayedElection) BlastRadius() BlastRadius { return RadiusCluster }

// DefaultTarget implements Scenario.
func (DelayedElection) DefaultTarget() Target { return TargetNetworkPartition }

// MinNodes implements Scenario.
func (DelayedElection) MinNodes() int { return 3 }

// Phases implements Scenario.
func (DelayedElection) Phases() []string {
	return []string{PhaseDetection, PhaseElection, PhaseRTO, PhaseUnavailable, PhaseHeal}
}

// Run implements Scenario.
func (s DelayedElection) Run(ctx context.Context, env Env) (Repetition, error) {
	delay := s.Delay
	if delay == 0 {
		delay = 4 * env.Timing.HeartbeatTimeout
	}
	t, err := newTrial(ctx, env)
	if err != nil {
		return t.rep, err
	}
	old := t.stable.Leader
	rules := netchaos.Isolate(old, netchaos.KindPartition)
	others := t.followers()
	for _, from := range others {
		for _, to := range others {
			if from != to {
				rules = append(rules, netchaos.Rule{
					From: from, To: to, Kind: netchaos.KindPartition, TTL: delay,
					Messages: []netchaos.MessageKind{netchaos.MsgRequestVote, netchaos.MsgPreVote},
				})
			}
		}
	}
	if err := t.inject(rules...); err != nil {
		return t.rep, err
	}
	t.rep.Durations["vote_delay"] = delay
	t.startWriter(func(id string) bool { return id != old })
	probe := startLeaderProbe(env, func(id string) bool { return id != old })
	if !t.awaitWrite(ctx) {
		probe.Stop(&t.rep, t.faultAt)
		return t.finish(ctx)
	}
	probe.Stop(&t.rep, t.faultAt)
	t.rep.Durations[PhaseUnavailable] = t.rep.RTO
	if err := t.heal(ctx); err != nil {
		return t.finish(ctx)
	}
	t.measureLeaderLoss(old)
	if e := t.rep.Durations[PhaseElection]; e < delay {
		t.rep.Violations = append(t.rep.Violations, fmt.Sprintf("a leader was elected after %v, before the %v vote delay ended", e, delay))
	}
	return t.finish(ctx)
}
