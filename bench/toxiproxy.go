package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// ToxiproxyEnv names the environment variable that gives the path of a
// toxiproxy-server binary when no --toxiproxy flag does.
const ToxiproxyEnv = "FAULTLINE_TOXIPROXY"

// ToxiproxySkipped is printed when no toxiproxy-server binary is given.
const ToxiproxySkipped = "toxiproxy comparison skipped: no toxiproxy-server binary (set --toxiproxy or FAULTLINE_TOXIPROXY)"

// toxiproxyStartTimeout bounds the wait for the server's HTTP API.
const toxiproxyStartTimeout = 10 * time.Second

// toxiproxyServer is a toxiproxy-server child process that listens on
// 127.0.0.1. It uses the HTTP API of Toxiproxy 2.x: -host and -port flags,
// GET /version and POST /proxies.
//
// NOTE: this client follows Toxiproxy's README and server flags and has not
// run against a real toxiproxy-server, because none was installed where it
// was written.
type toxiproxyServer struct {
	cmd    *exec.Cmd
	api    string
	client *http.Client
	exited chan struct{}
	log    *slog.Logger
}

// startToxiproxy starts binary with its API on a free port of 127.0.0.1 and
// waits until GET /version returns 200.
func startToxiproxy(ctx context.Context, binary string, log *slog.Logger) (*toxiproxyServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, "-host", "127.0.0.1", "-port", strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: start %s: %w", ErrToxiproxy, binary, err)
	}
	s := &toxiproxyServer{
		cmd:    cmd,
		api:    "http://127.0.0.1:" + strconv.Itoa(port),
		client: &http.Client{Timeout: 5 * time.Second},
		exited: make(chan struct{}),
		log:    log,
	}
	go func() {
		defer close(s.exited)
		_ = cmd.Wait()
	}()
	log.Info("toxiproxy-server started", "pid", cmd.Process.Pid, "api", s.api)

	if err := s.waitReady(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// freePort returns a port of 127.0.0.1 that the kernel just had free.
// Another process could take it before toxiproxy-server binds it, and then
// startToxiproxy fails with an error naming the API address.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("%w: find a free port: %w", ErrToxiproxy, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// toxiproxyPoll is the interval between two GET /version requests while
// startToxiproxy waits for the API.
const toxiproxyPoll = 20 * time.Millisecond

func (s *toxiproxyServer) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, toxiproxyStartTimeout)
	defer cancel()
	ticker := time.NewTicker(toxiproxyPoll)
	defer ticker.Stop()
	for {
		resp, err := s.client.Get(s.api + "/version")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ticker.C:
		case <-s.exited:
			return fmt.Errorf("%w: toxiproxy-server exited before its API at %s responded; run it by hand to see why", ErrToxiproxy, s.api)
		case <-ctx.Done():
			return fmt.Errorf("%w: API at %s did not respond within %v: %w", ErrToxiproxy, s.api, toxiproxyStartTimeout, ctx.Err())
		}
	}
}

// toxiproxyProxy is the part of Toxiproxy's proxy JSON that the benchmark
// reads and writes.
type toxiproxyProxy struct {
	Name     string `json:"name"`
	Listen   string `json:"listen"`
	Upstream string `json:"upstream"`
	Enabled  bool   `json:"enabled"`
}

// createProxy creates a proxy without toxics from a kernel-chosen port of
// 127.0.0.1 to upstream and returns the address it listens on.
func (s *toxiproxyServer) createProxy(name, upstream string) (string, error) {
	body, err := json.Marshal(toxiproxyProxy{Name: name, Listen: "127.0.0.1:0", Upstream: upstream, Enabled: true})
	if err != nil {
		return "", err
	}
	resp, err := s.client.Post(s.api+"/proxies", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("%w: create proxy %s: %w", ErrToxiproxy, name, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("%w: read the response to creating proxy %s: %w", ErrToxiproxy, name, err)
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%w: create proxy %s: HTTP %d: %s", ErrToxiproxy, name, resp.StatusCode, bytes.TrimSpace(data))
	}
	var created toxiproxyProxy
	if err := json.Unmarshal(data, &created); err != nil {
		return "", fmt.Errorf("%w: decode proxy %s: %w", ErrToxiproxy, name, err)
	}
	return created.Listen, nil
}

// toxiproxyStopTimeout bounds the wait for toxiproxy-server to exit after
// SIGTERM before it is killed.
const toxiproxyStopTimeout = 5 * time.Second

// Close stops the child process with SIGTERM, kills it if it has not exited
// after toxiproxyStopTimeout, and waits for it. It is idempotent.
func (s *toxiproxyServer) Close() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(toxiproxyStopTimeout)
	defer timer.Stop()
	select {
	case <-s.exited:
	case <-timer.C:
		s.log.Warn("toxiproxy-server ignored SIGTERM; killing it", "pid", s.cmd.Process.Pid)
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.log.Info("toxiproxy-server stopped", "pid", s.cmd.Process.Pid)
}
