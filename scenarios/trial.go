package scenarios

import (
	"context"
	"fmt"
	"time"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
	"github.com/faultline-dev/faultline/scenarios/safety"
)

// trial is the common skeleton of a network or node repetition: note the
// steady state, inject faults, write through the majority, heal, and check
// what the writes left behind.
type trial struct {
	env     Env
	c       cluster.Cluster
	tl      *raftint.Timeline
	rep     Repetition
	stable  cluster.Stable
	seq     uint64 // last timeline event before the first fault
	faultAt time.Time
	rules   []netchaos.Rule
	w       *writer

	workload *safety.Workload
	history  *safety.History
}

func newTrial(ctx context.Context, env Env) (*trial, error) {
	t := &trial{
		env: env,
		c:   env.Cluster,
		tl:  env.Cluster.Timeline(),
		rep: Repetition{Index: env.Index, Durations: map[string]time.Duration{}, Counts: map[string]int64{}},
	}
	sctx, cancel := context.WithTimeout(ctx, env.stableWait())
	defer cancel()
	st, err := t.c.WaitStable(sctx)
	if err != nil {
		return t, fmt.Errorf("%w: %w", ErrUnstable, err)
	}
	t.stable = st
	t.seq = t.tl.LastSeq()
	t.rep.Counts["term_before"] = int64(st.Term)
	t.startChecks(ctx)
	return t, nil
}

// followers returns the running nodes other than the stable leader.
func (t *trial) followers() []string {
	var out []string
	for _, id := range t.c.Nodes() {
		if id != t.stable.Leader {
			out = append(out, id)
		}
	}
	return out
}

// inject adds rules and records the time of the first fault.
func (t *trial) inject(rules ...netchaos.Rule) error {
	seq := t.tl.LastSeq()
	added, err := t.c.AddFaults(rules...)
	if err != nil {
		return err
	}
	t.rules = append(t.rules, added...)
	if t.faultAt.IsZero() {
		e, ok := firstEvent(t.tl.Since(seq), func(e raftint.Event) bool { return e.Kind == raftint.EventFault })
		t.faultAt = e.At
		if !ok {
			t.faultAt = time.Now()
		}
	}
	t.env.Log.Info("faults injected", "rules", len(added))
	return nil
}

// markFault records a fault that is not a rule, such as a crash.
func (t *trial) markFault(at time.Time) {
	if t.faultAt.IsZero() {
		t.faultAt = at
	}
}

// startWriter writes through whichever allowed node is leader.
func (t *trial) startWriter(allowed func(string) bool) {
	timeout := 2 * t.env.Timing.HeartbeatTimeout
	t.w = startWriter(t.c, fmt.Sprintf("%s-%d", t.env.Name, t.env.Index), timeout, allowed)
}

// recoverCtx bounds waiting for recovery by the objective's maximum, from
// the fault.
func (t *trial) recoverCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithDeadline(ctx, t.faultAt.Add(t.env.Target.Max))
}

// awaitWrite waits for the first write acknowledged after the fault and
// records it as the RTO.
func (t *trial) awaitWrite(ctx context.Context) bool {
	rctx, cancel := t.recoverCtx(ctx)
	defer cancel()
	a, ok := t.w.waitAckAfter(rctx, t.faultAt)
	if !ok {
		t.rep.Error = fmt.Sprintf("no write committed within %v of the fault", t.env.Target.Max)
		return false
	}
	t.rep.Recovered = true
	t.rep.RTO = a.At.Sub(t.faultAt)
	t.rep.Durations[PhaseRTO] = t.rep.RTO
	return true
}

// heal removes the trial's rules and waits until every node follows one
// leader and has applied the commit index that leader had at the heal. It
// records the wait as PhaseHeal.
func (t *trial) heal(ctx context.Context) error {
	target := uint64(0)
	if _, ls, err := cluster.Leader(t.c); err == nil {
		target = ls.CommitIndex
	}
	seq := t.tl.LastSeq()
	if len(t.rules) > 0 {
		ids := make([]string, len(t.rules))
		for i, r := range t.rules {
			ids[i] = r.ID
		}
		if err := t.c.RemoveFaults(ids...); err != nil {
			return err
		}
		t.rules = nil
	}
	healAt := time.Now()
	if e, ok := firstEvent(t.tl.Since(seq), func(e raftint.Event) bool { return e.Kind == raftint.EventHeal }); ok {
		healAt = e.At
	}
	return t.converge(ctx, healAt, target, PhaseHeal)
}

// converge waits until the cluster agrees on one leader with every node at
// index or beyond, and records the wait since from as phase.
func (t *trial) converge(ctx context.Context, from time.Time, index uint64, phase string) error {
	cctx, cancel := context.WithTimeout(ctx, t.env.Target.Max)
	defer cancel()
	st, err := t.c.WaitConverged(cctx, index)
	if err != nil {
		t.rep.Recovered = false
		t.rep.Error = fmt.Sprintf("cluster did not converge for %s: %v", phase, err)
		return err
	}
	t.rep.Durations[phase] = st.At.Sub(from)
	t.rep.Counts["term_after"] = int64(st.Term)
	return nil
}

// finish stops the writer, lets its last writes reach every node, and runs
// the checks that every network and node scenario shares: acknowledged
// writes survive and at most one leader per term.
func (t *trial) finish(ctx context.Context) (Repetition, error) {
	if len(t.rules) > 0 {
		ids := make([]string, len(t.rules))
		for i, r := range t.rules {
			ids[i] = r.ID
		}
		if err := t.c.RemoveFaults(ids...); err != nil {
			return t.rep, err
		}
		t.rules = nil
	}
	t.stopWorkload()
	if t.w != nil {
		t.w.Stop()
		sctx, cancel := context.WithTimeout(ctx, t.env.stableWait())
		defer cancel()
		if _, err := t.c.WaitStable(sctx); err != nil {
			t.rep.Recovered = false
			t.rep.Error = fmt.Sprintf("cluster did not settle after the last write: %v", err)
			return t.rep, nil
		}
		acks := t.w.Acks()
		failed := t.w.Failures()
		t.rep.Counts["writes_acked"] = int64(len(acks))
		t.rep.Counts["writes_failed"] = int64(failed)
		if total := len(acks) + failed; total > 0 {
			t.rep.Counts["write_success_percent"] = int64(100 * len(acks) / total)
		}
		t.rep.Violations = append(t.rep.Violations, checkAcked(t.c, acks)...)
	}
	events := t.tl.Since(t.seq)
	if t.history != nil {
		t.runChecks(ctx, events)
	} else {
		t.rep.Violations = append(t.rep.Violations, leadersPerTerm(events)...)
	}
	t.rep.Counts["elections"] = int64(countEvents(events, func(e raftint.Event) bool {
		return e.Kind == raftint.EventState && e.State == "Leader"
	}))
	return t.rep, ctx.Err()
}

// measureLeaderLoss fills detection, election and step-down from the
// timeline for a fault that cut off leader old.
func (t *trial) measureLeaderLoss(old string) {
	events := t.tl.Since(t.seq)
	if e, ok := firstEvent(events, isDetection(old)); ok {
		t.rep.Durations[PhaseDetection] = e.At.Sub(t.faultAt)
	}
	if e, ok := firstEvent(events, isElection(old)); ok {
		t.rep.Durations[PhaseElection] = e.At.Sub(t.faultAt)
		t.rep.Counts["term_elected"] = int64(e.Term)
	}
	if e, ok := firstEvent(events, isStepDown(old)); ok {
		t.rep.Durations[PhaseStepDown] = e.At.Sub(t.faultAt)
	}
	if d, ok := safety.StaleLeaderWindow(events, old, t.faultAt); ok {
		t.rep.Durations["stale_leader"] = d
	}
}

// stuckWrite tries a write through node id, which is cut off from a quorum;
// it must never commit. The result arrives on the returned channel.
func (t *trial) stuckWrite(id, key string) <-chan error {
	out := make(chan error, 1)
	limit := t.env.Target.Max
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		defer cancel()
		_, err := t.c.Put(ctx, id, key, "must-not-commit")
		out <- err
	}()
	return out
}

// expectNoCommit records a violation when a stuck write committed, and, once
// healed, when its key is on any node.
func (t *trial) expectNoCommit(ctx context.Context, id, key string, result <-chan error) {
	rctx, cancel := t.recoverCtx(ctx)
	defer cancel()
	select {
	case err := <-result:
		if err == nil {
			t.rep.Violations = append(t.rep.Violations, fmt.Sprintf("%s committed a write without a quorum", id))
		}
	case <-rctx.Done():
		t.rep.Violations = append(t.rep.Violations, fmt.Sprintf("a write through %s neither committed nor failed", id))
	}
}

// expectAbsent records a violation for every node that holds key.
func (t *trial) expectAbsent(key string) {
	for _, id := range t.c.Nodes() {
		if _, ok, err := t.c.Get(id, key); err == nil && ok {
			t.rep.Violations = append(t.rep.Violations, fmt.Sprintf("%s holds %s, which no quorum committed", id, key))
		}
	}
}

// hold waits for d unless ctx ends first. Scenarios use it for the fault
// windows they are defined by, never to wait for the cluster.
func hold(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func countEvents(events []raftint.Event, match func(raftint.Event) bool) int {
	n := 0
	for _, e := range events {
		if match(e) {
			n++
		}
	}
	return n
}
