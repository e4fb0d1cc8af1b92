package scenarios

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/faultline-dev/faultline/daemon"
)

// ErrNoDaemon reports a cluster whose nodes' daemons cannot be reached in
// process; daemon scenarios need the in-process target.
var ErrNoDaemon = errors.New("scenarios: daemon scenarios need the in-process cluster")

// Daemons is implemented by clusters whose daemons run in this process.
type Daemons interface {
	Daemon(id string) (*daemon.Daemon, error)
}

// PhaseRecoveryOp is how long the first operation after the chaos took.
const PhaseRecoveryOp = "recovery_op"

// DaemonScenario is operation-level chaos on the leader's daemon. Its chaos
// function injects the fault, records its own checks, and returns when the
// fault is over. The scenario then verifies recovery: the daemon still runs,
// its health is readable, a fresh operation succeeds and the metrics add up.
type DaemonScenario struct {
	name        string
	description string
	radius      BlastRadius
	target      Target
	// chaos runs the fault. It returns the time from which recovery is
	// measured, or the zero time to measure from its return.
	chaos func(ctx context.Context, env Env, d *daemon.Daemon, rep *Repetition) (time.Time, error)
	// rtoIsRelease marks scenarios whose recovery is the chaos itself, such
	// as a timeout that releases its caller: chaos sets rep.RTO.
	rtoIsRelease bool
}

// InProcessOnly reports that the scenario needs the in-process target.
func (DaemonScenario) InProcessOnly() bool { return true }

// Name implements Scenario.
func (s DaemonScenario) Name() string { return s.name }

// Description implements Scenario.
func (s DaemonScenario) Description() string { return s.description }

// BlastRadius implements Scenario.
func (s DaemonScenario) BlastRadius() BlastRadius { return s.radius }

// DefaultTarget implements Scenario.
func (s DaemonScenario) DefaultTarget() Target { return s.target }

// MinNodes implements Scenario.
func (DaemonScenario) MinNodes() int { return 1 }

// Phases implements Scenario.
func (DaemonScenario) Phases() []string { return []string{PhaseRTO, PhaseRecoveryOp} }

// Run implements Scenario.
func (s DaemonScenario) Run(ctx context.Context, env Env) (Repetition, error) {
	rep := Repetition{Index: env.Index, Durations: map[string]time.Duration{}, Counts: map[string]int64{}}
	d, err := leaderDaemon(ctx, env)
	if err != nil {
		return rep, err
	}
	before := d.Metrics()
	from, err := s.chaos(ctx, env, d, &rep)
	if err != nil {
		return rep, err
	}
	if from.IsZero() {
		from = time.Now()
	}
	took, attempts, err := recoverDaemon(ctx, d, fmt.Sprintf("%s-%d-recover", s.name, env.Index), env.Target.Max)
	if err != nil {
		rep.Error = err.Error()
		return rep, nil
	}
	rep.Recovered = true
	rep.Durations[PhaseRecoveryOp] = took
	if !s.rtoIsRelease {
		// The daemon kept serving when the first operation after the chaos
		// succeeded: it never left its steady state, so the RTO is zero.
		if attempts > 1 {
			rep.RTO = time.Since(from)
		}
	}
	rep.Durations[PhaseRTO] = rep.RTO
	rep.Violations = append(rep.Violations, checkDaemon(d, before)...)
	return rep, nil
}

// leaderDaemon returns the daemon of the stable leader, waiting a bounded
// time for the cluster to be stable.
func leaderDaemon(ctx context.Context, env Env) (*daemon.Daemon, error) {
	ds, ok := env.Cluster.(Daemons)
	if !ok {
		return nil, ErrNoDaemon
	}
	ctx, cancel := context.WithTimeout(ctx, env.stableWait())
	defer cancel()
	st, err := env.Cluster.WaitStable(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnstable, err)
	}
	return ds.Daemon(st.Leader)
}

// recoverDaemon runs fresh operations until one succeeds and returns the
// successful one's duration and the number of attempts.
func recoverDaemon(ctx context.Context, d *daemon.Daemon, id string, limit time.Duration) (time.Duration, int, error) {
	rctx, cancel := context.WithTimeout(ctx, limit+time.Second)
	defer cancel()
	for attempt := 1; ; attempt++ {
		opID := fmt.Sprintf("%s-%d", id, attempt)
		if err := d.Schedule(daemon.Operation{ID: opID, Handler: daemon.Succeed("recovered"), Timeout: time.Second}); err != nil {
			return 0, attempt, fmt.Errorf("schedule a recovery operation: %w", err)
		}
		start := time.Now()
		_, err := d.Execute(rctx, opID)
		took := time.Since(start)
		d.Unschedule(opID)
		if err == nil {
			return took, attempt, nil
		}
		if rctx.Err() != nil {
			return 0, attempt, fmt.Errorf("no operation succeeded after the chaos: last error %w", err)
		}
	}
}

// checkDaemon verifies the daemon's state after the chaos: it runs, and its
// metrics since before add up.
func checkDaemon(d *daemon.Daemon, before daemon.Metrics) []string {
	var violations []string
	h := d.Health()
	if !h.Running {
		violations = append(violations, "daemon stopped running")
	}
	m := d.Metrics()
	executed := m.Executed - before.Executed
	outcomes := (m.Succeeded - before.Succeeded) + (m.Failed - before.Failed) +
		(m.TimedOut - before.TimedOut) + (m.Cancelled - before.Cancelled)
	if executed != outcomes {
		violations = append(violations, fmt.Sprintf("metrics do not add up: %d executed, %d outcomes", executed, outcomes))
	}
	if m.Executed < before.Executed || m.Succeeded < before.Succeeded || m.Failed < before.Failed {
		violations = append(violations, "metrics counters went backwards")
	}
	return violations
}

// runOp schedules one operation, executes it once and unschedules it.
func runOp(ctx context.Context, d *daemon.Daemon, op daemon.Operation) (any, error) {
	if err := d.Schedule(op); err != nil {
		return nil, err
	}
	defer d.Unschedule(op.ID)
	return d.Execute(ctx, op.ID)
}
