package daemon

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/faultline-dev/faultline/internal/testlog"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testTimeout is the backstop for every wait in these tests. Waits end as
// soon as their condition holds, so it only matters when a test fails.
const testTimeout = 10 * time.Second

// testLogger returns a logger into t.Log, so logs show only when a test
// fails or runs with -v.
func testLogger(t testing.TB) *slog.Logger {
	t.Helper()
	return testlog.New(t, slog.LevelDebug)
}

func testConfig(t testing.TB) Config {
	cfg := DefaultConfig()
	cfg.NodeID = "node-1"
	cfg.Name = t.Name()
	cfg.Logger = testLogger(t)
	return cfg
}

// startDaemon starts a daemon for cfg and stops it when the test ends.
func startDaemon(t testing.TB, cfg Config) *Daemon {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if _, err := d.Stop(ctx); err != nil {
			t.Errorf("Stop at cleanup: %v", err)
		}
	})
	return d
}

func newTestDaemon(t testing.TB) *Daemon {
	return startDaemon(t, testConfig(t))
}

func mustSchedule(t testing.TB, d *Daemon, op Operation) {
	t.Helper()
	if err := d.Schedule(op); err != nil {
		t.Fatalf("Schedule(%q): %v", op.ID, err)
	}
}

// waitFor polls cond until it holds or testTimeout passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(testTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("timed out after %s waiting for %s", testTimeout, what)
		}
	}
}

// nextEvent returns the next event of type typ from sub, skipping others.
func nextEvent(t testing.TB, sub *Subscription, typ EventType) Event {
	t.Helper()
	deadline := time.NewTimer(testTimeout)
	defer deadline.Stop()
	for {
		select {
		case ev, ok := <-sub.C:
			if !ok {
				t.Fatalf("subscription closed while waiting for a %s event", typ)
			}
			if ev.Type == typ {
				return ev
			}
		case <-deadline.C:
			t.Fatalf("timed out after %s waiting for a %s event", testTimeout, typ)
		}
	}
}

// gate is a handler that signals when it starts and returns when released.
type gate struct {
	started chan string
	release chan struct{}
}

func newGate(buffer int) *gate {
	return &gate{started: make(chan string, buffer), release: make(chan struct{})}
}

func (g *gate) handler(id string) Handler {
	return func(ctx context.Context) (any, error) {
		g.started <- id
		select {
		case <-g.release:
			return id, nil
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// awaitStarts waits until n handlers have started and returns their IDs.
func (g *gate) awaitStarts(t testing.TB, n int) []string {
	t.Helper()
	deadline := time.NewTimer(testTimeout)
	defer deadline.Stop()
	ids := make([]string, 0, n)
	for len(ids) < n {
		select {
		case id := <-g.started:
			ids = append(ids, id)
		case <-deadline.C:
			t.Fatalf("timed out waiting for handler starts: %d of %d", len(ids), n)
		}
	}
	return ids
}
