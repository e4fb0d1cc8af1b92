package scenarios

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/faultline-dev/faultline/raftint"
	"github.com/faultline-dev/faultline/scenarios/safety"
)

// linearizabilityTimeout bounds porcupine's search per repetition; a search
// that runs out is reported as inconclusive, not as a violation.
const linearizabilityTimeout = 20 * time.Second

// SafetyReport holds the findings of one repetition's safety checks.
type SafetyReport struct {
	// Operations is the number of client operations in the history.
	Operations int `json:"operations"`
	// Unknown counts operations whose outcome the clients could not learn.
	Unknown int `json:"unknown_outcomes"`
	// Linearizable is false when porcupine found a violation;
	// Inconclusive marks a search that timed out.
	Linearizable bool `json:"linearizable"`
	Inconclusive bool `json:"inconclusive,omitempty"`
	// Visualization is porcupine's HTML rendering of a violation.
	Visualization string `json:"visualization,omitempty"`
	// Converged reports identical state machines at one applied index.
	Converged bool `json:"converged"`
	// ConvergenceSkipped marks a cluster that cannot report state hashes.
	ConvergenceSkipped bool `json:"convergence_skipped,omitempty"`
	// CheckTime is how long the four checks took.
	CheckTime  time.Duration      `json:"check_time_ns"`
	Violations []safety.Violation `json:"violations,omitempty"`
}

// startChecks starts the client workload whose history the safety checks
// judge. It draws its own generator from the run's, so its choices do not
// shift the scenario's.
func (t *trial) startChecks(ctx context.Context) {
	if !t.env.Checks {
		return
	}
	rng := rand.New(rand.NewPCG(t.env.Rand.Uint64(), t.env.Rand.Uint64()))
	cfg := safety.DefaultWorkloadConfig()
	cfg.KeyPrefix = fmt.Sprintf("safety-%s-%d-", t.env.Name, t.env.Index)
	cfg.OpTimeout = max(cfg.OpTimeout, 2*t.env.Timing.HeartbeatTimeout)
	cfg.Logger = t.env.Log
	wl, err := safety.StartWorkload(ctx, t.c, cfg, rng)
	if err != nil {
		t.env.Log.Error("safety workload not started", "error", err)
		return
	}
	t.workload = wl
}

// stopWorkload ends the client workload, if one runs, and keeps its history.
func (t *trial) stopWorkload() {
	if t.workload != nil {
		t.history = t.workload.Stop()
		t.workload = nil
	}
}

// stateHashes reports whether the cluster's nodes can report state hashes;
// clusters of separate processes may not.
func (t *trial) stateHashes() bool {
	for _, id := range t.c.Nodes() {
		if _, _, err := t.c.StateHash(id); errors.Is(err, errors.ErrUnsupported) {
			return false
		}
	}
	return true
}

// runChecks judges the history and the cluster once faults are healed and
// clients have stopped: convergence, durability of every acknowledged
// write, one leader per term, and linearizability.
func (t *trial) runChecks(ctx context.Context, events []raftint.Event) {
	if t.history == nil {
		return
	}
	begin := time.Now()
	report := &SafetyReport{}
	ops := t.history.Ops()
	sum := safety.Summarize(ops)
	report.Operations, report.Unknown = sum.Ops, sum.Unknown

	var violations []safety.Violation
	if t.stateHashes() {
		cctx, cancel := context.WithTimeout(ctx, t.env.stableWait())
		conv, v := safety.CheckConvergence(cctx, t.c)
		cancel()
		report.Converged = conv.Converged
		violations = append(violations, v...)
	} else {
		report.ConvergenceSkipped = true
	}
	violations = append(violations, safety.CheckDurability(t.c, safety.Writes(t.history))...)
	violations = append(violations, safety.CheckElectionSafety(events)...)

	vizDir := ""
	if t.env.ReportDir != "" {
		vizDir = filepath.Join(t.env.ReportDir, fmt.Sprintf("%s-%d-linearizability", t.env.Name, t.env.Index))
	}
	lin := safety.CheckLinearizable(t.history, linearizabilityTimeout, vizDir)
	report.Linearizable, report.Inconclusive = lin.OK, lin.Unknown
	report.Visualization = lin.VisualizationPath
	violations = append(violations, lin.Violations()...)

	report.Violations = violations
	report.CheckTime = time.Since(begin)
	t.rep.Safety = report
	t.rep.Violations = append(t.rep.Violations, safety.Strings(violations)...)
	t.rep.Counts["history_ops"] = int64(report.Operations)
	t.rep.Durations["check_time"] = report.CheckTime
}
