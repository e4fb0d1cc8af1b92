package bench

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/raftint"
)

// smokeTestConfig is SmokeConfig cut down to stay well under 30 seconds
// under -race on two cores: the fast profile only, one cluster size, and
// no daemon section, because that one runs go test as a child process.
// TestParseBenchmarks covers the daemon section's parsing.
func smokeTestConfig(t *testing.T) Config {
	cfg := SmokeConfig()
	cfg.Sections = []Section{SectionProxy, SectionRTO, SectionScale}
	cfg.Proxy.Profile = raftint.ProfileFast
	cfg.Proxy.Window = 100 * time.Millisecond
	cfg.Proxy.LatencyWrites = 10
	cfg.Proxy.RPCCalls = 50
	cfg.RTO.Profiles = []raftint.Profile{raftint.ProfileFast}
	cfg.Scale.Sizes = []int{3}
	cfg.Scale.IdleWindow = 100 * time.Millisecond
	cfg.DataDir = t.TempDir()
	cfg.Logger = testLogger(t)
	return cfg
}

func TestRunSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts several raft clusters; skipped with -short")
	}
	var progress bytes.Buffer
	cfg := smokeTestConfig(t)
	cfg.Progress = &progress

	res, err := Run(t.Context(), cfg)
	t.Logf("progress:\n%s", progress.String())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}

	t.Run("proxy", func(t *testing.T) {
		p := res.Proxy
		if p == nil {
			t.Fatal("no proxy result")
		}
		if len(p.Rounds) != 1 {
			t.Errorf("proxy rounds = %d, want 1", len(p.Rounds))
		}
		if p.Plain.Throughput <= 0 || p.Netchaos.Throughput <= 0 {
			t.Errorf("throughput plain %v, netchaos %v; want both above zero", p.Plain.Throughput, p.Netchaos.Throughput)
		}
		if p.Plain.P99 < p.Plain.P50 || p.Netchaos.P99 < p.Netchaos.P50 {
			t.Errorf("p99 below p50: plain %+v, netchaos %+v", p.Plain, p.Netchaos)
		}
		if p.RPC.Plain <= 0 || p.RPC.Netchaos <= 0 {
			t.Errorf("rpc plain %v, netchaos %v; want both above zero", p.RPC.Plain, p.RPC.Netchaos)
		}
		if os.Getenv(ToxiproxyEnv) == "" && p.RPC.Skipped != ToxiproxySkipped {
			t.Errorf("toxiproxy skipped = %q, want %q", p.RPC.Skipped, ToxiproxySkipped)
		}
	})

	t.Run("rto", func(t *testing.T) {
		if res.RTO == nil || len(res.RTO.Runs) != 2 {
			t.Fatalf("rto runs = %+v, want leader-isolation and leader-crash", res.RTO)
		}
		for _, run := range res.RTO.Runs {
			if run.Recovered != 1 {
				t.Errorf("%s: %d of %d repetitions recovered, want 1", run.Scenario, run.Recovered, len(run.Reps))
			}
			if run.Floor != raftint.ProfileFast.Timing().Floor() {
				t.Errorf("%s: floor %v, want the fast profile's", run.Scenario, run.Floor)
			}
			if len(run.Reps) == 1 && !run.Reps[0].Observer.Recovered {
				t.Errorf("%s: the observer saw no recovery: %+v", run.Scenario, run.Reps[0].Observer)
			}
			if run.Observer.N != 1 || run.Difference.N != 1 {
				t.Errorf("%s: observer n %d, difference n %d; want 1 each", run.Scenario, run.Observer.N, run.Difference.N)
			}
		}
	})

	t.Run("scale", func(t *testing.T) {
		if res.Scale == nil || len(res.Scale.Rows) != 1 {
			t.Fatalf("scale rows = %+v, want one", res.Scale)
		}
		row := res.Scale.Rows[0]
		if row.FirstLeader <= 0 || row.Stable < row.FirstLeader {
			t.Errorf("first leader %v, stable %v: want 0 < first leader <= stable", row.FirstLeader, row.Stable)
		}
		if row.RTO.N != 1 {
			t.Errorf("scale rto n = %d, want 1", row.RTO.N)
		}
		if row.CPUPerNode <= 0 {
			t.Errorf("cpu per node = %v, want above zero", row.CPUPerNode)
		}
	})

	t.Run("report", func(t *testing.T) {
		var table bytes.Buffer
		if err := res.WriteTable(&table); err != nil {
			t.Fatalf("WriteTable: %v", err)
		}
		for _, want := range []string{"proxy overhead", "RTO:", "scale:", "smoke run"} {
			if !strings.Contains(table.String(), want) {
				t.Errorf("table lacks %q:\n%s", want, table.String())
			}
		}
		path := filepath.Join(t.TempDir(), "results.json")
		if err := res.WriteJSON(path); err != nil {
			t.Fatalf("WriteJSON: %v", err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var decoded map[string]any
		if err := json.Unmarshal(data, &decoded); err != nil {
			t.Errorf("results JSON does not decode: %v", err)
		}
	})
}
