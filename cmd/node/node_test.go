package main

import (
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/goleak"

	"github.com/faultline-dev/faultline/admin"
	"github.com/faultline-dev/faultline/internal/testwait"
	"github.com/faultline-dev/faultline/raftint"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// nodeWait is the backstop for elections and membership changes with the
// fast profile.
const nodeWait = 30 * time.Second

type guardedWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *guardedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func testLogger(t *testing.T) *slog.Logger {
	w := &guardedWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// freeAddrs returns n addresses on 127.0.0.1 whose ports were free for TCP
// and UDP a moment ago.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	var closers []func() error
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	for len(addrs) < n {
		tcp, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("find a free port: %v", err)
		}
		closers = append(closers, tcp.Close)
		udp, err := net.ListenPacket("udp", tcp.Addr().String())
		if err != nil {
			continue
		}
		closers = append(closers, udp.Close)
		addrs = append(addrs, tcp.Addr().String())
	}
	return addrs
}

// testNodeConfigs returns the configs of size nodes that join each other.
func testNodeConfigs(t *testing.T, size, expect int, removeAfter time.Duration) []nodeConfig {
	addrs := freeAddrs(t, 3*size)
	dir := t.TempDir()
	var join []string
	for i := range size {
		join = append(join, addrs[3*i+1])
	}
	cfgs := make([]nodeConfig, size)
	for i := range cfgs {
		id := fmt.Sprintf("node-%d", i+1)
		cfgs[i] = nodeConfig{
			ID: id, RaftAddr: addrs[3*i], RaftAdvertise: addrs[3*i], GossipAddr: addrs[3*i+1], GossipAdvertise: addrs[3*i+1],
			HTTPAddr: addrs[3*i+2], HTTPAdvertise: addrs[3*i+2], DataDir: filepath.Join(dir, id), Join: join,
			BootstrapExpect: expect, Profile: raftint.ProfileFast, Chaos: true, RemoveFailedAfter: removeAfter,
			Seed: int64(i + 1), FaultTTL: time.Minute, LogLevel: slog.LevelInfo, LogFormat: "text",
		}
	}
	return cfgs
}

func voters(t *testing.T, n *node) []string {
	t.Helper()
	servers, err := admin.NodeAdapter(n.raft).Configuration()
	if err != nil {
		return nil
	}
	var ids []string
	for _, s := range servers {
		if s.Suffrage == raft.Voter.String() {
			ids = append(ids, s.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

func leaderOf(nodes []*node) *node {
	for _, n := range nodes {
		if n.raft.Raft().State() == raft.Leader {
			return n
		}
	}
	return nil
}

func waitNode(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.Until(t, nodeWait, 20*time.Millisecond, what, cond)
}

// TestReconcilerAddsAndRemoves bootstraps three nodes, lets a fourth join
// and become a voter, then silences it and checks that the leader removes
// it after --remove-failed-after, which a 4-voter cluster allows.
func TestReconcilerAddsAndRemoves(t *testing.T) {
	logger := testLogger(t)
	cfgs := testNodeConfigs(t, 4, 3, time.Second)
	cfgs[3].BootstrapExpect = 0

	var nodes []*node
	for _, cfg := range cfgs[:3] {
		n, err := startNode(cfg, logger)
		if err != nil {
			t.Fatalf("start %s: %v", cfg.ID, err)
		}
		t.Cleanup(func() {
			if err := n.shutdown(); err != nil {
				t.Errorf("shut down %s: %v", cfg.ID, err)
			}
		})
		nodes = append(nodes, n)
	}
	waitNode(t, "three voters under one leader", func() bool {
		leader := leaderOf(nodes)
		return leader != nil && strings.Join(voters(t, leader), ",") == "node-1,node-2,node-3"
	})

	fourth, err := startNode(cfgs[3], logger)
	if err != nil {
		t.Fatalf("start node-4: %v", err)
	}
	waitNode(t, "node-4 to become a voter", func() bool {
		leader := leaderOf(nodes)
		return leader != nil && strings.Join(voters(t, leader), ",") == "node-1,node-2,node-3,node-4"
	})

	// Silence node-4 without a graceful leave, as a crash would.
	fourth.reconciler.stop()
	fourth.members.Shutdown()
	fourth.raft.Crash()
	fourth.http.Close()
	fourth.serveWG.Wait()
	fourth.daemon.Stop(t.Context())

	waitNode(t, "the leader to remove node-4", func() bool {
		leader := leaderOf(nodes)
		return leader != nil && strings.Join(voters(t, leader), ",") == "node-1,node-2,node-3"
	})
}
