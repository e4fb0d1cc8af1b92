package safety

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/internal/testlog"
	"github.com/faultline-dev/faultline/raftint"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testDeadline is the backstop for waits on elections and replication. With
// the fast profile a 3-node cluster elects a leader in well under a second
// on loopback, so reaching it points to a bug rather than a slow machine.
const testDeadline = 15 * time.Second

// newTestLogger returns a logger into t.Log.
func newTestLogger(t testing.TB, level slog.Level) *slog.Logger {
	t.Helper()
	return testlog.New(t, level)
}

// startCluster starts a 3-node in-process cluster with the fast profile and
// closes it when the test ends.
func startCluster(t *testing.T, seed int64) *cluster.Local {
	t.Helper()
	cfg := cluster.DefaultLocalConfig()
	cfg.Profile = raftint.ProfileFast
	cfg.Seed = seed
	cfg.DataDir = t.TempDir()
	cfg.Logger = newTestLogger(t, slog.LevelWarn)

	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	c, err := cluster.StartLocal(ctx, cfg)
	if err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close cluster: %v", err)
		}
	})
	return c
}

// deadlineContext returns a context that ends after testDeadline or with
// the test.
func deadlineContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	t.Cleanup(cancel)
	return ctx
}

// historyOf returns a history holding ops as given, every one returned.
func historyOf(ops []Op) *History {
	h := &History{start: time.Now()}
	for i, op := range ops {
		op.ID = i
		h.ops = append(h.ops, op)
		h.ended = append(h.ended, true)
	}
	return h
}

func ptr(s string) *string { return &s }
