package daemon

import "time"

// Health is a snapshot of the daemon's state.
type Health struct {
	NodeID   string
	Name     string
	Running  bool
	IsLeader bool
	// LeaderID is the known leader's node ID, empty while none is known.
	LeaderID string
	// Term is the newest raft term the daemon has heard of.
	Term uint64
	// Uptime is the time since Start on the monotonic clock, frozen at
	// Stop; zero before Start.
	Uptime time.Duration
	// Active is the number of runs in progress.
	Active int
	// Waiting is the number of Execute calls waiting for a slot.
	Waiting int
	// Scheduled is the number of scheduled operations.
	Scheduled int
	// Queued is the number of scheduled operations with no run in progress.
	Queued int
	// Completed is the number of runs counted in Metrics.Executed.
	Completed   uint64
	Concurrency int
	// Abandoned is the number of abandoned handlers still running.
	Abandoned int
}

// Health returns the daemon's state.
func (d *Daemon) Health() Health {
	d.mu.Lock()
	h := Health{
		NodeID:      d.cfg.NodeID,
		Name:        d.cfg.Name,
		Running:     d.state == lifecycleRunning,
		IsLeader:    d.leadership.isLeader(d.cfg.NodeID),
		LeaderID:    d.leadership.leaderID,
		Term:        d.leadership.term,
		Uptime:      d.uptime(),
		Active:      len(d.active),
		Waiting:     d.waiting,
		Scheduled:   len(d.ops),
		Queued:      len(d.ops) - d.runningOps,
		Concurrency: d.cfg.Concurrency,
		Abandoned:   len(d.abandoned),
	}
	d.mu.Unlock()

	h.Completed = d.stats.completed()
	return h
}

// uptime returns the time since Start. The caller holds d.mu.
func (d *Daemon) uptime() time.Duration {
	switch {
	case d.startedAt.IsZero():
		return 0
	case d.stoppedAt.IsZero():
		return time.Since(d.startedAt)
	default:
		return d.stoppedAt.Sub(d.startedAt)
	}
}
