package daemon

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestStartStopIdempotent(t *testing.T) {
	d, err := New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	for i := range 2 {
		if err := d.Start(ctx); err != nil {
			t.Fatalf("Start #%d: %v", i+1, err)
		}
	}
	for i := range 2 {
		ids, err := d.Stop(ctx)
		if err != nil || len(ids) != 0 {
			t.Fatalf("Stop #%d = %v, %v; want no IDs and nil", i+1, ids, err)
		}
	}
	if err := d.Start(ctx); !errors.Is(err, ErrStopped) {
		t.Errorf("Start after Stop: %v, want ErrStopped", err)
	}
	if h := d.Health(); h.Running {
		t.Error("Health.Running after Stop")
	}
}

func TestStartHonoursContext(t *testing.T) {
	d, err := New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	if err := d.Start(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Start with a cancelled context: %v, want context.Canceled", err)
	}
	if d.Health().Running {
		t.Error("daemon running after a failed Start")
	}
}

func TestStopBeforeStart(t *testing.T) {
	d, err := New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := d.Stop(context.Background()); err != nil || ids != nil {
		t.Fatalf("Stop before Start = %v, %v", ids, err)
	}
	if err := d.Schedule(Operation{ID: "a", Handler: Succeed(nil)}); !errors.Is(err, ErrStopped) {
		t.Errorf("Schedule after Stop: %v, want ErrStopped", err)
	}
}

func TestStopLetsActiveRunsFinish(t *testing.T) {
	d := newTestDaemon(t)
	g := newGate(1)
	mustSchedule(t, d, Operation{ID: "slow", Handler: g.handler("slow")})
	result := make(chan error, 1)
	go func() {
		_, err := d.Execute(context.Background(), "slow")
		result <- err
	}()
	g.awaitStarts(t, 1)

	type stopResult struct {
		ids []string
		err error
	}
	stopped := make(chan stopResult, 1)
	go func() {
		ids, err := d.Stop(context.Background())
		stopped <- stopResult{ids, err}
	}()
	waitFor(t, "Stop to begin", func() bool { return !d.Health().Running })

	if err := d.Schedule(Operation{ID: "new", Handler: Succeed(nil)}); !errors.Is(err, ErrStopped) {
		t.Errorf("Schedule while stopping: %v, want ErrStopped", err)
	}
	if _, err := d.Execute(context.Background(), "slow"); !errors.Is(err, ErrStopped) {
		t.Errorf("Execute while stopping: %v, want ErrStopped", err)
	}
	select {
	case r := <-stopped:
		t.Fatalf("Stop returned %v, %v while a run was in progress", r.ids, r.err)
	default:
	}

	close(g.release)
	if err := <-result; err != nil {
		t.Errorf("run in progress at Stop: %v, want success", err)
	}
	r := <-stopped
	if r.err != nil || len(r.ids) != 0 {
		t.Errorf("Stop = %v, %v; want no cancelled IDs", r.ids, r.err)
	}
}

func TestStopReturnsCancelledIDs(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	cfg := testConfig(t)
	cfg.Concurrency = 3
	cfg.DefaultTimeout = 0
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	g := newGate(3)
	for _, id := range []string{"c", "a", "b", "waiter"} {
		mustSchedule(t, d, Operation{ID: id, Handler: g.handler(id)})
	}
	errs := make(chan error, 4)
	for _, id := range []string{"c", "a", "b"} {
		go func() {
			_, err := d.Execute(context.Background(), id)
			errs <- err
		}()
	}
	g.awaitStarts(t, 3)
	go func() {
		_, err := d.Execute(context.Background(), "waiter")
		errs <- err
	}()
	waitFor(t, "a caller waiting for a slot", func() bool { return d.Health().Waiting == 1 })

	expired, cancel := context.WithCancel(context.Background())
	cancel()
	ids, err := d.Stop(expired)

	if err != nil {
		t.Errorf("Stop: %v", err)
	}
	if want := []string{"a", "b", "c"}; !slices.Equal(ids, want) {
		t.Errorf("Stop cancelled %v, want %v", ids, want)
	}
	var cancelled, stopped int
	for range 4 {
		err := <-errs
		switch {
		case errors.Is(err, ErrCancelled):
			cancelled++
		case errors.Is(err, ErrStopped):
			stopped++
		default:
			t.Errorf("Execute at Stop: %v, want ErrCancelled or ErrStopped", err)
		}
	}
	if cancelled != 3 || stopped != 1 {
		t.Errorf("%d runs cancelled and %d waiters stopped, want 3 and 1", cancelled, stopped)
	}
	if m := d.Metrics(); m.Cancelled != 3 || m.Rejected != 1 {
		t.Errorf("Metrics = %+v, want 3 cancelled and 1 rejected", m)
	}
	goleak.VerifyNone(t, ignore)
}

func TestStopWaitsForAbandonedHandlers(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	d, err := New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	mustSchedule(t, d, Operation{ID: "stuck", Handler: HangIgnoringContext(release), Timeout: time.Millisecond})
	if _, err := d.Execute(context.Background(), "stuck"); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Execute: %v, want ErrTimeout", err)
	}

	stopped := make(chan error, 1)
	go func() {
		_, err := d.Stop(context.Background())
		stopped <- err
	}()
	waitFor(t, "Stop to begin", func() bool { return !d.Health().Running })
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned %v while an abandoned handler was running", err)
	default:
	}

	close(release)
	if err := <-stopped; err != nil {
		t.Errorf("Stop: %v", err)
	}
	goleak.VerifyNone(t, ignore)
}

func TestStopDeadlineWithStuckHandler(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	cfg := testConfig(t)
	cfg.DefaultTimeout = 0
	cfg.CancelGrace = 5 * time.Millisecond
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	g := newGate(1)
	mustSchedule(t, d, Operation{ID: "stuck", Handler: func(ctx context.Context) (any, error) {
		g.started <- "stuck"
		return HangIgnoringContext(release)(ctx)
	}})
	result := make(chan error, 1)
	go func() {
		_, err := d.Execute(context.Background(), "stuck")
		result <- err
	}()
	g.awaitStarts(t, 1)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	ids, err := d.Stop(ctx)

	if !slices.Equal(ids, []string{"stuck"}) {
		t.Errorf("Stop cancelled %v, want [stuck]", ids)
	}
	if !errors.Is(err, ErrHandlersRunning) {
		t.Errorf("Stop: %v, want ErrHandlersRunning", err)
	}
	if err := <-result; !errors.Is(err, ErrCancelled) {
		t.Errorf("Execute: %v, want ErrCancelled", err)
	}
	if h := d.Health(); h.Abandoned != 1 {
		t.Errorf("Abandoned = %d, want 1", h.Abandoned)
	}

	close(release)
	ctx2, cancel2 := context.WithTimeout(context.Background(), testTimeout)
	defer cancel2()
	if ids, err := d.Stop(ctx2); err != nil || ids != nil {
		t.Errorf("second Stop = %v, %v; want nil, nil once the handler returned", ids, err)
	}
	goleak.VerifyNone(t, ignore)
}

func TestConcurrentStopCallsAllReturn(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	d, err := New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	mustSchedule(t, d, Operation{ID: "stuck", Handler: HangIgnoringContext(release), Timeout: time.Millisecond})
	if _, err := d.Execute(context.Background(), "stuck"); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Execute: %v, want ErrTimeout", err)
	}

	const callers = 3
	errs := make(chan error, callers)
	for range callers {
		go func() {
			_, err := d.Stop(context.Background())
			errs <- err
		}()
	}
	waitFor(t, "Stop to begin", func() bool { return !d.Health().Running })
	close(release)

	for range callers {
		if err := <-errs; err != nil {
			t.Errorf("Stop: %v", err)
		}
	}
	goleak.VerifyNone(t, ignore)
}
