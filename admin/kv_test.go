package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestKVPutGetCAS(t *testing.T) {
	n := startSingle(t)
	ctx := context.Background()

	index, err := n.client.Put(ctx, "dir/a b", "one")
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	if index == 0 {
		t.Error("put returned index 0")
	}

	for _, consistent := range []bool{false, true} {
		got, err := n.client.Get(ctx, "dir/a b", consistent)
		if err != nil {
			t.Fatalf("get consistent=%v: %v", consistent, err)
		}
		if got != (KVValue{Key: "dir/a b", Value: "one", Found: true}) {
			t.Errorf("get consistent=%v = %+v, want one", consistent, got)
		}
	}

	missing, err := n.client.Get(ctx, "absent", false)
	if err != nil {
		t.Fatalf("get absent: %v", err)
	}
	if missing.Found {
		t.Errorf("absent key found: %+v", missing)
	}

	tests := []struct {
		name     string
		expected *string
		value    string
		wantOK   bool
	}{
		{"wrong expected", ptr("two"), "x", false},
		{"right expected", ptr("one"), "two", true},
		{"absent expected on present key", nil, "y", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := n.client.CompareAndSet(ctx, "dir/a b", tc.expected, tc.value)
			if err != nil {
				t.Fatalf("cas: %v", err)
			}
			if res.OK != tc.wantOK || res.Index == 0 {
				t.Errorf("cas = %+v, want ok %v with an index", res, tc.wantOK)
			}
		})
	}

	created, err := n.client.CompareAndSet(ctx, "new", nil, "first")
	if err != nil || !created.OK {
		t.Errorf("cas on an absent key with null expected = %+v, %v, want ok", created, err)
	}
}

func TestKVInvalidBodies(t *testing.T) {
	tests := []struct {
		name      string
		method    string
		path      string
		body      string
		wantField string
	}{
		{"put missing value", http.MethodPut, "/v1/kv/k", `{}`, "value"},
		{"put value not string", http.MethodPut, "/v1/kv/k", `{"value":3}`, "value"},
		{"put unknown field", http.MethodPut, "/v1/kv/k", `{"value":"v","ttl":"1s"}`, "ttl"},
		{"put empty body", http.MethodPut, "/v1/kv/k", ``, ""},
		{"put not json", http.MethodPut, "/v1/kv/k", `value=v`, ""},
		{"put two objects", http.MethodPut, "/v1/kv/k", `{"value":"v"}{"value":"w"}`, ""},
		{"put array", http.MethodPut, "/v1/kv/k", `["v"]`, ""},
		{"cas missing expected", http.MethodPost, "/v1/kv/k/cas", `{"value":"v"}`, "expected"},
		{"cas expected number", http.MethodPost, "/v1/kv/k/cas", `{"expected":1,"value":"v"}`, "expected"},
		{"cas missing value", http.MethodPost, "/v1/kv/k/cas", `{"expected":null}`, "value"},
		{"get consistent not bool", http.MethodGet, "/v1/kv/k?consistent=maybe", ``, "consistent"},
		{"key too long", http.MethodPut, "/v1/kv/" + strings.Repeat("k", maxKeyBytes+1), `{"value":"v"}`, "key"},
	}
	n := startSingle(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := sendRaw(t, n, tc.method, tc.path, tc.body)
			if status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400 (%+v)", status, body)
			}
			if body.Field != tc.wantField {
				t.Errorf("field = %q, want %q (message %q)", body.Field, tc.wantField, body.Error)
			}
			if body.Code != CodeInvalid || body.Error == "" {
				t.Errorf("body = %+v, want code invalid with a message", body)
			}
		})
	}

	if _, found := n.node.Get("k"); found {
		t.Error("a rejected request wrote key k")
	}
}

func TestKVBodyTooLarge(t *testing.T) {
	n := startSingle(t, func(cfg *Config, _ *Backend) { cfg.MaxBodyBytes = 64 })
	status, body := sendRaw(t, n, http.MethodPut, "/v1/kv/k", `{"value":"`+strings.Repeat("x", 100)+`"}`)
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413 (%+v)", status, body)
	}
}

func TestKVNotLeader(t *testing.T) {
	nodes, leader := startTrio(t)
	ctx := context.Background()
	var follower *testNode
	for _, n := range nodes {
		if n != leader {
			follower = n
			break
		}
	}

	_, err := follower.client.Put(ctx, "k", "v")
	if !errors.Is(err, ErrNotLeader) {
		t.Fatalf("put on follower: %v, want ErrNotLeader", err)
	}
	var notLeader *NotLeaderError
	if !errors.As(err, &notLeader) {
		t.Fatalf("put on follower: %T, want *NotLeaderError", err)
	}
	if notLeader.LeaderID != leader.id || notLeader.LeaderHTTP != leader.http.URL {
		t.Errorf("hint = %s at %s, want %s at %s", notLeader.LeaderID, notLeader.LeaderHTTP, leader.id, leader.http.URL)
	}
	if notLeader.Response.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("status = %d, want 421", notLeader.Response.StatusCode)
	}

	_, err = follower.client.Get(ctx, "k", true)
	if !errors.As(err, &notLeader) || notLeader.LeaderID != leader.id {
		t.Errorf("consistent get on follower: %v, want a hint to %s", err, leader.id)
	}

	redirected := NewClient(notLeader.LeaderHTTP, "", nil)
	if _, err := redirected.Put(ctx, "k", "v"); err != nil {
		t.Errorf("put through the hinted leader: %v", err)
	}
}

func TestKVNoLeader(t *testing.T) {
	logger := newTestLogger(t)
	n := openTestNode(t, "node-1", logger)

	_, err := n.client.Put(context.Background(), "k", "v")
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("put without a leader: %v, want ErrUnavailable", err)
	}
}
