package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Failpoints in the execution path, in the order a run reaches them.
const (
	// FailpointBeforeExecute fires on the handler's goroutine before the
	// handler is called. An error or panic there fails the run without
	// calling the handler; a sleep counts toward the timeout.
	FailpointBeforeExecute = "before-execute"
	// FailpointAfterExecute fires on the handler's goroutine after the
	// handler returned. An error there replaces the handler's result.
	FailpointAfterExecute = "after-execute"
	// FailpointRecordResult fires on the caller's goroutine while the result
	// record is written. Any action but a sleep leaves the record corrupt:
	// the daemon detects it, keeps it out of metrics and history, and
	// Execute returns a *CorruptRecordError.
	FailpointRecordResult = "record-result"
)

var failpointNames = []string{FailpointBeforeExecute, FailpointAfterExecute, FailpointRecordResult}

// ActionKind is the fault an enabled failpoint injects when a run reaches it.
type ActionKind string

const (
	ActionError   ActionKind = "error"
	ActionPanic   ActionKind = "panic"
	ActionSleep   ActionKind = "sleep"
	ActionCorrupt ActionKind = "corrupt" // FailpointRecordResult only
)

// FailpointAction configures a failpoint. Build one with ReturnError,
// PanicWith, SleepFor or CorruptRecord, and set Times to limit it.
type FailpointAction struct {
	Kind ActionKind
	// Err is returned by ActionError, wrapped in a *FailpointError.
	// Nil means ErrFailpoint.
	Err error
	// Value is passed to panic by ActionPanic. Nil means a string that
	// names the failpoint.
	Value any
	// Delay is how long ActionSleep sleeps. The sleep ends early when
	// the run's context ends, or at Stop for FailpointRecordResult.
	Delay time.Duration
	// Times is how many times the failpoint fires before it disables
	// itself. Zero means every time until DisableFailpoint.
	Times int
}

// ReturnError returns an action that fails the run with err.
func ReturnError(err error) FailpointAction { return FailpointAction{Kind: ActionError, Err: err} }

// PanicWith returns an action that panics with value.
func PanicWith(value any) FailpointAction { return FailpointAction{Kind: ActionPanic, Value: value} }

// SleepFor returns an action that sleeps for delay.
func SleepFor(delay time.Duration) FailpointAction {
	return FailpointAction{Kind: ActionSleep, Delay: delay}
}

// CorruptRecord returns an action for FailpointRecordResult that makes the
// result record invalid: an unknown outcome and a negative duration.
func CorruptRecord() FailpointAction { return FailpointAction{Kind: ActionCorrupt} }

// FailpointStatus describes one failpoint, as returned by Failpoints.
type FailpointStatus struct {
	Name    string
	Enabled bool
	// Action is the enabled action; zero when disabled.
	Action FailpointAction
	// Fired counts every time the failpoint fired since New.
	Fired uint64
}

type failpoint struct {
	action    FailpointAction
	remaining int
}

// failpoints holds the enabled failpoints. Runs check enabled first, so a
// daemon with none enabled takes no lock for them.
type failpoints struct {
	mu      sync.Mutex
	points  map[string]*failpoint
	fired   map[string]uint64
	enabled atomic.Int32
	log     *slog.Logger
}

// EnableFailpoint enables the failpoint name with action, replacing any
// action it had. It returns an error wrapping ErrUnknownFailpoint for an
// unknown name and ErrInvalidFailpoint for an action that does not fit.
func (d *Daemon) EnableFailpoint(name string, action FailpointAction) error {
	if err := checkFailpoint(name, action); err != nil {
		return err
	}
	if action.Kind == ActionError && action.Err == nil {
		action.Err = ErrFailpoint
	}
	if action.Kind == ActionPanic && action.Value == nil {
		action.Value = fmt.Sprintf("failpoint %q", name)
	}

	f := &d.fp
	f.mu.Lock()
	if _, ok := f.points[name]; !ok {
		f.enabled.Add(1)
	}
	f.points[name] = &failpoint{action: action, remaining: action.Times}
	f.mu.Unlock()

	d.log.Info("failpoint enabled", "failpoint", name, "kind", string(action.Kind), "times", action.Times)
	return nil
}

// DisableFailpoint disables the failpoint name. Disabling one that is not
// enabled does nothing. It returns an error wrapping ErrUnknownFailpoint for
// an unknown name.
func (d *Daemon) DisableFailpoint(name string) error {
	if !slices.Contains(failpointNames, name) {
		return unknownFailpoint(name)
	}

	f := &d.fp
	f.mu.Lock()
	_, ok := f.points[name]
	if ok {
		delete(f.points, name)
		f.enabled.Add(-1)
	}
	f.mu.Unlock()

	if ok {
		d.log.Info("failpoint disabled", "failpoint", name)
	}
	return nil
}

// Failpoints returns every failpoint in execution order.
func (d *Daemon) Failpoints() []FailpointStatus {
	f := &d.fp
	f.mu.Lock()
	defer f.mu.Unlock()

	out := make([]FailpointStatus, 0, len(failpointNames))
	for _, name := range failpointNames {
		st := FailpointStatus{Name: name, Fired: f.fired[name]}
		if p, ok := f.points[name]; ok {
			st.Enabled = true
			st.Action = p.action
		}
		out = append(out, st)
	}
	return out
}

func checkFailpoint(name string, a FailpointAction) error {
	if !slices.Contains(failpointNames, name) {
		return unknownFailpoint(name)
	}
	invalid := func(reason string) error {
		return fmt.Errorf("%w: failpoint %q, kind %q: %s", ErrInvalidFailpoint, name, a.Kind, reason)
	}
	switch a.Kind {
	case ActionError, ActionPanic:
	case ActionSleep:
		if a.Delay <= 0 {
			return invalid("Delay is " + a.Delay.String() + ": set a positive duration")
		}
	case ActionCorrupt:
		if name != FailpointRecordResult {
			return invalid("only " + FailpointRecordResult + " can corrupt a record")
		}
	default:
		return invalid("unknown kind: use error, panic, sleep or corrupt")
	}
	if a.Times < 0 {
		return invalid(fmt.Sprintf("Times is %d: use zero (always) or a positive count", a.Times))
	}
	return nil
}

func unknownFailpoint(name string) error {
	return fmt.Errorf("%w: %q: known failpoints are %v", ErrUnknownFailpoint, name, failpointNames)
}

// take returns the action of the failpoint name if it is enabled, and counts
// the firing.
func (f *failpoints) take(name string) (FailpointAction, bool) {
	if f.enabled.Load() == 0 {
		return FailpointAction{}, false
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.points[name]
	if !ok {
		return FailpointAction{}, false
	}
	if f.fired == nil {
		f.fired = make(map[string]uint64)
	}
	f.fired[name]++
	f.log.Info("failpoint fired", "failpoint", name, "kind", string(p.action.Kind), "fired", f.fired[name])
	if p.action.Times > 0 {
		p.remaining--
		if p.remaining == 0 {
			delete(f.points, name)
			f.enabled.Add(-1)
		}
	}
	return p.action, true
}

// fire applies the failpoint name on a handler's goroutine. It panics for a
// panic action; the caller recovers.
func (f *failpoints) fire(ctx context.Context, name string) error {
	a, ok := f.take(name)
	if !ok {
		return nil
	}
	switch a.Kind {
	case ActionError:
		return &FailpointError{Failpoint: name, Err: a.Err}
	case ActionPanic:
		panic(a.Value)
	case ActionSleep:
		t := time.NewTimer(a.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	return nil
}

// fireRecord applies FailpointRecordResult to rec and returns why rec is
// corrupt, or "" when the record was left for validation.
func (f *failpoints) fireRecord(stop <-chan struct{}, rec *Record) (reason string) {
	a, ok := f.take(FailpointRecordResult)
	if !ok {
		return ""
	}
	defer func() {
		if p := recover(); p != nil {
			reason = fmt.Sprintf("failpoint %q panicked while recording: %v", FailpointRecordResult, p)
		}
	}()

	switch a.Kind {
	case ActionError:
		return fmt.Sprintf("failpoint %q failed the record: %v", FailpointRecordResult, a.Err)
	case ActionPanic:
		panic(a.Value)
	case ActionSleep:
		t := time.NewTimer(a.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-stop:
		}
	case ActionCorrupt:
		rec.Outcome = "INVALID_STATE"
		rec.Duration = -1
		rec.Value = nil
	}
	return ""
}
