package scenarios

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/daemon"
	"github.com/faultline-dev/faultline/internal/testlog"
	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// recordingCluster notes the fault table's size whenever the runner closes
// the cluster, to prove that no fault outlives a run.
type recordingCluster struct {
	cluster.Cluster
	mu            sync.Mutex
	faultsAtClose int
	closed        bool
}

// Daemon forwards to the in-process cluster, so daemon scenarios run on a
// recordingCluster too.
func (r *recordingCluster) Daemon(id string) (*daemon.Daemon, error) {
	return r.Cluster.(Daemons).Daemon(id)
}

func (r *recordingCluster) Close() error {
	r.mu.Lock()
	r.faultsAtClose = len(r.Cluster.Faults())
	r.closed = true
	r.mu.Unlock()
	return r.Cluster.Close()
}

func testConfig(t *testing.T, reps int) (Config, *recordingCluster) {
	t.Helper()
	rec := &recordingCluster{}
	cfg := DefaultConfig()
	cfg.Reps = reps
	cfg.Profile = raftint.ProfileFast
	cfg.Cooldown = 10 * time.Millisecond
	cfg.StableTimeout = 30 * time.Second
	cfg.Logger = testlog.New(t, slog.LevelWarn)
	cfg.Progress = testWriter{t}
	cfg.Factory = func(ctx context.Context, size int, profile raftint.Profile, seed int64) (cluster.Cluster, error) {
		lc := cluster.DefaultLocalConfig()
		lc.Size, lc.Profile, lc.Seed, lc.DataDir, lc.Logger = size, profile, seed, t.TempDir(), cfg.Logger
		c, err := cluster.StartLocal(ctx, lc)
		if err != nil {
			return nil, err
		}
		rec.Cluster = c
		return rec, nil
	}
	return cfg, rec
}

func TestLeaderIsolationMeasuresRecovery(t *testing.T) {
	cfg, rec := testConfig(t, 2)
	report, err := Run(context.Background(), LeaderIsolation{}, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if report.Verdict != VerdictPass {
		t.Fatalf("verdict %s, want pass: %v", report.Verdict, report.Reasons)
	}
	if len(report.Repetitions) != 2 {
		t.Fatalf("%d repetitions, want 2", len(report.Repetitions))
	}
	for _, rep := range report.Repetitions {
		for _, phase := range (LeaderIsolation{}).Phases() {
			if d, ok := rep.Durations[phase]; !ok || d <= 0 {
				t.Errorf("rep %d: phase %s = %v, %v; want a positive duration", rep.Index, phase, d, ok)
			}
		}
		d := rep.Durations
		if d[PhaseElection] < d[PhaseDetection] {
			t.Errorf("rep %d: election %v before detection %v", rep.Index, d[PhaseElection], d[PhaseDetection])
		}
		if rep.RTO < d[PhaseElection] {
			t.Errorf("rep %d: RTO %v before the election %v", rep.Index, rep.RTO, d[PhaseElection])
		}
		// A follower cannot notice a silent leader before its heartbeat
		// timeout, counted from the last heartbeat it got. raft v1.7.2
		// sends heartbeats every [timeout/10, timeout/5), so the last one
		// can precede the fault by up to a fifth of the timeout.
		timing := cfg.Profile.Timing()
		if floor := timing.Floor() - timing.HeartbeatTimeout/5; d[PhaseDetection] < floor {
			t.Errorf("rep %d: detection %v below %v, the profile floor less one heartbeat interval", rep.Index, d[PhaseDetection], floor)
		}
		if rep.Counts["term_elected"] <= rep.Counts["term_before"] {
			t.Errorf("rep %d: elected term %d not above %d", rep.Index, rep.Counts["term_elected"], rep.Counts["term_before"])
		}
		if rep.Counts["writes_acked"] == 0 {
			t.Errorf("rep %d: no write acknowledged", rep.Index)
		}
	}
	if !rec.closed || rec.faultsAtClose != 0 {
		t.Fatalf("cluster closed=%v with %d faults left", rec.closed, rec.faultsAtClose)
	}
}

func TestLeaderIsolationFailsPastMax(t *testing.T) {
	cfg, rec := testConfig(t, 1)
	// No raft cluster elects a leader in a millisecond, so the repetition
	// cannot recover within this maximum.
	cfg.Target = &Target{Target: time.Millisecond, Max: time.Millisecond}
	report, err := Run(context.Background(), LeaderIsolation{}, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if report.Verdict != VerdictFail {
		t.Fatalf("verdict %s, want fail", report.Verdict)
	}
	if report.Repetitions[0].Recovered {
		t.Fatal("repetition recovered within 1ms")
	}
	if rec.faultsAtClose != 0 {
		t.Fatalf("%d faults left after a failed repetition", rec.faultsAtClose)
	}
}

// panicking adds a fault and then panics, as a buggy scenario would.
type panicking struct{ LeaderIsolation }

func (panicking) Name() string { return "panicking" }

func (panicking) Run(ctx context.Context, env Env) (Repetition, error) {
	if _, err := env.Cluster.AddFaults(netchaos.Isolate("node-1", netchaos.KindPartition)...); err != nil {
		return Repetition{}, err
	}
	panic("scenario bug")
}

// blocking adds a fault and waits for its context to end.
type blocking struct {
	LeaderIsolation
	started chan struct{}
}

func (blocking) Name() string { return "blocking" }

func (b blocking) Run(ctx context.Context, env Env) (Repetition, error) {
	if _, err := env.Cluster.AddFaults(netchaos.Isolate("node-2", netchaos.KindReject)...); err != nil {
		return Repetition{}, err
	}
	close(b.started)
	<-ctx.Done()
	return Repetition{}, ctx.Err()
}

func TestRunnerRemovesFaultsOnEveryExit(t *testing.T) {
	t.Run("panic", func(t *testing.T) {
		cfg, rec := testConfig(t, 1)
		report, err := Run(context.Background(), panicking{}, cfg)
		if err == nil || !strings.Contains(err.Error(), "panicked") {
			t.Fatalf("Run error %v, want a panic error", err)
		}
		if report.Verdict != VerdictFail {
			t.Fatalf("verdict %s, want fail", report.Verdict)
		}
		if rec.faultsAtClose != 0 {
			t.Fatalf("%d faults left after a panic", rec.faultsAtClose)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		cfg, rec := testConfig(t, 3)
		ctx, cancel := context.WithCancel(context.Background())
		s := blocking{started: make(chan struct{})}
		go func() {
			<-s.started
			cancel()
		}()
		report, err := Run(ctx, s, cfg)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run error %v, want context.Canceled", err)
		}
		if report.Verdict != VerdictFail {
			t.Fatalf("verdict %s, want fail", report.Verdict)
		}
		if rec.faultsAtClose != 0 {
			t.Fatalf("%d faults left after cancel", rec.faultsAtClose)
		}
	})
}

func TestRunRejectsBadConfig(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
	}{
		{"too few nodes", func(c *Config) { c.Nodes = 2 }},
		{"zero reps", func(c *Config) { c.Reps = 0 }},
		{"negative cooldown", func(c *Config) { c.Cooldown = -time.Second }},
		{"unknown profile", func(c *Config) { c.Profile = "turbo" }},
		{"max below target", func(c *Config) { c.Target = &Target{Target: time.Minute, Max: time.Second} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.change(&cfg)
			if _, err := Run(context.Background(), LeaderIsolation{}, cfg); !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Run error %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	if s, err := Lookup("leader-isolation"); err != nil || s.Name() != "leader-isolation" {
		t.Fatalf("Lookup(leader-isolation) = %v, %v", s, err)
	}
	if _, err := Lookup("nope"); !errors.Is(err, ErrUnknownScenario) {
		t.Fatalf("Lookup(nope) error %v, want ErrUnknownScenario", err)
	}
}
