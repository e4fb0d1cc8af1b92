package cluster

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
)

// gossipWait is the backstop for membership changes. With the fast profile
// memberlist declares a silent node dead within a few seconds.
const gossipWait = 20 * time.Second

// guardedLogWriter sends log lines to t.Log until the test ends, because
// memberlist goroutines may still log while they exit.
type guardedLogWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *guardedLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func membershipLogger(t *testing.T) *slog.Logger {
	w := &guardedLogWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func startTestMembership(t *testing.T, id string, table *netchaos.Table, logger *slog.Logger, join ...string) *Membership {
	t.Helper()
	m, err := StartMembership(MembershipConfig{
		NodeID:         id,
		BindAddr:       "127.0.0.1:0",
		Join:           join,
		Meta:           NodeMeta{RaftAddr: "127.0.0.1:700" + id[len(id)-1:], HTTPAddr: "127.0.0.1:800" + id[len(id)-1:]},
		Table:          table,
		Profile:        raftint.ProfileFast,
		RejoinInterval: 200 * time.Millisecond,
		Logger:         logger,
	})
	if err != nil {
		t.Fatalf("start membership %s: %v", id, err)
	}
	t.Cleanup(func() {
		if err := m.Shutdown(); err != nil {
			t.Errorf("shut down membership %s: %v", id, err)
		}
	})
	return m
}

// states returns "name=state" for every member, sorted by name.
func states(m *Membership) string {
	var parts []string
	for _, member := range m.Members() {
		parts = append(parts, member.Name+"="+string(member.State))
	}
	return strings.Join(parts, ",")
}

// waitView waits until m's view is want, waking at each change.
func waitView(t *testing.T, m *Membership, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), gossipWait)
	defer cancel()
	for {
		changed := m.Changed()
		if states(m) == want {
			return
		}
		// Suspect states come from the clock, not from events, so check
		// again after a probe interval as well.
		select {
		case <-changed:
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			t.Fatalf("view of %s is %s after %v, want %s", m.cfg.NodeID, states(m), gossipWait, want)
		}
	}
}

func TestMembershipPartitionHealLeave(t *testing.T) {
	logger := membershipLogger(t)
	table, err := netchaos.NewTable(netchaos.TableConfig{Seed: 1, DefaultTTL: time.Minute, Logger: logger})
	if err != nil {
		t.Fatalf("new table: %v", err)
	}
	n1 := startTestMembership(t, "node-1", table, logger)
	n2 := startTestMembership(t, "node-2", table, logger, n1.LocalAddr())
	n3 := startTestMembership(t, "node-3", table, logger, n1.LocalAddr())
	nodes := []*Membership{n1, n2, n3}

	allAlive := "node-1=alive,node-2=alive,node-3=alive"
	for _, m := range nodes {
		waitView(t, m, allAlive)
	}
	for _, member := range n2.Members() {
		if member.Meta.RaftAddr == "" || member.Meta.HTTPAddr == "" || member.Addr == "" {
			t.Errorf("member %+v lacks its addresses", member)
		}
	}

	if _, err := table.Add(netchaos.Isolate("node-1", netchaos.KindPartition)...); err != nil {
		t.Fatalf("isolate node-1: %v", err)
	}
	waitView(t, n1, "node-1=alive,node-2=dead,node-3=dead")
	waitView(t, n2, "node-1=dead,node-2=alive,node-3=alive")

	// No test code calls Join: the re-join loop restores the view.
	table.Clear()
	for _, m := range nodes {
		waitView(t, m, allAlive)
	}

	if err := n3.Leave(time.Second); err != nil {
		t.Fatalf("leave node-3: %v", err)
	}
	waitView(t, n1, "node-1=alive,node-2=alive,node-3=left")
	waitView(t, n2, "node-1=alive,node-2=alive,node-3=left")
}

func TestMembershipSuspectFromProbes(t *testing.T) {
	logger := membershipLogger(t)
	n1 := startTestMembership(t, "node-1", nil, logger)
	startTestMembership(t, "node-2", nil, logger, n1.LocalAddr())
	waitView(t, n1, "node-1=alive,node-2=alive")

	// Pretend that no probe of node-2 succeeded for a long time.
	n1.mu.Lock()
	n1.members["node-2"].lastSeen = time.Now().Add(-time.Hour)
	n1.mu.Unlock()
	if got := states(n1); got != "node-1=alive,node-2=suspect" {
		t.Errorf("view = %s, want node-2 suspect", got)
	}
	waitView(t, n1, "node-1=alive,node-2=alive")
}

func TestMembershipRejoinTargets(t *testing.T) {
	tests := []struct {
		name    string
		members map[string]MemberState
		join    []string
		want    string
	}{
		{"alone", map[string]MemberState{"self": MemberAlive}, []string{"j1", "j2"}, "j1,j2"},
		{"all alive", map[string]MemberState{"self": MemberAlive, "b": MemberAlive}, []string{"j1"}, ""},
		{"one dead", map[string]MemberState{"self": MemberAlive, "b": MemberAlive, "c": MemberDead}, []string{"j1"}, "c-addr,j1"},
		{"left is not rejoined", map[string]MemberState{"self": MemberAlive, "b": MemberAlive, "c": MemberLeft}, []string{"j1"}, ""},
		{"join address of a dead node once", map[string]MemberState{"self": MemberAlive, "c": MemberDead}, []string{"c-addr"}, "c-addr"},
		{"own address skipped", map[string]MemberState{"self": MemberAlive}, []string{"self-addr", "j1"}, "j1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &Membership{cfg: MembershipConfig{NodeID: "self", BindAddr: "self-addr", Join: tc.join}, members: map[string]*memberRecord{}}
			for name, state := range tc.members {
				m.members[name] = &memberRecord{member: Member{Name: name, Addr: name + "-addr", State: state}}
			}
			targets := m.rejoinTargets()
			// Dead members come from a map, so sort before comparing.
			slices.Sort(targets)
			got := strings.Join(targets, ",")
			if got != tc.want {
				t.Errorf("targets = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestMembershipConfigValidate(t *testing.T) {
	valid := MembershipConfig{NodeID: "node-1", BindAddr: "127.0.0.1:7946", Profile: raftint.ProfileFast}
	tests := []struct {
		name   string
		change func(*MembershipConfig)
		want   string
	}{
		{"no node id", func(c *MembershipConfig) { c.NodeID = "" }, "NodeID"},
		{"bind without port", func(c *MembershipConfig) { c.BindAddr = "127.0.0.1" }, "BindAddr"},
		{"bad advertise port", func(c *MembershipConfig) { c.AdvertiseAddr = "10.0.0.1:99999" }, "AdvertiseAddr"},
		{"meta too large", func(c *MembershipConfig) { c.Meta.HTTPAddr = strings.Repeat("h", 600) }, "Meta"},
		{"unknown profile", func(c *MembershipConfig) { c.Profile = "slow" }, "profile"},
		{"negative rejoin", func(c *MembershipConfig) { c.RejoinInterval = -time.Second }, "RejoinInterval"},
	}
	if err := valid.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid
			tc.change(&cfg)
			err := cfg.Validate()
			if !errors.Is(err, ErrInvalidMembership) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want ErrInvalidMembership naming %s", err, tc.want)
			}
		})
	}
}

func TestMembershipShutdownIdempotent(t *testing.T) {
	m := startTestMembership(t, "node-1", nil, membershipLogger(t))
	for i := range 2 {
		if err := m.Shutdown(); err != nil {
			t.Errorf("shutdown %d: %v", i+1, err)
		}
	}
	if err := m.Leave(time.Second); err != nil {
		t.Errorf("leave after shutdown: %v, want nil", err)
	}
}
