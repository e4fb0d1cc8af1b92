package daemon

import (
	"context"
	"strconv"
	"strings"
	"sync"
)

// LargeMetadata returns operation metadata holding a string of kib KiB under
// the key "payload", to put memory pressure on the daemon.
func LargeMetadata(kib int) map[string]any {
	return map[string]any{"payload": strings.Repeat("x", kib*1024)}
}

// MemoryPressure schedules n operations with IDs prefix-0 … prefix-(n-1),
// each with kib KiB of metadata and handler h. It returns the IDs it
// scheduled and stops at the first error.
func MemoryPressure(d *Daemon, prefix string, n, kib int, h Handler) ([]string, error) {
	return scheduleN(d, prefix, n, h, func() map[string]any { return LargeMetadata(kib) })
}

// Flood schedules n operations with IDs prefix-0 … prefix-(n-1) and handler
// h. It returns the IDs it scheduled and stops at the first error, which
// wraps ErrQueueFull when the daemon's queue is too small.
func Flood(d *Daemon, prefix string, n int, h Handler) ([]string, error) {
	return scheduleN(d, prefix, n, h, nil)
}

func scheduleN(d *Daemon, prefix string, n int, h Handler, metadata func() map[string]any) ([]string, error) {
	ids := make([]string, 0, n)
	for i := range n {
		op := Operation{ID: prefix + "-" + strconv.Itoa(i), Name: prefix, Handler: h}
		if metadata != nil {
			op.Metadata = metadata()
		}
		if err := d.Schedule(op); err != nil {
			return ids, err
		}
		ids = append(ids, op.ID)
	}
	return ids, nil
}

// ExecResult is the result of one call in ExecuteConcurrently.
type ExecResult struct {
	ID    string
	Value any
	Err   error
}

// ExecuteConcurrently calls Execute for every ID at once, each on its own
// goroutine, and returns the results in the order of ids once every call
// has returned.
func ExecuteConcurrently(ctx context.Context, d *Daemon, ids []string) []ExecResult {
	results := make([]ExecResult, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			value, err := d.Execute(ctx, id)
			results[i] = ExecResult{ID: id, Value: value, Err: err}
		})
	}
	wg.Wait()
	return results
}

// ConcurrencyPressure schedules n operations like Flood and executes them
// all at once with ExecuteConcurrently.
func ConcurrencyPressure(ctx context.Context, d *Daemon, prefix string, n int, h Handler) ([]ExecResult, error) {
	ids, err := Flood(d, prefix, n, h)
	if err != nil {
		return nil, err
	}
	return ExecuteConcurrently(ctx, d, ids), nil
}
