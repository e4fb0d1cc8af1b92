package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/faultline-dev/faultline/admin"
)

// healthPollInterval is the pause between two health checks of a starting
// node.
const healthPollInterval = 20 * time.Millisecond

// logTailBytes is how much of a node's log an error about it quotes.
const logTailBytes = 2048

// proc is one node process. Its fields other than cmd, pid and exited are
// set once.
type proc struct {
	id      string
	env     []string
	logPath string
	httpURL string

	cmd    *exec.Cmd
	pid    int
	exited chan struct{} // closed when the running process has exited
}

// running reports whether the last started process has not exited.
func (p *proc) running() bool {
	if p.exited == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// startLocked starts p's process with its output appended to its log. A
// goroutine, counted in c.waiters, reaps it when it exits.
func (c *Procs) startLocked(p *proc) error {
	if c.stopped {
		return ErrClosed
	}
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("cluster: open the log of %s: %w", p.id, err)
	}
	cmd := exec.Command(c.cfg.Binary, "run")
	cmd.Env = append(environWithout("FAULTLINE_"), p.env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("cluster: start %s: %w", p.id, err)
	}
	exited := make(chan struct{})
	p.cmd, p.pid, p.exited = cmd, cmd.Process.Pid, exited
	c.waiters.Add(1)
	go func() {
		defer c.waiters.Done()
		err := cmd.Wait()
		logFile.Close()
		c.log.Info("node process exited", "node_id", p.id, "pid", cmd.Process.Pid, "status", exitStatus(err))
		close(exited)
	}()
	c.log.Info("node process started", "node_id", p.id, "pid", p.pid, "admin_url", p.httpURL)
	return nil
}

func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// kill sends SIGKILL and waits until the process has exited.
func (p *proc) kill() error {
	if !p.running() {
		return nil
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-p.exited
	return nil
}

// stop sends SIGTERM, so the node leaves the member list and hands over
// leadership, and SIGKILL when it has not exited after timeout.
func (p *proc) stop(timeout time.Duration) error {
	if !p.running() {
		return nil
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.exited:
		return nil
	case <-timer.C:
	}
	if err := p.kill(); err != nil {
		return err
	}
	return fmt.Errorf("still running %v after SIGTERM; killed it", timeout)
}

// waitHealthy waits until the admin API of node id serves GET /healthz
// with that ID. It fails early when exited closes; a nil exited never does.
// Its errors end with details(), such as the end of the node's log.
func waitHealthy(ctx context.Context, client *admin.Client, id string, exited <-chan struct{}, details func() string) error {
	ticker := time.NewTicker(healthPollInterval)
	defer ticker.Stop()
	var last error
	for {
		hctx, cancel := context.WithTimeout(ctx, time.Second)
		h, err := client.Health(hctx)
		cancel()
		switch {
		case err == nil && h.NodeID == id:
			return nil
		case err == nil:
			return fmt.Errorf("cluster: %s serves node %q, not %s: another process is bound to its port", client.BaseURL(), h.NodeID, id)
		}
		last = err
		select {
		case <-exited:
			return fmt.Errorf("cluster: %s exited during start; %s", id, details())
		case <-ctx.Done():
			return fmt.Errorf("cluster: %s not healthy (last error: %v): %w; %s", id, last, ctx.Err(), details())
		case <-ticker.C:
		}
	}
}

// waitProcHealthy waits until p serves its admin API.
func (c *Procs) waitProcHealthy(ctx context.Context, p *proc) error {
	client := admin.NewClient(p.httpURL, c.token, c.http)
	return waitHealthy(ctx, client, p.id, p.exited, func() string {
		return "end of " + p.logPath + ":\n" + logTail(p.logPath)
	})
}

// logTail returns the last logTailBytes of the file at path.
func logTail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() > logTailBytes {
		if _, err := f.Seek(-logTailBytes, io.SeekEnd); err != nil {
			return err.Error()
		}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return err.Error()
	}
	return string(data)
}

// environWithout returns this process's environment without the variables
// whose names start with prefix, so that settings of the caller's shell do
// not reach the nodes.
func environWithout(prefix string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			out = append(out, kv)
		}
	}
	return out
}

// freePorts returns n distinct ports on 127.0.0.1 that are free for both
// TCP and UDP, as memberlist needs for gossip. It holds every port until it
// has found them all. Another process may still take a port between the
// return and the node's bind. The node then fails to start, and the error
// quotes its log.
func freePorts(n int) ([]int, error) {
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	ports := make([]int, 0, n)
	for attempts := 0; len(ports) < n; attempts++ {
		if attempts > 10*n {
			return nil, fmt.Errorf("cluster: found only %d of %d free ports on 127.0.0.1", len(ports), n)
		}
		tcp, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("cluster: find a free port: %w", err)
		}
		closers = append(closers, tcp)
		port := tcp.Addr().(*net.TCPAddr).Port
		udp, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		closers = append(closers, udp)
		ports = append(ports, port)
	}
	return ports, nil
}
