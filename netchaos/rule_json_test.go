package netchaos

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRuleJSONRoundTrip(t *testing.T) {
	in := Rule{ID: "r1", From: "node-1", To: Any, Kind: KindDelay, Delay: 200 * time.Millisecond,
		Jitter: 50 * time.Millisecond, Messages: []MessageKind{MsgHeartbeat}, TTL: 30 * time.Second}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if !strings.Contains(string(data), `"delay":"200ms"`) || !strings.Contains(string(data), `"ttl":"30s"`) {
		t.Fatalf("durations are not written as text: %s", data)
	}
	var out Rule
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if out.Delay != in.Delay || out.Jitter != in.Jitter || out.TTL != in.TTL || out.From != in.From || len(out.Messages) != 1 {
		t.Fatalf("round trip changed the rule: %+v", out)
	}
}

func TestRuleJSONRejectsBadDuration(t *testing.T) {
	var r Rule
	err := json.Unmarshal([]byte(`{"from":"a","to":"b","kind":"delay","delay":"soon"}`), &r)
	if !errors.Is(err, ErrInvalidRule) || !strings.Contains(err.Error(), `"delay"`) {
		t.Fatalf("error %v, want ErrInvalidRule naming the delay field", err)
	}
}

func TestTableInstallSetsVersion(t *testing.T) {
	table := newTestTable(t, 1)
	if err := table.Install(7, Isolate("a", KindReject)); err != nil {
		t.Fatalf("Install: %v", err)
	}
	if v := table.Version(); v != 7 {
		t.Fatalf("version %d, want 7", v)
	}
	if err := table.Install(7, nil); !errors.Is(err, ErrVersionMismatch) {
		t.Fatalf("Install at the same version: error %v, want ErrVersionMismatch", err)
	}
	if err := table.Install(9, []Rule{{From: "a", To: "b", Kind: KindDrop}}); !errors.Is(err, ErrInvalidRule) {
		t.Fatalf("Install of an invalid rule: error %v, want ErrInvalidRule", err)
	}
	if v, n := table.Version(), len(table.Rules()); v != 7 || n != 2 {
		t.Fatalf("after a rejected install: version %d with %d rules, want 7 with 2", v, n)
	}
}

func TestRuleJSONRejectsUnknownField(t *testing.T) {
	var r Rule
	err := json.Unmarshal([]byte(`{"from":"a","to":"b","kind":"reject","probabilty":0.5}`), &r)
	if !errors.Is(err, ErrInvalidRule) || !strings.Contains(err.Error(), "probabilty") {
		t.Fatalf("error %v, want ErrInvalidRule naming the unknown field", err)
	}
}

func TestTableInstallRejectsHugeVersion(t *testing.T) {
	table := newTestTable(t, 1)
	if err := table.Install(MaxVersion+1, nil); !errors.Is(err, ErrInvalidRule) {
		t.Fatalf("Install above MaxVersion: error %v, want ErrInvalidRule", err)
	}
	if v := table.Version(); v != 0 {
		t.Fatalf("version %d after a rejected install, want 0", v)
	}
}
