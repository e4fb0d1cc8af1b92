package daemon

import (
	"errors"
	"fmt"
)

// Sentinel errors returned by this package. Functions wrap them with %w and
// add the operation ID or the offending value, so test them with errors.Is.
// Errors returned by a handler reach the caller of Execute unchanged.
var (
	// ErrInvalidConfig is returned by Config.Validate and New when a field is
	// missing or out of range.
	ErrInvalidConfig = errors.New("daemon: invalid config")

	// ErrInvalidOperation is returned by Schedule for an operation that fails
	// validation. The error is a *ValidationError that names the field.
	ErrInvalidOperation = errors.New("daemon: invalid operation")

	// ErrDuplicateID is returned by Schedule when an operation with the same
	// ID is already scheduled. It comes wrapped in a *ValidationError too.
	ErrDuplicateID = errors.New("daemon: duplicate operation ID")

	// ErrQueueFull is returned by Schedule when Config.MaxQueued operations
	// are already scheduled.
	ErrQueueFull = errors.New("daemon: operation queue full")

	// ErrNotFound is returned for an operation ID that is not scheduled.
	ErrNotFound = errors.New("daemon: operation not found")

	// ErrNotRunning is returned by Execute before Start.
	ErrNotRunning = errors.New("daemon: not running")

	// ErrStopped is returned once Stop has begun: new work is rejected and
	// callers still waiting for a concurrency slot are released with it.
	ErrStopped = errors.New("daemon: stopped")

	// ErrTimeout is returned by Execute when a handler runs past the
	// operation's timeout. The handler's context is cancelled with this
	// cause, so context.Cause(ctx) inside the handler returns it too.
	ErrTimeout = errors.New("daemon: operation timed out")

	// ErrCancelled is returned by Execute when a run is cancelled before its
	// handler returns: by the caller's context, by Stop, or by a loss of
	// leadership for a leader-scoped operation.
	ErrCancelled = errors.New("daemon: operation cancelled")

	// ErrNotLeader is returned for a leader-scoped operation on a node that
	// is not the leader while another node is known to lead.
	ErrNotLeader = errors.New("daemon: not the leader")

	// ErrNoLeader is returned for a leader-scoped operation while no leader
	// is known, for example during an election.
	ErrNoLeader = errors.New("daemon: no known leader")

	// ErrTooManyAbandoned is returned by Execute while Config.MaxAbandoned
	// handlers that ignored their cancelled context are still running.
	ErrTooManyAbandoned = errors.New("daemon: too many abandoned handlers")

	// ErrHandlersRunning is returned by Stop and Wait when their context ends
	// while abandoned handlers or subscriber callbacks are still running.
	ErrHandlersRunning = errors.New("daemon: handlers still running")

	// ErrCorruptRecord is returned by Execute when the result record of a run
	// fails validation. The record is counted in Metrics.CorruptRecords and
	// kept out of the counters, the latency histogram and the history.
	ErrCorruptRecord = errors.New("daemon: corrupt result record")

	// ErrUnknownFailpoint is returned for a failpoint name that the execution
	// path does not have.
	ErrUnknownFailpoint = errors.New("daemon: unknown failpoint")

	// ErrInvalidFailpoint is returned by EnableFailpoint for an action that
	// cannot be applied at the named failpoint.
	ErrInvalidFailpoint = errors.New("daemon: invalid failpoint action")

	// ErrFailpoint is the default error of a failpoint whose action returns
	// an error. Every failpoint error is a *FailpointError.
	ErrFailpoint = errors.New("daemon: failpoint triggered")

	// ErrInjected is the error of the chaos handlers (FailSync and the
	// others) when they are given a nil error.
	ErrInjected = errors.New("daemon: injected chaos failure")
)

// ValidationError reports an operation rejected by Schedule. Field names the
// Operation field at fault.
type ValidationError struct {
	Field  string
	Reason string
	// Err is ErrInvalidOperation, or ErrDuplicateID for a duplicate ID.
	Err error
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("%v: field %s: %s", e.Err, e.Field, e.Reason)
}

// Unwrap returns the sentinel, and ErrInvalidOperation for a duplicate ID so
// that every validation error matches errors.Is(err, ErrInvalidOperation).
func (e *ValidationError) Unwrap() []error {
	if e.Err == ErrInvalidOperation {
		return []error{e.Err}
	}
	return []error{e.Err, ErrInvalidOperation}
}

// PanicError is the error of a run whose handler panicked. Value is the value
// passed to panic and Stack the stack of the panicking goroutine.
type PanicError struct {
	OpID  string
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("daemon: operation %q: handler panicked: %v", e.OpID, e.Value)
}

// Unwrap returns the panic value when it is an error, so errors.Is and
// errors.As reach an error that was passed to panic.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// FailpointError is the error injected by a failpoint whose action returns an
// error.
type FailpointError struct {
	Failpoint string
	Err       error
}

func (e *FailpointError) Error() string {
	return fmt.Sprintf("daemon: failpoint %q: %v", e.Failpoint, e.Err)
}

// Unwrap returns the injected error and ErrFailpoint.
func (e *FailpointError) Unwrap() []error {
	if e.Err == ErrFailpoint {
		return []error{e.Err}
	}
	return []error{e.Err, ErrFailpoint}
}

// CorruptRecordError is returned by Execute when the run's result record fails
// validation. Reason names the check that failed. Err is the run's own error, if
// it had one, so errors.As still reaches a handler's error type.
type CorruptRecordError struct {
	OpID   string
	Reason string
	Err    error
}

func (e *CorruptRecordError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("%v: operation %q: %s", ErrCorruptRecord, e.OpID, e.Reason)
	}
	return fmt.Sprintf("%v: operation %q: %s (run error: %v)", ErrCorruptRecord, e.OpID, e.Reason, e.Err)
}

// Unwrap returns ErrCorruptRecord and the run's own error.
func (e *CorruptRecordError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrCorruptRecord}
	}
	return []error{ErrCorruptRecord, e.Err}
}
