package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/goleak"

	"github.com/faultline-dev/faultline/daemon"
	"github.com/faultline-dev/faultline/internal/testlog"
	"github.com/faultline-dev/faultline/internal/testwait"
	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
)

// testDeadline is the backstop for waits on elections. With the fast profile
// a leader is elected in well under a second on loopback.
const testDeadline = 15 * time.Second

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newTestLogger returns a logger into t.Log. Create it before the nodes of a
// test, so that its cleanup runs after theirs.
func newTestLogger(t testing.TB) *slog.Logger {
	t.Helper()
	return testlog.New(t, slog.LevelDebug)
}

// testNode is one raft member with its daemon, fault table and admin server.
type testNode struct {
	id       string
	raftAddr string
	node     *raftint.Node
	daemon   *daemon.Daemon
	table    *netchaos.Table
	server   *Server
	http     *httptest.Server
	client   *Client
}

// nodeSetup changes the server config and backend of a test node.
type nodeSetup func(cfg *Config, b *Backend)

// openTestNode opens a raft node with the fast profile, a started daemon,
// a fault table and an admin server on 127.0.0.1, all closed at cleanup.
func openTestNode(t *testing.T, id string, logger *slog.Logger, setup ...nodeSetup) *testNode {
	t.Helper()
	transport, err := raft.NewTCPTransportWithConfig("127.0.0.1:0", nil, &raft.NetworkTransportConfig{
		MaxPool: 3, Timeout: raftint.ProfileFast.Timing().RPCTimeout, Logger: raftint.NewHCLogger(logger, "transport"),
	})
	if err != nil {
		t.Fatalf("bind raft transport: %v", err)
	}
	dcfg := daemon.DefaultConfig()
	dcfg.NodeID = id
	dcfg.Logger = logger
	d, err := daemon.New(dcfg)
	if err != nil {
		t.Fatalf("new daemon: %v", err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatalf("start daemon: %v", err)
	}
	t.Cleanup(func() {
		if _, err := d.Stop(context.Background()); err != nil {
			t.Errorf("stop daemon %s: %v", id, err)
		}
	})

	rcfg := raftint.DefaultConfig()
	rcfg.ID, rcfg.DataDir, rcfg.Transport = id, t.TempDir(), transport
	rcfg.Profile, rcfg.Logger, rcfg.Leadership = raftint.ProfileFast, logger, d
	node, err := raftint.Open(rcfg)
	if err != nil {
		transport.Close()
		t.Fatalf("open node %s: %v", id, err)
	}
	t.Cleanup(func() {
		if err := node.Shutdown(); err != nil {
			t.Errorf("shut down node %s: %v", id, err)
		}
	})

	table, err := netchaos.NewTable(netchaos.TableConfig{Seed: 1, DefaultTTL: time.Minute, Logger: logger})
	if err != nil {
		t.Fatalf("new table: %v", err)
	}
	tn := &testNode{id: id, raftAddr: string(transport.LocalAddr()), node: node, daemon: d, table: table}
	cfg := DefaultConfig()
	cfg.NodeID, cfg.ListenAddr, cfg.Logger = id, "127.0.0.1:0", logger
	b := Backend{Raft: NodeAdapter(node), Timeline: node.Timeline(), Faults: table, Daemon: d}
	for _, change := range setup {
		change(&cfg, &b)
	}
	tn.server, err = NewServer(cfg, b)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	tn.http = httptest.NewServer(tn.server)
	t.Cleanup(tn.http.Close)
	tn.client = NewClient(tn.http.URL, cfg.Token, tn.http.Client())
	return tn
}

// startSingle opens one node, bootstraps it alone and waits until it leads.
func startSingle(t *testing.T, setup ...nodeSetup) *testNode {
	t.Helper()
	logger := newTestLogger(t)
	n := openTestNode(t, "node-1", logger, setup...)
	if err := n.node.Bootstrap(nil); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	waitLeader(t, []*testNode{n})
	return n
}

// startTrio opens three nodes whose member lists point at each other's
// admin servers, bootstraps them and returns them with the leader.
func startTrio(t *testing.T) ([]*testNode, *testNode) {
	t.Helper()
	logger := newTestLogger(t)
	members := &staticMembers{}
	nodes := make([]*testNode, 3)
	servers := make([]raft.Server, 3)
	for i := range nodes {
		id := fmt.Sprintf("node-%d", i+1)
		nodes[i] = openTestNode(t, id, logger, func(_ *Config, b *Backend) { b.Members = members })
		servers[i] = raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(id), Address: raft.ServerAddress(nodes[i].raftAddr)}
		members.add(Member{Name: id, HTTPAddr: strings.TrimPrefix(nodes[i].http.URL, "http://"), State: MemberAlive})
	}
	for _, n := range nodes {
		if err := n.node.Bootstrap(servers); err != nil {
			t.Fatalf("bootstrap %s: %v", n.id, err)
		}
	}
	return nodes, waitLeader(t, nodes)
}

// waitLeader waits until every node reports the same leader and returns it.
func waitLeader(t *testing.T, nodes []*testNode) *testNode {
	t.Helper()
	var leader *testNode
	waitUntil(t, "an agreed leader", func() bool {
		id := nodes[0].node.Status().LeaderID
		for _, n := range nodes {
			if n.node.Status().LeaderID != id {
				return false
			}
			if n.id == id {
				leader = n
			}
		}
		return leader != nil && leader.node.Status().State == "Leader"
	})
	return leader
}

// waitUntil checks cond every 10ms until it holds or testDeadline passes.
// It serves state that no event announces across several nodes.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.Until(t, testDeadline, 10*time.Millisecond, what, cond)
}

// staticMembers is a MemberSource with a fixed list.
type staticMembers struct {
	mu      sync.Mutex
	members []Member
}

func (s *staticMembers) add(m Member) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members = append(s.members, m)
}

func (s *staticMembers) Members() []Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Member(nil), s.members...)
}

func ptr(s string) *string { return &s }

// sendRaw sends body as is, so tests can send invalid JSON, and returns the
// status and the error body (zero for a success).
func sendRaw(t *testing.T, n *testNode, method, path, body string) (int, ErrorBody) {
	t.Helper()
	req, err := http.NewRequest(method, n.http.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.http.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out ErrorBody
	if resp.StatusCode >= 400 {
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatalf("%s %s: error body is not JSON: %v", method, path, err)
		}
	}
	return resp.StatusCode, out
}
