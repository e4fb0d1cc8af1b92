package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/faultline-dev/faultline/internal/testlog"
	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testTimeout is a backstop for waits on raft; the fast profile elects in
// well under a second, so only a broken cluster reaches it.
const testTimeout = 30 * time.Second

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

func startTestCluster(t *testing.T, size int) *Local {
	t.Helper()
	cfg := DefaultLocalConfig()
	cfg.Size = size
	cfg.Profile = raftint.ProfileFast
	cfg.DataDir = t.TempDir()
	cfg.Logger = testlog.New(t, slog.LevelWarn)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := StartLocal(ctx, cfg)
	if err != nil {
		t.Fatalf("StartLocal: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

func waitStable(t *testing.T, c *Local) Stable {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	st, err := c.WaitStable(ctx)
	if err != nil {
		t.Fatalf("WaitStable: %v", err)
	}
	return st
}

func putOn(t *testing.T, c *Local, id, key, value string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Put(ctx, id, key, value); err != nil {
		t.Fatalf("Put %s on %s: %v", key, id, err)
	}
}

func TestLocalConfigValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*LocalConfig)
	}{
		{"zero size", func(c *LocalConfig) { c.Size = 0 }},
		{"too large", func(c *LocalConfig) { c.Size = maxLocalSize + 1 }},
		{"unknown profile", func(c *LocalConfig) { c.Profile = "turbo" }},
		{"zero ttl", func(c *LocalConfig) { c.FaultTTL = 0 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultLocalConfig()
			tc.change(&cfg)
			if err := cfg.Validate(); err == nil {
				t.Fatal("Validate accepted an invalid config")
			}
		})
	}
	if err := DefaultLocalConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
}

func TestSingleNodeCluster(t *testing.T) {
	c := startTestCluster(t, 1)
	st := waitStable(t, c)
	if st.Leader != "node-1" {
		t.Fatalf("leader %q, want node-1", st.Leader)
	}
	putOn(t, c, "node-1", "k", "v")
	if v, ok, err := c.Get("node-1", "k"); err != nil || !ok || v != "v" {
		t.Fatalf("Get = (%q, %v, %v), want (v, true, nil)", v, ok, err)
	}
}

func TestWriteReachesEveryNode(t *testing.T) {
	c := startTestCluster(t, 3)
	st := waitStable(t, c)
	putOn(t, c, st.Leader, "alpha", "1")
	waitStable(t, c)
	for _, id := range c.Nodes() {
		if v, ok, _ := c.Get(id, "alpha"); !ok || v != "1" {
			t.Errorf("%s reads alpha = (%q, %v), want 1", id, v, ok)
		}
	}
	follower := c.Nodes()[0]
	if follower == st.Leader {
		follower = c.Nodes()[1]
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := c.Put(ctx, follower, "beta", "2"); err == nil {
		t.Fatalf("Put on follower %s succeeded", follower)
	}
}

func TestIsolatedLeaderStepsDownAndMajorityElects(t *testing.T) {
	c := startTestCluster(t, 3)
	old := waitStable(t, c)
	seq := c.Timeline().LastSeq()
	if _, err := c.AddFaults(netchaos.Isolate(old.Leader, netchaos.KindPartition)...); err != nil {
		t.Fatalf("AddFaults: %v", err)
	}

	// The isolated leader cannot commit: the write waits for a quorum that
	// never answers and fails when the leader steps down.
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, err := c.Put(ctx, old.Leader, "lost", "x"); err == nil {
		t.Fatal("isolated leader committed a write")
	}
	stepDown, err := c.Timeline().Wait(ctx, seq, func(e raftint.Event) bool {
		return e.Node == old.Leader && e.Kind == raftint.EventState && e.State != "Leader"
	})
	if err != nil {
		t.Fatalf("old leader never stepped down: %v", err)
	}
	elected, err := c.Timeline().Wait(ctx, seq, func(e raftint.Event) bool {
		return e.Node != old.Leader && e.Kind == raftint.EventState && e.State == "Leader"
	})
	if err != nil {
		t.Fatalf("majority never elected a leader: %v", err)
	}
	if elected.Term <= old.Term {
		t.Fatalf("new leader %s has term %d, not above the old term %d", elected.Node, elected.Term, old.Term)
	}
	t.Logf("step-down after %v, election after %v", stepDown.At.Sub(c.Timeline().Start()), elected.At.Sub(c.Timeline().Start()))
	putOn(t, c, elected.Node, "after", "y")

	if err := c.ClearFaults(); err != nil {
		t.Fatalf("ClearFaults: %v", err)
	}
	healed := waitStable(t, c)
	for _, id := range c.Nodes() {
		if v, ok, _ := c.Get(id, "after"); !ok || v != "y" {
			t.Errorf("%s reads after = (%q, %v) once healed, want y", id, v, ok)
		}
		if _, ok, _ := c.Get(id, "lost"); ok {
			t.Errorf("%s has the write the isolated leader never committed", id)
		}
	}
	if healed.Term < elected.Term {
		t.Fatalf("healed term %d is below the election term %d", healed.Term, elected.Term)
	}
}

func TestSplitAndOneWayCut(t *testing.T) {
	c := startTestCluster(t, 3)
	st := waitStable(t, c)
	var others []string
	for _, id := range c.Nodes() {
		if id != st.Leader {
			others = append(others, id)
		}
	}
	// Cut only leader → others: followers stop hearing the leader, elect
	// among themselves, and the old leader learns the new term from their
	// requests, which still reach it.
	var rules []netchaos.Rule
	for _, id := range others {
		rules = append(rules, netchaos.Cut(st.Leader, id, netchaos.KindPartition))
	}
	if _, err := c.AddFaults(rules...); err != nil {
		t.Fatalf("AddFaults: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	seq := c.Timeline().LastSeq()
	if _, err := c.Timeline().Wait(ctx, seq, func(e raftint.Event) bool {
		return e.Node != st.Leader && e.Kind == raftint.EventState && e.State == "Leader"
	}); err != nil {
		t.Fatalf("no new leader behind a one-way cut: %v", err)
	}
	c.ClearFaults()
	waitStable(t, c)

	if _, err := c.AddFaults(netchaos.Split(netchaos.KindReject, []string{others[0]}, []string{st.Leader, others[1]})...); err != nil {
		t.Fatalf("AddFaults split: %v", err)
	}
	c.ClearFaults()
	waitStable(t, c)
}

func TestCrashedNodeKeepsCommittedEntries(t *testing.T) {
	for _, crashLeader := range []bool{false, true} {
		t.Run(fmt.Sprintf("leader=%v", crashLeader), func(t *testing.T) {
			c := startTestCluster(t, 3)
			st := waitStable(t, c)
			const n = 50
			for i := range n {
				putOn(t, c, st.Leader, fmt.Sprintf("k%03d", i), fmt.Sprint(i))
			}
			waitStable(t, c)
			victim := st.Leader
			if !crashLeader {
				victim = c.Nodes()[0]
				if victim == st.Leader {
					victim = c.Nodes()[1]
				}
			}
			if err := c.Crash(victim); err != nil {
				t.Fatalf("Crash: %v", err)
			}
			if _, err := c.Status(victim); !errors.Is(err, ErrNodeDown) {
				t.Fatalf("Status of a crashed node: error %v, want ErrNodeDown", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			if err := c.Restart(ctx, victim); err != nil {
				t.Fatalf("Restart: %v", err)
			}
			if err := c.Restart(ctx, victim); !errors.Is(err, ErrNodeUp) {
				t.Fatalf("second Restart: error %v, want ErrNodeUp", err)
			}
			waitStable(t, c)
			for i := range n {
				key := fmt.Sprintf("k%03d", i)
				if v, ok, _ := c.Get(victim, key); !ok || v != fmt.Sprint(i) {
					t.Fatalf("restarted %s lost %s (got %q, %v)", victim, key, v, ok)
				}
			}
		})
	}
}

func TestUnknownNodeErrors(t *testing.T) {
	c := startTestCluster(t, 1)
	if _, err := c.Status("node-9"); !errors.Is(err, ErrUnknownNode) {
		t.Fatalf("Status(node-9): error %v, want ErrUnknownNode", err)
	}
	if err := c.Crash("node-9"); !errors.Is(err, ErrUnknownNode) {
		t.Fatalf("Crash(node-9): error %v, want ErrUnknownNode", err)
	}
}

func TestReadCASAndStateHash(t *testing.T) {
	c := startTestCluster(t, 3)
	st := waitStable(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ok, _, err := c.CompareAndSet(ctx, st.Leader, "cas", nil, "one")
	if err != nil || !ok {
		t.Fatalf("CompareAndSet on an absent key = (%v, %v), want (true, nil)", ok, err)
	}
	wrong := "zero"
	if ok, _, err := c.CompareAndSet(ctx, st.Leader, "cas", &wrong, "two"); err != nil || ok {
		t.Fatalf("CompareAndSet with a wrong expectation = (%v, %v), want (false, nil)", ok, err)
	}
	if v, found, err := c.Read(ctx, st.Leader, "cas"); err != nil || !found || v != "one" {
		t.Fatalf("Read = (%q, %v, %v), want (one, true, nil)", v, found, err)
	}
	waitStable(t, c)
	var first string
	for _, id := range c.Nodes() {
		_, hash, err := c.StateHash(id)
		if err != nil {
			t.Fatalf("StateHash(%s): %v", id, err)
		}
		if first == "" {
			first = hash
		} else if hash != first {
			t.Fatalf("%s has state hash %s, another node %s", id, hash, first)
		}
	}
}

func TestDaemonsFollowRaftLeadership(t *testing.T) {
	c := startTestCluster(t, 3)
	st := waitStable(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for _, id := range c.Nodes() {
		d, err := c.Daemon(id)
		if err != nil {
			t.Fatalf("Daemon(%s): %v", id, err)
		}
		waitUntil(t, ctx, fmt.Sprintf("daemon of %s to learn leader %s", id, st.Leader), func() bool {
			h := d.Health()
			return h.LeaderID == st.Leader && h.Term == st.Term && h.IsLeader == (id == st.Leader)
		})
	}
	if err := c.Crash(st.Leader); err != nil {
		t.Fatalf("Crash: %v", err)
	}
	if _, err := c.Daemon(st.Leader); !errors.Is(err, ErrNodeDown) {
		t.Fatalf("Daemon of a crashed node: error %v, want ErrNodeDown", err)
	}
}

// waitUntil polls cond until it holds or ctx ends.
func waitUntil(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}
