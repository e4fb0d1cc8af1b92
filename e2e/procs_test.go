package e2e

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/admin"
	"github.com/faultline-dev/faultline/netchaos"
)

// procTestTimeout bounds the whole process test; the fast profile elects in
// well under a second and memberlist marks a silent node dead within a few.
const procTestTimeout = 60 * time.Second

// TestProcessCluster runs three real node processes: it isolates the
// leader, checks that a new leader appears and that gossip is cut too,
// heals, and then checks that a follower killed with SIGKILL comes back
// with every acknowledged write.
func TestProcessCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three node processes; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), procTestTimeout)
	defer cancel()

	nodes := startProcCluster(t, buildNodeBinary(t), 3)
	leader := waitOneLeader(t, ctx, nodes)
	t.Logf("leader %s", leader)

	// Isolate the leader: every node gets the same table at one version.
	rules := netchaos.Isolate(leader, netchaos.KindPartition)
	installEverywhere(t, ctx, nodes, rules)
	others := without(nodes, leader)
	newLeader := waitOneLeader(t, ctx, others)
	if newLeader == leader {
		t.Fatalf("isolated %s still leads the majority", leader)
	}
	t.Logf("new leader %s", newLeader)
	waitGossipCut(t, ctx, nodes, leader)

	// Heal: raft and the member list both become whole again.
	for _, n := range nodes {
		if _, err := n.client.ClearFaults(ctx); err != nil {
			t.Fatalf("clear faults on %s: %v", n.id, err)
		}
	}
	healedLeader := waitOneLeader(t, ctx, nodes)
	waitAllAlive(t, ctx, nodes)
	t.Logf("healed under leader %s", healedLeader)

	// Write, kill a follower, restart it on its data directory.
	acked, lastIndex := writeKeys(t, ctx, nodes, 50)
	follower := without(nodes, healedLeader)[0]
	follower.kill(t)
	follower.start(t)
	waitApplied(t, ctx, follower, lastIndex)
	for key, value := range acked {
		got, err := follower.client.Get(ctx, key, false)
		if err != nil {
			t.Fatalf("read %s on restarted %s: %v", key, follower.id, err)
		}
		if !got.Found || got.Value != value {
			t.Errorf("restarted %s has %s = %+v, want %q", follower.id, key, got, value)
		}
	}
	waitOneLeader(t, ctx, nodes)
}

// waitOneLeader waits until every node in nodes is ready and reports the
// same leader, which must be one of them, and returns its ID.
func waitOneLeader(t *testing.T, ctx context.Context, nodes []*procNode) string {
	t.Helper()
	var leader string
	waitFor(t, ctx, "one leader among "+ids(nodes), func() (bool, string) {
		var seen []string
		leader = ""
		agreed := true
		for _, n := range nodes {
			ready, err := n.client.Ready(ctx)
			if err != nil {
				seen = append(seen, fmt.Sprintf("%s: %v", n.id, err))
				agreed = false
				continue
			}
			seen = append(seen, fmt.Sprintf("%s: ready=%v leader=%q term=%d", n.id, ready.Ready, ready.LeaderID, ready.Term))
			if !ready.Ready || (leader != "" && ready.LeaderID != leader) {
				agreed = false
			}
			leader = ready.LeaderID
		}
		inGroup := slices.ContainsFunc(nodes, func(n *procNode) bool { return n.id == leader })
		return agreed && inGroup, strings.Join(seen, "; ")
	})
	return leader
}

// installEverywhere installs rules on every node at one version above the
// highest current one, so that the nodes share one table.
func installEverywhere(t *testing.T, ctx context.Context, nodes []*procNode, rules []netchaos.Rule) {
	t.Helper()
	var version uint64
	for _, n := range nodes {
		table, err := n.client.Faults(ctx)
		if err != nil {
			t.Fatalf("read faults of %s: %v", n.id, err)
		}
		version = max(version, table.Version)
	}
	version++
	for _, n := range nodes {
		if _, err := n.client.InstallFaults(ctx, version, rules); err != nil {
			t.Fatalf("install faults on %s: %v", n.id, err)
		}
	}
}

// waitGossipCut waits until the isolated node's member list marks every
// other node down, or every other node marks it down.
func waitGossipCut(t *testing.T, ctx context.Context, nodes []*procNode, isolated string) {
	t.Helper()
	waitFor(t, ctx, "gossip to be cut around "+isolated, func() (bool, string) {
		var seen []string
		isolatedSeesNone, othersLoseIt := true, true
		for _, n := range nodes {
			members, err := n.client.Members(ctx)
			if err != nil {
				return false, fmt.Sprintf("%s: %v", n.id, err)
			}
			seen = append(seen, n.id+": "+describeMembers(members))
			for _, m := range members {
				up := m.State == admin.MemberAlive
				switch {
				case n.id == isolated && m.Name != isolated && up:
					isolatedSeesNone = false
				case n.id != isolated && m.Name == isolated && up:
					othersLoseIt = false
				}
			}
		}
		return isolatedSeesNone || othersLoseIt, strings.Join(seen, "; ")
	})
}

// waitAllAlive waits until every node's member list shows every node alive.
func waitAllAlive(t *testing.T, ctx context.Context, nodes []*procNode) {
	t.Helper()
	waitFor(t, ctx, "every member list to show every node alive", func() (bool, string) {
		var seen []string
		all := true
		for _, n := range nodes {
			members, err := n.client.Members(ctx)
			if err != nil {
				return false, fmt.Sprintf("%s: %v", n.id, err)
			}
			seen = append(seen, n.id+": "+describeMembers(members))
			alive := 0
			for _, m := range members {
				if m.State == admin.MemberAlive {
					alive++
				}
			}
			all = all && alive == len(nodes)
		}
		return all, strings.Join(seen, "; ")
	})
}

// writeKeys writes count keys through the leader, following not-leader
// hints, and returns the acknowledged values and the last write's index.
func writeKeys(t *testing.T, ctx context.Context, nodes []*procNode, count int) (map[string]string, uint64) {
	t.Helper()
	acked := make(map[string]string, count)
	client := nodes[0].client
	var last uint64
	for i := range count {
		key, value := fmt.Sprintf("key-%03d", i), fmt.Sprintf("value-%d", i)
		for attempt := 0; ; attempt++ {
			index, err := client.Put(ctx, key, value)
			var notLeader *admin.NotLeaderError
			if errors.As(err, &notLeader) && notLeader.LeaderHTTP != "" && attempt < 5 {
				client = admin.NewClient(notLeader.LeaderHTTP, "", nil)
				continue
			}
			if err != nil {
				t.Fatalf("write %s: %v", key, err)
			}
			acked[key], last = value, index
			break
		}
	}
	return acked, last
}

// waitApplied waits until n is ready again and has applied index.
func waitApplied(t *testing.T, ctx context.Context, n *procNode, index uint64) {
	t.Helper()
	waitFor(t, ctx, fmt.Sprintf("%s to apply index %d", n.id, index), func() (bool, string) {
		st, err := n.client.Raft(ctx)
		if err != nil {
			return false, err.Error()
		}
		return st.AppliedIndex >= index, fmt.Sprintf("state %s applied %d", st.State, st.AppliedIndex)
	})
}

func without(nodes []*procNode, id string) []*procNode {
	return slices.DeleteFunc(slices.Clone(nodes), func(n *procNode) bool { return n.id == id })
}

func ids(nodes []*procNode) string {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.id
	}
	return strings.Join(names, ",")
}

func describeMembers(members []admin.Member) string {
	parts := make([]string, len(members))
	for i, m := range members {
		parts[i] = m.Name + "=" + m.State
	}
	return strings.Join(parts, ",")
}
