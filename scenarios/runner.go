package scenarios

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"time"

	"github.com/faultline-dev/faultline/cluster"
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
}

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
	}
}

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
		env := Env{Cluster: c, Rand: rng, Log: log.With("scenario", s.Name(), "rep", i), Target: target, Timing: cfg.Profile.Timing(), Index: i}
		rep, err := runRepetition(ctx, s, env, cfg.StableTimeout)
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
func runRepetition(ctx context.Context, s Scenario, env Env, stableTimeout time.Duration) (rep Repetition, err error) {
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
	rep, err = s.Run(ctx, env)
	rep.Index = env.Index
	if err != nil && rep.Error == "" {
		rep.Error = err.Error()
	}
	return rep, err
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
