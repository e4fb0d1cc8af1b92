package daemon

import (
	"context"
	"maps"
	"strconv"
	"time"
)

// Handler is the work of an operation. The context is cancelled when the
// operation's timeout passes (with cause ErrTimeout), when the caller's
// context ends, when Stop gives up waiting, or when a leader-scoped run loses
// leadership. A handler should return soon after that; one that does not is
// abandoned and counted until it returns.
type Handler func(ctx context.Context) (any, error)

// Scope names the nodes on which an operation may run.
type Scope string

const (
	// ScopeLocal operations run on any node. It is the default.
	ScopeLocal Scope = "local"
	// ScopeLeader operations run only on the raft leader. On a follower
	// Execute returns ErrNotLeader, and ErrNoLeader while no leader is known.
	ScopeLeader Scope = "leader"
)

// Operation is a unit of work scheduled on the daemon.
//
// An operation stays scheduled after it runs: Execute may run it any number
// of times, one after another or at once, until Unschedule removes it. Each
// execution is a run with its own run number and result record.
type Operation struct {
	// ID identifies the operation. Required and unique among scheduled
	// operations.
	ID string
	// Name is a human-readable label for logs, events and records.
	Name string
	// Handler does the work. Required.
	Handler Handler
	// Metadata is free-form data kept with the operation. Schedule keeps a
	// shallow copy of the map, so the values themselves are shared.
	Metadata map[string]any
	// Timeout bounds each run. Zero means Config.DefaultTimeout; negative is
	// invalid.
	Timeout time.Duration
	// Scope is ScopeLocal or ScopeLeader. Empty means ScopeLocal.
	Scope Scope
}

// OperationInfo describes a scheduled operation, as returned by List.
type OperationInfo struct {
	ID          string
	Name        string
	Scope       Scope
	Timeout     time.Duration
	Metadata    map[string]any
	ScheduledAt time.Time
	// Runs is the number of runs started so far.
	Runs uint64
	// Active is the number of runs in progress.
	Active int
}

// entry is the daemon's own copy of a scheduled operation. Its counters are
// guarded by Daemon.mu.
type entry struct {
	op          Operation
	scheduledAt time.Time
	runs        uint64
	active      int
}

// validateOperation checks the fields that do not depend on daemon state.
func validateOperation(op Operation) error {
	switch {
	case op.ID == "":
		return &ValidationError{Field: "ID", Reason: "is empty: give the operation a unique ID", Err: ErrInvalidOperation}
	case op.Handler == nil:
		return &ValidationError{Field: "Handler", Reason: "is nil: set a function to run", Err: ErrInvalidOperation}
	case op.Timeout < 0:
		return &ValidationError{Field: "Timeout", Reason: "is " + op.Timeout.String() + ": use zero for the default or a positive duration", Err: ErrInvalidOperation}
	}
	switch op.Scope {
	case "", ScopeLocal, ScopeLeader:
		return nil
	default:
		return &ValidationError{Field: "Scope", Reason: "is " + strconv.Quote(string(op.Scope)) + `: use "local" or "leader"`, Err: ErrInvalidOperation}
	}
}

// newEntry copies op, filling in the default scope and timeout.
func newEntry(op Operation, defaultTimeout time.Duration, now time.Time) *entry {
	if op.Scope == "" {
		op.Scope = ScopeLocal
	}
	if op.Timeout == 0 {
		op.Timeout = defaultTimeout
	}
	if op.Metadata != nil {
		op.Metadata = maps.Clone(op.Metadata)
	}
	return &entry{op: op, scheduledAt: now}
}

// info returns a description of e. The caller holds Daemon.mu.
func (e *entry) info() OperationInfo {
	return OperationInfo{
		ID:          e.op.ID,
		Name:        e.op.Name,
		Scope:       e.op.Scope,
		Timeout:     e.op.Timeout,
		Metadata:    e.op.Metadata,
		ScheduledAt: e.scheduledAt,
		Runs:        e.runs,
		Active:      e.active,
	}
}
