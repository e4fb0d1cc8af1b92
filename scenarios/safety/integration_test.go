package safety

import (
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
)

// Operation counts that pace the leader isolation test. On an idle 2-core
// machine under -race the fast profile sustains about 500 operations a
// second from 4 clients, so the workload runs for about 3 seconds. A
// machine busy with other work can be several times slower.
const (
	opsBeforeFault  = 500
	opsDuringFault  = 250
	opsAfterHealing = 500
)

func TestChecksPassThroughLeaderIsolation(t *testing.T) {
	c := startCluster(t, 5)
	ctx := deadlineContext(t)
	old, err := c.WaitStable(ctx)
	if err != nil {
		t.Fatalf("wait stable: %v", err)
	}

	cfg := DefaultWorkloadConfig()
	cfg.Logger = newTestLogger(t, slog.LevelInfo)
	w, err := StartWorkload(ctx, c, cfg, rand.New(rand.NewPCG(5, 5)))
	if err != nil {
		t.Fatalf("start workload: %v", err)
	}
	t.Cleanup(func() { w.Stop() })
	waitForOps(t, c, w, opsBeforeFault)

	seq := c.Timeline().LastSeq()
	faultAt := time.Now()
	if _, err := c.AddFaults(netchaos.Isolate(old.Leader, netchaos.KindPartition)...); err != nil {
		t.Fatalf("isolate %s: %v", old.Leader, err)
	}
	elected, err := c.Timeline().Wait(ctx, seq, func(e raftint.Event) bool {
		return e.Kind == raftint.EventState && e.State == "Leader" && e.Node != old.Leader
	})
	if err != nil {
		t.Fatalf("no new leader while %s was isolated: %v", old.Leader, err)
	}
	t.Logf("%s isolated; %s elected in term %d after %v", old.Leader, elected.Node, elected.Term, elected.At.Sub(faultAt))
	waitForOps(t, c, w, w.History().Len()+opsDuringFault)

	if err := c.ClearFaults(); err != nil {
		t.Fatalf("heal: %v", err)
	}
	// WaitStable needs a quiet cluster, so wait for every node, the healed
	// one included, to apply what the leader had committed at the heal.
	leader, status, err := cluster.Leader(c)
	if err != nil {
		t.Fatalf("no leader after healing: %v", err)
	}
	if _, err := c.WaitConverged(ctx, status.CommitIndex); err != nil {
		t.Fatalf("nodes never applied leader %s's commit index %d after healing: %v", leader, status.CommitIndex, err)
	}
	waitForOps(t, c, w, w.History().Len()+opsAfterHealing)
	h := w.Stop()
	elapsed := time.Since(h.Start())

	window, stepped := StaleLeaderWindow(c.Timeline().Events(), old.Leader, faultAt)
	if !stepped {
		t.Errorf("isolated leader %s never stepped down", old.Leader)
	}
	t.Logf("isolated leader %s stepped down after %v", old.Leader, window)

	ops := h.Ops()
	summary := Summarize(ops)
	t.Logf("history of %d operations from %d clients over %v: %+v", summary.Ops, cfg.Clients, elapsed.Round(time.Millisecond), summary)
	if !wroteThrough(ops, elected.Node) {
		t.Errorf("no write succeeded through the new leader %s", elected.Node)
	}

	begin := time.Now()
	checkAll(t, c, h)
	t.Logf("all four checks took %v", time.Since(begin))
}

// waitForOps waits until the workload has begun n operations. On a timeout
// it logs each node's status and the latest timeline events.
func waitForOps(t *testing.T, c *cluster.Local, w *Workload, n int) {
	t.Helper()
	ticker := time.NewTicker(time.Millisecond)
	defer ticker.Stop()
	deadline := time.After(testDeadline)
	for w.History().Len() < n {
		select {
		case <-ticker.C:
		case <-deadline:
			for _, id := range c.Nodes() {
				status, err := c.Status(id)
				t.Logf("%s: %+v %v", id, status, err)
			}
			events := c.Timeline().Events()
			for _, e := range events[max(0, len(events)-20):] {
				t.Logf("event %s", e)
			}
			t.Fatalf("workload began %d operations, not %d, within %v: %+v",
				w.History().Len(), n, testDeadline, Summarize(w.History().Ops()))
		}
	}
}

// wroteThrough reports whether a put or cas through node succeeded.
func wroteThrough(ops []Op, node string) bool {
	for _, op := range ops {
		if op.Node == node && op.Kind != OpGet && op.Outcome == OutcomeOK {
			return true
		}
	}
	return false
}

// BenchmarkCheckLinearizable checks a generated history shaped like 4
// clients running for 5 seconds: about 600 operations each on 8 keys, 1% of
// them with an unknown outcome.
func BenchmarkCheckLinearizable(b *testing.B) {
	ops := generateHistory(rand.New(rand.NewPCG(9, 9)), 4, 600, 8, 0.01)
	h := historyOf(ops)
	b.ResetTimer()
	for b.Loop() {
		if result := CheckLinearizable(h, time.Minute, ""); !result.OK {
			b.Fatalf("generated history rejected: %+v", result)
		}
	}
}
