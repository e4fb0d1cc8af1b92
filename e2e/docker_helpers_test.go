package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/admin"
	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/netchaos"
)

// dockerInfoTimeout bounds the check that a Docker Engine responds.
const dockerInfoTimeout = 5 * time.Second

// requireDocker skips the test unless a Docker Engine responds to `docker
// info` and a compose command runs, and returns that compose command.
func requireDocker(t *testing.T) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), dockerInfoTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Skipf("no Docker Engine responded to docker info within %v: %v: %s", dockerInfoTimeout, err, bytes.TrimSpace(out))
	}
	compose, err := cluster.DetectCompose(ctx)
	if err != nil {
		t.Skipf("the Docker Engine responds, but: %v", err)
	}
	return compose
}

// buildStatic builds a command of this module with cgo off, as the image
// needs, into dir.
func buildStatic(t *testing.T, dir, name string) string {
	t.Helper()
	bin := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", bin, "github.com/faultline-dev/faultline/cmd/"+name)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build cmd/%s: %v\n%s", name, err, out)
	}
	return bin
}

// buildImage builds the repository's Dockerfile with a freshly built node
// binary, in a build context of its own so that the repository's bin/
// stays as it is, and removes the image when the test ends.
func buildImage(t *testing.T, ctx context.Context, root string) string {
	t.Helper()
	buildDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(buildDir, "bin", "image-data"), 0o755); err != nil {
		t.Fatal(err)
	}
	buildStatic(t, filepath.Join(buildDir, "bin"), "node")
	for _, name := range []string{"Dockerfile", ".dockerignore"} {
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(buildDir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	image := "faultline-node:e2e-" + strings.ToLower(rand.Text()[:8])
	out, err := exec.CommandContext(ctx, "docker", "build", "--quiet", "--tag", image, buildDir).CombinedOutput()
	if err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("docker", "image", "rm", "--force", image).CombinedOutput(); err != nil {
			t.Errorf("remove image %s: %v\n%s", image, err, out)
		}
	})
	return image
}

// composeOutput runs a compose command on the test's project and returns
// its standard output.
func composeOutput(t *testing.T, ctx context.Context, compose []string, file, project, token string, args ...string) string {
	t.Helper()
	full := append(append([]string{}, compose[1:]...), append([]string{"--file", file, "--project-name", project}, args...)...)
	cmd := exec.CommandContext(ctx, compose[0], full...)
	cmd.Env = append(os.Environ(), "FAULTLINE_ADMIN_TOKEN="+token)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", strings.Join(compose, " "), strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// waitContainersHealthy waits until Docker reports every container of the
// project healthy, which its HEALTHCHECK decides with `node healthcheck`.
func waitContainersHealthy(t *testing.T, ctx context.Context, compose []string, file, project, token string, count int) {
	t.Helper()
	ids := strings.Fields(composeOutput(t, ctx, compose, file, project, token, "ps", "--quiet"))
	if len(ids) != count {
		t.Fatalf("project %s has %d containers, want %d", project, len(ids), count)
	}
	waitUntil(t, ctx, "every container healthy", func() (bool, string) {
		args := append([]string{"inspect", "--format", "{{.Name}} {{.State.Health.Status}}"}, ids...)
		out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
		if err != nil {
			return false, fmt.Sprintf("docker inspect: %v: %s", err, out)
		}
		return strings.Count(string(out), " healthy") == count, strings.TrimSpace(string(out))
	})
}

// waitUntil polls check every 50 ms until it returns true, and fails the
// test with check's last description when ctx ends first.
func waitUntil(t *testing.T, ctx context.Context, what string, check func() (bool, string)) {
	t.Helper()
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	for {
		ok, why := check()
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v; last check: %s", what, ctx.Err(), why)
		case <-ticker.C:
		}
	}
}

// runPartition runs the partition binary and returns its exit code and
// output.
func runPartition(t *testing.T, ctx context.Context, bin, token string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "FAULTLINE_ADMIN_TOKEN="+token)
	out, err := cmd.CombinedOutput()
	t.Logf("partition %s:\n%s", strings.Join(args, " "), out)
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatalf("run partition: %v", err)
	}
	return 0, string(out)
}

// faultTables reads every node's fault table.
func faultTables(t *testing.T, ctx context.Context, clients map[string]*admin.Client) map[string]admin.FaultTable {
	t.Helper()
	tables := make(map[string]admin.FaultTable)
	for id, c := range clients {
		table, err := c.Faults(ctx)
		if err != nil {
			t.Fatalf("faults of %s: %v", id, err)
		}
		tables[id] = table
	}
	return tables
}

// ruleLinks returns "from->to kind" of every rule, sorted.
func ruleLinks(rules []netchaos.Rule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.From + "->" + r.To + " " + string(r.Kind)
	}
	slices.Sort(out)
	return out
}

// leaderAmong returns the node of ids that leads in the highest term, as
// reported by the nodes themselves, or "" with the reason.
func leaderAmong(ctx context.Context, clients map[string]*admin.Client, ids ...string) (string, string) {
	leader, term := "", uint64(0)
	var states []string
	for _, id := range ids {
		s, err := clients[id].Raft(ctx)
		if err != nil {
			return "", fmt.Sprintf("%s: %v", id, err)
		}
		states = append(states, fmt.Sprintf("%s %s term %d leader %q", id, s.State, s.Term, s.LeaderID))
		if s.State == "Leader" && s.Term >= term {
			leader, term = id, s.Term
		}
	}
	return leader, strings.Join(states, "; ")
}
