package netchaos

import (
	"fmt"
	"time"
)

// holdUntil keeps a message that a partition rule holds until no partition
// rule matches it any more or the deadline passes (never, when zero), and
// then fails it: a held message is never delivered late. timeout names the
// deadline in the error, such as "the dial timeout".
func holdUntil(table *Table, d Decision, from, to string, kind MessageKind, deadline time.Time, timeout string, cancel <-chan struct{}) error {
	for {
		wake := d.wake
		if !deadline.IsZero() && deadline.Before(wake) {
			wake = deadline
		}
		timer := time.NewTimer(time.Until(wake))
		select {
		case <-d.changed:
		case <-timer.C:
		case <-cancel:
			timer.Stop()
			return ErrClosed
		}
		timer.Stop()
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return fmt.Errorf("%w: %s %s → %s held by rule %s until %s", ErrPartitioned, kind, from, to, d.RuleID, timeout)
		}
		next, held := table.stillHeld(from, to, kind)
		if !held {
			return fmt.Errorf("%w: %s %s → %s held by rule %s until it was removed", ErrPartitioned, kind, from, to, d.RuleID)
		}
		d = next
	}
}
