package scenarios

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faultline-dev/faultline/daemon"
)

// errChaos is the error injected by the daemon scenarios' failing handlers.
var errChaos = errors.New("chaos: injected handler failure")

// customError is a caller-defined error type that must survive the daemon.
type customError struct{ Code int }

func (e *customError) Error() string { return fmt.Sprintf("chaos: custom failure %d", e.Code) }

// daemonCatalog returns the operation-level scenarios.
func daemonCatalog() []Scenario {
	return []Scenario{
		DaemonScenario{name: "handler-failure", radius: RadiusOperation, target: TargetOperationFailure,
			description: "handlers fail synchronously, asynchronously, with a custom error and by panicking; the next operation succeeds",
			chaos:       handlerFailure},
		DaemonScenario{name: "operation-timeout", radius: RadiusOperation, target: TargetTimeout, rtoIsRelease: true,
			description: "a handler never returns and one ignores its context; callers get ErrTimeout within the timeout and the daemon stays healthy",
			chaos:       operationTimeout},
		DaemonScenario{name: "memory-pressure", radius: RadiusInstance, target: TargetMemoryPressure,
			description: "schedule 100 operations with 10 KiB of metadata each and run 20; the daemon stays responsive",
			chaos:       memoryPressure},
		DaemonScenario{name: "queue-flood", radius: RadiusInstance, target: TargetMemoryPressure, rtoIsRelease: true,
			description: "fill the queue to its limit, then run a flood of slow operations; a fresh operation runs once a slot frees",
			chaos:       queueFlood},
		DaemonScenario{name: "concurrency-pressure", radius: RadiusInstance, target: TargetMemoryPressure,
			description: "run five times the concurrency limit at once; never more than the limit run together",
			chaos:       concurrencyPressure},
		DaemonScenario{name: "cascading-failure", radius: RadiusOperation, target: TargetOperationFailure,
			description: "fail, succeed, fail, succeed, succeed in sequence: failures never prevent later successes",
			chaos:       cascadingFailure},
		DaemonScenario{name: "concurrent-error-isolation", radius: RadiusOperation, target: TargetOperationFailure,
			description: "20 concurrent operations of which 10 fail: metrics count exactly 10 and 10",
			chaos:       concurrentErrorIsolation},
		DaemonScenario{name: "state-corruption", radius: RadiusInstance, target: TargetOperationFailure,
			description: "corrupt a result record through a failpoint: the daemon detects it and keeps it out of metrics",
			chaos:       stateCorruption},
	}
}

func handlerFailure(ctx context.Context, env Env, d *daemon.Daemon, rep *Repetition) (time.Time, error) {
	prefix := fmt.Sprintf("hf-%d", env.Index)
	cases := []struct {
		name    string
		handler daemon.Handler
		check   func(error) bool
	}{
		{"sync", daemon.FailSync(errChaos), func(err error) bool { return errors.Is(err, errChaos) }},
		{"async", daemon.FailAsync(time.Millisecond, errChaos), func(err error) bool { return errors.Is(err, errChaos) }},
		{"custom", daemon.FailSync(&customError{Code: 7}), func(err error) bool {
			var ce *customError
			return errors.As(err, &ce) && ce.Code == 7
		}},
		{"panic", daemon.PanicWithValue("chaos panic"), func(err error) bool {
			var pe *daemon.PanicError
			return errors.As(err, &pe) && pe.Value == "chaos panic" && len(pe.Stack) > 0
		}},
	}
	var last time.Time
	for _, c := range cases {
		_, err := runOp(ctx, d, daemon.Operation{ID: prefix + "-" + c.name, Handler: c.handler, Timeout: time.Second})
		if !c.check(err) {
			rep.Violations = append(rep.Violations, fmt.Sprintf("%s failure came back as %v, losing its context", c.name, err))
		}
		last = time.Now()
	}
	rep.Counts["failures_injected"] = int64(len(cases))
	return last, nil
}

func operationTimeout(ctx context.Context, env Env, d *daemon.Daemon, rep *Repetition) (time.Time, error) {
	const timeout = 100 * time.Millisecond
	prefix := fmt.Sprintf("to-%d", env.Index)
	start := time.Now()
	_, err := runOp(ctx, d, daemon.Operation{ID: prefix + "-hang", Handler: daemon.Hang(), Timeout: timeout})
	released := time.Since(start)
	if !errors.Is(err, daemon.ErrTimeout) {
		rep.Violations = append(rep.Violations, fmt.Sprintf("a hanging handler returned %v, not ErrTimeout", err))
	}
	rep.RTO = released

	release := make(chan struct{})
	_, err = runOp(ctx, d, daemon.Operation{ID: prefix + "-ignore", Handler: daemon.HangIgnoringContext(release), Timeout: timeout})
	if !errors.Is(err, daemon.ErrTimeout) {
		rep.Violations = append(rep.Violations, fmt.Sprintf("a handler ignoring its context returned %v, not ErrTimeout", err))
	}
	rep.Counts["abandoned"] = int64(d.Health().Abandoned)
	if !d.Health().Running {
		rep.Violations = append(rep.Violations, "daemon stopped while a handler was abandoned")
	}
	close(release)
	rep.Durations["timeout"] = timeout
	return time.Now(), nil
}

func memoryPressure(ctx context.Context, env Env, d *daemon.Daemon, rep *Repetition) (time.Time, error) {
	prefix := fmt.Sprintf("mem-%d", env.Index)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ids, err := daemon.MemoryPressure(d, prefix, 100, 10, daemon.Succeed(true))
	defer func() {
		for _, id := range ids {
			d.Unschedule(id)
		}
	}()
	if err != nil {
		return time.Time{}, err
	}
	for _, id := range ids[:20] {
		if _, err := d.Execute(ctx, id); err != nil {
			rep.Violations = append(rep.Violations, fmt.Sprintf("operation %s under memory pressure failed: %v", id, err))
		}
	}
	runtime.ReadMemStats(&after)
	if q := d.Health().Queued; q < 80 {
		rep.Violations = append(rep.Violations, fmt.Sprintf("%d operations queued after running 20 of 100, want at least 80", q))
	}
	rep.Counts["heap_growth_kib"] = (int64(after.HeapInuse) - int64(before.HeapInuse)) / 1024
	return time.Now(), nil
}

func queueFlood(ctx context.Context, env Env, d *daemon.Daemon, rep *Repetition) (time.Time, error) {
	prefix := fmt.Sprintf("flood-%d", env.Index)
	h := d.Health()
	free := 0
	// Fill the queue to its limit: the next schedule must be rejected.
	var filled []string
	for i := 0; ; i++ {
		id := fmt.Sprintf("%s-fill-%d", prefix, i)
		err := d.Schedule(daemon.Operation{ID: id, Handler: daemon.Succeed(nil)})
		if errors.Is(err, daemon.ErrQueueFull) {
			break
		}
		if err != nil {
			return time.Time{}, err
		}
		filled = append(filled, id)
		free++
	}
	rep.Counts["queue_capacity_left"] = int64(free)
	for _, id := range filled {
		d.Unschedule(id)
	}

	// Flood: five times the concurrency of slow operations at once, and a
	// fresh operation that must wait for a slot.
	n := 5 * h.Concurrency
	ids, err := daemon.Flood(d, prefix, n, daemon.Slow(5*time.Millisecond, daemon.Succeed(true)))
	defer func() {
		for _, id := range ids {
			d.Unschedule(id)
		}
	}()
	if err != nil {
		return time.Time{}, err
	}
	start := time.Now()
	var wg sync.WaitGroup
	wg.Go(func() { daemon.ExecuteConcurrently(ctx, d, ids) })
	if _, err := runOp(ctx, d, daemon.Operation{ID: prefix + "-fresh", Handler: daemon.Succeed(true), Timeout: env.Target.Max}); err != nil {
		rep.Violations = append(rep.Violations, fmt.Sprintf("a fresh operation during the flood failed: %v", err))
	}
	rep.RTO = time.Since(start)
	wg.Wait()
	rep.Counts["flooded"] = int64(n)
	return time.Now(), nil
}

func concurrencyPressure(ctx context.Context, env Env, d *daemon.Daemon, rep *Repetition) (time.Time, error) {
	prefix := fmt.Sprintf("cp-%d", env.Index)
	limit := d.Health().Concurrency
	var running, peak atomic.Int64
	handler := func(ctx context.Context) (any, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		timer := time.NewTimer(10 * time.Millisecond)
		defer timer.Stop()
		select {
		case <-timer.C:
			return true, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	results, err := daemon.ConcurrencyPressure(ctx, d, prefix, 5*limit, handler)
	if err != nil {
		return time.Time{}, err
	}
	failed := 0
	for _, r := range results {
		d.Unschedule(r.ID)
		if r.Err != nil {
			failed++
		}
	}
	if p := peak.Load(); p > int64(limit) {
		rep.Violations = append(rep.Violations, fmt.Sprintf("%d handlers ran at once, above the limit of %d", p, limit))
	}
	if failed > 0 {
		rep.Violations = append(rep.Violations, fmt.Sprintf("%d of %d operations under pressure failed", failed, len(results)))
	}
	rep.Counts["peak_concurrency"] = peak.Load()
	rep.Counts["operations"] = int64(len(results))
	return time.Now(), nil
}

func cascadingFailure(ctx context.Context, env Env, d *daemon.Daemon, rep *Repetition) (time.Time, error) {
	sequence := []bool{true, false, true, false, false} // true fails
	for i, fails := range sequence {
		h := daemon.Succeed(true)
		if fails {
			h = daemon.FailAsync(0, errChaos)
		}
		_, err := runOp(ctx, d, daemon.Operation{ID: fmt.Sprintf("cascade-%d-%d", env.Index, i+1), Handler: h, Timeout: time.Second})
		if fails != (err != nil) {
			rep.Violations = append(rep.Violations, fmt.Sprintf("operation %d: want failed=%v, got error %v", i+1, fails, err))
		}
	}
	return time.Now(), nil
}

func concurrentErrorIsolation(ctx context.Context, env Env, d *daemon.Daemon, rep *Repetition) (time.Time, error) {
	before := d.Metrics()
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = fmt.Sprintf("iso-%d-%d", env.Index, i)
		h := daemon.Succeed(i)
		if i%2 == 0 {
			h = daemon.FailAsync(time.Millisecond, errChaos)
		}
		if err := d.Schedule(daemon.Operation{ID: ids[i], Handler: h, Timeout: time.Second}); err != nil {
			return time.Time{}, err
		}
	}
	results := daemon.ExecuteConcurrently(ctx, d, ids)
	failed := 0
	for _, r := range results {
		d.Unschedule(r.ID)
		if r.Err != nil {
			failed++
		}
	}
	after := d.Metrics()
	succeeded, failedMetric := after.Succeeded-before.Succeeded, after.Failed-before.Failed
	if failed != 10 || succeeded != 10 || failedMetric != 10 {
		rep.Violations = append(rep.Violations, fmt.Sprintf(
			"%d of 20 failed; metrics count %d succeeded and %d failed, want exactly 10 and 10", failed, succeeded, failedMetric))
	}
	return time.Now(), nil
}

func stateCorruption(ctx context.Context, env Env, d *daemon.Daemon, rep *Repetition) (time.Time, error) {
	before := d.Metrics()
	if err := d.EnableFailpoint(daemon.FailpointRecordResult, daemon.CorruptRecord()); err != nil {
		return time.Time{}, err
	}
	_, err := runOp(ctx, d, daemon.Operation{ID: fmt.Sprintf("corrupt-%d", env.Index), Handler: daemon.Succeed(true), Timeout: time.Second})
	if derr := d.DisableFailpoint(daemon.FailpointRecordResult); derr != nil {
		return time.Time{}, derr
	}
	var ce *daemon.CorruptRecordError
	if !errors.As(err, &ce) {
		rep.Violations = append(rep.Violations, fmt.Sprintf("a corrupted record came back as %v, not a CorruptRecordError", err))
	}
	after := d.Metrics()
	if after.CorruptRecords != before.CorruptRecords+1 {
		rep.Violations = append(rep.Violations, fmt.Sprintf("corrupt records went from %d to %d, want one more", before.CorruptRecords, after.CorruptRecords))
	}
	rep.Counts["corrupt_records"] = int64(after.CorruptRecords - before.CorruptRecords)
	return time.Now(), nil
}
