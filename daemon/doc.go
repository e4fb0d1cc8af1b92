// Package daemon is the operation executor of one faultline node: it
// schedules operations, executes them under a concurrency limit and
// timeouts, and reports health, metrics, history and events.
//
// An Operation stays scheduled until Unschedule, so Execute may run it any
// number of times, one run after another or several at once. Each run gets
// its own run number and result Record. Schedule
// rejects invalid operations with a *ValidationError that names the field,
// and rejects new operations with ErrQueueFull once Config.MaxQueued are
// scheduled. The lifecycle is New, Start, Stop; a stopped daemon does not
// start again.
//
// Execute waits for one of Config.Concurrency slots, honouring its context,
// and then runs the handler on a goroutine of its own. The handler's context
// ends at the operation's timeout (cause ErrTimeout), when the caller's
// context ends, when Stop gives up waiting, or, for a leader-scoped run, when
// this node stops leading. Execute returns as soon as that context ends,
// whatever the handler does: a handler that does not return is abandoned,
// gives its slot back, and is counted in Health.Abandoned until it returns.
// Config.MaxAbandoned bounds how many may pile up. A panic becomes a
// *PanicError with the panic value and stack; a handler's own errors reach
// the caller unchanged. Stop rejects new work, waits for runs and abandoned
// handlers until its context ends, then cancels what still runs and returns
// those operation IDs. Every goroutine the daemon starts (handlers, callback
// subscribers, leadership followers) is counted, and Stop waits for them.
//
// Metrics are exact counters, kept apart from the history and never
// derived from it, so they neither stop counting nor lose runs when the
// history wraps. Run durations go into a fixed-memory log-linear histogram
// whose quantiles are within HistogramRelativeError (1/64) of a recorded
// value; the mean and maximum are exact. The history keeps the newest
// Config.HistorySize records. Each record is validated before it is
// counted: a corrupt one (see FailpointRecordResult) is counted only in
// Metrics.CorruptRecords and reported to the caller as a
// *CorruptRecordError.
//
// Subscribers receive events through bounded channels. The daemon never
// waits for a subscriber: when a buffer is full the event is dropped and
// counted for that subscription. Callbacks registered with SubscribeFunc run
// on their own goroutine, and a panic in one is recovered and counted.
//
// Leadership comes from raft through LeadershipSink (SetLeadership and
// LeadershipLost), which *Daemon implements, or from a LeadershipSource that
// Follow reads. A notification of an older term than the current one is
// ignored, so conflicting announcements resolve to the newest term; within
// one term the first leader announced stands, as raft elects at most one
// leader per term, but a leader learnt after "no leader" is accepted. The
// daemon leads when the leader ID equals Config.NodeID. Leader-scoped
// operations fail with ErrNotLeader on a follower and ErrNoLeader while no
// leader is known.
//
// For chaos scenarios the package offers fault-injecting handlers (FailSync,
// FailAsync, FailRandomly, FailWhen, PanicWithValue, Hang,
// HangIgnoringContext, Slow, Jittery, Degrading), resource pressure
// (MemoryPressure, Flood, ConcurrencyPressure) and named failpoints in the
// execution path (FailpointBeforeExecute, FailpointAfterExecute,
// FailpointRecordResult) that return an error, panic, sleep or corrupt the
// result record. Random choices come from a *rand.Rand that the caller seeds.
package daemon
