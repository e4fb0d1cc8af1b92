package raftint

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/goleak"

	"github.com/faultline-dev/faultline/internal/testlog"
	"github.com/faultline-dev/faultline/internal/testwait"
)

// testDeadline is the backstop for waits on elections and replication. With
// the fast profile a leader is elected in well under a second on loopback,
// so reaching it points to a bug rather than a slow machine.
const testDeadline = 15 * time.Second

// testApplyTimeout bounds the enqueue wait of writes in tests.
const testApplyTimeout = 5 * time.Second

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newTestLogger returns a logger into t.Log. Create it before the nodes of a
// test, so that its cleanup runs after theirs.
func newTestLogger(t testing.TB) *slog.Logger {
	t.Helper()
	return testlog.New(t, slog.LevelDebug)
}

// checkLeaks verifies at the end of the test, after every other cleanup,
// that no goroutine is left.
func checkLeaks(t *testing.T) {
	t.Helper()
	t.Cleanup(func() { goleak.VerifyNone(t) })
}

// newTransport binds a raft.NetworkTransport to addr, such as "127.0.0.1:0".
// The caller must hand it to a Node or close it.
func newTransport(t testing.TB, addr string, logger *slog.Logger) *raft.NetworkTransport {
	t.Helper()
	transport, err := raft.NewTCPTransportWithConfig(addr, nil, &raft.NetworkTransportConfig{
		MaxPool: 3,
		Timeout: ProfileFast.Timing().RPCTimeout,
		Logger:  NewHCLogger(logger, "transport"),
	})
	if err != nil {
		t.Fatalf("bind raft transport on %s: %v", addr, err)
	}
	return transport
}

// nodeOptions describes a test node. Zero fields get defaults.
type nodeOptions struct {
	id       string
	dir      string
	addr     string // "" binds 127.0.0.1:0
	timeline *Timeline
	sink     LeadershipSink
	logger   *slog.Logger

	// compactLog sets TrailingLogs to 0, so a snapshot removes every entry
	// it covers from the log.
	compactLog bool
}

// openNode opens a node with the fast profile and shuts it down at cleanup.
func openNode(t *testing.T, opts nodeOptions) *Node {
	t.Helper()
	if opts.addr == "" {
		opts.addr = "127.0.0.1:0"
	}
	transport := newTransport(t, opts.addr, opts.logger)

	cfg := DefaultConfig()
	cfg.ID = opts.id
	cfg.DataDir = opts.dir
	cfg.Transport = transport
	cfg.Profile = ProfileFast
	cfg.Logger = opts.logger
	cfg.Timeline = opts.timeline
	cfg.Leadership = opts.sink
	if opts.compactLog {
		cfg.TrailingLogs = 0
	}

	node, err := Open(cfg)
	if err != nil {
		transport.Close()
		t.Fatalf("open node %s: %v", opts.id, err)
	}
	t.Cleanup(func() {
		if err := node.Shutdown(); err != nil {
			t.Errorf("shut down node %s: %v", opts.id, err)
		}
	})
	return node
}

// startCluster opens size nodes on one timeline, bootstraps them with the
// full configuration and waits for a leader.
func startCluster(t *testing.T, size int, logger *slog.Logger) ([]*Node, *Node) {
	t.Helper()
	timeline := NewTimeline()
	nodes := make([]*Node, size)
	servers := make([]raft.Server, size)
	for i := range nodes {
		id := fmt.Sprintf("n%d", i+1)
		nodes[i] = openNode(t, nodeOptions{id: id, dir: t.TempDir(), timeline: timeline, logger: logger})
		servers[i] = raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(id), Address: nodes[i].transport.LocalAddr()}
	}
	for _, node := range nodes {
		if err := node.Bootstrap(servers); err != nil {
			t.Fatalf("bootstrap: %v", err)
		}
	}

	leaderEvent := waitForEvent(t, timeline, 0, isLeaderState)
	return nodes, nodeByID(t, nodes, leaderEvent.Node)
}

func nodeByID(t *testing.T, nodes []*Node, id string) *Node {
	t.Helper()
	for _, node := range nodes {
		if node.ID() == id {
			return node
		}
	}
	t.Fatalf("no node with ID %q", id)
	return nil
}

func isLeaderState(e Event) bool {
	return e.Kind == EventState && e.State == raft.Leader.String()
}

// waitForEvent waits up to testDeadline for an event after seq that matches.
func waitForEvent(t *testing.T, timeline *Timeline, seq uint64, match func(Event) bool) Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()

	e, err := timeline.Wait(ctx, seq, match)
	if err != nil {
		t.Fatalf("%v; timeline:\n%s", err, formatEvents(timeline.Events()))
	}
	return e
}

func formatEvents(events []Event) string {
	var b strings.Builder
	for _, e := range events {
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// waitUntil polls cond every 10ms until it holds or testDeadline passes.
// Use it only for state that no event announces, such as a follower's
// applied index.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.Until(t, testDeadline, 10*time.Millisecond, what, cond)
}

// waitForApplied waits until the state machine of every node has applied
// index.
func waitForApplied(t *testing.T, nodes []*Node, index uint64) {
	t.Helper()
	for _, node := range nodes {
		waitUntil(t, fmt.Sprintf("node %s to apply index %d", node.ID(), index), func() bool {
			return node.FSM().AppliedIndex() >= index
		})
	}
}

func ptr(s string) *string { return &s }
