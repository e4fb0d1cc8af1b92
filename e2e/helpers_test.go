package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/admin"
)

// procStopTimeout bounds the graceful stop of a node process before the
// test kills it.
const procStopTimeout = 15 * time.Second

// buildNodeBinary builds cmd/node into a temporary directory.
func buildNodeBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "node")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/faultline-dev/faultline/cmd/node")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build cmd/node: %v\n%s", err, out)
	}
	return bin
}

// freePorts returns n distinct ports that are free on 127.0.0.1 for both
// TCP and UDP, as memberlist needs both on its port. The listeners are
// closed before it returns, so another process may take a port before the
// node binds it. The test then fails at start, and the node's log names the
// port.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var closers []func() error
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	for len(ports) < n {
		tcp, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("find a free port: %v", err)
		}
		closers = append(closers, tcp.Close)
		port := tcp.Addr().(*net.TCPAddr).Port
		udp, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		closers = append(closers, udp.Close)
		ports = append(ports, port)
	}
	return ports
}

// procNode is one node process. Its output goes to a file that the test
// logs when it fails.
type procNode struct {
	id         string
	bin        string
	args       []string
	logPath    string
	gossipAddr string
	client     *admin.Client

	cmd    *exec.Cmd
	exited chan struct{}
}

// startProcCluster starts size nodes with the fast profile that find each
// other through memberlist and bootstrap with --bootstrap-expect. Cleanup
// stops every process and, when the test failed, logs their output.
func startProcCluster(t *testing.T, bin string, size int) []*procNode {
	t.Helper()
	ports := freePorts(t, 3*size)
	dir := t.TempDir()
	var join []string
	for i := range size {
		join = append(join, fmt.Sprintf("127.0.0.1:%d", ports[3*i+1]))
	}

	nodes := make([]*procNode, size)
	for i := range nodes {
		id := fmt.Sprintf("node-%d", i+1)
		httpAddr := fmt.Sprintf("127.0.0.1:%d", ports[3*i+2])
		nodes[i] = &procNode{
			id:         id,
			bin:        bin,
			gossipAddr: join[i],
			logPath:    filepath.Join(dir, id+".log"),
			client:     admin.NewClient("http://"+httpAddr, "", nil),
			args: []string{"run",
				"--id", id,
				"--raft-addr", fmt.Sprintf("127.0.0.1:%d", ports[3*i]),
				"--gossip-addr", join[i],
				"--http-addr", httpAddr,
				"--data-dir", filepath.Join(dir, id),
				"--join", strings.Join(join, ","),
				"--bootstrap-expect", fmt.Sprint(size),
				"--profile", "fast",
				"--seed", fmt.Sprint(i + 1),
			},
		}
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			n.stop(t)
		}
		if t.Failed() {
			for _, n := range nodes {
				n.dumpLog(t)
			}
		}
	})
	for _, n := range nodes {
		n.start(t)
	}
	return nodes
}

// start starts the process with its arguments, appending to its log.
func (n *procNode) start(t *testing.T) {
	t.Helper()
	logFile, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatalf("open log of %s: %v", n.id, err)
	}
	defer logFile.Close()
	fmt.Fprintf(logFile, "=== start %s %s\n", n.bin, strings.Join(n.args, " "))

	n.cmd = exec.Command(n.bin, n.args...)
	n.cmd.Stdout, n.cmd.Stderr = logFile, logFile
	n.cmd.Env = append(os.Environ(), "FAULTLINE_LOG_LEVEL=debug")
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", n.id, err)
	}
	n.exited = make(chan struct{})
	cmd, exited := n.cmd, n.exited
	go func() {
		cmd.Wait()
		close(exited)
	}()
}

// kill sends SIGKILL and waits for the process to exit.
func (n *procNode) kill(t *testing.T) {
	t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("kill %s: %v", n.id, err)
	}
	<-n.exited
}

// stop sends SIGTERM, waits procStopTimeout for a graceful exit and then
// kills the process.
func (n *procNode) stop(t *testing.T) {
	t.Helper()
	if n.cmd == nil {
		return
	}
	select {
	case <-n.exited:
		return
	default:
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
		if code := n.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("%s exited with code %d after SIGTERM, want 0", n.id, code)
		}
	case <-time.After(procStopTimeout):
		t.Errorf("%s still running %v after SIGTERM: killing it", n.id, procStopTimeout)
		n.kill(t)
	}
}

func (n *procNode) dumpLog(t *testing.T) {
	data, err := os.ReadFile(n.logPath)
	if err != nil {
		t.Logf("read log of %s: %v", n.id, err)
		return
	}
	t.Logf("---- log of %s ----\n%s", n.id, data)
}

// waitFor calls check every 50ms until it returns true or ctx ends. check
// also returns a description of what it saw, for the failure message.
func waitFor(t *testing.T, ctx context.Context, what string, check func() (bool, string)) {
	t.Helper()
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	last := ""
	for {
		ok, seen := check()
		if ok {
			return
		}
		last = seen
		select {
		case <-ticker.C:
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s; last seen: %s", what, last)
		}
	}
}
