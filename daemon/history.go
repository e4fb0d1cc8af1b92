package daemon

import "time"

// Outcome is the end state of a run.
type Outcome string

const (
	// OutcomeSucceeded: the handler returned a nil error.
	OutcomeSucceeded Outcome = "succeeded"
	// OutcomeFailed: the handler returned an error or panicked, or a
	// failpoint failed the run.
	OutcomeFailed Outcome = "failed"
	// OutcomeTimedOut: the operation's timeout passed first.
	OutcomeTimedOut Outcome = "timed_out"
	// OutcomeCancelled: the caller's context, Stop or a loss of leadership
	// ended the run first.
	OutcomeCancelled Outcome = "cancelled"
)

// Record is the result of one run, kept in the bounded history.
type Record struct {
	OpID  string
	Name  string
	Scope Scope
	// Run numbers the operation's runs from 1.
	Run     uint64
	Outcome Outcome
	// Value is the handler's return value, nil unless the run succeeded.
	Value any
	// Err is the error Execute returned; nil only for a success.
	Err   error
	Start time.Time
	// Duration is measured on the monotonic clock from the start of the
	// run to its outcome.
	Duration time.Duration
	// Abandoned is true when the handler was still running when the caller
	// received its error.
	Abandoned bool
}

// validate returns why r cannot be counted, or "" when it is sound.
func (r *Record) validate() string {
	switch {
	case r.OpID == "":
		return "empty operation ID"
	case r.Run == 0:
		return "run number is zero"
	case r.Start.IsZero():
		return "start time is zero"
	case r.Duration < 0:
		return "negative duration " + r.Duration.String()
	}
	switch r.Outcome {
	case OutcomeSucceeded:
		if r.Err != nil {
			return "succeeded with an error"
		}
	case OutcomeFailed, OutcomeTimedOut, OutcomeCancelled:
		if r.Err == nil {
			return "outcome " + string(r.Outcome) + " without an error"
		}
	default:
		return "unknown outcome " + `"` + string(r.Outcome) + `"`
	}
	return ""
}

// ring keeps the newest len(buf) records.
type ring struct {
	buf  []Record
	next int
	full bool
}

func newRing(size int) *ring {
	return &ring{buf: make([]Record, size)}
}

func (r *ring) add(rec Record) {
	r.buf[r.next] = rec
	r.next++
	if r.next == len(r.buf) {
		r.next = 0
		r.full = true
	}
}

// records returns a copy of the records, oldest first.
func (r *ring) records() []Record {
	if !r.full {
		return append([]Record(nil), r.buf[:r.next]...)
	}
	out := make([]Record, 0, len(r.buf))
	out = append(out, r.buf[r.next:]...)
	return append(out, r.buf[:r.next]...)
}

// latest returns the newest record of the operation id.
func (r *ring) latest(id string) (Record, bool) {
	n := r.next
	if r.full {
		n = len(r.buf)
	}
	for i := 1; i <= n; i++ {
		rec := r.buf[(r.next-i+len(r.buf))%len(r.buf)]
		if rec.OpID == id {
			return rec, true
		}
	}
	return Record{}, false
}
