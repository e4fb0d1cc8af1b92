package daemon

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Handler goroutine states. The goroutine moves running → finished when it
// returns first, and the caller moves running → abandoned when it stops
// waiting first. The side that loses the compare-and-swap learns that the
// other side won.
const (
	handlerRunning int32 = iota
	handlerFinished
	handlerAbandoned
)

// Causes with which the daemon cancels a run's context. Handlers read them
// with context.Cause, and errors.Is matches them to ErrStopped and
// ErrNotLeader.
var (
	errCancelledByStop       = fmt.Errorf("%w: run cancelled by Stop", ErrStopped)
	errCancelledByLeadership = fmt.Errorf("%w: leadership lost during a leader-scoped run", ErrNotLeader)
)

// run is one execution of an operation.
type run struct {
	e   *entry
	num uint64
	// ctx is the run's context. Its cause is the first of: the timeout,
	// Stop, a loss of leadership, or the end of the caller's context.
	ctx    context.Context
	cancel context.CancelCauseFunc
	start  time.Time
	timer  *time.Timer // fires at the operation's timeout; nil without one
	// deadline is the handler's context when the operation has a timeout.
	// It lives in the run to save an allocation per run.
	deadline deadlineContext
	// state is the handler goroutine's state.
	state atomic.Int32
	// result is written by the handler goroutine before it closes done.
	result handlerResult
	done   chan struct{}
}

// handlerResult is the handler goroutine's result, sent to the caller.
type handlerResult struct {
	value    any
	err      error
	panicked bool
}

// deadlineContext reports the operation's deadline for a run context whose
// timeout is a timer, so handlers can pass the deadline on.
type deadlineContext struct {
	context.Context
	deadline time.Time
}

func (c *deadlineContext) Deadline() (time.Time, bool) {
	if parent, ok := c.Context.Deadline(); ok && parent.Before(c.deadline) {
		return parent, true
	}
	return c.deadline, true
}

// timerPool reuses the timers of run timeouts. Since Go 1.23 a stopped timer
// delivers no stale tick, so a timer can be reset and reused after Stop.
type timerPool struct {
	pool sync.Pool
}

func (p *timerPool) get(d time.Duration) *time.Timer {
	if t, ok := p.pool.Get().(*time.Timer); ok {
		t.Reset(d)
		return t
	}
	return time.NewTimer(d)
}

func (p *timerPool) put(t *time.Timer) {
	t.Stop()
	p.pool.Put(t)
}

// Execute runs the operation id and returns its handler's value and error.
//
// At most Config.Concurrency handlers run at once; a caller waits for a slot
// until ctx ends. The handler runs on its own goroutine with a context that
// ends at the operation's timeout (ErrTimeout), when ctx ends, when Stop
// cancels it or, for a leader-scoped run, when this node stops leading
// (ErrCancelled). Execute returns as soon as that context ends, so a
// handler that never returns cannot hang its caller. Such a handler is
// abandoned: it gives its slot back at once and is counted in
// Health.Abandoned until it returns.
//
// A panic in the handler is returned as a *PanicError. Errors returned by the
// handler are returned unchanged. Operations stay scheduled, so Execute may
// run the same operation again, also while an earlier run is in progress.
func (d *Daemon) Execute(ctx context.Context, id string) (any, error) {
	r, err := d.acquire(ctx, id)
	if err != nil {
		d.stats.reject()
		return nil, err
	}

	res, ok := d.runHandler(r)
	return d.finish(r, res, ok)
}

// acquire waits for a slot and registers a run of the operation id.
func (d *Daemon) acquire(ctx context.Context, id string) (*run, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: operation %q not started: %w", ErrCancelled, id, context.Cause(ctx))
	}

	select {
	case d.sem <- struct{}{}:
	default:
		if err := d.waitForSlot(ctx, id); err != nil {
			return nil, err
		}
	}

	// The run's context exists before the run is registered, so Stop and
	// leadership changes can always cancel a registered run.
	runCtx, cancel := context.WithCancelCause(ctx)
	d.mu.Lock()
	defer d.mu.Unlock()
	e, err := d.admit(id)
	if err != nil {
		cancel(err)
		<-d.sem
		return nil, err
	}
	r := &run{e: e, num: e.runs + 1, ctx: runCtx, cancel: cancel, done: make(chan struct{})}
	e.runs++
	e.active++
	if e.active == 1 {
		d.runningOps++
	}
	d.active[r] = struct{}{}
	return r, nil
}

// waitForSlot blocks until a slot is free, ctx ends or Stop begins. It
// checks admission first, so a call that would be rejected fails at once.
func (d *Daemon) waitForSlot(ctx context.Context, id string) error {
	d.mu.Lock()
	if _, err := d.admit(id); err != nil {
		d.mu.Unlock()
		return err
	}
	d.waiting++
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.waiting--
		d.mu.Unlock()
	}()

	select {
	case d.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: operation %q not started: still waiting for one of %d concurrency slots: %w",
			ErrCancelled, id, d.cfg.Concurrency, context.Cause(ctx))
	case <-d.stopCh:
		return fmt.Errorf("%w: operation %q not started: the daemon stopped while it waited for a slot", ErrStopped, id)
	}
}

// admit checks whether the operation id may start now and returns its
// entry. The caller holds d.mu.
func (d *Daemon) admit(id string) (*entry, error) {
	switch d.state {
	case lifecycleCreated:
		return nil, fmt.Errorf("%w: operation %q not started: call Start first", ErrNotRunning, id)
	case lifecycleStopping, lifecycleStopped:
		return nil, fmt.Errorf("%w: operation %q not started", ErrStopped, id)
	}
	e, ok := d.ops[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q: schedule it before executing it", ErrNotFound, id)
	}
	if e.op.Scope == ScopeLeader {
		if err := d.leadership.check(d.cfg.NodeID); err != nil {
			return nil, fmt.Errorf("operation %q is leader-scoped: %w", id, err)
		}
	}
	if len(d.abandoned) >= d.cfg.MaxAbandoned {
		return nil, fmt.Errorf("%w: operation %q not started: %d handlers ignored their cancelled context and still run (Config.MaxAbandoned is %d)",
			ErrTooManyAbandoned, id, len(d.abandoned), d.cfg.MaxAbandoned)
	}
	return e, nil
}

// runHandler starts the handler on an owned goroutine and waits for its
// result or the end of the run's context, whichever comes first. It returns
// the handler's result, and false if the handler was abandoned.
func (d *Daemon) runHandler(r *run) (handlerResult, bool) {
	r.start = time.Now()
	var timeout <-chan time.Time
	if limit := r.e.op.Timeout; limit > 0 {
		r.timer = d.timers.get(limit)
		timeout = r.timer.C
		r.deadline = deadlineContext{Context: r.ctx, deadline: r.start.Add(limit)}
	}

	d.subs.emit(Event{Type: EventStarted, OpID: r.e.op.ID, OpName: r.e.op.Name, Run: r.num})
	d.live.Add(1)
	go d.handle(r)

	// The caller enforces the timeout: it waits here until the handler
	// returns or the context ends, so it is always there when the timer
	// fires.
	select {
	case <-r.done:
		return r.result, true
	case <-r.ctx.Done():
	case <-timeout:
		r.cancel(ErrTimeout)
	}

	// The context ended first. Abandon the handler unless it has just
	// returned, in which case its result is already on its way.
	d.mu.Lock()
	abandon := r.state.CompareAndSwap(handlerRunning, handlerAbandoned)
	if abandon {
		d.abandoned[r] = struct{}{}
	}
	d.mu.Unlock()
	if !abandon {
		<-r.done
		return r.result, true
	}
	d.stats.abandon()
	d.log.Warn("handler abandoned: it did not return when its context ended",
		"op_id", r.e.op.ID, "run", r.num, "cause", context.Cause(r.ctx))
	return handlerResult{}, false
}

// handle is the body of a handler goroutine. It sends the result to the
// caller, or removes the run from the abandoned set if the caller abandoned
// it.
func (d *Daemon) handle(r *run) {
	defer d.goroutineExited()

	var ctx context.Context = r.ctx
	if r.timer != nil {
		ctx = &r.deadline
	}
	res := d.callHandler(ctx, r.e.op.ID, r.e.op.Handler)
	if r.state.CompareAndSwap(handlerRunning, handlerFinished) {
		r.result = res
		close(r.done)
		return
	}
	d.abandonedReturned(r)
}

// callHandler runs the failpoints around handler and turns a panic into a
// *PanicError.
func (d *Daemon) callHandler(ctx context.Context, opID string, handler Handler) (res handlerResult) {
	defer func() {
		if p := recover(); p != nil {
			res = handlerResult{err: &PanicError{OpID: opID, Value: p, Stack: debug.Stack()}, panicked: true}
		}
	}()

	if err := d.fp.fire(ctx, FailpointBeforeExecute); err != nil {
		return handlerResult{err: err}
	}
	value, err := handler(ctx)
	if fpErr := d.fp.fire(ctx, FailpointAfterExecute); fpErr != nil {
		return handlerResult{err: fpErr}
	}
	return handlerResult{value: value, err: err}
}

// abandonedReturned removes a returned handler from the abandoned set.
func (d *Daemon) abandonedReturned(r *run) {
	d.mu.Lock()
	delete(d.abandoned, r)
	left := len(d.abandoned)
	d.mu.Unlock()
	d.log.Info("abandoned handler returned", "op_id", r.e.op.ID, "run", r.num,
		"after", time.Since(r.start), "abandoned_left", left)
	d.poke()
}

// finish classifies the run, records it, releases its slot and returns what
// Execute returns.
func (d *Daemon) finish(r *run, res handlerResult, returned bool) (any, error) {
	rec := Record{
		OpID:      r.e.op.ID,
		Name:      r.e.op.Name,
		Scope:     r.e.op.Scope,
		Run:       r.num,
		Start:     r.start,
		Duration:  time.Since(r.start),
		Abandoned: !returned,
	}
	rec.Outcome, rec.Err = classify(r, res, returned)
	if r.timer != nil {
		d.timers.put(r.timer)
	}
	r.cancel(context.Canceled)
	if rec.Outcome == OutcomeSucceeded {
		rec.Value = res.value
	}
	panicked := returned && res.panicked && rec.Outcome == OutcomeFailed

	value, err := rec.Value, rec.Err
	if reason := d.commit(&rec, panicked); reason != "" {
		value, err = nil, &CorruptRecordError{OpID: r.e.op.ID, Reason: reason, Err: rec.Err}
		d.subs.emit(Event{Type: EventRecordCorrupted, OpID: r.e.op.ID, OpName: r.e.op.Name, Run: r.num, Err: err})
	} else {
		d.subs.emit(Event{Type: outcomeEvent[rec.Outcome], OpID: rec.OpID, OpName: rec.Name, Run: rec.Run,
			Duration: rec.Duration, Err: rec.Err})
	}

	stopped := rec.Outcome == OutcomeCancelled && context.Cause(r.ctx) == errCancelledByStop
	d.release(r, stopped)
	return value, err
}

// classify decides the outcome of a run and the error Execute returns. The
// caller has not yet cancelled the run's context itself.
func classify(r *run, res handlerResult, returned bool) (Outcome, error) {
	opID := r.e.op.ID
	if returned && (res.err == nil || r.ctx.Err() == nil) {
		// The handler returned before the context ended, or returned a
		// value although it had ended, so its own result is kept.
		if res.err == nil {
			return OutcomeSucceeded, nil
		}
		return OutcomeFailed, res.err
	}

	switch cause := context.Cause(r.ctx); cause {
	case ErrTimeout:
		return OutcomeTimedOut, fmt.Errorf("%w: operation %q run %d: no result within %s", ErrTimeout, opID, r.num, r.e.op.Timeout)
	case errCancelledByStop:
		return OutcomeCancelled, fmt.Errorf("%w: operation %q run %d: the daemon stopped before the handler returned", ErrCancelled, opID, r.num)
	case errCancelledByLeadership:
		return OutcomeCancelled, fmt.Errorf("%w: operation %q run %d: %w", ErrCancelled, opID, r.num, cause)
	default:
		return OutcomeCancelled, fmt.Errorf("%w: operation %q run %d: the caller's context ended: %w", ErrCancelled, opID, r.num, cause)
	}
}

// release deregisters the run and gives its slot back. When stopped is
// true, Stop cancelled the run and reports its operation ID.
func (d *Daemon) release(r *run, stopped bool) {
	d.mu.Lock()
	delete(d.active, r)
	r.e.active--
	if r.e.active == 0 && d.ops[r.e.op.ID] == r.e {
		d.runningOps--
	}
	if stopped {
		d.stopIDs = append(d.stopIDs, r.e.op.ID)
	}
	d.mu.Unlock()

	<-d.sem
	d.poke()
}
