package scenarios

import (
	"context"
	"fmt"
	"time"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
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
func (s LeaderIsolation) Run(ctx context.Context, env Env) (Repetition, error) {
	c := env.Cluster
	tl := c.Timeline()
	rep := Repetition{Index: env.Index, Durations: map[string]time.Duration{}, Counts: map[string]int64{}}
	stable, err := c.WaitStable(ctx)
	if err != nil {
		return rep, fmt.Errorf("%w: %w", ErrUnstable, err)
	}
	old := stable.Leader
	rep.Counts["term_before"] = int64(stable.Term)

	// Inject: the leader's every link is a blackhole in both directions.
	seq := tl.LastSeq()
	rules, err := c.AddFaults(netchaos.Isolate(old, netchaos.KindPartition)...)
	if err != nil {
		return rep, err
	}
	fault, _ := firstEvent(tl.Since(seq), func(e raftint.Event) bool { return e.Kind == raftint.EventFault })
	env.Log.Info("leader isolated", "node_id", old, "term", stable.Term, "rules", len(rules))

	writeTimeout := 2 * env.Timing.HeartbeatTimeout
	w := startWriter(c, fmt.Sprintf("li%d", env.Index), writeTimeout, func(id string) bool { return id != old })
	defer w.Stop()
	isolated := make(chan error, 1)
	go func() { isolated <- isolatedWrite(c, old, env.Target.Max) }()

	// Recover: the first write that the majority's new leader commits.
	recoverCtx, cancel := context.WithDeadline(ctx, fault.At.Add(env.Target.Max))
	defer cancel()
	select {
	case <-w.first:
		rep.Recovered = true
	case <-recoverCtx.Done():
		rep.Error = fmt.Sprintf("no majority write within %v", env.Target.Max)
	}
	if _, err := tl.Wait(recoverCtx, seq, isStepDown(old)); err != nil && rep.Recovered {
		rep.Violations = append(rep.Violations, fmt.Sprintf("isolated leader %s never stepped down", old))
	}
	select {
	case err := <-isolated:
		if err == nil {
			rep.Violations = append(rep.Violations, fmt.Sprintf("isolated leader %s committed a write", old))
		}
	case <-recoverCtx.Done():
	}
	if ctx.Err() != nil {
		return rep, ctx.Err()
	}

	// Heal and wait until every node follows one leader and has applied
	// the commit index that leader had at the heal.
	healSeq := tl.LastSeq()
	var target uint64
	if _, ls, err := cluster.Leader(c); err == nil {
		target = ls.CommitIndex
	}
	ids := make([]string, len(rules))
	for i, r := range rules {
		ids[i] = r.ID
	}
	if err := c.RemoveFaults(ids...); err != nil {
		return rep, err
	}
	heal, _ := firstEvent(tl.Since(healSeq), func(e raftint.Event) bool { return e.Kind == raftint.EventHeal })
	healCtx, cancelHeal := context.WithTimeout(ctx, env.Target.Max)
	defer cancelHeal()
	healed, err := c.WaitConverged(healCtx, target)
	if err != nil {
		rep.Recovered = false
		rep.Error = fmt.Sprintf("cluster did not converge after heal: %v", err)
		return rep, nil
	}

	// Stop the writer and let its last writes reach every node before the
	// durability check.
	w.Stop()
	if _, err := c.WaitStable(healCtx); err != nil {
		rep.Recovered = false
		rep.Error = fmt.Sprintf("cluster did not converge after the last write: %v", err)
		return rep, nil
	}

	s.measure(&rep, tl.Since(seq), old, fault, w.Acks())
	rep.Durations[PhaseHeal] = healed.At.Sub(heal.At)
	rep.Counts["term_after"] = int64(healed.Term)
	rep.Counts["writes_acked"] = int64(len(w.Acks()))
	rep.Counts["writes_failed"] = int64(w.Failures())
	rep.Violations = append(rep.Violations, checkAcked(c, w.Acks())...)
	return rep, nil
}

// measure fills the phase durations from the timeline events after the
// fault.
func (LeaderIsolation) measure(rep *Repetition, events []raftint.Event, old string, fault raftint.Event, acks []ack) {
	if e, ok := firstEvent(events, isDetection(old)); ok {
		rep.Durations[PhaseDetection] = e.At.Sub(fault.At)
	}
	if e, ok := firstEvent(events, isElection(old)); ok {
		rep.Durations[PhaseElection] = e.At.Sub(fault.At)
		rep.Counts["term_elected"] = int64(e.Term)
	}
	if e, ok := firstEvent(events, isStepDown(old)); ok {
		rep.Durations[PhaseStepDown] = e.At.Sub(fault.At)
	}
	if len(acks) > 0 {
		rep.RTO = acks[0].At.Sub(fault.At)
		rep.Durations[PhaseRTO] = rep.RTO
	}
	rep.Violations = append(rep.Violations, leadersPerTerm(events)...)
}

// isolatedWrite tries a write through the isolated leader; it must never
// commit, because no quorum can acknowledge it.
func isolatedWrite(c cluster.Cluster, old string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	_, err := c.Put(ctx, old, "isolated-leader-write", "must-not-commit")
	return err
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
