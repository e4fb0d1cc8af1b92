// Package testlog routes slog output into a test's log, so that logs show
// only when a test fails or runs with -v. Only tests import it.
package testlog

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// writer sends each log line to t.Log until the test ends. Goroutines that
// outlive the test, such as raft's, may still log, and testing panics on a
// Log after the end.
type writer struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

// New returns a logger into t.Log at level. Create it before the components
// of a test, so that its cleanup runs after theirs.
func New(t testing.TB, level slog.Level) *slog.Logger {
	t.Helper()
	w := &writer{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
