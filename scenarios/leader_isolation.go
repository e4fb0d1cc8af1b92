package scenarios

import (
	"context"
	"fmt"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/netchaos"
)

// Phase names shared by the network scenarios.
const (
	PhaseDetection = "detection"
	PhaseElection  = "election"
	PhaseRTO       = "rto"
	PhaseStepDown  = "step_down"
	PhaseHeal      = "heal_recovery"
)

// LeaderIsolation blackholes the leader in both directions, measures how the
// majority recovers, heals, and measures how the whole cluster converges.
type LeaderIsolation struct{}

// Name implements Scenario.
func (LeaderIsolation) Name() string { return "leader-isolation" }

// Description implements Scenario.
func (LeaderIsolation) Description() string {
	return "blackhole the leader both ways; measure detection, election, first majority write (RTO), the old leader's step-down and recovery after heal"
}

// BlastRadius implements Scenario.
func (LeaderIsolation) BlastRadius() BlastRadius { return RadiusNode }

// DefaultTarget implements Scenario.
func (LeaderIsolation) DefaultTarget() Target { return TargetNetworkPartition }

// MinNodes implements Scenario: the majority needs two nodes left.
func (LeaderIsolation) MinNodes() int { return 3 }

// Phases implements Scenario.
func (LeaderIsolation) Phases() []string {
	return []string{PhaseDetection, PhaseElection, PhaseRTO, PhaseStepDown, PhaseHeal}
}

// Run implements Scenario.
func (LeaderIsolation) Run(ctx context.Context, env Env) (Repetition, error) {
	t, err := newTrial(ctx, env)
	if err != nil {
		return t.rep, err
	}
	old := t.stable.Leader
	if err := t.inject(netchaos.Isolate(old, netchaos.KindPartition)...); err != nil {
		return t.rep, err
	}
	t.startWriter(func(id string) bool { return id != old })
	key := fmt.Sprintf("isolated-%s-%d", env.Name, env.Index)
	stuck := t.stuckWrite(old, key)

	if !t.awaitWrite(ctx) {
		return t.finish(ctx)
	}
	t.expectNoCommit(ctx, old, key, stuck)
	if err := t.heal(ctx); err != nil {
		return t.finish(ctx)
	}
	t.measureLeaderLoss(old)
	if _, ok := t.rep.Durations[PhaseStepDown]; !ok {
		t.rep.Violations = append(t.rep.Violations, fmt.Sprintf("isolated leader %s never stepped down", old))
	}
	t.expectAbsent(key)
	return t.finish(ctx)
}

// checkAcked reports every acknowledged write that a running node lacks.
func checkAcked(c cluster.Cluster, acks []ack) []string {
	var violations []string
	for _, id := range c.Nodes() {
		missing := 0
		for _, a := range acks {
			v, ok, err := c.Get(id, a.Key)
			if err != nil {
				break
			}
			if !ok || v != a.Value {
				missing++
			}
		}
		if missing > 0 {
			violations = append(violations, fmt.Sprintf("durability: %s lacks %d of %d acknowledged writes", id, missing, len(acks)))
		}
	}
	return violations
}
