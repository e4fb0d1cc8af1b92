package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthAndRaft(t *testing.T) {
	n := startSingle(t)
	ctx := context.Background()

	health, err := n.client.Health(ctx)
	if err != nil {
		t.Fatalf("health: %v", err)
	}
	if health.Status != "ok" || health.NodeID != "node-1" {
		t.Errorf("health = %+v, want status ok on node-1", health)
	}

	ready, err := n.client.Ready(ctx)
	if err != nil {
		t.Fatalf("ready: %v", err)
	}
	if !ready.Ready {
		t.Errorf("ready = %+v, want ready", ready)
	}

	st, err := n.client.Raft(ctx)
	if err != nil {
		t.Fatalf("raft: %v", err)
	}
	if st.State != "Leader" || st.LeaderID != "node-1" || st.Term == 0 {
		t.Errorf("raft status = %+v, want node-1 leading in a term above 0", st)
	}
	if len(st.Configuration) != 1 || st.Configuration[0].ID != "node-1" || st.Configuration[0].Suffrage != "Voter" {
		t.Errorf("configuration = %+v, want node-1 as the only voter", st.Configuration)
	}
}

func TestReadyWithoutConfiguration(t *testing.T) {
	logger := newTestLogger(t)
	n := openTestNode(t, "node-1", logger)

	ready, err := n.client.Ready(context.Background())
	if err != nil {
		t.Fatalf("ready: %v", err)
	}
	if ready.Ready {
		t.Errorf("ready = %+v on a node that was never bootstrapped", ready)
	}
	if !strings.Contains(ready.Reason, "not in the raft configuration") {
		t.Errorf("reason = %q, want one about the raft configuration", ready.Reason)
	}
}

func TestTimelineAfter(t *testing.T) {
	n := startSingle(t)
	ctx := context.Background()

	all, err := n.client.Timeline(ctx, 0)
	if err != nil {
		t.Fatalf("timeline: %v", err)
	}
	if len(all.Events) == 0 {
		t.Fatal("timeline is empty after an election")
	}
	first := all.Events[0]
	if first.Seq != 1 || first.Node != "node-1" || first.AtUnixNano != first.At.UnixNano() {
		t.Errorf("first event = %+v, want seq 1 of node-1 with matching times", first)
	}

	later, err := n.client.Timeline(ctx, all.LastSeq)
	if err != nil {
		t.Fatalf("timeline after %d: %v", all.LastSeq, err)
	}
	for _, e := range later.Events {
		if e.Seq <= all.LastSeq {
			t.Errorf("event %d returned after seq %d", e.Seq, all.LastSeq)
		}
	}

	err = n.client.do(ctx, http.MethodGet, "/v1/timeline?after=x", nil, nil, http.StatusOK)
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Body.Field != "after" {
		t.Errorf("after=x: error %v, want a 400 naming after", err)
	}
}

func TestMembersAndMetrics(t *testing.T) {
	members := &staticMembers{}
	members.add(Member{Name: "node-1", Addr: "127.0.0.1:7946", RaftAddr: "127.0.0.1:7000", HTTPAddr: "127.0.0.1:8080", State: MemberAlive})
	n := startSingle(t, func(_ *Config, b *Backend) { b.Members = members })
	ctx := context.Background()

	list, err := n.client.Members(ctx)
	if err != nil {
		t.Fatalf("members: %v", err)
	}
	if len(list) != 1 || list[0] != members.members[0] {
		t.Errorf("members = %+v, want %+v", list, members.members)
	}

	text, err := n.client.Metrics(ctx)
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	for _, want := range []string{
		`faultline_raft_is_leader{node_id="node-1"} 1`,
		`faultline_raft_state{node_id="node-1",state="Leader"} 1`,
		"faultline_raft_commit_index",
		"faultline_daemon_runs_total",
		"faultline_netchaos_table_version",
		"go_goroutines",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestUnknownPath(t *testing.T) {
	n := startSingle(t)
	err := n.client.do(context.Background(), http.MethodGet, "/v2/nothing", nil, nil, http.StatusOK)
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("GET /v2/nothing: %v, want ErrNotFound", err)
	}
}

func TestAuth(t *testing.T) {
	tests := []struct {
		name       string
		listen     string
		token      string
		send       string
		wantStatus int
	}{
		{"loopback without token", "127.0.0.1:8080", "", "", http.StatusOK},
		{"loopback token missing", "127.0.0.1:8080", "secret", "", http.StatusUnauthorized},
		{"loopback token wrong", "127.0.0.1:8080", "secret", "guess", http.StatusForbidden},
		{"loopback token right", "127.0.0.1:8080", "secret", "secret", http.StatusOK},
		{"any address token missing", "0.0.0.0:8080", "secret", "", http.StatusUnauthorized},
		{"any address token wrong", ":8080", "secret", "guess", http.StatusForbidden},
		{"any address token right", "10.0.0.5:8080", "secret", "secret", http.StatusOK},
	}
	n := startSingle(t)
	b := Backend{Raft: NodeAdapter(n.node), Timeline: n.node.Timeline(), Faults: n.table, Daemon: n.daemon}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.NodeID, cfg.ListenAddr, cfg.Token = "node-1", tc.listen, tc.token
			server, err := NewServer(cfg, b)
			if err != nil {
				t.Fatalf("new server: %v", err)
			}

			req := httptest.NewRequest(http.MethodDelete, "/v1/faults", nil)
			if tc.send != "" {
				req.Header.Set("Authorization", "Bearer "+tc.send)
			}
			rec := httptest.NewRecorder()
			server.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Errorf("DELETE /v1/faults: status %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
			}

			get := httptest.NewRecorder()
			server.ServeHTTP(get, httptest.NewRequest(http.MethodGet, "/v1/faults", nil))
			if get.Code != http.StatusOK {
				t.Errorf("GET /v1/faults without a token: status %d, want 200", get.Code)
			}
		})
	}
}

func TestAuthClientErrors(t *testing.T) {
	n := startSingle(t, func(cfg *Config, _ *Backend) { cfg.Token = "secret" })
	ctx := context.Background()

	tests := []struct {
		name  string
		token string
		want  int
	}{
		{"missing", "", http.StatusUnauthorized},
		{"wrong", "guess", http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewClient(n.http.URL, tc.token, n.http.Client())
			_, err := c.ClearFaults(ctx)
			if !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("clear faults: %v, want ErrUnauthorized", err)
			}
			var apiErr *Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tc.want {
				t.Errorf("error %v, want status %d", err, tc.want)
			}
		})
	}

	if _, err := n.client.ClearFaults(ctx); err != nil {
		t.Errorf("clear faults with the right token: %v", err)
	}
}

func TestServerConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no node id", func(c *Config) { c.NodeID = "" }, "NodeID"},
		{"no listen address", func(c *Config) { c.ListenAddr = "" }, "ListenAddr"},
		{"public without token", func(c *Config) { c.ListenAddr = "0.0.0.0:8080" }, "token is required"},
		{"zero apply timeout", func(c *Config) { c.ApplyTimeout = 0 }, "ApplyTimeout"},
		{"zero body limit", func(c *Config) { c.MaxBodyBytes = 0 }, "MaxBodyBytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.NodeID, cfg.ListenAddr = "node-1", "127.0.0.1:8080"
			tc.change(&cfg)
			err := cfg.Validate()
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want ErrInvalidConfig naming %q", err, tc.want)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	tests := map[string]bool{
		"127.0.0.1:8080": true, "127.1.2.3:1": true, "[::1]:8080": true, "localhost:8080": true, "::1": true,
		"0.0.0.0:8080": false, ":8080": false, "[::]:8080": false, "10.0.0.1:8080": false, "node-1:8080": false,
	}
	for addr, want := range tests {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestClientNonJSONError(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "upstream exploded")
	}))
	defer backend.Close()

	_, err := NewClient(backend.URL, "", backend.Client()).Health(context.Background())
	var apiErr *Error
	if !errors.Is(err, ErrServer) || !errors.As(err, &apiErr) {
		t.Fatalf("health: %v, want an *Error wrapping ErrServer", err)
	}
	if apiErr.Body.Error != "upstream exploded" {
		t.Errorf("message = %q, want the response text", apiErr.Body.Error)
	}
}

func TestClientUnreachable(t *testing.T) {
	backend := httptest.NewServer(http.NotFoundHandler())
	url := backend.URL
	backend.Close()

	_, err := NewClient(url, "", nil).Health(context.Background())
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("health of a closed server: %v, want ErrUnreachable", err)
	}
}

func TestResponsesAreJSON(t *testing.T) {
	n := startSingle(t)
	for _, path := range []string{"/healthz", "/readyz", "/v1/raft", "/v1/members", "/v1/faults", "/v1/ops", "/v1/failpoints", "/v1/health/daemon", "/nope"} {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			resp, err := n.http.Client().Get(n.http.URL + path)
			if err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
			defer resp.Body.Close()
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			data, _ := io.ReadAll(resp.Body)
			if !json.Valid(bytes.TrimSpace(data)) {
				t.Errorf("body is not JSON: %s", data)
			}
		})
	}
}
