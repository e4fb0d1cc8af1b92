package safety

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/internal/testwait"
	"github.com/faultline-dev/faultline/raftint"
)

func TestWorkloadConfigValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*WorkloadConfig)
	}{
		{"no clients", func(c *WorkloadConfig) { c.Clients = 0 }},
		{"no keys", func(c *WorkloadConfig) { c.Keys = 0 }},
		{"zero op timeout", func(c *WorkloadConfig) { c.OpTimeout = 0 }},
		{"negative pause", func(c *WorkloadConfig) { c.Pause = -time.Millisecond }},
		{"zero leader retry", func(c *WorkloadConfig) { c.LeaderRetryInterval = 0 }},
		{"negative weight", func(c *WorkloadConfig) { c.Mix.Get = -1 }},
		{"all weights zero", func(c *WorkloadConfig) { c.Mix = OpMix{} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultWorkloadConfig()
			tc.change(&cfg)
			before := cfg
			err := cfg.Validate()
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate = %v, want ErrInvalidConfig", err)
			}
			if cfg != before {
				t.Errorf("Validate changed the config to %+v", cfg)
			}
		})
	}
	if err := DefaultWorkloadConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
}

func TestStartWorkloadMissingArgument(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	if _, err := StartWorkload(context.Background(), nil, DefaultWorkloadConfig(), rng); !errors.Is(err, ErrMissingArgument) {
		t.Errorf("nil cluster: %v, want ErrMissingArgument", err)
	}
	if _, err := StartWorkload(context.Background(), &scriptedCluster{}, DefaultWorkloadConfig(), nil); !errors.Is(err, ErrMissingArgument) {
		t.Errorf("nil rng: %v, want ErrMissingArgument", err)
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		want Outcome
	}{
		{nil, OutcomeOK},
		{fmt.Errorf("put on node-2: %w", raft.ErrNotLeader), OutcomeFailed},
		{raft.ErrLeadershipTransferInProgress, OutcomeFailed},
		{raft.ErrEnqueueTimeout, OutcomeFailed},
		{raft.ErrAbortedByRestore, OutcomeFailed},
		{cluster.ErrNoLeader, OutcomeFailed},
		{fmt.Errorf("%w: node-1", cluster.ErrNodeDown), OutcomeFailed},
		{cluster.ErrUnknownNode, OutcomeFailed},
		{cluster.ErrClosed, OutcomeFailed},
		{fmt.Errorf("put: %w", raft.ErrLeadershipLost), OutcomeUnknown},
		{raft.ErrRaftShutdown, OutcomeUnknown},
		{context.DeadlineExceeded, OutcomeUnknown},
		{context.Canceled, OutcomeUnknown},
		{errors.New("connection reset by peer"), OutcomeUnknown},
	}
	for _, tc := range cases {
		name := "nil"
		if tc.err != nil {
			name = tc.err.Error()
		}
		t.Run(name, func(t *testing.T) {
			if got := classify(tc.err); got != tc.want {
				t.Errorf("classify = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestClientIntentsDependOnSeedOnly(t *testing.T) {
	newClient := func(known map[string]string) *client {
		return &client{
			cfg:   DefaultWorkloadConfig(),
			rng:   rand.New(rand.NewPCG(7, 8)),
			keys:  []string{"a", "b", "c"},
			known: known,
		}
	}
	empty := newClient(map[string]string{})
	informed := newClient(map[string]string{"a": "1", "b": "2", "c": "3"})
	sawExpected := false
	for i := range 200 {
		x, y := empty.next(), informed.next()
		if x.kind != y.kind || x.key != y.key {
			t.Fatalf("intent %d differs: %+v and %+v", i, x, y)
		}
		if x.expected != nil {
			t.Fatalf("intent %d expects %q with nothing known", i, *x.expected)
		}
		sawExpected = sawExpected || y.expected != nil
	}
	if !sawExpected {
		t.Error("no cas expected a known value")
	}
}

// scriptedCluster has one node, node-1, that is always leader. Put returns
// the errors of script in turn and then repeats the last one. A nil entry
// blocks until release is closed and then returns raft.ErrLeadershipLost,
// and errPutOK makes Put succeed. Other Cluster methods are not implemented.
type scriptedCluster struct {
	cluster.Cluster
	script  []error
	release chan struct{}
	puts    atomic.Int64
}

func (s *scriptedCluster) Nodes() []string { return []string{"node-1"} }

func (s *scriptedCluster) Status(string) (raftint.Status, error) {
	return raftint.Status{State: "Leader", Term: 1}, nil
}

func (s *scriptedCluster) Put(_ context.Context, _, _, _ string) (uint64, error) {
	n := int(s.puts.Add(1)) - 1
	entry := s.script[min(n, len(s.script)-1)]
	if entry == nil {
		<-s.release
		return 0, raft.ErrLeadershipLost
	}
	if errors.Is(entry, errPutOK) {
		return uint64(n + 1), nil
	}
	return 0, entry
}

// errPutOK is the script entry that makes scriptedCluster.Put succeed.
var errPutOK = errors.New("ok")

// waitFor waits until cond holds, checking every millisecond, and fails the
// test at testDeadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.Until(t, testDeadline, time.Millisecond, what, cond)
}

func putOnlyConfig(t *testing.T) WorkloadConfig {
	cfg := DefaultWorkloadConfig()
	cfg.Clients = 1
	cfg.Mix = OpMix{Put: 1}
	cfg.Logger = newTestLogger(t, slog.LevelDebug)
	return cfg
}

func TestWorkloadTimeoutIsUnknown(t *testing.T) {
	c := &scriptedCluster{script: []error{nil}, release: make(chan struct{})}
	cfg := putOnlyConfig(t)
	cfg.OpTimeout = 20 * time.Millisecond
	w, err := StartWorkload(context.Background(), c, cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatalf("start workload: %v", err)
	}
	waitFor(t, "two abandoned puts", func() bool { return c.puts.Load() >= 2 })

	// Stop waits for the abandoned calls, so they must be able to finish.
	close(c.release)
	h := w.Stop()
	if w.Stop() != h {
		t.Error("second Stop returned another history")
	}
	for _, op := range h.Ops() {
		if op.Outcome != OutcomeUnknown {
			t.Errorf("op %d outcome %q, want unknown", op.ID, op.Outcome)
		}
		if op.Error == "" {
			t.Errorf("op %d has no error", op.ID)
		}
	}
	if !strings.Contains(h.Ops()[0].Error, "no response within 20ms") {
		t.Errorf("error %q does not name the timeout", h.Ops()[0].Error)
	}
}

func TestWorkloadRetriesFailedOp(t *testing.T) {
	notLeader := fmt.Errorf("put: %w", raft.ErrNotLeader)
	c := &scriptedCluster{script: []error{notLeader, notLeader, errPutOK}}
	w, err := StartWorkload(context.Background(), c, putOnlyConfig(t), rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatalf("start workload: %v", err)
	}
	waitFor(t, "a successful put", func() bool { return c.puts.Load() >= 3 })
	ops := w.Stop().Ops()

	for i, want := range []Outcome{OutcomeFailed, OutcomeFailed, OutcomeOK} {
		if ops[i].Outcome != want {
			t.Errorf("op %d outcome %q, want %q", i, ops[i].Outcome, want)
		}
		if ops[i].Key != ops[0].Key {
			t.Errorf("retry %d went to key %s, not %s", i, ops[i].Key, ops[0].Key)
		}
	}
	values := map[string]bool{}
	for _, op := range ops {
		if values[op.Value] {
			t.Errorf("value %q written twice", op.Value)
		}
		values[op.Value] = true
	}
}

func TestWorkloadOnHealthyCluster(t *testing.T) {
	c := startCluster(t, 4)
	cfg := DefaultWorkloadConfig()
	cfg.Logger = newTestLogger(t, slog.LevelInfo)

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	h, err := RunWorkload(ctx, c, cfg, rand.New(rand.NewPCG(4, 4)))
	if err != nil {
		t.Fatalf("run workload: %v", err)
	}
	ops := h.Ops()
	summary := Summarize(ops)
	t.Logf("summary: %+v", summary)
	for _, kind := range []OpKind{OpPut, OpGet, OpCAS} {
		if summary.ByKind[kind][OutcomeOK] == 0 {
			t.Errorf("no %s succeeded", kind)
		}
	}
	clients := map[int]bool{}
	for _, op := range ops {
		clients[op.Client] = true
	}
	if len(clients) != cfg.Clients {
		t.Errorf("%d clients recorded ops, want %d", len(clients), cfg.Clients)
	}

	checkAll(t, c, h)
}

// checkAll runs every check on h and c and fails the test on any violation.
func checkAll(t *testing.T, c *cluster.Local, h *History) {
	t.Helper()
	lin := CheckLinearizable(h, 30*time.Second, t.TempDir())
	t.Logf("linearizability: ok=%v unknown=%v ops=%d took %v", lin.OK, lin.Unknown, lin.Operations, lin.Duration)
	if !lin.OK {
		t.Errorf("history not linearizable: %+v", lin)
	}

	converged, violations := CheckConvergence(deadlineContext(t), c)
	t.Logf("convergence: index %d after %v", converged.Index, converged.Waited)
	violations = append(violations, CheckDurability(c, Writes(h))...)
	violations = append(violations, CheckElectionSafety(c.Timeline().Events())...)
	for _, v := range violations {
		t.Errorf("violation: %s", v)
	}
}
