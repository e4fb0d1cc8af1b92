package scenarios

import (
	"context"
	"fmt"
	"slices"

	"github.com/faultline-dev/faultline/netchaos"
)

// SplitBrain splits five nodes 2|3 with the leader on the minority side. The
// old leader must step down within its lease, the majority must elect, no
// write may commit on the minority, and after the heal the minority's
// uncommitted entries must be gone.
type SplitBrain struct{}

// Name implements Scenario.
func (SplitBrain) Name() string { return "split-brain" }

// Description implements Scenario.
func (SplitBrain) Description() string {
	return "split the cluster 2|3 with the leader in the minority; the minority must not commit and the majority must elect"
}

// BlastRadius implements Scenario.
func (SplitBrain) BlastRadius() BlastRadius { return RadiusCluster }

// DefaultTarget implements Scenario.
func (SplitBrain) DefaultTarget() Target { return TargetNetworkPartition }

// MinNodes implements Scenario.
func (SplitBrain) MinNodes() int { return 5 }

// Phases implements Scenario.
func (SplitBrain) Phases() []string {
	return []string{PhaseDetection, PhaseElection, PhaseRTO, PhaseStepDown, PhaseHeal}
}

// Run implements Scenario.
func (SplitBrain) Run(ctx context.Context, env Env) (Repetition, error) {
	t, err := newTrial(ctx, env)
	if err != nil {
		return t.rep, err
	}
	old := t.stable.Leader
	followers := t.followers()
	partner := followers[env.Rand.IntN(len(followers))]
	minority := []string{old, partner}
	majority := slices.DeleteFunc(slices.Clone(followers), func(id string) bool { return id == partner })
	if err := t.inject(netchaos.Split(netchaos.KindPartition, minority, majority)...); err != nil {
		return t.rep, err
	}
	t.rep.Counts["minority_size"] = int64(len(minority))
	t.startWriter(func(id string) bool { return !slices.Contains(minority, id) })
	key := fmt.Sprintf("minority-%s-%d", env.Name, env.Index)
	stuck := t.stuckWrite(old, key)

	if !t.awaitWrite(ctx) {
		return t.finish(ctx)
	}
	t.expectNoCommit(ctx, old, key, stuck)
	if err := t.heal(ctx); err != nil {
		return t.finish(ctx)
	}
	t.measureLeaderLoss(old)
	if d, ok := t.rep.Durations[PhaseStepDown]; !ok {
		t.rep.Violations = append(t.rep.Violations, fmt.Sprintf("minority leader %s never stepped down", old))
	} else if lease := env.Timing.LeaderLeaseTimeout; d > 2*lease+env.Timing.HeartbeatTimeout {
		// raft checks the lease once per lease interval against the last
		// contact, so a step-down can take up to about two leases.
		t.rep.Violations = append(t.rep.Violations, fmt.Sprintf("minority leader %s stepped down after %v, long past its %v lease", old, d, lease))
	}
	t.expectAbsent(key)
	return t.finish(ctx)
}
