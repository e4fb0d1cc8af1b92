package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// customError is a handler's own error type, which must reach the caller.
type customError struct {
	Code int
}

func (e *customError) Error() string { return fmt.Sprintf("custom failure %d", e.Code) }

func TestCascadingFailurePrevention(t *testing.T) {
	d := newTestDaemon(t)
	sequence := []struct {
		id    string
		fails bool
	}{
		{"op-1", true}, {"op-2", false}, {"op-3", true}, {"op-4", false}, {"op-5", false},
	}
	for _, s := range sequence {
		h := Succeed("ok")
		if s.fails {
			h = FailSync(fmt.Errorf("%s failed", s.id))
		}
		mustSchedule(t, d, Operation{ID: s.id, Handler: h})
	}

	for _, s := range sequence {
		value, err := d.Execute(context.Background(), s.id)
		if s.fails {
			if err == nil || err.Error() != s.id+" failed" {
				t.Errorf("%s: error %v, want %q", s.id, err, s.id+" failed")
			}
			continue
		}
		if err != nil || value != "ok" {
			t.Errorf("%s = %v, %v; want ok despite earlier failures", s.id, value, err)
		}
	}

	m := d.Metrics()
	if m.Succeeded != 3 || m.Failed != 2 || m.Executed != 5 {
		t.Errorf("Metrics = %+v, want 3 succeeded, 2 failed, 5 executed", m)
	}
	if !d.Health().Running {
		t.Error("daemon not running after failures")
	}
}

func TestMemoryPressure(t *testing.T) {
	d := newTestDaemon(t)

	ids, err := MemoryPressure(d, "mem-op", 100, 10, Succeed("ok"))
	if err != nil {
		t.Fatalf("MemoryPressure: %v", err)
	}
	for _, id := range ids[:20] {
		if _, err := d.Execute(context.Background(), id); err != nil {
			t.Fatalf("Execute(%s): %v", id, err)
		}
	}

	h := d.Health()
	if !h.Running {
		t.Error("daemon not running under memory pressure")
	}
	if h.Queued <= 0 {
		t.Errorf("Queued = %d, want > 0", h.Queued)
	}
	if got := len(d.List()[0].Metadata["payload"].(string)); got != 10*1024 {
		t.Errorf("metadata payload is %d bytes, want %d", got, 10*1024)
	}
	mustSchedule(t, d, Operation{ID: "post-pressure-op", Handler: Succeed("after pressure")})
	if got, err := d.Execute(context.Background(), "post-pressure-op"); err != nil || got != "after pressure" {
		t.Errorf("Execute after pressure = %v, %v", got, err)
	}
}

func TestConcurrentErrorIsolation(t *testing.T) {
	cfg := testConfig(t)
	cfg.Concurrency = 20
	d := startDaemon(t, cfg)
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = fmt.Sprintf("concurrent-%d", i)
		h := Succeed(i)
		if i%2 == 0 {
			h = FailSync(errors.New("concurrent chaos"))
		}
		mustSchedule(t, d, Operation{ID: ids[i], Handler: h})
	}

	results := ExecuteConcurrently(context.Background(), d, ids)

	var failures int
	for _, r := range results {
		if r.Err != nil {
			failures++
		}
	}
	if failures != 10 {
		t.Errorf("%d calls failed, want 10", failures)
	}
	m := d.Metrics()
	if m.Succeeded != 10 {
		t.Errorf("Metrics.Succeeded = %d, want 10", m.Succeeded)
	}
	if m.Failed != 10 {
		t.Errorf("Metrics.Failed = %d, want 10", m.Failed)
	}
	if m.SuccessRate != 0.5 {
		t.Errorf("Metrics.SuccessRate = %v, want 0.5", m.SuccessRate)
	}
}

func TestHandlerErrors(t *testing.T) {
	d := newTestDaemon(t)
	custom := &customError{Code: 42}
	cases := []struct {
		name    string
		handler Handler
		check   func(t *testing.T, err error)
	}{
		{"synchronous", FailSync(nil), func(t *testing.T, err error) {
			if !errors.Is(err, ErrInjected) {
				t.Errorf("error %v, want ErrInjected", err)
			}
		}},
		{"asynchronous", FailAsync(time.Millisecond, errors.New("late failure")), func(t *testing.T, err error) {
			if err == nil || err.Error() != "late failure" {
				t.Errorf("error %v, want late failure", err)
			}
		}},
		{"custom type", FailSync(fmt.Errorf("wrapped: %w", custom)), func(t *testing.T, err error) {
			var got *customError
			if !errors.As(err, &got) || got.Code != 42 {
				t.Errorf("error %v, want errors.As to find *customError with code 42", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := strings.ReplaceAll(tc.name, " ", "-")
			mustSchedule(t, d, Operation{ID: id, Handler: tc.handler})

			_, err := d.Execute(context.Background(), id)

			tc.check(t, err)
			rec, ok := d.Result(id)
			if !ok || rec.Outcome != OutcomeFailed || rec.Err != err {
				t.Errorf("Result = %+v, %v; want failed with the returned error", rec, ok)
			}
		})
	}
}

func TestPanicRecovered(t *testing.T) {
	d := newTestDaemon(t)
	cause := &customError{Code: 7}
	mustSchedule(t, d, Operation{ID: "panics", Handler: PanicWithValue(cause)})
	mustSchedule(t, d, Operation{ID: "after", Handler: Succeed("ok")})

	_, err := d.Execute(context.Background(), "panics")

	var perr *PanicError
	if !errors.As(err, &perr) {
		t.Fatalf("Execute: %v, want a *PanicError", err)
	}
	if perr.Value != cause || perr.OpID != "panics" {
		t.Errorf("PanicError = %+v, want value %v for operation panics", perr, cause)
	}
	if !strings.Contains(string(perr.Stack), "PanicWithValue") {
		t.Errorf("PanicError.Stack does not show the panicking function:\n%s", perr.Stack)
	}
	var custom *customError
	if !errors.As(err, &custom) {
		t.Errorf("errors.As does not reach the error passed to panic: %v", err)
	}
	if m := d.Metrics(); m.Panics != 1 || m.Failed != 1 {
		t.Errorf("Metrics = %+v, want 1 panic counted as 1 failure", m)
	}
	if got, err := d.Execute(context.Background(), "after"); err != nil || got != "ok" {
		t.Errorf("Execute after a panic = %v, %v", got, err)
	}
}

func TestTimeoutOfHangingHandler(t *testing.T) {
	d := newTestDaemon(t)
	mustSchedule(t, d, Operation{ID: "hang", Handler: Hang(), Timeout: 20 * time.Millisecond})
	mustSchedule(t, d, Operation{ID: "ok", Handler: Succeed("ok")})

	_, err := d.Execute(context.Background(), "hang")

	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Execute: %v, want ErrTimeout", err)
	}
	rec, _ := d.Result("hang")
	if rec.Outcome != OutcomeTimedOut || rec.Duration < 20*time.Millisecond {
		t.Errorf("Result = %+v, want timed out after at least 20ms", rec)
	}
	if got, err := d.Execute(context.Background(), "ok"); err != nil || got != "ok" {
		t.Errorf("Execute after a timeout = %v, %v", got, err)
	}
	// The handler honours its context, so it is not left running.
	waitFor(t, "no abandoned handlers", func() bool { return d.Health().Abandoned == 0 })
	if m := d.Metrics(); m.TimedOut != 1 || m.Succeeded != 1 {
		t.Errorf("Metrics = %+v, want 1 timed out and 1 succeeded", m)
	}
}

func TestHandlerSeesTimeoutCauseAndDeadline(t *testing.T) {
	d := newTestDaemon(t)
	type seen struct {
		cause       error
		hasDeadline bool
	}
	got := make(chan seen, 1)
	mustSchedule(t, d, Operation{ID: "a", Timeout: 10 * time.Millisecond, Handler: func(ctx context.Context) (any, error) {
		_, ok := ctx.Deadline()
		<-ctx.Done()
		got <- seen{cause: context.Cause(ctx), hasDeadline: ok}
		return nil, ctx.Err()
	}})

	if _, err := d.Execute(context.Background(), "a"); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Execute: %v, want ErrTimeout", err)
	}
	s := <-got
	if !errors.Is(s.cause, ErrTimeout) {
		t.Errorf("handler saw cause %v, want ErrTimeout", s.cause)
	}
	if !s.hasDeadline {
		t.Error("handler's context has no deadline")
	}
}

func TestAbandonedHandlerIgnoringContext(t *testing.T) {
	d := newTestDaemon(t)
	release := make(chan struct{})
	mustSchedule(t, d, Operation{ID: "stuck", Handler: HangIgnoringContext(release), Timeout: 10 * time.Millisecond})
	mustSchedule(t, d, Operation{ID: "ok", Handler: Succeed("ok")})

	_, err := d.Execute(context.Background(), "stuck")

	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Execute: %v, want ErrTimeout", err)
	}
	h := d.Health()
	if h.Abandoned != 1 || h.Active != 0 || !h.Running {
		t.Errorf("Health = %+v, want 1 abandoned, none active, running", h)
	}
	if rec, _ := d.Result("stuck"); !rec.Abandoned {
		t.Errorf("Result = %+v, want Abandoned", rec)
	}
	if got, err := d.Execute(context.Background(), "ok"); err != nil || got != "ok" {
		t.Errorf("Execute beside an abandoned handler = %v, %v", got, err)
	}

	close(release)
	waitFor(t, "the abandoned handler to return", func() bool { return d.Health().Abandoned == 0 })
	if m := d.Metrics(); m.Abandoned != 1 || m.TimedOut != 1 {
		t.Errorf("Metrics = %+v, want 1 abandoned in total and 1 timed out", m)
	}
}

func TestMaxAbandoned(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxAbandoned = 2
	d := startDaemon(t, cfg)
	release := make(chan struct{})
	mustSchedule(t, d, Operation{ID: "stuck", Handler: HangIgnoringContext(release), Timeout: time.Millisecond})

	for range 2 {
		if _, err := d.Execute(context.Background(), "stuck"); !errors.Is(err, ErrTimeout) {
			t.Fatalf("Execute: %v, want ErrTimeout", err)
		}
	}
	_, err := d.Execute(context.Background(), "stuck")

	if !errors.Is(err, ErrTooManyAbandoned) {
		t.Errorf("Execute at MaxAbandoned: %v, want ErrTooManyAbandoned", err)
	}
	close(release)
	waitFor(t, "abandoned handlers to return", func() bool { return d.Health().Abandoned == 0 })
	if _, err := d.Execute(context.Background(), "stuck"); !errors.Is(err, ErrInjected) {
		t.Errorf("Execute after the handlers returned: %v, want the handler's own ErrInjected", err)
	}
}

func TestConcurrencyLimitEnforced(t *testing.T) {
	const limit, calls = 3, 12
	cfg := testConfig(t)
	cfg.Concurrency = limit
	d := startDaemon(t, cfg)

	var running, maxRunning atomic.Int64
	g := newGate(calls)
	inner := g.handler("op")
	mustSchedule(t, d, Operation{ID: "op", Handler: func(ctx context.Context) (any, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			old := maxRunning.Load()
			if n <= old || maxRunning.CompareAndSwap(old, n) {
				break
			}
		}
		return inner(ctx)
	}})

	done := make(chan []ExecResult, 1)
	go func() {
		ids := make([]string, calls)
		for i := range ids {
			ids[i] = "op"
		}
		done <- ExecuteConcurrently(context.Background(), d, ids)
	}()

	g.awaitStarts(t, limit)
	waitFor(t, "the other callers to wait for a slot", func() bool { return d.Health().Waiting == calls-limit })
	h := d.Health()
	if h.Active != limit {
		t.Errorf("Active = %d, want %d", h.Active, limit)
	}
	if got := running.Load(); got != limit {
		t.Errorf("%d handlers running, want %d", got, limit)
	}

	close(g.release)
	for _, r := range <-done {
		if r.Err != nil {
			t.Errorf("Execute: %v", r.Err)
		}
	}
	if got := maxRunning.Load(); got != limit {
		t.Errorf("at most %d handlers ran at once, want exactly %d", got, limit)
	}
	if m := d.Metrics(); m.Succeeded != calls {
		t.Errorf("Succeeded = %d, want %d", m.Succeeded, calls)
	}
}

func TestWaitingCallerHonoursContext(t *testing.T) {
	cfg := testConfig(t)
	cfg.Concurrency = 1
	d := startDaemon(t, cfg)
	g := newGate(1)
	mustSchedule(t, d, Operation{ID: "busy", Handler: g.handler("busy")})
	mustSchedule(t, d, Operation{ID: "queued", Handler: Succeed(nil)})
	busy := make(chan error, 1)
	go func() {
		_, err := d.Execute(context.Background(), "busy")
		busy <- err
	}()
	g.awaitStarts(t, 1)

	ctx, cancel := context.WithCancel(context.Background())
	waited := make(chan error, 1)
	go func() {
		_, err := d.Execute(ctx, "queued")
		waited <- err
	}()
	waitFor(t, "the caller to wait for a slot", func() bool { return d.Health().Waiting == 1 })
	cancel()

	if err := <-waited; !errors.Is(err, ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Errorf("waiting Execute: %v, want ErrCancelled and context.Canceled", err)
	}
	close(g.release)
	if err := <-busy; err != nil {
		t.Errorf("busy Execute: %v", err)
	}
	if m := d.Metrics(); m.Rejected != 1 || m.Executed != 1 {
		t.Errorf("Metrics = %+v, want 1 rejected and 1 executed", m)
	}
}

func TestCallerContextCancelsRun(t *testing.T) {
	d := newTestDaemon(t)
	g := newGate(1)
	mustSchedule(t, d, Operation{ID: "a", Handler: g.handler("a")})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := d.Execute(ctx, "a")
		errc <- err
	}()
	g.awaitStarts(t, 1)

	cancel()

	if err := <-errc; !errors.Is(err, ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Errorf("Execute: %v, want ErrCancelled wrapping context.Canceled", err)
	}
	if m := d.Metrics(); m.Cancelled != 1 {
		t.Errorf("Cancelled = %d, want 1", m.Cancelled)
	}
}

func TestMetricsAfterRecovery(t *testing.T) {
	d := newTestDaemon(t)
	release := make(chan struct{})
	mustSchedule(t, d, Operation{ID: "fail", Handler: FailSync(nil)})
	mustSchedule(t, d, Operation{ID: "panic", Handler: PanicWithValue("boom")})
	mustSchedule(t, d, Operation{ID: "stuck", Handler: HangIgnoringContext(release), Timeout: time.Millisecond})
	mustSchedule(t, d, Operation{ID: "ok", Handler: Succeed(nil)})

	for _, id := range []string{"fail", "panic", "stuck", "fail", "panic"} {
		if _, err := d.Execute(context.Background(), id); err == nil {
			t.Fatalf("Execute(%s) succeeded, want an error", id)
		}
	}
	close(release)
	for range 5 {
		if _, err := d.Execute(context.Background(), "ok"); err != nil {
			t.Fatalf("Execute(ok) after chaos: %v", err)
		}
	}

	m := d.Metrics()
	want := Metrics{Executed: 10, Succeeded: 5, Failed: 4, TimedOut: 1, Panics: 2, Abandoned: 1}
	if m.Executed != want.Executed || m.Succeeded != want.Succeeded || m.Failed != want.Failed ||
		m.TimedOut != want.TimedOut || m.Panics != want.Panics || m.Abandoned != want.Abandoned {
		t.Errorf("Metrics = %+v, want counts %+v", m, want)
	}
	if m.SuccessRate != 0.5 {
		t.Errorf("SuccessRate = %v, want 0.5", m.SuccessRate)
	}
	if m.P50 <= 0 || m.P99 < m.P50 || m.Max < m.P99 {
		t.Errorf("quantiles P50 %v, P99 %v, Max %v are not ordered and positive", m.P50, m.P99, m.Max)
	}
	if h := d.Health(); h.Completed != 10 || !h.Running {
		t.Errorf("Health = %+v, want 10 completed and running", h)
	}
}

func TestUptimeMonotonic(t *testing.T) {
	d, err := New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Health().Uptime; got != 0 {
		t.Errorf("Uptime before Start = %v, want 0", got)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}

	first := d.Health().Uptime
	previous := first
	waitFor(t, "uptime to grow", func() bool {
		now := d.Health().Uptime
		if now < previous {
			t.Fatalf("Uptime went back from %v to %v", previous, now)
		}
		previous = now
		return now > first
	})

	if _, err := d.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopped := d.Health().Uptime
	if stopped < previous {
		t.Errorf("Uptime at Stop %v is less than the earlier %v", stopped, previous)
	}
	if again := d.Health().Uptime; again != stopped {
		t.Errorf("Uptime after Stop moved from %v to %v, want it frozen", stopped, again)
	}
}
