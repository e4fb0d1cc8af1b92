package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestOpsKinds(t *testing.T) {
	tests := []struct {
		name       string
		op         OpRequest
		wantStatus string
		wantError  string
		wantResult string
	}{
		{"noop", OpRequest{ID: "n", Kind: OpNoop}, StatusSucceeded, "", ""},
		{"sleep", OpRequest{ID: "s", Kind: OpSleep, Params: OpParams{Duration: Duration(5 * time.Millisecond)}}, StatusSucceeded, "", ""},
		{"sleep past timeout", OpRequest{ID: "st", Kind: OpSleep, Params: OpParams{Duration: Duration(time.Minute)}, Timeout: Duration(20 * time.Millisecond)}, StatusTimedOut, "timed out", ""},
		{"fail with message", OpRequest{ID: "f", Kind: OpFail, Params: OpParams{Message: "disk on fire"}}, StatusFailed, "disk on fire", ""},
		{"fail default", OpRequest{ID: "fd", Kind: OpFail}, StatusFailed, "injected", ""},
		{"random fail always", OpRequest{ID: "r", Kind: OpRandomFail, Params: OpParams{Rate: 1}}, StatusFailed, "injected", ""},
		{"allocate", OpRequest{ID: "a", Kind: OpAllocate, Params: OpParams{Bytes: 1 << 20}}, StatusSucceeded, "", `{"bytes":1048576}`},
		{"leader scope on leader", OpRequest{ID: "l", Kind: OpNoop, Scope: "leader"}, StatusSucceeded, "", ""},
	}
	n := startSingle(t)
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, err := n.client.ScheduleOp(ctx, tc.op)
			if err != nil {
				t.Fatalf("schedule: %v", err)
			}
			if info.ID != tc.op.ID || info.Kind != tc.op.Kind || info.Params != tc.op.Params {
				t.Errorf("scheduled %+v, want the request's id, kind and params", info)
			}

			res, err := n.client.ExecuteOp(ctx, tc.op.ID)
			if err != nil {
				t.Fatalf("execute: %v", err)
			}
			if res.Status != tc.wantStatus {
				t.Errorf("status = %q, want %q (error %q)", res.Status, tc.wantStatus, res.Error)
			}
			if !strings.Contains(res.Error, tc.wantError) || (tc.wantError == "") != (res.Error == "") {
				t.Errorf("error = %q, want it to contain %q", res.Error, tc.wantError)
			}
			if string(res.Result) != tc.wantResult {
				t.Errorf("result = %s, want %s", res.Result, tc.wantResult)
			}
			if res.DurationMS < 0 {
				t.Errorf("duration %v ms is negative", res.DurationMS)
			}
		})
	}

	list, err := n.client.Ops(ctx)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(list) != len(tests) {
		t.Errorf("listed %d operations, want %d", len(list), len(tests))
	}
	status, err := n.client.DaemonStatus(ctx)
	if err != nil {
		t.Fatalf("daemon status: %v", err)
	}
	if status.Metrics.Executed != uint64(len(tests)) || !status.Health.IsLeader || !status.Health.Running {
		t.Errorf("daemon status = %+v, want %d runs on a running leader", status, len(tests))
	}
}

// TestOpsRandomFailSeeded checks that the same seed and operation ID give
// the same sequence of outcomes.
func TestOpsRandomFailSeeded(t *testing.T) {
	outcomes := func(seed int64) string {
		n := startSingle(t, func(cfg *Config, _ *Backend) { cfg.Seed = seed })
		ctx := context.Background()
		if _, err := n.client.ScheduleOp(ctx, OpRequest{ID: "coin", Kind: OpRandomFail, Params: OpParams{Rate: 0.5}}); err != nil {
			t.Fatalf("schedule: %v", err)
		}
		var b strings.Builder
		for range 32 {
			res, err := n.client.ExecuteOp(ctx, "coin")
			if err != nil {
				t.Fatalf("execute: %v", err)
			}
			b.WriteByte(res.Status[0])
		}
		return b.String()
	}

	first, second, other := outcomes(42), outcomes(42), outcomes(43)
	if first != second {
		t.Errorf("seed 42 gave %s, then %s", first, second)
	}
	if first == other {
		t.Errorf("seeds 42 and 43 gave the same outcomes %s", first)
	}
	if !strings.Contains(first, "s") || !strings.Contains(first, "f") {
		t.Errorf("rate 0.5 over 32 runs gave only one outcome: %s", first)
	}
}

func TestOpsInvalid(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantField string
	}{
		{"missing id", `{"kind":"noop"}`, "id"},
		{"id with slash", `{"id":"a/b","kind":"noop"}`, "id"},
		{"unknown kind", `{"id":"x","kind":"explode"}`, "kind"},
		{"missing kind", `{"id":"x"}`, "kind"},
		{"bad scope", `{"id":"x","kind":"noop","scope":"cluster"}`, "scope"},
		{"bad timeout", `{"id":"x","kind":"noop","timeout":"soon"}`, "timeout"},
		{"negative timeout", `{"id":"x","kind":"noop","timeout":"-1s"}`, "timeout"},
		{"sleep without duration", `{"id":"x","kind":"sleep"}`, "params.duration"},
		{"sleep zero duration", `{"id":"x","kind":"sleep","params":{"duration":"0s"}}`, "params.duration"},
		{"noop with params", `{"id":"x","kind":"noop","params":{"rate":0.5}}`, "params.rate"},
		{"unknown param", `{"id":"x","kind":"sleep","params":{"duration":"1s","speed":2}}`, "params.speed"},
		{"rate above one", `{"id":"x","kind":"random-fail","params":{"rate":1.5}}`, "params.rate"},
		{"rate missing", `{"id":"x","kind":"random-fail"}`, "params.rate"},
		{"rate as string", `{"id":"x","kind":"random-fail","params":{"rate":"half"}}`, "params.rate"},
		{"allocate above cap", `{"id":"x","kind":"allocate","params":{"bytes":268435457}}`, "params.bytes"},
		{"allocate zero", `{"id":"x","kind":"allocate","params":{"bytes":0}}`, "params.bytes"},
		{"unknown top field", `{"id":"x","kind":"noop","priority":1}`, "priority"},
	}
	n := startSingle(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := sendRaw(t, n, http.MethodPost, "/v1/ops", tc.body)
			if status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400 (%+v)", status, body)
			}
			if body.Field != tc.wantField {
				t.Errorf("field = %q, want %q (message %q)", body.Field, tc.wantField, body.Error)
			}
		})
	}
	if ops := n.daemon.List(); len(ops) != 0 {
		t.Errorf("rejected requests scheduled %+v", ops)
	}
}

func TestOpsLifecycleErrors(t *testing.T) {
	n := startSingle(t)
	ctx := context.Background()
	if _, err := n.client.ScheduleOp(ctx, OpRequest{ID: "x", Kind: OpNoop}); err != nil {
		t.Fatalf("schedule: %v", err)
	}

	if _, err := n.client.ScheduleOp(ctx, OpRequest{ID: "x", Kind: OpNoop}); !errors.Is(err, ErrConflict) {
		t.Errorf("schedule duplicate: %v, want ErrConflict", err)
	}
	if _, err := n.client.ExecuteOp(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("execute unknown: %v, want ErrNotFound", err)
	}
	if err := n.client.UnscheduleOp(ctx, "x"); err != nil {
		t.Errorf("unschedule: %v", err)
	}
	if err := n.client.UnscheduleOp(ctx, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unschedule twice: %v, want ErrNotFound", err)
	}
}

func TestOpsChaosDisabled(t *testing.T) {
	tests := []struct {
		op      OpRequest
		allowed bool
	}{
		{OpRequest{ID: "n", Kind: OpNoop}, true},
		{OpRequest{ID: "s", Kind: OpSleep, Params: OpParams{Duration: Duration(time.Millisecond)}}, true},
		{OpRequest{ID: "f", Kind: OpFail}, false},
		{OpRequest{ID: "r", Kind: OpRandomFail, Params: OpParams{Rate: 0.5}}, false},
		{OpRequest{ID: "a", Kind: OpAllocate, Params: OpParams{Bytes: 1}}, false},
	}
	n := startSingle(t, func(cfg *Config, _ *Backend) { cfg.ChaosEnabled = false })
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.op.Kind, func(t *testing.T) {
			_, err := n.client.ScheduleOp(ctx, tc.op)
			if tc.allowed && err != nil {
				t.Errorf("schedule %s with chaos off: %v, want it allowed", tc.op.Kind, err)
			}
			if !tc.allowed && !errors.Is(err, ErrChaosDisabled) {
				t.Errorf("schedule %s with chaos off: %v, want ErrChaosDisabled", tc.op.Kind, err)
			}
		})
	}
}

func TestOpsLeaderScopeOnFollower(t *testing.T) {
	nodes, leader := startTrio(t)
	ctx := context.Background()
	for _, n := range nodes {
		if n == leader {
			continue
		}
		if _, err := n.client.ScheduleOp(ctx, OpRequest{ID: "lead", Kind: OpNoop, Scope: "leader"}); err != nil {
			t.Fatalf("schedule on %s: %v", n.id, err)
		}
		_, err := n.client.ExecuteOp(ctx, "lead")
		var notLeader *NotLeaderError
		if !errors.As(err, &notLeader) || notLeader.LeaderID != leader.id {
			t.Errorf("execute on follower %s: %v, want a hint to %s", n.id, err, leader.id)
		}
	}
}

func TestFailpoints(t *testing.T) {
	n := startSingle(t)
	ctx := context.Background()

	all, err := n.client.Failpoints(ctx)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(all) != 3 || all["before-execute"].Enabled {
		t.Errorf("failpoints = %+v, want three, all disabled", all)
	}

	st, err := n.client.EnableFailpoint(ctx, "before-execute", FailpointRequest{Action: FailpointError, Message: "boom", Times: 1})
	if err != nil {
		t.Fatalf("enable: %v", err)
	}
	if !st.Enabled || st.Action != FailpointError || st.Message != "boom" || st.Times != 1 {
		t.Errorf("enabled = %+v, want error boom once", st)
	}
	if _, err := n.client.ScheduleOp(ctx, OpRequest{ID: "x", Kind: OpNoop}); err != nil {
		t.Fatalf("schedule: %v", err)
	}
	res, err := n.client.ExecuteOp(ctx, "x")
	if err != nil || res.Status != StatusFailed || !strings.Contains(res.Error, "boom") {
		t.Errorf("run through the failpoint = %+v, %v, want failed with boom", res, err)
	}

	if _, err := n.client.EnableFailpoint(ctx, "nowhere", FailpointRequest{Action: FailpointPanic}); !errors.Is(err, ErrNotFound) {
		t.Errorf("enable unknown: %v, want ErrNotFound", err)
	}
	_, err = n.client.EnableFailpoint(ctx, "before-execute", FailpointRequest{Action: FailpointCorrupt})
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Body.Field != "action" {
		t.Errorf("corrupt on before-execute: %v, want a 400 naming action", err)
	}

	status, body := sendRaw(t, n, http.MethodPut, "/v1/failpoints/after-execute", `{"action":"sleep"}`)
	if status != http.StatusBadRequest || body.Field != "duration" {
		t.Errorf("sleep without duration: %d %+v, want a 400 naming duration", status, body)
	}

	if _, err := n.client.EnableFailpoint(ctx, "after-execute", FailpointRequest{Action: FailpointSleep, Duration: Duration(time.Millisecond)}); err != nil {
		t.Fatalf("enable sleep: %v", err)
	}
	st, err = n.client.DisableFailpoint(ctx, "after-execute")
	if err != nil || st.Enabled {
		t.Errorf("disable = %+v, %v, want disabled", st, err)
	}
}

func TestFailpointsChaosDisabled(t *testing.T) {
	n := startSingle(t, func(cfg *Config, _ *Backend) { cfg.ChaosEnabled = false })
	ctx := context.Background()
	_, err := n.client.EnableFailpoint(ctx, "before-execute", FailpointRequest{Action: FailpointPanic})
	if !errors.Is(err, ErrChaosDisabled) {
		t.Errorf("enable with chaos off: %v, want ErrChaosDisabled", err)
	}
	if _, err := n.client.DisableFailpoint(ctx, "before-execute"); err != nil {
		t.Errorf("disable with chaos off: %v, want it allowed", err)
	}
}

func TestDurationJSON(t *testing.T) {
	data, err := json.Marshal(OpParams{Duration: Duration(1500 * time.Millisecond)})
	if err != nil || string(data) != `{"duration":"1.5s"}` {
		t.Errorf("marshal = %s, %v, want a duration string", data, err)
	}
	var d Duration
	if err := json.Unmarshal([]byte(`1500`), &d); err == nil {
		t.Error("a bare number decoded as a duration")
	}
}
