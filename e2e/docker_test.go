package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/admin"
	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/raftint"
)

// dockerTestTimeout bounds the whole docker test. Building the image takes
// seconds because there is nothing to pull. The fast profile elects in well
// under a second, and the container health checks run every 2 s.
const dockerTestTimeout = 3 * time.Minute

// logWriter sends log lines to t.Log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestDockerCompose builds the node image and starts three containers with
// docker-compose.yml under a project of its own. It drives them from this
// machine through the admin ports published on 127.0.0.1. The partition
// command isolates node-1 and heals, and the compose harness crashes and
// restarts a follower. The test removes the project, its volumes and the
// image.
func TestDockerCompose(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an image and starts containers; skipped with -short")
	}
	compose := requireDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), dockerTestTimeout)
	defer cancel()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	image := buildImage(t, ctx, root)
	partitionBin := buildStatic(t, t.TempDir(), "partition")

	cfg := cluster.DefaultComposeConfig()
	cfg.File = filepath.Join(root, "docker-compose.yml")
	cfg.Image = image
	cfg.Profile = raftint.ProfileFast
	cfg.Command = compose
	cfg.Logger = slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	c, err := cluster.StartCompose(ctx, cfg)
	if err != nil {
		t.Fatalf("StartCompose: %v", err)
	}
	defer func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	t.Logf("compose project %s with %s", c.Project(), strings.Join(compose, " "))
	waitContainersHealthy(t, ctx, compose, cfg.File, c.Project(), c.Token(), 3)

	clients := make(map[string]*admin.Client)
	var nodes []string
	for _, id := range c.Nodes() {
		url, err := c.URL(id)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(url, "http://127.0.0.1:") {
			t.Fatalf("admin URL of %s is %s, want a port published on 127.0.0.1", id, url)
		}
		clients[id] = admin.NewClient(url, c.Token(), nil)
		nodes = append(nodes, id+"="+url)
	}
	nodesFlag := "--nodes=" + strings.Join(nodes, ",")

	t.Run("partition isolate and heal", func(t *testing.T) {
		testPartitionCommand(t, ctx, partitionBin, nodesFlag, c.Token(), clients)
	})
	t.Run("harness crash and restart", func(t *testing.T) {
		testComposeRestart(t, ctx, c)
	})
}

func testPartitionCommand(t *testing.T, ctx context.Context, bin, nodesFlag, token string, clients map[string]*admin.Client) {
	code, _ := runPartition(t, ctx, bin, token, nodesFlag, "--isolate", "node-1", "--duration", "2m")
	if code != 0 {
		t.Fatalf("partition --isolate node-1 exited %d, want 0", code)
	}
	tables := faultTables(t, ctx, clients)
	want := []string{"*->node-1 partition", "node-1->* partition"}
	for id, table := range tables {
		if got := ruleLinks(table.Rules); !slices.Equal(got, want) {
			t.Errorf("%s rules %q, want %q", id, got, want)
		}
		if table.Version != tables["node-1"].Version {
			t.Errorf("%s at fault table version %d, node-1 at %d", id, table.Version, tables["node-1"].Version)
		}
	}
	waitUntil(t, ctx, "a leader among node-2 and node-3", func() (bool, string) {
		leader, states := leaderAmong(ctx, clients, "node-2", "node-3")
		return leader != "", states
	})

	code, _ = runPartition(t, ctx, bin, token, nodesFlag, "--heal")
	if code != 0 {
		t.Fatalf("partition --heal exited %d, want 0", code)
	}
	for id, table := range faultTables(t, ctx, clients) {
		if len(table.Rules) != 0 {
			t.Errorf("%s keeps rules %q after the heal", id, ruleLinks(table.Rules))
		}
	}
	waitUntil(t, ctx, "one leader that every node follows", func() (bool, string) {
		leader, states := leaderAmong(ctx, clients, "node-1", "node-2", "node-3")
		if leader == "" {
			return false, states
		}
		for _, c := range clients {
			s, err := c.Raft(ctx)
			if err != nil || s.LeaderID != leader {
				return false, states
			}
		}
		return true, states
	})

	code, out := runPartition(t, ctx, bin, "wrong-token", nodesFlag, "--isolate", "node-2")
	if code != 1 || !strings.Contains(out, "--token") {
		t.Errorf("partition with a wrong token exited %d, want 1 with a hint about --token", code)
	}
	for id, table := range faultTables(t, ctx, clients) {
		if len(table.Rules) != 0 {
			t.Errorf("%s has rules %q after a rejected install", id, ruleLinks(table.Rules))
		}
	}
}

func testComposeRestart(t *testing.T, ctx context.Context, c *cluster.Compose) {
	st, err := c.WaitStable(ctx)
	if err != nil {
		t.Fatalf("WaitStable: %v", err)
	}
	follower := "node-1"
	if st.Leader == follower {
		follower = "node-2"
	}

	var last uint64
	for i := range 5 {
		if last, err = c.Put(ctx, st.Leader, fmt.Sprintf("docker-%d", i), "v"); err != nil {
			t.Fatalf("Put through %s: %v", st.Leader, err)
		}
	}

	if err := c.Crash(follower); err != nil {
		t.Fatalf("Crash %s: %v", follower, err)
	}
	if err := c.Restart(ctx, follower); err != nil {
		t.Fatalf("Restart %s: %v", follower, err)
	}
	if _, err := c.WaitConverged(ctx, last); err != nil {
		t.Fatalf("WaitConverged after the restart: %v", err)
	}
	for i := range 5 {
		key := fmt.Sprintf("docker-%d", i)
		if v, ok, err := c.Get(follower, key); err != nil || !ok || v != "v" {
			t.Errorf("%s on the restarted %s = %q, %v, %v; want v", key, follower, v, ok, err)
		}
	}

	kinds := map[raftint.EventKind]bool{}
	for _, e := range c.Timeline().Events() {
		kinds[e.Kind] = true
	}
	for _, k := range []raftint.EventKind{raftint.EventState, raftint.EventCrash, raftint.EventRestart} {
		if !kinds[k] {
			t.Errorf("timeline has no %s event", k)
		}
	}
}
