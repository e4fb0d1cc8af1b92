package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/faultline-dev/faultline/admin"
	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/partition/partitiontest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeNodes starts size fake nodes named node-1..node-N, node-2 the leader.
func fakeNodes(t *testing.T, size int, cfg partitiontest.Config) []*partitiontest.Node {
	t.Helper()
	var nodes []*partitiontest.Node
	for i := range size {
		c := cfg
		c.ID = fmt.Sprintf("node-%d", i+1)
		n := partitiontest.NewNode(c)
		n.SetRaft("Follower", 3, "node-2")
		nodes = append(nodes, n)
		t.Cleanup(n.Close)
	}
	nodes[1].SetRaft("Leader", 3, "node-2")
	return nodes
}

func nodesFlag(nodes []*partitiontest.Node) string {
	parts := make([]string, len(nodes))
	for i, n := range nodes {
		parts[i] = fmt.Sprintf("node-%d=%s", i+1, n.URL())
	}
	return "--nodes=" + strings.Join(parts, ",")
}

type runResult struct {
	code           int
	stdout, stderr string
}

func runCommand(t *testing.T, env map[string]string, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, func(name string) string { return env[name] }, &stdout, &stderr)
	t.Logf("partition %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	return runResult{code, stdout.String(), stderr.String()}
}

func requireRules(t *testing.T, nodes []*partitiontest.Node, want int) uint64 {
	t.Helper()
	version := nodes[0].Table().Version()
	for i, n := range nodes {
		if got := len(n.Table().Rules()); got != want {
			t.Errorf("node-%d has %d rules, want %d", i+1, got, want)
		}
		if v := n.Table().Version(); v != version {
			t.Errorf("node-%d at version %d, node-1 at %d", i+1, v, version)
		}
	}
	return version
}

func TestRunIsolateThenHeal(t *testing.T) {
	nodes := fakeNodes(t, 3, partitiontest.Config{})

	res := runCommand(t, nil, nodesFlag(nodes), "--isolate", "node-1", "--duration", "30s")
	if res.code != exitOK {
		t.Fatalf("isolate exit %d, want 0", res.code)
	}
	requireRules(t, nodes, 2)
	for i := range nodes {
		if line := fmt.Sprintf("node-%d  ok", i+1); !strings.Contains(res.stdout, line) {
			t.Errorf("output lacks %q", line)
		}
	}
	if rule := nodes[2].Table().Rules()[0]; rule.TTL != 30*time.Second {
		t.Errorf("rule ttl %v, want 30s", rule.TTL)
	}

	res = runCommand(t, nil, nodesFlag(nodes), "--heal")
	if res.code != exitOK {
		t.Fatalf("heal exit %d, want 0", res.code)
	}
	for i, n := range nodes {
		if rules := n.Table().Rules(); len(rules) != 0 {
			t.Errorf("node-%d keeps %d rules after heal", i+1, len(rules))
		}
	}
	if !strings.Contains(res.stdout, "node-3  healed") {
		t.Errorf("heal output lacks node-3")
	}
}

func TestRunIsolateLeader(t *testing.T) {
	nodes := fakeNodes(t, 3, partitiontest.Config{})
	res := runCommand(t, nil, nodesFlag(nodes), "--isolate", "leader")
	if res.code != exitOK {
		t.Fatalf("exit %d, want 0", res.code)
	}
	rules := nodes[0].Table().Rules()
	if len(rules) != 2 || rules[0].From != "node-2" || rules[1].To != "node-2" {
		t.Errorf("rules %+v, want the isolation of node-2, the leader", rules)
	}
	if !strings.Contains(res.stdout, "leader is node-2") {
		t.Errorf("output does not name the leader")
	}
}

func TestRunBareURLsAndCluster(t *testing.T) {
	nodes := fakeNodes(t, 3, partitiontest.Config{})
	members := make([]admin.Member, len(nodes))
	for i, n := range nodes {
		members[i] = admin.Member{Name: fmt.Sprintf("node-%d", i+1), HTTPAddr: strings.TrimPrefix(n.URL(), "http://"), State: admin.MemberAlive}
	}
	nodes[0].SetMembers(members)

	bare := "--nodes=" + nodes[2].URL() + "," + nodes[0].URL() + "," + nodes[1].URL()
	if res := runCommand(t, nil, bare, "--split", "node-1/node-2,node-3"); res.code != exitOK {
		t.Fatalf("split over bare URLs: exit %d, want 0", res.code)
	}
	requireRules(t, nodes, 4)

	if res := runCommand(t, nil, "--cluster", nodes[0].URL(), "--one-way", "node-3->node-1"); res.code != exitOK {
		t.Fatalf("one-way over --cluster: exit %d, want 0", res.code)
	}
	requireRules(t, nodes, 1)
}

func TestRunUnknownNodeIsUsage(t *testing.T) {
	nodes := fakeNodes(t, 3, partitiontest.Config{})
	res := runCommand(t, nil, nodesFlag(nodes), "--isolate", "node-7")
	if res.code != exitUsage {
		t.Fatalf("exit %d, want %d", res.code, exitUsage)
	}
	if !strings.Contains(res.stderr, "node-7") {
		t.Errorf("stderr does not name node-7")
	}
	requireRules(t, nodes, 0)
}

func TestRunUnreachableChangesNothing(t *testing.T) {
	nodes := fakeNodes(t, 3, partitiontest.Config{})
	args := []string{nodesFlag(nodes), "--isolate", "node-1"}
	nodes[2].Close()

	res := runCommand(t, nil, args...)
	if res.code != exitFailed {
		t.Fatalf("exit %d, want %d", res.code, exitFailed)
	}
	if !strings.Contains(res.stderr, "node-3") || !strings.Contains(res.stderr, "Nothing was changed") {
		t.Errorf("stderr does not name node-3 and say nothing changed")
	}
	for i := range 2 {
		if puts, _ := nodes[i].Writes(); puts != 0 {
			t.Errorf("node-%d got %d PUT requests, want none", i+1, puts)
		}
	}
}

func TestRunPartialFailureExplainsHeal(t *testing.T) {
	nodes := fakeNodes(t, 3, partitiontest.Config{})
	nodes[2].FailInstalls(1)

	res := runCommand(t, nil, nodesFlag(nodes), "--drop", "20%", "--link", "node-1->node-2")
	if res.code != exitFailed {
		t.Fatalf("exit %d, want %d", res.code, exitFailed)
	}
	for _, want := range []string{"node-3 did not take", "node-1, node-2 have it", "partition --heal --nodes"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if !strings.Contains(res.stdout, "node-3  error") {
		t.Errorf("stdout lacks the error line of node-3")
	}
}

func TestRunTokens(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		args []string
		code int
	}{
		{"missing", nil, nil, exitFailed},
		{"wrong", nil, []string{"--token", "guess"}, exitFailed},
		{"flag", nil, []string{"--token", "s3cret"}, exitOK},
		{"environment", map[string]string{tokenEnv: "s3cret"}, nil, exitOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nodes := fakeNodes(t, 3, partitiontest.Config{Token: "s3cret"})
			args := append([]string{nodesFlag(nodes), "--isolate", "node-1"}, tc.args...)
			res := runCommand(t, tc.env, args...)
			if res.code != tc.code {
				t.Fatalf("exit %d, want %d", res.code, tc.code)
			}
			if tc.code == exitOK {
				requireRules(t, nodes, 2)
				return
			}
			requireRules(t, nodes, 0)
			if !strings.Contains(res.stderr, "--token") {
				t.Errorf("stderr does not point at --token")
			}
		})
	}
}

func TestRunStatus(t *testing.T) {
	nodes := fakeNodes(t, 3, partitiontest.Config{})
	if res := runCommand(t, nil, nodesFlag(nodes), "--delay", "200ms", "--jitter", "50ms"); res.code != exitOK {
		t.Fatalf("delay exit %d, want 0", res.code)
	}
	nodes[0].Table().Decide("node-1", "node-2", netchaos.MsgHeartbeat)

	res := runCommand(t, nil, "status", nodesFlag(nodes))
	if res.code != exitOK {
		t.Fatalf("status exit %d, want 0", res.code)
	}
	for _, want := range []string{"*->* delay 200ms jitter 50ms", "node-1->node-2", "tables match"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("status output lacks %q", want)
		}
	}

	res = runCommand(t, nil, "status", "--json", nodesFlag(nodes))
	var report statusReport
	if err := json.Unmarshal([]byte(res.stdout), &report); err != nil {
		t.Fatalf("status --json is not JSON: %v", err)
	}
	if !report.Consistent || len(report.Nodes) != 3 || len(report.Nodes[1].Rules) != 1 {
		t.Errorf("report %+v, want 3 consistent nodes with one rule", report)
	}
	if c := report.Nodes[0].Counters; len(c) != 1 || c[0].Delayed != 1 {
		t.Errorf("node-1 counters %+v, want one delayed message", c)
	}

	nodes[2].Close()
	res = runCommand(t, nil, "status", nodesFlag(nodes))
	if res.code != exitFailed || !strings.Contains(res.stdout, "node-3 unreachable") {
		t.Errorf("status with node-3 down: exit %d, want 1 with node-3 reported unreachable\n%s", res.code, res.stdout)
	}
}
