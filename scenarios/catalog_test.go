package scenarios

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/daemon"
	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
)

// TestCatalogScenariosCanFail breaks each scenario's recovery: network and
// node scenarios run on a cluster that never settles once a fault was
// injected, as when a node never catches up, and daemon scenarios on
// daemons whose every operation fails. The verdict must fail and the runner
// must leave no fault behind.
func TestCatalogScenariosCanFail(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster per scenario")
	}
	for _, s := range Catalog() {
		if s.Name() == "conflicting-leaders" {
			// Its verdict depends only on the daemon's term rule, which
			// the daemon's own leadership tests break and catch.
			continue
		}
		if _, ok := s.(ChaosMonkey); ok {
			// Make sure the monkey injects a fault within the short run.
			s = ChaosMonkey{Rate: 1, Interval: 200 * time.Millisecond, Kinds: []string{MonkeyLeaderIsolated}}
		}
		_, isDaemon := s.(DaemonScenario)
		t.Run(s.Name(), func(t *testing.T) {
			cfg, rec := testConfig(t, 1)
			cfg.Nodes = max(3, s.MinNodes())
			cfg.VerifyWrites = 0
			cfg.StableTimeout = time.Second
			cfg.Duration = time.Second
			cfg.Target = &Target{Target: time.Millisecond, Max: 100 * time.Millisecond}
			if isDaemon {
				cfg.Factory = breakDaemons(t, cfg.Factory)
			} else {
				cfg.Factory = neverSettles(cfg.Factory)
			}
			report, err := Run(context.Background(), s, cfg)
			if err != nil && !errors.Is(err, ErrUnstable) && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Run: %v", err)
			}
			if report.Verdict != VerdictFail {
				t.Fatalf("verdict %s on a broken cluster, want fail", report.Verdict)
			}
			if rec.faultsAtClose != 0 {
				t.Fatalf("%d faults left after the run", rec.faultsAtClose)
			}
		})
	}
}

// unsettled is a cluster that stops converging once a fault or crash has
// been injected, as if one node never caught up.
type unsettled struct {
	cluster.Cluster
	mu      sync.Mutex
	faulted bool
}

func (u *unsettled) mark() {
	u.mu.Lock()
	u.faulted = true
	u.mu.Unlock()
}

func (u *unsettled) broken() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.faulted
}

func (u *unsettled) AddFaults(rules ...netchaos.Rule) ([]netchaos.Rule, error) {
	u.mark()
	return u.Cluster.AddFaults(rules...)
}

func (u *unsettled) Crash(id string) error {
	u.mark()
	return u.Cluster.Crash(id)
}

func (u *unsettled) WaitStable(ctx context.Context) (cluster.Stable, error) {
	return u.WaitConverged(ctx, 0)
}

func (u *unsettled) WaitConverged(ctx context.Context, index uint64) (cluster.Stable, error) {
	if !u.broken() {
		return u.Cluster.WaitConverged(ctx, index)
	}
	<-ctx.Done()
	return cluster.Stable{}, ctx.Err()
}

func (u *unsettled) Daemon(id string) (*daemon.Daemon, error) {
	return u.Cluster.(Daemons).Daemon(id)
}

func neverSettles(next Factory) Factory {
	return func(ctx context.Context, size int, profile raftint.Profile, seed int64) (cluster.Cluster, error) {
		c, err := next(ctx, size, profile, seed)
		if err != nil {
			return nil, err
		}
		return &unsettled{Cluster: c}, nil
	}
}

// breakDaemons wraps a factory so that every daemon fails every run.
func breakDaemons(t *testing.T, next Factory) Factory {
	return func(ctx context.Context, size int, profile raftint.Profile, seed int64) (cluster.Cluster, error) {
		c, err := next(ctx, size, profile, seed)
		if err != nil {
			return nil, err
		}
		for _, id := range c.Nodes() {
			d, err := c.(Daemons).Daemon(id)
			if err != nil {
				t.Fatalf("Daemon(%s): %v", id, err)
			}
			if err := d.EnableFailpoint(daemon.FailpointBeforeExecute, daemon.ReturnError(errors.New("broken daemon"))); err != nil {
				t.Fatalf("EnableFailpoint: %v", err)
			}
		}
		return c, nil
	}
}

// outage crashes a majority and waits, so every health check fails.
type outage struct {
	LeaderIsolation
}

func (outage) Name() string { return "outage" }

func (outage) Run(ctx context.Context, env Env) (Repetition, error) {
	nodes := env.Cluster.Nodes()
	for _, id := range nodes[:len(nodes)/2+1] {
		if err := env.Cluster.Crash(id); err != nil {
			return Repetition{}, err
		}
	}
	<-ctx.Done()
	return Repetition{}, context.Cause(ctx)
}

func TestGuardAborts(t *testing.T) {
	cases := []struct {
		name   string
		change func(*GuardConfig)
		want   string
	}{
		{"failure rate", func(g *GuardConfig) { g.Interval = 5 * time.Millisecond; g.MinChecks = 3 }, "health checks failed"},
		{"max duration", func(g *GuardConfig) { g.Interval = time.Hour; g.MaxDuration = 50 * time.Millisecond }, "maximum duration"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := testConfig(t, 1)
			tc.change(&cfg.Guard)
			report, err := Run(context.Background(), outage{}, cfg)
			if !errors.Is(err, ErrAborted) {
				t.Fatalf("Run error %v, want ErrAborted", err)
			}
			if !report.Aborted || report.Verdict != VerdictFail {
				t.Fatalf("report aborted=%v verdict=%s, want aborted and fail", report.Aborted, report.Verdict)
			}
			g := report.Repetitions[0].Guard
			if g == nil || !g.Aborted || len(g.LastHealth) != 3 {
				t.Fatalf("guard report %+v, want an abort with the health of 3 nodes", g)
			}
			if got := g.Reason; !strings.Contains(got, tc.want) {
				t.Fatalf("abort reason %q does not mention %q", got, tc.want)
			}
		})
	}
}
