package netchaos

import (
	"errors"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/internal/testwait"
)

func newTestTable(t *testing.T, seed int64) *Table {
	t.Helper()
	cfg := DefaultTableConfig()
	cfg.Seed = seed
	table, err := NewTable(cfg)
	if err != nil {
		t.Fatalf("NewTable: %v", err)
	}
	return table
}

func TestRuleValidate(t *testing.T) {
	cases := []struct {
		name string
		rule Rule
		ok   bool
	}{
		{"partition", Rule{From: "a", To: "b", Kind: KindPartition}, true},
		{"wildcard", Rule{From: Any, To: "b", Kind: KindReject}, true},
		{"missing from", Rule{To: "b", Kind: KindReject}, false},
		{"self link", Rule{From: "a", To: "a", Kind: KindReject}, false},
		{"unknown kind", Rule{From: "a", To: "b", Kind: "sever"}, false},
		{"drop zero", Rule{From: "a", To: "b", Kind: KindDrop}, false},
		{"drop above one", Rule{From: "a", To: "b", Kind: KindDrop, Probability: 1.5}, false},
		{"drop half", Rule{From: "a", To: "b", Kind: KindDrop, Probability: 0.5}, true},
		{"delay zero", Rule{From: "a", To: "b", Kind: KindDelay}, false},
		{"delay negative", Rule{From: "a", To: "b", Kind: KindDelay, Delay: -time.Second}, false},
		{"delay jitter only", Rule{From: "a", To: "b", Kind: KindDelay, Jitter: time.Millisecond}, true},
		{"delay on reject", Rule{From: "a", To: "b", Kind: KindReject, Delay: time.Second}, false},
		{"probability on delay", Rule{From: "a", To: "b", Kind: KindDelay, Delay: 1, Probability: 0.1}, false},
		{"negative ttl", Rule{From: "a", To: "b", Kind: KindReject, TTL: -1}, false},
		{"unknown message", Rule{From: "a", To: "b", Kind: KindReject, Messages: []MessageKind{"ping"}}, false},
		{"vote only", Rule{From: "a", To: "b", Kind: KindReject, Messages: []MessageKind{MsgRequestVote}}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.rule.Validate()
			if tc.ok && err != nil {
				t.Fatalf("Validate: unexpected error %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrInvalidRule) {
				t.Fatalf("Validate: error %v, want ErrInvalidRule", err)
			}
		})
	}
}

func TestTableDecide(t *testing.T) {
	cases := []struct {
		name  string
		rules []Rule
		from  string
		to    string
		kind  MessageKind
		want  Action
	}{
		{"no rules", nil, "a", "b", MsgHeartbeat, ActionPass},
		{"partition", []Rule{Cut("a", "b", KindPartition)}, "a", "b", MsgHeartbeat, ActionHold},
		{"other direction open", []Rule{Cut("a", "b", KindPartition)}, "b", "a", MsgHeartbeat, ActionPass},
		{"isolate outbound", Isolate("a", KindReject), "a", "c", MsgRequestVote, ActionReject},
		{"isolate inbound", Isolate("a", KindReject), "c", "a", MsgRequestVote, ActionReject},
		{"isolate spares others", Isolate("a", KindReject), "b", "c", MsgRequestVote, ActionPass},
		{"partition beats reject", []Rule{Cut("a", "b", KindReject), Cut("a", "b", KindPartition)}, "a", "b", MsgAppendEntries, ActionHold},
		{"reject beats drop", []Rule{{From: "a", To: "b", Kind: KindDrop, Probability: 1}, Cut("a", "b", KindReject)}, "a", "b", MsgAppendEntries, ActionReject},
		{"drop all", []Rule{{From: "a", To: "b", Kind: KindDrop, Probability: 1}}, "a", "b", MsgAppendEntries, ActionDrop},
		{"delay", []Rule{{From: Any, To: Any, Kind: KindDelay, Delay: time.Millisecond}}, "a", "b", MsgGossip, ActionDelay},
		{"message filter hit", []Rule{{From: "a", To: "b", Kind: KindReject, Messages: []MessageKind{MsgPreVote, MsgRequestVote}}}, "a", "b", MsgPreVote, ActionReject},
		{"message filter miss", []Rule{{From: "a", To: "b", Kind: KindReject, Messages: []MessageKind{MsgPreVote}}}, "a", "b", MsgHeartbeat, ActionPass},
		{"split across", Split(KindPartition, []string{"a", "b"}, []string{"c"}), "b", "c", MsgHeartbeat, ActionHold},
		{"split within", Split(KindPartition, []string{"a", "b"}, []string{"c"}), "a", "b", MsgHeartbeat, ActionPass},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			table := newTestTable(t, 1)
			if len(tc.rules) > 0 {
				if _, err := table.Add(tc.rules...); err != nil {
					t.Fatalf("Add: %v", err)
				}
			}
			if got := table.Decide(tc.from, tc.to, tc.kind).Action; got != tc.want {
				t.Fatalf("Decide(%s → %s, %s) = %v, want %v", tc.from, tc.to, tc.kind, got, tc.want)
			}
		})
	}
}

func TestTableVersionAndAtomicAdd(t *testing.T) {
	table := newTestTable(t, 1)
	if v := table.Version(); v != 0 {
		t.Fatalf("new table version = %d, want 0", v)
	}
	added, err := table.Add(Isolate("a", KindPartition)...)
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	if added[0].ID == "" || added[0].ID == added[1].ID {
		t.Fatalf("rule IDs %q and %q are not unique", added[0].ID, added[1].ID)
	}
	if added[0].ExpiresAt.IsZero() {
		t.Fatal("added rule has no expiry time")
	}
	v1 := table.Version()
	if v1 != 1 {
		t.Fatalf("version after one add = %d, want 1", v1)
	}

	_, err = table.Add(Cut("a", "b", KindReject), Rule{From: "a", To: "b", Kind: KindDrop})
	if !errors.Is(err, ErrInvalidRule) {
		t.Fatalf("Add with one invalid rule: error %v, want ErrInvalidRule", err)
	}
	if n := len(table.Rules()); n != 2 {
		t.Fatalf("rules after a rejected add = %d, want 2 (nothing half-applied)", n)
	}
	if table.Version() != v1 {
		t.Fatal("a rejected add changed the version")
	}

	if _, err := table.Replace(v1+7, nil); !errors.Is(err, ErrVersionMismatch) {
		t.Fatalf("Replace with a stale version: error %v, want ErrVersionMismatch", err)
	}
	v2, err := table.Replace(v1, []Rule{Cut("b", "c", KindReject)})
	if err != nil || v2 != v1+1 {
		t.Fatalf("Replace = (%d, %v), want (%d, nil)", v2, err, v1+1)
	}
	table.Clear()
	if len(table.Rules()) != 0 || table.Version() != v2+1 {
		t.Fatalf("after Clear: %d rules at version %d, want 0 at %d", len(table.Rules()), table.Version(), v2+1)
	}
}

func TestTableRuleExpiresAtTTL(t *testing.T) {
	table := newTestTable(t, 1)
	rules, err := table.Add(Rule{From: "a", To: "b", Kind: KindReject, TTL: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	if got := table.Decide("a", "b", MsgHeartbeat).Action; got != ActionReject {
		t.Fatalf("before the TTL: %v, want reject", got)
	}
	waitFor(t, 5*time.Second, "rule to expire", func() bool { return len(table.Rules()) == 0 })
	if time.Now().Before(rules[0].ExpiresAt) {
		t.Fatal("rule disappeared before its expiry time")
	}
	if got := table.Decide("a", "b", MsgHeartbeat).Action; got != ActionPass {
		t.Fatalf("after the TTL: %v, want pass", got)
	}
	if table.Version() != 2 {
		t.Fatalf("version after add and expiry = %d, want 2", table.Version())
	}
}

// dropSequence returns the drop decisions of n messages on a → b.
func dropSequence(t *testing.T, seed int64, p float64, n int) []bool {
	t.Helper()
	table := newTestTable(t, seed)
	if _, err := table.Add(Rule{From: "a", To: "b", Kind: KindDrop, Probability: p}); err != nil {
		t.Fatalf("Add: %v", err)
	}
	out := make([]bool, n)
	for i := range out {
		out[i] = table.Decide("a", "b", MsgAppendEntries).Action == ActionDrop
	}
	return out
}

func TestDropFractionSeeded(t *testing.T) {
	const n = 10000
	// With n = 10000 the standard deviation of the dropped fraction is at
	// most 0.005; the bound is four of them.
	const bound = 0.02
	for _, p := range []float64{0.05, 0.2, 0.5, 0.9} {
		first := dropSequence(t, 42, p, n)
		dropped := 0
		for _, d := range first {
			if d {
				dropped++
			}
		}
		if frac := float64(dropped) / n; frac < p-bound || frac > p+bound {
			t.Errorf("p=%v: dropped fraction %.4f is outside %v ± %v", p, frac, p, bound)
		}
		again := dropSequence(t, 42, p, n)
		for i := range first {
			if first[i] != again[i] {
				t.Fatalf("p=%v: seed 42 gave a different decision at message %d", p, i)
			}
		}
		other := dropSequence(t, 43, p, n)
		same := true
		for i := range first {
			same = same && first[i] == other[i]
		}
		if same {
			t.Errorf("p=%v: seeds 42 and 43 gave the same %d decisions", p, n)
		}
	}
}

func TestDelayKeepsOrderOnLink(t *testing.T) {
	table := newTestTable(t, 9)
	const delay, jitter = 20 * time.Millisecond, 30 * time.Millisecond
	if _, err := table.Add(Rule{From: "a", To: "b", Kind: KindDelay, Delay: delay, Jitter: jitter}); err != nil {
		t.Fatalf("Add: %v", err)
	}
	var last time.Time
	for i := range 200 {
		before := time.Now()
		d := table.Decide("a", "b", MsgAppendEntries)
		if d.Action != ActionDelay {
			t.Fatalf("message %d: %v, want delay", i, d.Action)
		}
		if d.Release.Sub(before) < delay {
			t.Fatalf("message %d released %v after it was sent, want at least %v", i, d.Release.Sub(before), delay)
		}
		if d.Release.Before(last) {
			t.Fatalf("message %d released before message %d", i, i-1)
		}
		last = d.Release
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	testwait.Until(t, limit, 2*time.Millisecond, what, cond)
}
