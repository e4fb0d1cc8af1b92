package scenarios

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestCatalogScenariosCanFail runs every scenario with an RTO maximum no
// cluster can meet, so a fault stays unrecovered within the limit: the
// verdict must fail and the runner must leave no fault behind.
func TestCatalogScenariosCanFail(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster per scenario")
	}
	for _, s := range Catalog() {
		t.Run(s.Name(), func(t *testing.T) {
			cfg, rec := testConfig(t, 1)
			cfg.Nodes = max(3, s.MinNodes())
			cfg.Target = &Target{Target: time.Millisecond, Max: time.Millisecond}
			cfg.VerifyWrites = 0
			report, err := Run(context.Background(), s, cfg)
			if err != nil && !errors.Is(err, ErrUnstable) {
				t.Fatalf("Run: %v", err)
			}
			if report.Verdict != VerdictFail {
				t.Fatalf("verdict %s with a 1ms maximum, want fail", report.Verdict)
			}
			if rec.faultsAtClose != 0 {
				t.Fatalf("%d faults left after the run", rec.faultsAtClose)
			}
		})
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
