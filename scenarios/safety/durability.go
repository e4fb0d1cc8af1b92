package safety

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/faultline-dev/faultline/cluster"
)

// Write is a write that the cluster may hold.
type Write struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	// Index is the raft log index of an acknowledged write's entry.
	Index uint64 `json:"index,omitempty"`
	// Acked is true for a write acknowledged to its client. A write with an
	// unknown outcome has Acked false and no Index: the cluster may hold it
	// or not.
	Acked bool `json:"acked"`
}

// Writes returns every write in h that may have taken effect: first the
// puts and successful cas operations with an ok outcome, by log index, then
// the puts and cas operations with an unknown outcome, in call order.
func Writes(h *History) []Write {
	var acked, unknown []Write
	for _, op := range h.Ops() {
		if op.Kind != OpPut && op.Kind != OpCAS {
			continue
		}
		switch {
		case op.Outcome == OutcomeOK && (op.Kind == OpPut || op.Output.OK):
			acked = append(acked, Write{Key: op.Key, Value: op.Value, Index: op.Output.Index, Acked: true})
		case op.Outcome == OutcomeUnknown:
			unknown = append(unknown, Write{Key: op.Key, Value: op.Value})
		}
	}
	slices.SortStableFunc(acked, func(a, b Write) int { return cmp.Compare(a.Index, b.Index) })
	return append(acked, unknown...)
}

// keyExpectation describes the values a node may hold for one key.
type keyExpectation struct {
	last    Write               // acknowledged write with the highest index
	maybe   map[string]struct{} // values of writes with an unknown outcome
	earlier map[string]uint64   // earlier acknowledged values and their indexes
}

// expectations returns, for every key with an acknowledged write, what the
// nodes must hold.
func expectations(writes []Write) map[string]*keyExpectation {
	byKey := make(map[string]*keyExpectation)
	get := func(key string) *keyExpectation {
		e := byKey[key]
		if e == nil {
			e = &keyExpectation{maybe: make(map[string]struct{}), earlier: make(map[string]uint64)}
			byKey[key] = e
		}
		return e
	}
	for _, w := range writes {
		e := get(w.Key)
		switch {
		case !w.Acked:
			e.maybe[w.Value] = struct{}{}
		case !e.last.Acked || w.Index > e.last.Index:
			if e.last.Acked {
				e.earlier[e.last.Value] = e.last.Index
			}
			e.last = w
		default:
			e.earlier[w.Value] = w.Index
		}
	}
	for key, e := range byKey {
		if !e.last.Acked {
			delete(byKey, key)
		}
	}
	return byKey
}

// CheckDurability checks that every running node holds, for each key, the
// acknowledged write with the highest log index among writes, which
// supersedes earlier acknowledged writes to the key. A node may instead
// hold the value of a write with an unknown outcome, because that write
// may have been applied after the last acknowledged one. Crashed nodes are
// skipped.
//
// Call it once the cluster has healed and every running node has applied
// the highest index in writes, for example after CheckConvergence or
// Cluster.WaitConverged. A node that lags is reported, and the message gives
// its applied index.
func CheckDurability(c cluster.Cluster, writes []Write) []Violation {
	expect := expectations(writes)
	keys := slices.Sorted(maps.Keys(expect))
	var violations []Violation
	for _, id := range c.Nodes() {
		status, err := c.Status(id)
		if errors.Is(err, cluster.ErrNodeDown) {
			continue
		}
		if err != nil {
			violations = append(violations, Violation{Check: Durability, Nodes: []string{id},
				Message: fmt.Sprintf("status of %s failed, so its writes were not checked: %v", id, err)})
			continue
		}
		problems, lostKeys := checkNodeWrites(c, id, keys, expect)
		if len(problems) == 0 {
			continue
		}
		msg := fmt.Sprintf("%s lost %d of %d acknowledged keys: %s", id, len(lostKeys), len(keys), summarizeProblems(problems))
		if highest := highestIndex(expect, lostKeys); status.AppliedIndex < highest {
			msg += fmt.Sprintf(" (%s has applied only up to index %d, below index %d, so it may still be catching up)",
				id, status.AppliedIndex, highest)
		}
		violations = append(violations, Violation{Check: Durability, Message: msg, Keys: lostKeys, Nodes: []string{id}})
	}
	return violations
}

func highestIndex(expect map[string]*keyExpectation, keys []string) uint64 {
	var highest uint64
	for _, key := range keys {
		highest = max(highest, expect[key].last.Index)
	}
	return highest
}

// maxProblemsShown bounds the per-key details in one violation message. The
// Keys field still lists every key.
const maxProblemsShown = 5

func summarizeProblems(problems []string) string {
	shown := problems[:min(len(problems), maxProblemsShown)]
	text := strings.Join(shown, "; ")
	if len(problems) > len(shown) {
		text += fmt.Sprintf("; and %d more", len(problems)-len(shown))
	}
	return text
}

// checkNodeWrites compares node id's value of each key with expect and
// returns a description of each mismatch and the keys concerned.
func checkNodeWrites(c cluster.Cluster, id string, keys []string, expect map[string]*keyExpectation) (problems, lostKeys []string) {
	for _, key := range keys {
		e := expect[key]
		value, found, err := c.Get(id, key)
		if err != nil {
			problems = append(problems, fmt.Sprintf("read of key %s failed: %v", key, err))
			lostKeys = append(lostKeys, key)
			continue
		}
		if problem := describeMismatch(key, value, found, e); problem != "" {
			problems = append(problems, problem)
			lostKeys = append(lostKeys, key)
		}
	}
	return problems, lostKeys
}

// describeMismatch returns why value is not an acceptable value of key, or
// "" when it is.
func describeMismatch(key, value string, found bool, e *keyExpectation) string {
	last := fmt.Sprintf("acknowledged %q at index %d", e.last.Value, e.last.Index)
	if !found {
		return fmt.Sprintf("key %s is absent, missing the %s", key, last)
	}
	if value == e.last.Value {
		return ""
	}
	if _, ok := e.maybe[value]; ok {
		return ""
	}
	if index, ok := e.earlier[value]; ok {
		return fmt.Sprintf("key %s holds the acknowledged %q from index %d, missing the later %s", key, value, index, last)
	}
	return fmt.Sprintf("key %s holds %q, which no acknowledged or unknown-outcome write produced, in place of the %s", key, value, last)
}
