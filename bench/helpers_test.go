package bench

import (
	"log/slog"
	"testing"

	"github.com/faultline-dev/faultline/internal/testlog"
)

// testLogger returns a logger into t.Log, so logs show only when a test
// fails or runs with -v.
func testLogger(t testing.TB) *slog.Logger {
	t.Helper()
	return testlog.New(t, slog.LevelInfo)
}
