package safety

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/raftint"
)

// fakeCluster serves Nodes, Status and Get from maps. A node without data
// is down. Other Cluster methods are not implemented.
type fakeCluster struct {
	cluster.Cluster
	nodes   []string
	data    map[string]map[string]string
	applied map[string]uint64
}

func (f *fakeCluster) Nodes() []string { return f.nodes }

func (f *fakeCluster) Status(id string) (raftint.Status, error) {
	if f.data[id] == nil {
		return raftint.Status{}, fmt.Errorf("%w: %s", cluster.ErrNodeDown, id)
	}
	return raftint.Status{AppliedIndex: f.applied[id]}, nil
}

func (f *fakeCluster) Get(id, key string) (string, bool, error) {
	if f.data[id] == nil {
		return "", false, fmt.Errorf("%w: %s", cluster.ErrNodeDown, id)
	}
	v, ok := f.data[id][key]
	return v, ok, nil
}

func TestCheckDurabilityCases(t *testing.T) {
	writes := []Write{
		{Key: "a", Value: "a1", Index: 5, Acked: true},
		{Key: "a", Value: "a2", Index: 9, Acked: true},
		{Key: "b", Value: "b1", Index: 7, Acked: true},
		{Key: "b", Value: "b-maybe"},
		{Key: "c", Value: "c-maybe"},
	}
	healthy := map[string]string{"a": "a2", "b": "b1"}
	cases := []struct {
		name    string
		node2   map[string]string // node-2's data; nil: down
		applied uint64            // node-2's applied index
		keys    []string          // keys reported for node-2; nil: none
		message string            // part of the message
	}{
		{name: "every write present", node2: healthy, applied: 9},
		{name: "unknown write applied last", node2: map[string]string{"a": "a2", "b": "b-maybe"}, applied: 10},
		{name: "unknown-only key absent", node2: healthy, applied: 9},
		{name: "crashed node skipped", node2: nil},
		{
			name:    "superseded value kept",
			node2:   map[string]string{"a": "a1", "b": "b1"},
			applied: 9,
			keys:    []string{"a"},
			message: `holds the acknowledged "a1" from index 5, missing the later acknowledged "a2" at index 9`,
		},
		{
			name:    "acknowledged key missing",
			node2:   map[string]string{"a": "a2"},
			applied: 9,
			keys:    []string{"b"},
			message: `key b is absent`,
		},
		{
			name:    "value no write produced",
			node2:   map[string]string{"a": "zzz", "b": "b1"},
			applied: 9,
			keys:    []string{"a"},
			message: `holds "zzz", which no acknowledged or unknown-outcome write produced`,
		},
		{
			name:    "lagging node named",
			node2:   map[string]string{"a": "a1"},
			applied: 6,
			keys:    []string{"a", "b"},
			message: "has applied only up to index 6, below index 9",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeCluster{
				nodes:   []string{"node-1", "node-2"},
				data:    map[string]map[string]string{"node-1": healthy, "node-2": tc.node2},
				applied: map[string]uint64{"node-1": 9, "node-2": tc.applied},
			}
			violations := CheckDurability(f, writes)
			if tc.keys == nil {
				if len(violations) != 0 {
					t.Fatalf("violations %v, want none", violations)
				}
				return
			}
			if len(violations) != 1 {
				t.Fatalf("got %d violations %v, want 1", len(violations), violations)
			}
			v := violations[0]
			if v.Check != Durability {
				t.Errorf("check %q, want %q", v.Check, Durability)
			}
			if !slices.Equal(v.Nodes, []string{"node-2"}) {
				t.Errorf("nodes %v, want [node-2]", v.Nodes)
			}
			if !slices.Equal(v.Keys, tc.keys) {
				t.Errorf("keys %v, want %v", v.Keys, tc.keys)
			}
			if !strings.Contains(v.Message, tc.message) {
				t.Errorf("message %q lacks %q", v.Message, tc.message)
			}
		})
	}
}

func TestWritesFromHistory(t *testing.T) {
	ops := []Op{
		{Kind: OpPut, Key: "a", Value: "late", Outcome: OutcomeOK, Output: Output{Index: 12}},
		{Kind: OpPut, Key: "a", Value: "early", Outcome: OutcomeOK, Output: Output{Index: 4}},
		{Kind: OpCAS, Key: "b", Value: "swapped", Outcome: OutcomeOK, Output: Output{OK: true, Index: 8}},
		{Kind: OpCAS, Key: "b", Value: "not-swapped", Outcome: OutcomeOK, Output: Output{OK: false, Index: 9}},
		{Kind: OpPut, Key: "c", Value: "maybe", Outcome: OutcomeUnknown},
		{Kind: OpCAS, Key: "c", Value: "maybe-cas", Outcome: OutcomeUnknown},
		{Kind: OpPut, Key: "d", Value: "failed", Outcome: OutcomeFailed},
		{Kind: OpGet, Key: "a", Outcome: OutcomeOK, Output: Output{Value: "late", Found: true}},
	}
	want := []Write{
		{Key: "a", Value: "early", Index: 4, Acked: true},
		{Key: "b", Value: "swapped", Index: 8, Acked: true},
		{Key: "a", Value: "late", Index: 12, Acked: true},
		{Key: "c", Value: "maybe"},
		{Key: "c", Value: "maybe-cas"},
	}
	if got := Writes(historyOf(ops)); !slices.Equal(got, want) {
		t.Errorf("Writes =\n%v\nwant\n%v", got, want)
	}
}

func TestDurabilityAcrossLeaderRestart(t *testing.T) {
	c := startCluster(t, 1)
	ctx := deadlineContext(t)
	old, err := c.WaitStable(ctx)
	if err != nil {
		t.Fatalf("wait stable: %v", err)
	}

	var writes []Write
	write := func(node, key, value string) {
		t.Helper()
		index, err := c.Put(ctx, node, key, value)
		if err != nil {
			t.Fatalf("put %s on %s: %v", key, node, err)
		}
		writes = append(writes, Write{Key: key, Value: value, Index: index, Acked: true})
	}
	write(old.Leader, "before", "1")
	write(old.Leader, "overwritten", "old")

	if err := c.Crash(old.Leader); err != nil {
		t.Fatalf("crash leader %s: %v", old.Leader, err)
	}
	next, err := c.WaitStable(ctx)
	if err != nil {
		t.Fatalf("no new leader after the crash: %v", err)
	}
	write(next.Leader, "during", "2")
	write(next.Leader, "overwritten", "new")
	if err := c.Restart(ctx, old.Leader); err != nil {
		t.Fatalf("restart %s: %v", old.Leader, err)
	}
	if _, err := c.WaitConverged(ctx, writes[len(writes)-1].Index); err != nil {
		t.Fatalf("restarted node never caught up: %v", err)
	}

	if violations := CheckDurability(c, writes); len(violations) != 0 {
		t.Fatalf("acknowledged writes lost across a leader restart: %v", violations)
	}

	last := writes[len(writes)-1].Index
	cases := []struct {
		name    string
		extra   Write
		message string
	}{
		{
			name:    "acknowledged write never applied",
			extra:   Write{Key: "ghost", Value: "never", Index: last + 1, Acked: true},
			message: "key ghost is absent",
		},
		{
			name:    "later acknowledged write lost",
			extra:   Write{Key: "overwritten", Value: "phantom", Index: last + 1, Acked: true},
			message: `holds the acknowledged "new"`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			violations := CheckDurability(c, append(slices.Clone(writes), tc.extra))
			var nodes []string
			for _, v := range violations {
				nodes = append(nodes, v.Nodes...)
				if !slices.Equal(v.Keys, []string{tc.extra.Key}) {
					t.Errorf("%s: keys %v, want [%s]", v.Nodes, v.Keys, tc.extra.Key)
				}
				if !strings.Contains(v.Message, tc.message) {
					t.Errorf("message %q lacks %q", v.Message, tc.message)
				}
			}
			if !slices.Equal(nodes, c.Nodes()) {
				t.Errorf("violations name nodes %v, want every node %v", nodes, c.Nodes())
			}
		})
	}
}
