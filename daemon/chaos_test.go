package daemon

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

const testSeed = 20260118

func TestFailRandomlyIsSeeded(t *testing.T) {
	outcomes := func(seed uint64) []bool {
		h := FailRandomly(rand.New(rand.NewPCG(seed, 0)), 0.3, nil, nil)
		out := make([]bool, 1000)
		for i := range out {
			_, err := h(context.Background())
			out[i] = err != nil
		}
		return out
	}

	first, second := outcomes(testSeed), outcomes(testSeed)

	if !slices.Equal(first, second) {
		t.Errorf("seed %d gave two different failure sequences", testSeed)
	}
	failures := 0
	for _, failed := range first {
		if failed {
			failures++
		}
	}
	// 1000 draws at p = 0.3: the mean is 300 and the standard deviation 14.5.
	if failures < 230 || failures > 370 {
		t.Errorf("seed %d: %d failures in 1000 at rate 0.3, want about 300", testSeed, failures)
	}
}

func TestFailRandomlyConcurrentUse(t *testing.T) {
	cfg := testConfig(t)
	cfg.Concurrency = 8
	d := startDaemon(t, cfg)
	mustSchedule(t, d, Operation{ID: "random", Handler: FailRandomly(rand.New(rand.NewPCG(testSeed, 1)), 0.5, nil, Succeed(nil))})
	ids := make([]string, 200)
	for i := range ids {
		ids[i] = "random"
	}

	results := ExecuteConcurrently(context.Background(), d, ids)

	var failed uint64
	for _, r := range results {
		if r.Err != nil {
			if !errors.Is(r.Err, ErrInjected) {
				t.Errorf("unexpected error %v", r.Err)
			}
			failed++
		}
	}
	if m := d.Metrics(); m.Failed != failed || m.Succeeded != 200-failed {
		t.Errorf("Metrics = %+v, want %d failed and %d succeeded", m, failed, 200-failed)
	}
}

func TestFailWhen(t *testing.T) {
	var broken atomic.Bool
	h := FailWhen(broken.Load, errors.New("dependency down"), Succeed("up"))

	if got, err := h(context.Background()); err != nil || got != "up" {
		t.Errorf("healthy call = %v, %v", got, err)
	}
	broken.Store(true)
	if _, err := h(context.Background()); err == nil || err.Error() != "dependency down" {
		t.Errorf("broken call error %v, want dependency down", err)
	}
}

func TestWaitingHandlersHonourContext(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed, 2))
	cases := []struct {
		name    string
		handler Handler
	}{
		{"hang", Hang()},
		{"slow", Slow(time.Hour, nil)},
		{"async failure", FailAsync(time.Hour, nil)},
		{"jittery", Jittery(rng, time.Hour, 2*time.Hour, nil)},
		{"degrading", Degrading(time.Hour, 2, 4*time.Hour, nil)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			stop := errors.New("stop waiting")
			cancel(stop)

			_, err := tc.handler(ctx)

			if !errors.Is(err, stop) {
				t.Errorf("error %v, want the context's cause", err)
			}
		})
	}
}

func TestSlowAndJitteryDelays(t *testing.T) {
	start := time.Now()
	if got, err := Slow(2*time.Millisecond, Succeed("done"))(context.Background()); err != nil || got != "done" {
		t.Fatalf("Slow = %v, %v", got, err)
	}
	if elapsed := time.Since(start); elapsed < 2*time.Millisecond {
		t.Errorf("Slow returned after %v, want at least 2ms", elapsed)
	}

	h := Jittery(rand.New(rand.NewPCG(testSeed, 3)), time.Millisecond, 3*time.Millisecond, nil)
	for range 5 {
		start := time.Now()
		if _, err := h(context.Background()); err != nil {
			t.Fatal(err)
		}
		if elapsed := time.Since(start); elapsed < time.Millisecond {
			t.Errorf("Jittery returned after %v, want at least the 1ms minimum", elapsed)
		}
	}
}

func TestDegradedDelay(t *testing.T) {
	cases := []struct {
		n    int
		want time.Duration
	}{
		{0, 10 * time.Millisecond},
		{1, 15 * time.Millisecond},
		{2, 22500 * time.Microsecond},
		{10, 100 * time.Millisecond}, // 576 ms, capped
		{5000, 100 * time.Millisecond},
	}
	for _, tc := range cases {
		if got := DegradedDelay(10*time.Millisecond, 1.5, 100*time.Millisecond, tc.n); got != tc.want {
			t.Errorf("DegradedDelay(n=%d) = %v, want %v", tc.n, got, tc.want)
		}
	}

	h := Degrading(time.Millisecond, 2, time.Second, nil)
	for n, want := range []time.Duration{time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond} {
		start := time.Now()
		if _, err := h(context.Background()); err != nil {
			t.Fatal(err)
		}
		if elapsed := time.Since(start); elapsed < want {
			t.Errorf("call %d returned after %v, want at least %v", n, elapsed, want)
		}
	}
}

func TestConcurrencyPressure(t *testing.T) {
	cfg := testConfig(t)
	cfg.Concurrency = 4
	d := startDaemon(t, cfg)

	results, err := ConcurrencyPressure(context.Background(), d, "pressure", 50, Slow(time.Millisecond, Succeed("ok")))

	if err != nil {
		t.Fatalf("ConcurrencyPressure: %v", err)
	}
	for _, r := range results {
		if r.Err != nil || r.Value != "ok" {
			t.Errorf("%s = %v, %v", r.ID, r.Value, r.Err)
		}
	}
	if m := d.Metrics(); m.Succeeded != 50 {
		t.Errorf("Succeeded = %d, want 50", m.Succeeded)
	}
	if h := d.Health(); h.Queued != 50 || h.Active != 0 {
		t.Errorf("Health = %+v, want 50 queued and none active", h)
	}
}
