package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/netchaos"
)

func TestFaultsInstallAndClear(t *testing.T) {
	n := startSingle(t)
	ctx := context.Background()

	rules := append(netchaos.Isolate("node-2", netchaos.KindPartition),
		netchaos.Rule{ID: "slow", From: "node-1", To: "node-3", Kind: netchaos.KindDelay, Delay: 20 * time.Millisecond, TTL: time.Minute})
	installed, err := n.client.InstallFaults(ctx, 7, rules)
	if err != nil {
		t.Fatalf("install: %v", err)
	}
	if installed.Version != 7 || len(installed.Rules) != 3 {
		t.Fatalf("install returned %+v, want version 7 with 3 rules", installed)
	}
	for _, r := range installed.Rules {
		if r.ID == "" || r.ExpiresAt.IsZero() {
			t.Errorf("installed rule %+v lacks an id or expiry", r)
		}
	}

	got, err := n.client.Faults(ctx)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.Version != 7 || len(got.Rules) != 3 || got.Rules[2].ID != "slow" || got.Rules[2].Delay != 20*time.Millisecond {
		t.Errorf("table = %+v, want version 7 with the delay rule kept as sent", got)
	}
	if n.table.Version() != 7 {
		t.Errorf("node table version = %d, want 7", n.table.Version())
	}

	version, err := n.client.ClearFaults(ctx)
	if err != nil {
		t.Fatalf("clear: %v", err)
	}
	if version != 8 || len(n.table.Rules()) != 0 {
		t.Errorf("after clear: version %d with %d rules, want version 8 and none", version, len(n.table.Rules()))
	}
}

func TestFaultsVersionConflict(t *testing.T) {
	n := startSingle(t)
	ctx := context.Background()
	if _, err := n.client.InstallFaults(ctx, 5, netchaos.Isolate("node-2", netchaos.KindReject)); err != nil {
		t.Fatalf("install version 5: %v", err)
	}

	for _, version := range []uint64{5, 3} {
		_, err := n.client.InstallFaults(ctx, version, nil)
		if !errors.Is(err, ErrVersionConflict) {
			t.Fatalf("install version %d: %v, want ErrVersionConflict", version, err)
		}
		var apiErr *Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusConflict || apiErr.Body.Version != 5 {
			t.Errorf("install version %d: %v, want a 409 carrying version 5", version, err)
		}
	}
	if len(n.table.Rules()) != 2 {
		t.Errorf("rejected installs changed the table to %+v", n.table.Rules())
	}
}

func TestFaultsChaosDisabled(t *testing.T) {
	n := startSingle(t, func(cfg *Config, _ *Backend) { cfg.ChaosEnabled = false })
	ctx := context.Background()

	_, err := n.client.InstallFaults(ctx, 1, netchaos.Isolate("node-2", netchaos.KindPartition))
	if !errors.Is(err, ErrChaosDisabled) {
		t.Fatalf("install with chaos off: %v, want ErrChaosDisabled", err)
	}
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusForbidden {
		t.Errorf("install with chaos off: %v, want a 403", err)
	}
	if !strings.Contains(err.Error(), "chaos is disabled on this node") {
		t.Errorf("message %q does not say chaos is disabled", err)
	}
	if len(n.table.Rules()) != 0 {
		t.Errorf("table has rules %+v with chaos off", n.table.Rules())
	}

	if _, err := n.client.ClearFaults(ctx); err != nil {
		t.Errorf("clear with chaos off: %v, want it allowed", err)
	}
}

func TestFaultsInvalidRulesChangeNothing(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantField string
	}{
		{"second rule bad kind", `{"version":9,"rules":[{"from":"a","to":"b","kind":"partition"},{"from":"a","to":"c","kind":"explode"}]}`, "rules[1]"},
		{"unknown rule field", `{"version":9,"rules":[{"from":"a","to":"b","kind":"partition","sever":true}]}`, "rules[0].sever"},
		{"bad delay", `{"version":9,"rules":[{"from":"a","to":"b","kind":"delay","delay":"soon"}]}`, "rules[0]"},
		{"rule not object", `{"version":9,"rules":[42]}`, "rules[0]"},
		{"duplicate ids", `{"version":9,"rules":[{"id":"x","from":"a","to":"b","kind":"reject"},{"id":"x","from":"b","to":"a","kind":"reject"}]}`, "rules[1].id"},
		{"missing version", `{"rules":[]}`, "version"},
		{"zero version", `{"version":0,"rules":[]}`, "version"},
		{"missing rules", `{"version":9}`, "rules"},
		{"unknown top field", `{"version":9,"rules":[],"force":true}`, "force"},
		{"version as string", `{"version":"9","rules":[]}`, "version"},
	}
	n := startSingle(t)
	ctx := context.Background()
	if _, err := n.client.InstallFaults(ctx, 2, netchaos.Isolate("node-2", netchaos.KindReject)); err != nil {
		t.Fatalf("install: %v", err)
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := sendRaw(t, n, http.MethodPut, "/v1/faults", tc.body)
			if status != http.StatusBadRequest {
				t.Fatalf("PUT %s: status %d, want 400", tc.body, status)
			}
			if body.Field != tc.wantField {
				t.Errorf("field = %q, want %q (message %q)", body.Field, tc.wantField, body.Error)
			}
			if v := n.table.Version(); v != 2 || len(n.table.Rules()) != 2 {
				t.Errorf("table changed to version %d with %d rules", v, len(n.table.Rules()))
			}
		})
	}
}
