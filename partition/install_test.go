package partition

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
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

// fakeCluster is a set of fake nodes named node-1 to node-N.
type fakeCluster struct {
	nodes   []*partitiontest.Node
	client  *http.Client
	targets []Target
}

func startFakeCluster(t *testing.T, size int, cfg partitiontest.Config, token string) *fakeCluster {
	t.Helper()
	transport := &http.Transport{}
	fc := &fakeCluster{client: &http.Client{Transport: transport, Timeout: 5 * time.Second}}
	for i := range size {
		nodeCfg := cfg
		nodeCfg.ID = fmt.Sprintf("node-%d", i+1)
		n := partitiontest.NewNode(nodeCfg)
		fc.nodes = append(fc.nodes, n)
		fc.targets = append(fc.targets, Target{ID: nodeCfg.ID, Client: admin.NewClient(n.URL(), token, fc.client)})
	}
	t.Cleanup(func() {
		for _, n := range fc.nodes {
			n.Close()
		}
		transport.CloseIdleConnections()
	})
	return fc
}

func (fc *fakeCluster) endpoints(withIDs bool) []Endpoint {
	out := make([]Endpoint, len(fc.nodes))
	for i, n := range fc.nodes {
		out[i] = Endpoint{URL: n.URL()}
		if withIDs {
			out[i].ID = fc.targets[i].ID
		}
	}
	return out
}

// setVersion installs rules at version on node i, as an earlier run would.
func (fc *fakeCluster) setVersion(t *testing.T, i int, version uint64, rules []netchaos.Rule) {
	t.Helper()
	if err := fc.nodes[i].Table().Install(version, rules); err != nil {
		t.Fatalf("install version %d on node %d: %v", version, i+1, err)
	}
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func isolateRules(node string) []netchaos.Rule {
	rules := netchaos.Isolate(node, netchaos.KindPartition)
	for i := range rules {
		rules[i].TTL = time.Minute
	}
	return rules
}

func TestApplyPicksVersionAboveEveryNode(t *testing.T) {
	fc := startFakeCluster(t, 3, partitiontest.Config{}, "")
	fc.setVersion(t, 0, 3, nil)
	fc.setVersion(t, 1, 7, isolateRules("node-3"))

	result, err := Apply(testContext(t), fc.targets, isolateRules("node-1"))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if result.Version != 8 {
		t.Errorf("installed version %d, want 8 (one above the highest, 7)", result.Version)
	}
	for i, n := range fc.nodes {
		if v := n.Table().Version(); v != 8 {
			t.Errorf("node-%d is at version %d, want 8", i+1, v)
		}
		if got := ruleKeys(n.Table().Rules()); !slices.Equal(got, ruleKeys(isolateRules("node-1"))) {
			t.Errorf("node-%d rules %q, want the isolation of node-1", i+1, got)
		}
		if nr := result.Nodes[i]; nr.Err != nil || nr.Version != 8 || len(nr.Rules) != 2 {
			t.Errorf("node-%d result %+v, want version 8 with 2 rules", i+1, nr)
		}
	}
}

func TestApplyPartialFailureNamesNodes(t *testing.T) {
	fc := startFakeCluster(t, 3, partitiontest.Config{}, "")
	fc.nodes[1].FailInstalls(1)

	result, err := Apply(testContext(t), fc.targets, isolateRules("node-1"))
	if !errors.Is(err, ErrPartial) {
		t.Fatalf("Apply error = %v, want ErrPartial", err)
	}
	if !containsAll(err.Error(), "node-2 failed", "node-1, node-3 took it") {
		t.Errorf("error %q does not say which nodes took the table", err)
	}
	if got := result.Succeeded(); !slices.Equal(got, []string{"node-1", "node-3"}) {
		t.Errorf("Succeeded = %q, want node-1 and node-3", got)
	}
	if failed := result.Failed(); len(failed) != 1 || failed[0].ID != "node-2" {
		t.Errorf("Failed = %+v, want node-2 only", failed)
	}
	for _, i := range []int{0, 2} {
		if v := fc.nodes[i].Table().Version(); v != result.Version {
			t.Errorf("node-%d at version %d, want %d", i+1, v, result.Version)
		}
	}
	if v := fc.nodes[1].Table().Version(); v != 0 {
		t.Errorf("node-2 at version %d after a failed install, want 0", v)
	}
}

func TestApplyUnreachableChangesNothing(t *testing.T) {
	fc := startFakeCluster(t, 3, partitiontest.Config{}, "")
	fc.setVersion(t, 0, 4, isolateRules("node-2"))
	fc.nodes[2].Close()

	_, err := Apply(testContext(t), fc.targets, isolateRules("node-1"))
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Apply error = %v, want ErrUnreachable", err)
	}
	if !strings.Contains(err.Error(), "node-3") {
		t.Errorf("error %q does not name node-3", err)
	}
	for i := range 2 {
		if puts, _ := fc.nodes[i].Writes(); puts != 0 {
			t.Errorf("node-%d got %d PUT requests, want none", i+1, puts)
		}
	}
	if got := ruleKeys(fc.nodes[0].Table().Rules()); !slices.Equal(got, ruleKeys(isolateRules("node-2"))) {
		t.Errorf("node-1 rules changed to %q", got)
	}
}

func TestApplyRejectedChangesNothing(t *testing.T) {
	cases := []struct {
		name     string
		cfg      partitiontest.Config
		token    string
		sentinel error
	}{
		{"missing token", partitiontest.Config{Token: "s3cret"}, "", admin.ErrUnauthorized},
		{"wrong token", partitiontest.Config{Token: "s3cret"}, "guess", admin.ErrUnauthorized},
		{"chaos disabled", partitiontest.Config{ChaosDisabled: true}, "", admin.ErrChaosDisabled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fc := startFakeCluster(t, 3, tc.cfg, tc.token)
			fc.setVersion(t, 0, 2, nil)

			_, err := Apply(testContext(t), fc.targets, isolateRules("node-1"))
			if !errors.Is(err, ErrNotWritable) {
				t.Fatalf("Apply error = %v, want ErrNotWritable", err)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("Apply error = %v, want it to wrap %v", err, tc.sentinel)
			}
			for i, n := range fc.nodes {
				if rules := n.Table().Rules(); len(rules) != 0 {
					t.Errorf("node-%d has %d rules, want none", i+1, len(rules))
				}
			}
			if v := fc.nodes[0].Table().Version(); v != 2 {
				t.Errorf("node-1 at version %d, want 2", v)
			}
		})
	}
}

func TestApplyWithToken(t *testing.T) {
	fc := startFakeCluster(t, 3, partitiontest.Config{Token: "s3cret"}, "s3cret")
	if _, err := Apply(testContext(t), fc.targets, isolateRules("node-1")); err != nil {
		t.Fatalf("Apply with the right token: %v", err)
	}
}

func TestInstallRetriesVersionConflict(t *testing.T) {
	fc := startFakeCluster(t, 3, partitiontest.Config{}, "")
	fc.nodes[2].RaiseVersionBeforeInstalls(10, 1)

	result, err := Apply(testContext(t), fc.targets, isolateRules("node-2"))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if result.Version != 11 {
		t.Errorf("installed version %d, want 11 (node-3 rose from 0 to 10)", result.Version)
	}
	for i, n := range fc.nodes {
		if v := n.Table().Version(); v != result.Version {
			t.Errorf("node-%d at version %d, want %d", i+1, v, result.Version)
		}
	}
}

func TestInstallGivesUpAfterRounds(t *testing.T) {
	fc := startFakeCluster(t, 2, partitiontest.Config{}, "")
	fc.nodes[1].RaiseVersionBeforeInstalls(10, maxInstallRounds)

	result := Install(testContext(t), fc.targets, 1, nil)
	if !errors.Is(result.Err(), admin.ErrVersionConflict) {
		t.Fatalf("Install error = %v, want a version conflict", result.Err())
	}
	// Rounds install 1, 11 and 21 while node-2 rises to 10, 20 and 30.
	if result.Version != 21 {
		t.Errorf("last round used version %d, want 21", result.Version)
	}
	if v := fc.nodes[0].Table().Version(); v != 21 {
		t.Errorf("node-1 at version %d, want 21", v)
	}
	if puts, _ := fc.nodes[1].Writes(); puts != maxInstallRounds {
		t.Errorf("node-2 got %d PUT requests, want %d", puts, maxInstallRounds)
	}
}

func TestHealClearsReachableNodes(t *testing.T) {
	fc := startFakeCluster(t, 3, partitiontest.Config{ChaosDisabled: true}, "")
	for i := range fc.nodes {
		fc.setVersion(t, i, 5, isolateRules("node-1"))
	}
	fc.nodes[1].Close()

	result := Heal(testContext(t), fc.targets)
	if !errors.Is(result.Err(), ErrPartial) {
		t.Fatalf("Heal error = %v, want ErrPartial for the closed node-2", result.Err())
	}
	if got := result.Succeeded(); !slices.Equal(got, []string{"node-1", "node-3"}) {
		t.Errorf("Succeeded = %q, want node-1 and node-3", got)
	}
	for _, i := range []int{0, 2} {
		if rules := fc.nodes[i].Table().Rules(); len(rules) != 0 {
			t.Errorf("node-%d keeps %d rules after heal", i+1, len(rules))
		}
		if v := result.Nodes[i].Version; v != 6 {
			t.Errorf("node-%d reported version %d, want 6", i+1, v)
		}
	}
}

func TestResolve(t *testing.T) {
	fc := startFakeCluster(t, 3, partitiontest.Config{}, "")
	fc.nodes[1].SetRaft("Leader", 4, "node-2")
	ctx := testContext(t)

	t.Run("bare urls", func(t *testing.T) {
		eps := fc.endpoints(false)
		slices.Reverse(eps)
		statuses, err := Resolve(ctx, eps, "", fc.client)
		if err != nil {
			t.Fatalf("Resolve: %v", err)
		}
		if got := IDs(Targets(statuses)); !slices.Equal(got, []string{"node-1", "node-2", "node-3"}) {
			t.Errorf("IDs = %q, want node-1..node-3 in order", got)
		}
		if got := LeaderOf(statuses); got != "node-2" {
			t.Errorf("LeaderOf = %q, want node-2", got)
		}
	})
	t.Run("wrong id", func(t *testing.T) {
		eps := fc.endpoints(true)
		eps[0].ID = "node-9"
		_, err := Resolve(ctx, eps, "", fc.client)
		if !errors.Is(err, ErrInvalidSpec) || !containsAll(err.Error(), "node-1", "node-9") {
			t.Errorf("Resolve error = %v, want ErrInvalidSpec naming node-1 and node-9", err)
		}
	})
	t.Run("same node twice", func(t *testing.T) {
		eps := append(fc.endpoints(false), Endpoint{URL: strings.Replace(fc.nodes[0].URL(), "127.0.0.1", "localhost", 1)})
		_, err := Resolve(ctx, eps, "", fc.client)
		if !errors.Is(err, ErrInvalidSpec) {
			t.Errorf("Resolve error = %v, want ErrInvalidSpec", err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		eps := append(fc.endpoints(true), Endpoint{ID: "node-4", URL: "http://127.0.0.1:1"})
		_, err := Resolve(ctx, eps, "", fc.client)
		if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "node-4") {
			t.Errorf("Resolve error = %v, want ErrUnreachable naming node-4", err)
		}
	})
}

func TestLeaderOf(t *testing.T) {
	status := func(id, state string, term uint64, leader string) Status {
		return Status{Target: Target{ID: id}, Raft: admin.RaftStatus{NodeID: id, State: state, Term: term, LeaderID: leader}}
	}
	cases := []struct {
		name     string
		statuses []Status
		want     string
	}{
		{"one leader", []Status{status("a", "Follower", 2, "b"), status("b", "Leader", 2, "b")}, "b"},
		{"stale leader loses", []Status{status("a", "Leader", 2, "a"), status("b", "Leader", 3, "b")}, "b"},
		{"leader unreachable", []Status{status("a", "Follower", 5, "c"), status("b", "Follower", 4, "a")}, "c"},
		{"no leader", []Status{status("a", "Candidate", 5, ""), status("b", "Follower", 4, "")}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := LeaderOf(tc.statuses); got != tc.want {
				t.Errorf("LeaderOf = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDiscover(t *testing.T) {
	fc := startFakeCluster(t, 1, partitiontest.Config{}, "")
	fc.nodes[0].SetMembers([]admin.Member{
		{Name: "node-1", HTTPAddr: "127.0.0.1:8081", State: admin.MemberAlive},
		{Name: "node-2", HTTPAddr: "http://127.0.0.1:8082", State: admin.MemberSuspect},
		{Name: "node-3", HTTPAddr: "127.0.0.1:8083", State: admin.MemberDead},
	})
	eps, skipped, err := Discover(testContext(t), fc.targets[0].Client)
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	want := []Endpoint{{"node-1", "http://127.0.0.1:8081"}, {"node-2", "http://127.0.0.1:8082"}}
	if !slices.Equal(eps, want) {
		t.Errorf("endpoints = %+v, want %+v", eps, want)
	}
	if len(skipped) != 1 || skipped[0].Name != "node-3" {
		t.Errorf("skipped = %+v, want node-3", skipped)
	}
}
