package scenarios

import (
	"context"
	"fmt"
	"time"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/raftint"
)

// PhaseRestart is the time from a restart until the restarted node has
// caught up.
const PhaseRestart = "restart_catch_up"

// NodeCrash crashes the leader without a graceful shutdown, waits for the
// majority to commit a write, restarts the node from its data directory and
// measures its catch-up. No acknowledged write may be lost.
type NodeCrash struct{}

// Name implements Scenario.
func (NodeCrash) Name() string { return "node-crash" }

// Description implements Scenario.
func (NodeCrash) Description() string {
	return "crash the leader without a graceful shutdown, restart it from its data dir; RTO, catch-up, no acknowledged write lost"
}

// BlastRadius implements Scenario.
func (NodeCrash) BlastRadius() BlastRadius { return RadiusNode }

// DefaultTarget implements Scenario.
func (NodeCrash) DefaultTarget() Target { return TargetNodeCrash }

// MinNodes implements Scenario.
func (NodeCrash) MinNodes() int { return 3 }

// Phases implements Scenario.
func (NodeCrash) Phases() []string {
	return []string{PhaseDetection, PhaseElection, PhaseRTO, PhaseRestart}
}

// Run implements Scenario.
func (NodeCrash) Run(ctx context.Context, env Env) (Repetition, error) {
	t, err := newTrial(ctx, env)
	if err != nil {
		return t.rep, err
	}
	old := t.stable.Leader
	t.startWriter(func(string) bool { return true })
	if _, ok := t.w.waitAckAfter(ctx, time.Now()); !ok {
		return t.finish(ctx)
	}
	crashAt := time.Now()
	if err := t.c.Crash(old); err != nil {
		return t.rep, err
	}
	t.markFault(crashAt)
	if !t.awaitWrite(ctx) {
		return t.finish(ctx)
	}
	t.measureLeaderLoss(old)
	delete(t.rep.Durations, PhaseStepDown)

	// The restarted node must reach what the new leader has committed by
	// now; clients keep writing, so the target is read once, not awaited.
	target := uint64(0)
	if _, ls, err := cluster.Leader(t.c); err == nil {
		target = ls.CommitIndex
	}
	restartAt := time.Now()
	if err := t.c.Restart(ctx, old); err != nil {
		t.rep.Recovered = false
		t.rep.Error = fmt.Sprintf("restart of %s failed: %v", old, err)
		return t.finish(ctx)
	}
	if err := t.converge(ctx, restartAt, target, PhaseRestart); err != nil {
		return t.finish(ctx)
	}
	return t.finish(ctx)
}

// ClusterRestart crashes every node at once and restarts them all from their
// data directories: the time to a leader and to the first committed write
// after the restart, and no acknowledged write lost.
type ClusterRestart struct{}

// Name implements Scenario.
func (ClusterRestart) Name() string { return "cluster-restart" }

// Description implements Scenario.
func (ClusterRestart) Description() string {
	return "crash every node and restart them from their data dirs; time to a leader and to the first committed write"
}

// BlastRadius implements Scenario.
func (ClusterRestart) BlastRadius() BlastRadius { return RadiusCluster }

// DefaultTarget implements Scenario.
func (ClusterRestart) DefaultTarget() Target { return TargetClusterFailure }

// MinNodes implements Scenario.
func (ClusterRestart) MinNodes() int { return 1 }

// Phases implements Scenario.
func (ClusterRestart) Phases() []string { return []string{PhaseElection, PhaseRTO} }

// Run implements Scenario. Times are measured from the restart of the last
// node, since nothing can recover while every node is down.
func (ClusterRestart) Run(ctx context.Context, env Env) (Repetition, error) {
	t, err := newTrial(ctx, env)
	if err != nil {
		return t.rep, err
	}
	t.startWriter(func(string) bool { return true })
	if _, ok := t.w.waitAckAfter(ctx, time.Now()); !ok {
		return t.finish(ctx)
	}
	nodes := t.c.Nodes()
	for _, id := range nodes {
		if err := t.c.Crash(id); err != nil {
			return t.rep, err
		}
	}
	seq := t.tl.LastSeq()
	for _, id := range nodes {
		if err := t.c.Restart(ctx, id); err != nil {
			t.rep.Error = fmt.Sprintf("restart of %s failed: %v", id, err)
			return t.finish(ctx)
		}
	}
	restarted, _ := firstEvent(reverse(t.tl.Since(seq)), func(e raftint.Event) bool { return e.Kind == raftint.EventRestart })
	t.markFault(restarted.At)
	if !t.awaitWrite(ctx) {
		return t.finish(ctx)
	}
	if e, ok := firstEvent(t.tl.Since(seq), func(e raftint.Event) bool {
		return e.Kind == raftint.EventState && e.State == "Leader"
	}); ok {
		t.rep.Durations[PhaseElection] = e.At.Sub(t.faultAt)
	}
	return t.finish(ctx)
}

func reverse(events []raftint.Event) []raftint.Event {
	out := make([]raftint.Event, len(events))
	for i, e := range events {
		out[len(events)-1-i] = e
	}
	return out
}
