package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/raftint"
	"github.com/faultline-dev/faultline/scenarios"
)

// ScaleConfig sets the scale measurement: one in-process cluster per size.
type ScaleConfig struct {
	// Sizes lists the cluster sizes, each at most 31 as cluster.StartLocal
	// allows.
	Sizes []int `json:"sizes"`

	// Reps is the number of leader-isolation repetitions per size.
	Reps int `json:"reps"`

	// IdleWindow is how long the idle CPU measurement lasts.
	IdleWindow time.Duration `json:"idle_window_ns"`

	// Profile sets the raft timeouts of every cluster.
	Profile raftint.Profile `json:"profile"`

	// Seed feeds the fault tables and the scenario runner.
	Seed int64 `json:"seed"`
}

// ScaleRow holds the figures of one cluster size.
type ScaleRow struct {
	Nodes int `json:"nodes"`

	// FirstLeader is the time from the call of cluster.StartLocal to the
	// first node becoming leader. It includes opening every node's bbolt
	// file and binding its port.
	FirstLeader time.Duration `json:"first_leader_ns"`

	// Stable is the time until StartLocal returned: every node follows the
	// leader and has applied its commit index.
	Stable time.Duration `json:"stable_ns"`

	// RTO is the leader-isolation RTO from the scenario's timeline.
	RTO Distribution `json:"rto"`

	// CPUPerNode is the process CPU time (user and system) per idle node,
	// as a fraction of one core.
	CPUPerNode float64 `json:"cpu_per_node"`

	// HeapPerNode is the growth of runtime.MemStats.HeapInuse after a GC,
	// divided by the nodes. It leaves out goroutine stacks and the bbolt
	// files that bbolt maps into memory.
	HeapPerNode int64 `json:"heap_inuse_per_node_bytes"`

	// GoroutinesPerNode is the growth of the goroutine count per node.
	GoroutinesPerNode float64 `json:"goroutines_per_node"`

	// Candidates is the number of nodes that stood for election before the
	// first leader was stable. Every candidate opens a connection to every
	// peer, and raft.NetworkTransport gives each connection 256 KiB buffers
	// (raft v1.7.2), so HeapPerNode grows with it.
	Candidates int `json:"startup_candidates"`
}

// ScaleResult holds one row per size.
type ScaleResult struct {
	Config ScaleConfig `json:"config"`
	Rows   []ScaleRow  `json:"rows"`
}

func runScale(ctx context.Context, cfg ScaleConfig, env runEnv) (*ScaleResult, error) {
	res := &ScaleResult{Config: cfg}
	for _, size := range cfg.Sizes {
		env.printf("scale: %d nodes, profile %s", size, cfg.Profile)
		row, err := measureSize(ctx, cfg, size, env)
		if err != nil {
			return res, fmt.Errorf("scale with %d nodes: %w", size, err)
		}
		res.Rows = append(res.Rows, row)
		env.printf("scale: %d nodes: first leader %v, stable %v, rto p50 %v, cpu %.2f%% of a core per node, heap %d KiB per node",
			size, ms(row.FirstLeader), ms(row.Stable), ms(row.RTO.P50), 100*row.CPUPerNode, row.HeapPerNode/1024)
	}
	return res, nil
}

func measureSize(ctx context.Context, cfg ScaleConfig, size int, env runEnv) (ScaleRow, error) {
	row := ScaleRow{Nodes: size}
	dir, err := makeDataDir(env.dataDir, "faultline-bench-scale-")
	if err != nil {
		return row, err
	}
	defer os.RemoveAll(dir)

	lc := cluster.DefaultLocalConfig()
	lc.Size = size
	lc.Profile = cfg.Profile
	lc.Seed = cfg.Seed
	lc.DataDir = dir
	lc.Logger = env.log

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	goroutines := runtime.NumGoroutine()

	startCtx, cancel := context.WithTimeout(ctx, stableTimeout)
	defer cancel()
	start := time.Now()
	c, err := cluster.StartLocal(startCtx, lc)
	if err != nil {
		return row, err
	}
	defer c.Close()
	row.Stable = time.Since(start)
	if e, ok := firstEventAfter(c.Timeline(), 0, func(e raftint.Event) bool {
		return e.Kind == raftint.EventState && e.State == "Leader"
	}); ok {
		row.FirstLeader = e.At.Sub(start)
	}

	row.Candidates = countCandidates(c.Timeline().Events())

	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	row.HeapPerNode = (int64(after.HeapInuse) - int64(before.HeapInuse)) / int64(size)
	row.GoroutinesPerNode = float64(runtime.NumGoroutine()-goroutines) / float64(size)

	if row.CPUPerNode, err = idleCPU(ctx, cfg.IdleWindow); err != nil {
		return row, err
	}
	row.CPUPerNode /= float64(size)

	rto, err := scaleRTO(ctx, cfg, c, env)
	row.RTO = rto
	return row, err
}

// countCandidates returns the number of distinct nodes that became
// candidate in events.
func countCandidates(events []raftint.Event) int {
	candidates := map[string]bool{}
	for _, e := range events {
		if e.Kind == raftint.EventState && e.State == "Candidate" {
			candidates[e.Node] = true
		}
	}
	return len(candidates)
}

// idleCPU returns the process CPU time spent over window, as a fraction of
// one core.
func idleCPU(ctx context.Context, window time.Duration) (float64, error) {
	cpuBefore, err := processCPU()
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := pause(ctx, window); err != nil {
		return 0, err
	}
	elapsed := time.Since(start)
	cpuAfter, err := processCPU()
	if err != nil {
		return 0, err
	}
	return float64(cpuAfter-cpuBefore) / float64(elapsed), nil
}

// scaleRTO runs the leader-isolation scenario on the running cluster c.
func scaleRTO(ctx context.Context, cfg ScaleConfig, c *cluster.Local, env runEnv) (Distribution, error) {
	scfg := scenarios.DefaultConfig()
	scfg.Nodes = len(c.Nodes())
	scfg.Reps = cfg.Reps
	scfg.Profile = cfg.Profile
	scfg.Seed = cfg.Seed
	scfg.Cooldown = cfg.Profile.Timing().HeartbeatTimeout
	scfg.Progress = env.progress
	scfg.Logger = env.log
	scfg.Factory = func(context.Context, int, raftint.Profile, int64) (cluster.Cluster, error) {
		return borrowedCluster{Cluster: c}, nil
	}
	report, err := scenarios.Run(ctx, scenarios.LeaderIsolation{}, scfg)
	if report == nil {
		return Distribution{}, err
	}
	var rtos []time.Duration
	for _, rep := range report.Repetitions {
		if rep.Recovered {
			rtos = append(rtos, rep.RTO)
		}
	}
	if err == nil && len(rtos) < len(report.Repetitions) {
		err = fmt.Errorf("%w: %d of %d leader-isolation repetitions", ErrNotRecovered, len(report.Repetitions)-len(rtos), len(report.Repetitions))
	}
	return Summarize(rtos), err
}

// borrowedCluster lends a running cluster to the scenario runner, which
// closes the clusters it runs on; the lender closes it instead.
type borrowedCluster struct {
	cluster.Cluster
}

// Close implements cluster.Cluster and leaves the cluster running.
func (borrowedCluster) Close() error { return nil }
