package bench

import "errors"

// Errors of the benchmark driver. Callers test them with errors.Is; the
// wrapping error names the value or the step that failed.
var (
	// ErrInvalidConfig reports a Config that fails validation.
	ErrInvalidConfig = errors.New("bench: invalid config")

	// ErrNoLeader reports a cluster that elected no stable leader in time.
	ErrNoLeader = errors.New("bench: no stable leader")

	// ErrNotRecovered reports a repetition whose cluster committed no write
	// through a new leader within the recovery limit.
	ErrNotRecovered = errors.New("bench: cluster did not recover")

	// ErrToxiproxy reports a toxiproxy-server that would not start or
	// rejected a request.
	ErrToxiproxy = errors.New("bench: toxiproxy")

	// ErrDaemonBenchmarks reports a failed run of the daemon's Go
	// benchmarks or output that could not be parsed.
	ErrDaemonBenchmarks = errors.New("bench: daemon benchmarks")
)
