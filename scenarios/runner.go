package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"time"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/daemon"
	"github.com/faultline-dev/faultline/raftint"
)

// Factory starts the cluster that a run uses.
type Factory func(ctx context.Context, size int, profile raftint.Profile, seed int64) (cluster.Cluster, error)

// LocalFactory starts in-process clusters.
func LocalFactory(log *slog.Logger) Factory {
	return func(ctx context.Context, size int, profile raftint.Profile, seed int64) (cluster.Cluster, error) {
		cfg := cluster.DefaultLocalConfig()
		cfg.Size = size
		cfg.Profile = profile
		cfg.Seed = seed
		cfg.Logger = log
		return cluster.StartLocal(ctx, cfg)
	}
}

// Config configures a Runner.
type Config struct {
	Nodes    int
	Reps     int
	Profile  raftint.Profile
	Seed     int64
	Cooldown time.Duration
	// Target overrides the scenario's default objective when not nil.
	Target *Target
	// StableTimeout bounds the steady-state check before a repetition.
	StableTimeout time.Duration
	// Progress receives one line per repetition as the run goes; nil
	// discards them.
	Progress io.Writer
	Logger   *slog.Logger
	// Factory starts the cluster; nil means LocalFactory.
	Factory Factory
	// Duration is how long scenarios that run for a set time, such as
	// chaos-monkey, inject faults; zero lets each choose.
	Duration time.Duration
	// Checks runs a client workload during network and node scenarios and
	// checks linearizability, durability, convergence and election safety.
	Checks bool
	// ReportDir receives files written by checks; empty writes none.
	ReportDir string
	// Guard configures the safety guard of every repetition.
	Guard GuardConfig
	// VerifyWrites is the number of fresh writes that recovery verification
	// commits after each repetition; zero skips it.
	VerifyWrites int
	// Remote marks a cluster of separate processes or containers, where
	// scenarios above the instance level need AllowRadius.
	Remote bool
	// AllowRadius is the highest blast radius allowed on a remote cluster.
	AllowRadius BlastRadius
}

// Limits of a run.
const (
	// MaxNodes is the largest cluster a run starts; the in-process
	// harness allows no more.
	MaxNodes = 31
	// MaxDuration bounds Config.Duration, so that a mistyped duration
	// fails at once instead of planning faults for years.
	MaxDuration = 24 * time.Hour
)

// DefaultConfig returns three nodes, one repetition, raft's default timings
// and seed 1.
func DefaultConfig() Config {
	return Config{
		Nodes:         3,
		Reps:          1,
		Profile:       raftint.ProfileDefault,
		Seed:          1,
		Cooldown:      time.Second,
		StableTimeout: time.Minute,
		Guard:         DefaultGuardConfig(),
		VerifyWrites:  5,
		Checks:        true,
	}
}

// radiusRank orders blast radius levels.
var radiusRank = map[BlastRadius]int{"": 0, RadiusOperation: 1, RadiusInstance: 2, RadiusNode: 3, RadiusCluster: 4}

// ParseBlastRadius returns the level named by s.
func ParseBlastRadius(s string) (BlastRadius, error) {
	r := BlastRadius(s)
	if _, ok := radiusRank[r]; !ok || r == "" {
		return "", fmt.Errorf("%w: unknown blast radius %q: use operation, instance, node or cluster", ErrInvalidConfig, s)
	}
	return r, nil
}

// ErrBlastRadius reports a scenario whose blast radius the run did not allow.
var ErrBlastRadius = errors.New("scenarios: blast radius not allowed")

// Validate checks the config against the scenario it will run.
func (c Config) Validate(s Scenario) error {
	if c.Nodes < s.MinNodes() {
		return fmt.Errorf("%w: %s needs at least %d nodes, not %d", ErrInvalidConfig, s.Name(), s.MinNodes(), c.Nodes)
	}
	if c.Reps < 1 {
		return fmt.Errorf("%w: reps %d must be at least 1", ErrInvalidConfig, c.Reps)
	}
	if c.Cooldown < 0 {
		return fmt.Errorf("%w: cooldown %v is negative", ErrInvalidConfig, c.Cooldown)
	}
	if c.StableTimeout <= 0 {
		return fmt.Errorf("%w: stable timeout %v must be above zero", ErrInvalidConfig, c.StableTimeout)
	}
	if _, err := raftint.ParseProfile(string(c.Profile)); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if c.Nodes > MaxNodes {
		return fmt.Errorf("%w: %d nodes is above the maximum of %d", ErrInvalidConfig, c.Nodes, MaxNodes)
	}
	if c.Duration < 0 || c.Duration > MaxDuration {
		return fmt.Errorf("%w: duration %v is outside 0..%v", ErrInvalidConfig, c.Duration, MaxDuration)
	}
	if c.VerifyWrites < 0 {
		return fmt.Errorf("%w: verify writes %d is negative", ErrInvalidConfig, c.VerifyWrites)
	}
	if err := c.Guard.Validate(); err != nil {
		return err
	}
	if ip, ok := s.(interface{ InProcessOnly() bool }); ok && c.Remote && ip.InProcessOnly() {
		return fmt.Errorf("%w: %s drives the nodes' daemons directly and runs only on the local target", ErrInvalidConfig, s.Name())
	}
	if c.Remote && radiusRank[s.BlastRadius()] > radiusRank[RadiusInstance] && radiusRank[c.AllowRadius] < radiusRank[s.BlastRadius()] {
		return fmt.Errorf("%w: %s has blast radius %s; on a cluster of separate processes pass --allow-blast-radius %s",
			ErrBlastRadius, s.Name(), s.BlastRadius(), s.BlastRadius())
	}
	if c.Target != nil {
		return c.Target.Validate()
	}
	return nil
}

// Run runs scenario s cfg.Reps times on one cluster and returns the report.
// Every fault is removed and the cluster closed on every exit path, a panic
// inside the scenario included. The error is set when the run could not
// complete: a bad config, a cluster that would not start or stabilise, or a
// cancelled context; the report then holds what was measured so far.
func Run(ctx context.Context, s Scenario, cfg Config) (report *Report, err error) {
	if err := cfg.Validate(s); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	progress := cfg.Progress
	if progress == nil {
		progress = io.Discard
	}
	target := s.DefaultTarget()
	if cfg.Target != nil {
		target = *cfg.Target
	}
	report = newReport(s, cfg, target)
	start := time.Now()
	defer func() { report.finish(time.Since(start)) }()

	factory := cfg.Factory
	if factory == nil {
		factory = LocalFactory(log)
	}
	c, err := factory(ctx, cfg.Nodes, cfg.Profile, cfg.Seed)
	if err != nil {
		return report, fmt.Errorf("scenarios: start cluster: %w", err)
	}
	defer func() {
		if cerr := c.Close(); cerr != nil {
			log.Warn("closing the cluster failed", "error", cerr)
		}
	}()

	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6661756c746c696e))
	for i := 1; i <= cfg.Reps; i++ {
		env := Env{Cluster: c, Rand: rng, Log: log.With("scenario", s.Name(), "rep", i), Target: target, Timing: cfg.Profile.Timing(), Index: i, Name: s.Name(), StableTimeout: cfg.StableTimeout, Duration: cfg.Duration,
			Checks: cfg.Checks, ReportDir: cfg.ReportDir}
		rep, err := runRepetition(ctx, s, env, cfg)
		report.add(rep)
		fmt.Fprintln(progress, formatProgress(s, cfg.Reps, rep))
		if err != nil {
			return report, err
		}
		if i < cfg.Reps {
			if err := cooldown(ctx, c, cfg.Cooldown, cfg.StableTimeout); err != nil {
				return report, err
			}
		}
	}
	return report, nil
}

// runRepetition checks the steady state, runs one repetition, and removes
// every fault afterwards, even when the scenario panics.
func runRepetition(ctx context.Context, s Scenario, env Env, cfg Config) (rep Repetition, err error) {
	stableTimeout := cfg.StableTimeout
	rep = Repetition{Index: env.Index}
	defer func() {
		if cerr := env.Cluster.ClearFaults(); cerr != nil {
			env.Log.Error("removing faults failed", "error", cerr)
			if err == nil {
				err = cerr
			}
		}
	}()
	defer func() {
		if p := recover(); p != nil {
			env.Log.Error("scenario panicked", "panic", p)
			rep.Recovered = false
			rep.Error = fmt.Sprintf("panic: %v\n%s", p, debug.Stack())
			err = fmt.Errorf("scenarios: %s panicked: %v", s.Name(), p)
		}
	}()

	stableCtx, cancel := context.WithTimeout(ctx, stableTimeout)
	defer cancel()
	if _, err := env.Cluster.WaitStable(stableCtx); err != nil {
		rep.Error = err.Error()
		return rep, fmt.Errorf("%w before repetition %d: %w", ErrUnstable, env.Index, err)
	}
	seq := env.Cluster.Timeline().LastSeq()
	start := time.Now()
	defer func() {
		rep.Start = start
		rep.Events = env.Cluster.Timeline().Since(seq)
	}()
	guardCfg := cfg.Guard
	if guardCfg.MaxDuration == 0 {
		guardCfg.MaxDuration = env.Target.Max + time.Minute
	}
	g, gctx := startGuard(ctx, guardCfg, env.Cluster)
	defer g.Stop()
	rep, err = s.Run(gctx, env)
	gr := g.Stop()
	rep.Index = env.Index
	rep.Guard = &gr
	if gr.Aborted {
		rep.Recovered = false
		err = fmt.Errorf("%w: %s", ErrAborted, gr.Reason)
		env.Log.Error("emergency stop", "reason", gr.Reason, "health", gr.LastHealth)
	}
	if err == nil && cfg.VerifyWrites > 0 {
		verr := verifyRecovery(ctx, env.Cluster, cfg.VerifyWrites, stableTimeout, env.Index)
		switch {
		case verr != nil && ctx.Err() != nil:
			// The run was cancelled, by a signal for instance: that is no
			// fault of this repetition's recovery.
			err = ctx.Err()
		case verr != nil:
			rep.Violations = append(rep.Violations, "recovery verification: "+verr.Error())
		}
	}
	if err != nil && rep.Error == "" {
		rep.Error = err.Error()
	}
	return rep, err
}

// putRetrying writes key through the current leader, and again through the
// next leader when leadership moves mid-write, until ctx ends. A retried
// write may have committed already; writing the same value again is
// harmless.
func putRetrying(ctx context.Context, c cluster.Cluster, key, value string) error {
	for {
		st, err := c.WaitStable(ctx)
		if err != nil {
			return fmt.Errorf("cluster not stable: %w", err)
		}
		_, err = c.Put(ctx, st.Leader, key, value)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
	}
}

// verifyRecovery checks that the cluster serves again after a repetition.
// Every node returns its status, and n fresh writes commit and reach every
// node. Where the daemons run in process, every daemon also runs n fresh
// operations with metrics that add up.
func verifyRecovery(ctx context.Context, c cluster.Cluster, n int, timeout time.Duration, index int) error {
	vctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, id := range c.Nodes() {
		if _, err := c.Status(id); err != nil {
			return fmt.Errorf("node %s did not return its status: %w", id, err)
		}
	}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("verify-%d-%d", index, i)
		if err := putRetrying(vctx, c, keys[i], "ok"); err != nil {
			return fmt.Errorf("fresh write %d of %d failed: %w", i+1, n, err)
		}
	}
	if _, err := c.WaitStable(vctx); err != nil {
		return fmt.Errorf("cluster not stable after the fresh writes: %w", err)
	}
	for _, id := range c.Nodes() {
		for _, k := range keys {
			if v, ok, err := c.Get(id, k); err != nil || !ok || v != "ok" {
				return fmt.Errorf("node %s lacks fresh write %s", id, k)
			}
		}
	}
	if ds, ok := c.(Daemons); ok {
		return verifyDaemons(vctx, c, ds, n, index)
	}
	return nil
}

// verifyDaemons checks every node's daemon: it runs, n fresh operations
// succeed, and its metrics add up.
func verifyDaemons(ctx context.Context, c cluster.Cluster, ds Daemons, n, index int) error {
	for _, id := range c.Nodes() {
		d, err := ds.Daemon(id)
		if err != nil {
			return fmt.Errorf("daemon of %s: %w", id, err)
		}
		if !d.Health().Running {
			return fmt.Errorf("daemon of %s is not running", id)
		}
		for i := range n {
			op := daemon.Operation{ID: fmt.Sprintf("verify-%d-%s-%d", index, id, i), Handler: daemon.Succeed(i), Timeout: time.Second}
			if _, err := runOp(ctx, d, op); err != nil {
				return fmt.Errorf("fresh operation %d of %d on %s failed: %w", i+1, n, id, err)
			}
		}
		m := d.Metrics()
		if m.Executed != m.Succeeded+m.Failed+m.TimedOut+m.Cancelled {
			return fmt.Errorf("daemon of %s: metrics do not add up: %d executed, %d succeeded, %d failed, %d timed out, %d cancelled",
				id, m.Executed, m.Succeeded, m.Failed, m.TimedOut, m.Cancelled)
		}
	}
	return nil
}

// cooldown pauses between repetitions, so the next one starts from a
// cluster that is idle, and then checks the steady state again.
func cooldown(ctx context.Context, c cluster.Cluster, d, stableTimeout time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	stableCtx, cancel := context.WithTimeout(ctx, stableTimeout)
	defer cancel()
	if _, err := c.WaitStable(stableCtx); err != nil {
		return fmt.Errorf("%w after cooldown: %w", ErrUnstable, err)
	}
	return nil
}
