// Package testwait polls a condition in tests, for state that no event
// announces, such as an index catching up. Only tests import it.
package testwait

import (
	"testing"
	"time"
)

// Until checks cond every interval until it holds, and fails the test when
// limit passes first. what names the awaited state in the failure message.
func Until(t testing.TB, limit, interval time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()

	for !cond() {
		select {
		case <-ticker.C:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
	}
}
