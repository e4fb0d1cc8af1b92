package daemon

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// statistics holds the counters, the latency histogram and the history. The
// counters are exact and only grow; none of them is derived from the history.
type statistics struct {
	mu        sync.Mutex
	executed  uint64
	succeeded uint64
	failed    uint64
	timedOut  uint64
	cancelled uint64
	panics    uint64
	rejected  uint64
	abandoned uint64
	corrupt   uint64
	latency   histogram
	history   *ring
}

// Metrics is a snapshot of the daemon's counters and run durations.
//
// Executed = Succeeded + Failed + TimedOut + Cancelled. Runs whose record was
// corrupt are counted only in CorruptRecords, and calls rejected before a run
// started only in Rejected. Counters are exact, taken together under one lock,
// and never decrease.
type Metrics struct {
	Executed  uint64
	Succeeded uint64
	// Failed includes Panics.
	Failed    uint64
	TimedOut  uint64
	Cancelled uint64
	Panics    uint64
	// Rejected counts calls of Execute that never started a run: unknown
	// operation, not running, not the leader, no slot before ctx ended.
	Rejected uint64
	// Abandoned counts every handler ever abandoned; Health.Abandoned
	// counts those still running.
	Abandoned      uint64
	CorruptRecords uint64
	// DroppedEvents counts events not delivered to full subscriber buffers,
	// over all subscribers.
	DroppedEvents uint64

	// SuccessRate is Succeeded / Executed, in [0, 1]; zero before any run.
	SuccessRate float64

	// Mean and Max are exact. The quantiles come from a fixed-memory
	// log-linear histogram of every counted run and are within
	// HistogramRelativeError (1/64) of a recorded duration at that rank.
	Mean time.Duration
	P50  time.Duration
	P95  time.Duration
	P99  time.Duration
	Max  time.Duration
}

func (s *statistics) reject() {
	s.mu.Lock()
	s.rejected++
	s.mu.Unlock()
}

func (s *statistics) abandon() {
	s.mu.Lock()
	s.abandoned++
	s.mu.Unlock()
}

// add counts a valid record and keeps it in the history.
func (s *statistics) add(rec Record, panicked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.executed++
	switch rec.Outcome {
	case OutcomeSucceeded:
		s.succeeded++
	case OutcomeFailed:
		s.failed++
	case OutcomeTimedOut:
		s.timedOut++
	case OutcomeCancelled:
		s.cancelled++
	}
	if panicked {
		s.panics++
	}
	s.latency.record(rec.Duration)
	s.history.add(rec)
}

func (s *statistics) addCorrupt() {
	s.mu.Lock()
	s.corrupt++
	s.mu.Unlock()
}

func (s *statistics) completed() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.executed
}

// commit runs the record-result failpoint, validates rec and counts it. It
// returns why rec is corrupt, or "" when rec was counted.
func (d *Daemon) commit(rec *Record, panicked bool) string {
	reason := d.fp.fireRecord(d.stopCh, rec)
	if reason == "" {
		reason = rec.validate()
	}
	if reason != "" {
		d.stats.addCorrupt()
		d.log.Error("result record corrupt: kept out of metrics and history",
			"op_id", rec.OpID, "run", rec.Run, "reason", reason)
		return reason
	}

	d.stats.add(*rec, panicked)
	d.logOutcome(rec)
	return ""
}

// logOutcome logs a counted run. Failures are logged at debug level only,
// because Execute returns them and chaos runs produce them by the thousand.
// Timeouts are logged at info level, since they point at slow handlers.
func (d *Daemon) logOutcome(rec *Record) {
	level := slog.LevelDebug
	if rec.Outcome == OutcomeTimedOut {
		level = slog.LevelInfo
	}
	// Checked first because building the arguments costs allocations on
	// the hot path even when the record is dropped.
	if !d.log.Enabled(context.Background(), level) {
		return
	}
	d.log.Log(context.Background(), level, "operation "+string(rec.Outcome), "op_id", rec.OpID, "run", rec.Run,
		"duration", rec.Duration, "abandoned", rec.Abandoned, "error", rec.Err)
}

// Metrics returns a snapshot of the counters and duration quantiles.
func (d *Daemon) Metrics() Metrics {
	s := &d.stats
	s.mu.Lock()
	m := Metrics{
		Executed:       s.executed,
		Succeeded:      s.succeeded,
		Failed:         s.failed,
		TimedOut:       s.timedOut,
		Cancelled:      s.cancelled,
		Panics:         s.panics,
		Rejected:       s.rejected,
		Abandoned:      s.abandoned,
		CorruptRecords: s.corrupt,
		Mean:           s.latency.mean(),
		P50:            s.latency.quantile(0.50),
		P95:            s.latency.quantile(0.95),
		P99:            s.latency.quantile(0.99),
		Max:            time.Duration(s.latency.max),
	}
	s.mu.Unlock()

	m.DroppedEvents = d.subs.dropped.Load()
	if m.Executed > 0 {
		m.SuccessRate = float64(m.Succeeded) / float64(m.Executed)
	}
	return m
}

// History returns the newest Config.HistorySize result records, oldest
// first.
func (d *Daemon) History() []Record {
	d.stats.mu.Lock()
	defer d.stats.mu.Unlock()
	return d.stats.history.records()
}

// Result returns the newest record of the operation id still in the history.
func (d *Daemon) Result(id string) (Record, bool) {
	d.stats.mu.Lock()
	defer d.stats.mu.Unlock()
	return d.stats.history.latest(id)
}
