package safety

import (
	"slices"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/raftint"
)

func TestCompareHashes(t *testing.T) {
	cases := []struct {
		name   string
		hashes map[string]string
		leader string
		nodes  [][]string // nodes of each violation, in order
	}{
		{
			name:   "all equal",
			hashes: map[string]string{"node-1": "aa", "node-2": "aa", "node-3": "aa"},
			leader: "node-1",
		},
		{
			name:   "one follower differs",
			hashes: map[string]string{"node-1": "aa", "node-2": "bb", "node-3": "aa"},
			leader: "node-1",
			nodes:  [][]string{{"node-2"}},
		},
		{
			name:   "leader in the minority",
			hashes: map[string]string{"node-1": "bb", "node-2": "aa", "node-3": "aa"},
			leader: "node-1",
			nodes:  [][]string{{"node-1"}},
		},
		{
			name:   "tie broken by the leader",
			hashes: map[string]string{"node-1": "aa", "node-2": "aa", "node-3": "bb", "node-4": "bb"},
			leader: "node-3",
			nodes:  [][]string{{"node-1", "node-2"}},
		},
		{
			name:   "every node differs",
			hashes: map[string]string{"node-1": "cc", "node-2": "aa", "node-3": "bb"},
			leader: "node-1",
			nodes:  [][]string{{"node-2"}, {"node-3"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			violations := compareHashes(tc.hashes, tc.leader, 42)
			if len(violations) != len(tc.nodes) {
				t.Fatalf("got %d violations %v, want %d", len(violations), violations, len(tc.nodes))
			}
			for i, v := range violations {
				if v.Check != Convergence {
					t.Errorf("violation %d check %q, want %q", i, v.Check, Convergence)
				}
				if !slices.Equal(v.Nodes, tc.nodes[i]) {
					t.Errorf("violation %d nodes %v, want %v", i, v.Nodes, tc.nodes[i])
				}
				if !strings.Contains(v.Message, "applied index 42") {
					t.Errorf("message %q does not name the applied index", v.Message)
				}
			}
		})
	}
}

func TestCheckConvergenceHealthy(t *testing.T) {
	c := startCluster(t, 2)
	ctx := deadlineContext(t)
	stable, err := c.WaitStable(ctx)
	if err != nil {
		t.Fatalf("wait stable: %v", err)
	}
	for i := range 5 {
		if _, err := c.Put(ctx, stable.Leader, "key", string(rune('a'+i))); err != nil {
			t.Fatalf("put: %v", err)
		}
	}

	result, violations := CheckConvergence(ctx, c)
	if len(violations) != 0 {
		t.Fatalf("violations on a healthy cluster: %v", violations)
	}
	if !result.Converged {
		t.Error("result not converged")
	}
	if len(result.Hashes) != 3 {
		t.Errorf("compared %d nodes, want 3", len(result.Hashes))
	}
	if result.Leader != stable.Leader {
		t.Errorf("leader %q, want %q", result.Leader, stable.Leader)
	}
}

func TestCheckConvergenceSkippedEntry(t *testing.T) {
	c := startCluster(t, 3)
	ctx := deadlineContext(t)
	stable, err := c.WaitStable(ctx)
	if err != nil {
		t.Fatalf("wait stable: %v", err)
	}
	faulty := c.Nodes()[0]
	if faulty == stable.Leader {
		faulty = c.Nodes()[1]
	}
	node, err := c.Node(faulty)
	if err != nil {
		t.Fatalf("node %s: %v", faulty, err)
	}
	node.FSM().SetApplyHook(func(_ uint64, cmd raftint.Command) bool { return cmd.Key == "skipped" })

	var writes []Write
	for _, key := range []string{"kept", "skipped", "after"} {
		index, err := c.Put(ctx, stable.Leader, key, "v")
		if err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
		writes = append(writes, Write{Key: key, Value: "v", Index: index, Acked: true})
	}

	result, violations := CheckConvergence(ctx, c)
	if result.Converged {
		t.Error("result converged although a node skipped an entry")
	}
	if len(violations) != 1 {
		t.Fatalf("got %d violations %v, want 1", len(violations), violations)
	}
	if !slices.Equal(violations[0].Nodes, []string{faulty}) {
		t.Errorf("violation names %v, want [%s]", violations[0].Nodes, faulty)
	}
	if result.Index < writes[len(writes)-1].Index {
		t.Errorf("hashes compared at index %d, before the last write at %d", result.Index, writes[len(writes)-1].Index)
	}

	durability := CheckDurability(c, writes)
	if len(durability) != 1 {
		t.Fatalf("got %d durability violations %v, want 1", len(durability), durability)
	}
	if !slices.Equal(durability[0].Nodes, []string{faulty}) || !slices.Equal(durability[0].Keys, []string{"skipped"}) {
		t.Errorf("durability violation names nodes %v and keys %v, want [%s] and [skipped]",
			durability[0].Nodes, durability[0].Keys, faulty)
	}
}
