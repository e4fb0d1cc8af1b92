package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config sets up a Daemon. Build one with DefaultConfig, set NodeID, and
// change what the node needs.
type Config struct {
	// NodeID is this node's raft server ID. The daemon leads when the known
	// leader ID equals NodeID. Required: it has no default.
	NodeID string

	// Name is a human-readable name used in logs and Health.
	Name string

	// Concurrency is the maximum number of handlers that run at once.
	// Callers of Execute beyond it wait for a slot.
	Concurrency int

	// DefaultTimeout applies to operations scheduled with a zero Timeout.
	// Zero means no timeout: such a run ends only when its handler returns,
	// the caller's context ends, or Stop cancels it.
	DefaultTimeout time.Duration

	// HistorySize is the number of result records kept for History and
	// Result. Older records are overwritten. Metrics do not depend on it.
	HistorySize int

	// MaxQueued is the maximum number of scheduled operations. Schedule
	// returns ErrQueueFull beyond it.
	MaxQueued int

	// MaxAbandoned is the maximum number of abandoned handlers (handlers
	// still running after their caller got ErrTimeout or ErrCancelled).
	// While that many are running, Execute returns ErrTooManyAbandoned, so a
	// handler that ignores its context cannot grow the goroutine count
	// without bound.
	MaxAbandoned int

	// CancelGrace is how long Stop waits, after it cancelled the runs still
	// in progress at its context's deadline, for their handlers to return
	// before it reports them as still running. Handlers that honour their
	// context return within it.
	CancelGrace time.Duration

	// Logger receives the daemon's logs, with node_id added. Nil discards
	// them.
	Logger *slog.Logger
}

// DefaultConfig returns a Config with every field but NodeID set.
//
// A concurrency of 10 and a 30 s timeout suit handlers that do cluster I/O.
// 1,000 history records and 10,000 queued operations each take well under
// 10 MiB for operations without large metadata.
func DefaultConfig() Config {
	return Config{
		Name:           "faultline-daemon",
		Concurrency:    10,
		DefaultTimeout: 30 * time.Second,
		HistorySize:    1000,
		MaxQueued:      10000,
		MaxAbandoned:   1000,
		CancelGrace:    100 * time.Millisecond,
	}
}

// Validate checks every field and returns all problems found, each wrapping
// ErrInvalidConfig. It never changes c.
func (c Config) Validate() error {
	var errs []error
	invalid := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...)))
	}

	if c.NodeID == "" {
		invalid("NodeID", "is empty: set it to this node's raft server ID")
	}
	if c.Concurrency < 1 {
		invalid("Concurrency", "is %d: must be at least 1", c.Concurrency)
	}
	if c.DefaultTimeout < 0 {
		invalid("DefaultTimeout", "is %s: must be zero (no timeout) or positive", c.DefaultTimeout)
	}
	if c.HistorySize < 1 {
		invalid("HistorySize", "is %d: must be at least 1", c.HistorySize)
	}
	if c.MaxQueued < 1 {
		invalid("MaxQueued", "is %d: must be at least 1", c.MaxQueued)
	}
	if c.MaxAbandoned < 1 {
		invalid("MaxAbandoned", "is %d: must be at least 1", c.MaxAbandoned)
	}
	if c.CancelGrace < 0 {
		invalid("CancelGrace", "is %s: must be zero or positive", c.CancelGrace)
	}
	return errors.Join(errs...)
}
