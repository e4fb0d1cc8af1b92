package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// lifecycle is the daemon's state. It only moves forward.
type lifecycle int

const (
	lifecycleCreated lifecycle = iota
	lifecycleRunning
	lifecycleStopping
	lifecycleStopped
)

// Daemon schedules and executes the operations of one node. Create it with
// New; all methods are safe for concurrent use.
type Daemon struct {
	cfg Config
	log *slog.Logger

	// sem holds one token per run in progress. Its capacity is
	// Config.Concurrency.
	sem chan struct{}
	// stopCh is closed when Stop begins.
	stopCh chan struct{}
	// stopping is set with stopCh, so that finishing goroutines can check
	// it without taking mu.
	stopping atomic.Bool
	// changed is broadcast whenever a run ends or an owned goroutine exits
	// while Stop is waiting for them.
	changed broadcast
	// live counts owned goroutines: handlers, subscriber callbacks and
	// leadership followers.
	live atomic.Int64

	mu         sync.Mutex
	state      lifecycle
	startedAt  time.Time // carries a monotonic reading
	stoppedAt  time.Time
	ops        map[string]*entry
	runningOps int // operations with at least one run in progress
	active     map[*run]struct{}
	abandoned  map[*run]struct{}
	waiting    int // callers of Execute waiting for a slot
	stopIDs    []string
	leadership leadership

	stats  statistics
	subs   subscribers
	fp     failpoints
	timers timerPool
}

// New returns a daemon for cfg that is not yet started. Operations may be
// scheduled before Start, but Execute needs a started daemon.
func New(cfg Config) (*Daemon, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	d := &Daemon{
		cfg:       cfg,
		log:       logger.With("node_id", cfg.NodeID),
		sem:       make(chan struct{}, cfg.Concurrency),
		stopCh:    make(chan struct{}),
		ops:       make(map[string]*entry),
		active:    make(map[*run]struct{}),
		abandoned: make(map[*run]struct{}),
	}
	d.stats.history = newRing(cfg.HistorySize)
	d.subs.nodeID = cfg.NodeID
	d.subs.log = d.log
	d.fp.points = make(map[string]*failpoint)
	d.fp.log = d.log
	return d, nil
}

// Start marks the daemon running. It returns ctx's error if ctx is already
// done, ErrStopped after Stop, and nil if the daemon is already running. The
// context bounds only the start itself; Stop ends the daemon's life.
func (d *Daemon) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	switch d.state {
	case lifecycleRunning:
		return nil
	case lifecycleStopping, lifecycleStopped:
		return fmt.Errorf("%w: a stopped daemon cannot be started again; create a new one", ErrStopped)
	}
	d.state = lifecycleRunning
	d.startedAt = time.Now()
	d.log.Info("daemon started", "name", d.cfg.Name, "concurrency", d.cfg.Concurrency,
		"default_timeout", d.cfg.DefaultTimeout, "max_queued", d.cfg.MaxQueued)
	return nil
}

// Stop rejects new work, waits for runs in progress and for abandoned
// handlers until ctx ends, then cancels the runs still in progress and
// returns their operation IDs, sorted, one per cancelled run. Callers of Execute get ErrCancelled
// for those runs, and callers still waiting for a slot get ErrStopped.
// Stop then closes every subscription.
//
// Stop returns an error wrapping ErrHandlersRunning when handlers or
// subscriber callbacks are still running when ctx ends, or Config.CancelGrace
// after the cancellation if Stop had to cancel runs. Calling Stop again waits
// for them, up to its own ctx, and returns no IDs. With a ctx that never
// ends, Stop waits as long as a handler runs.
func (d *Daemon) Stop(ctx context.Context) ([]string, error) {
	d.mu.Lock()
	previous := d.state
	if previous == lifecycleCreated || previous == lifecycleRunning {
		d.state = lifecycleStopping
		d.stopping.Store(true)
		close(d.stopCh)
	}
	d.mu.Unlock()
	if previous == lifecycleStopping || previous == lifecycleStopped {
		return nil, d.waitGoroutines(ctx)
	}
	d.log.Info("daemon stopping")

	// Let runs and abandoned handlers finish until ctx ends.
	drained := d.waitUntil(ctx, d.drained)

	// Cancel what is still running. The callers of Execute return at once,
	// so this wait is short even though it ignores ctx.
	var cancelled []string
	if !drained {
		d.cancelActive()
		d.waitUntil(context.Background(), d.idle)
		d.mu.Lock()
		cancelled = slices.Clone(d.stopIDs)
		d.mu.Unlock()
		slices.Sort(cancelled)
	}

	d.mu.Lock()
	d.state = lifecycleStopped
	d.stoppedAt = time.Now()
	d.mu.Unlock()
	d.subs.closeAll()

	// Handlers just cancelled get CancelGrace to return, even though ctx
	// has ended.
	waitCtx := ctx
	if !drained {
		var cancel context.CancelFunc
		waitCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), d.cfg.CancelGrace)
		defer cancel()
	}
	err := d.waitGoroutines(waitCtx)
	d.log.Info("daemon stopped", "cancelled", len(cancelled), "cancelled_ids", strings.Join(cancelled, ","),
		"goroutines_left", d.live.Load())
	return cancelled, err
}

// drained reports whether no run is in progress and no handler is abandoned.
func (d *Daemon) drained() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.active) == 0 && len(d.abandoned) == 0
}

// idle reports whether no run is in progress.
func (d *Daemon) idle() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.active) == 0
}

// cancelActive cancels every run in progress on behalf of Stop.
func (d *Daemon) cancelActive() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for r := range d.active {
		r.cancel(errCancelledByStop)
	}
}

// waitGoroutines waits until every owned goroutine has exited or ctx ends.
func (d *Daemon) waitGoroutines(ctx context.Context) error {
	if d.waitUntil(ctx, func() bool { return d.live.Load() == 0 }) {
		return nil
	}
	d.mu.Lock()
	abandoned := len(d.abandoned)
	d.mu.Unlock()
	return fmt.Errorf("%w: %d goroutines left (%d abandoned handlers) when Stop's wait ended: %w; call Stop again to wait for them",
		ErrHandlersRunning, d.live.Load(), abandoned, context.Cause(ctx))
}

// waitUntil checks done each time changed is broadcast, until done returns
// true or ctx ends. It reports done's last result. Only Stop calls it, after
// setting stopping, so every change that could make done true is broadcast.
func (d *Daemon) waitUntil(ctx context.Context, done func() bool) bool {
	for {
		// Take the channel before checking, so a change between the check
		// and the wait still wakes this waiter.
		changed := d.changed.channel()
		if done() {
			return true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return done()
		}
	}
}

// poke wakes every waiting Stop call.
func (d *Daemon) poke() {
	if d.stopping.Load() {
		d.changed.notify()
	}
}

// broadcast wakes every goroutine that waits on its current channel.
type broadcast struct {
	mu sync.Mutex
	ch chan struct{}
}

func (b *broadcast) channel() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

func (b *broadcast) notify() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
}

// goOwned runs f on a goroutine counted in live, so Stop can wait for it.
func (d *Daemon) goOwned(f func()) {
	d.live.Add(1)
	go func() {
		defer d.goroutineExited()
		f()
	}()
}

// goroutineExited is deferred by every goroutine counted in live.
func (d *Daemon) goroutineExited() {
	d.live.Add(-1)
	d.poke()
}

// Schedule adds op. It returns a *ValidationError naming the field for an
// invalid operation or a duplicate ID, an error wrapping ErrQueueFull when
// Config.MaxQueued operations are scheduled, and ErrStopped after Stop.
func (d *Daemon) Schedule(op Operation) error {
	if err := validateOperation(op); err != nil {
		return err
	}
	e := newEntry(op, d.cfg.DefaultTimeout, time.Now())

	d.mu.Lock()
	if d.state >= lifecycleStopping {
		d.mu.Unlock()
		return fmt.Errorf("%w: operation %q not scheduled", ErrStopped, op.ID)
	}
	if _, dup := d.ops[op.ID]; dup {
		d.mu.Unlock()
		return &ValidationError{Field: "ID", Reason: fmt.Sprintf("%q is already scheduled: unschedule it first or pick another ID", op.ID), Err: ErrDuplicateID}
	}
	if len(d.ops) >= d.cfg.MaxQueued {
		d.mu.Unlock()
		return fmt.Errorf("%w: operation %q rejected: %d operations already scheduled (Config.MaxQueued is %d); unschedule some or raise the limit",
			ErrQueueFull, op.ID, d.cfg.MaxQueued, d.cfg.MaxQueued)
	}
	d.ops[op.ID] = e
	d.mu.Unlock()

	d.subs.emit(Event{Type: EventEnqueued, OpID: op.ID, OpName: op.Name})
	return nil
}

// Unschedule removes the operation id. Runs in progress continue. It returns
// an error wrapping ErrNotFound if id is not scheduled.
func (d *Daemon) Unschedule(id string) error {
	d.mu.Lock()
	e, ok := d.ops[id]
	if ok {
		delete(d.ops, id)
		if e.active > 0 {
			d.runningOps--
		}
	}
	d.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %q", ErrNotFound, id)
	}

	d.subs.emit(Event{Type: EventUnscheduled, OpID: id, OpName: e.op.Name})
	return nil
}

// List returns the scheduled operations sorted by ID.
func (d *Daemon) List() []OperationInfo {
	d.mu.Lock()
	out := make([]OperationInfo, 0, len(d.ops))
	for _, e := range d.ops {
		out = append(out, e.info())
	}
	d.mu.Unlock()

	slices.SortFunc(out, func(a, b OperationInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}
