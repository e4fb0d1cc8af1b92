package bench

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/faultline-dev/faultline/raftint"
)

// ProxyConfig sets the proxy-overhead measurement: two 3-node clusters, one
// on raft.NetworkTransport and one on netchaos.RaftTransport with an empty
// table, measured in alternating rounds.
type ProxyConfig struct {
	// Rounds is the number of A/B rounds. Each round measures both
	// clusters, and the order alternates from round to round, so drift of
	// the machine (disk cache, other load) falls on both sides.
	Rounds int `json:"rounds"`

	// Writers is the number of concurrent clients of the throughput phase.
	Writers int `json:"writers"`

	// Window is how long the throughput phase of one round writes.
	Window time.Duration `json:"window_ns"`

	// LatencyWrites is the number of sequential writes of the latency phase
	// of one round.
	LatencyWrites int `json:"latency_writes"`

	// RPCRounds is the number of rounds of the per-message measurement, and
	// RPCCalls the AppendEntries calls per path in each round. Many short
	// rounds spread the machine's load changes over every path.
	RPCRounds int `json:"rpc_rounds"`
	RPCCalls  int `json:"rpc_calls"`

	// Profile sets the raft timeouts of both clusters.
	Profile raftint.Profile `json:"profile"`

	// Toxiproxy is the path of a toxiproxy-server binary; empty skips the
	// Toxiproxy comparison.
	Toxiproxy string `json:"toxiproxy,omitempty"`

	// Diagnose adds two clusters whose transports, plain and netchaos, hide
	// AppendEntriesPipeline, so raft replicates with one AppendEntries call
	// at a time. Comparing them with the pipelined pair shows how much of
	// the proxy's cost comes from its pipeline wrapper.
	Diagnose bool `json:"diagnose,omitempty"`
}

// clusterSample is the throughput and commit latency of one cluster in
// one round.
type clusterSample struct {
	Throughput float64       `json:"writes_per_second"`
	P50        time.Duration `json:"p50_ns"`
	P99        time.Duration `json:"p99_ns"`
}

// ProxyRound is one round of the cluster measurement: every transport in
// Order, one after another.
type ProxyRound struct {
	Index   int                         `json:"index"`
	Order   []Transport                 `json:"order"`
	Samples map[Transport]clusterSample `json:"samples"`
}

// ProxyResult holds the medians over rounds and the ratios of netchaos to
// plain.
type ProxyResult struct {
	Config  ProxyConfig                 `json:"config"`
	Rounds  []ProxyRound                `json:"rounds"`
	Medians map[Transport]clusterSample `json:"medians"`

	// Plain and Netchaos repeat the medians of the two compared transports.
	Plain      clusterSample `json:"-"`
	Netchaos   clusterSample `json:"-"`
	Throughput RatioPair     `json:"throughput_ratio"`
	P50        RatioPair     `json:"p50_ratio"`
	P99        RatioPair     `json:"p99_ratio"`

	// NoPipelineThroughput compares the two clusters whose transports offer
	// raft no append pipeline; set with Diagnose.
	NoPipelineThroughput *RatioPair `json:"no_pipeline_throughput_ratio,omitempty"`

	RPC RPCResult `json:"rpc"`
}

// RatioPair is one figure of netchaos divided by the same figure of plain,
// computed two ways.
type RatioPair struct {
	// OfMedians divides the medians over all rounds.
	OfMedians RatioValue `json:"of_medians"`

	// Paired is the median of the per-round ratios. Both transports of a
	// round run within seconds of each other, so it cancels the slow drift
	// of a shared machine's load that OfMedians keeps. The goals are judged
	// on it.
	Paired RatioValue `json:"paired"`
}

// compareTransports returns figure of netchaos over figure of plain.
func compareTransports(rounds []ProxyRound, medians map[Transport]clusterSample, plain, netchaos Transport, figure func(clusterSample) float64) RatioPair {
	perRound := make([]float64, 0, len(rounds))
	for _, r := range rounds {
		perRound = append(perRound, Ratio(figure(r.Samples[netchaos]), figure(r.Samples[plain])))
	}
	return RatioPair{
		OfMedians: RatioValue(Ratio(figure(medians[netchaos]), figure(medians[plain]))),
		Paired:    RatioValue(Median(perRound)),
	}
}

// Goals of the proxy measurement: the proxy may cost at most 3% of
// throughput, 5% of p99 commit latency and 5µs per RPC.
const (
	GoalThroughputRatio = 0.97
	GoalP99Ratio        = 1.05
	GoalRPCOverhead     = 5 * time.Microsecond
)

func runProxy(ctx context.Context, cfg ProxyConfig, env runEnv) (*ProxyResult, error) {
	dir, err := makeDataDir(env.dataDir, "faultline-bench-proxy-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	res := &ProxyResult{Config: cfg}
	if err := measureClusters(ctx, cfg, env, dir, res); err != nil {
		return res, err
	}
	rpc, err := measureRPC(ctx, cfg, env)
	res.RPC = rpc
	return res, err
}

// measureClusters starts one cluster per transport, warms them up and runs
// the rounds.
func measureClusters(ctx context.Context, cfg ProxyConfig, env runEnv, dir string, res *ProxyResult) error {
	transports := []Transport{TransportPlain, TransportNetchaos}
	if cfg.Diagnose {
		transports = append(transports, TransportPlainNoPipeline, TransportNetchaosNoPipeline)
	}
	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	clusters := map[Transport]*raftCluster{}
	for _, t := range transports {
		c, err := startRaftCluster(startCtx, t, 3, cfg.Profile, dir, env.log)
		if err != nil {
			return err
		}
		defer c.Close()
		clusters[t] = c
	}
	env.printf("proxy: started a 3-node cluster on each of %v (profile %s)", transports, cfg.Profile)

	// The first writes of a cluster open connections and grow the bbolt
	// files; a short unmeasured phase keeps them out of round 1.
	for _, t := range transports {
		if _, err := measureRound(ctx, clusters[t], cfg, string(t)+"-warmup", cfg.Window/4, cfg.LatencyWrites/4); err != nil {
			return err
		}
	}

	for i := range cfg.Rounds {
		// Rotate the order, so each transport goes first equally often.
		order := append(slices.Clone(transports[i%len(transports):]), transports[:i%len(transports)]...)
		round := ProxyRound{Index: i + 1, Order: order, Samples: map[Transport]clusterSample{}}
		for _, t := range order {
			sample, err := measureRound(ctx, clusters[t], cfg, fmt.Sprintf("%s-r%d", t, i+1), cfg.Window, cfg.LatencyWrites)
			if err != nil {
				return fmt.Errorf("round %d on the %s cluster: %w", i+1, t, err)
			}
			round.Samples[t] = sample
		}
		res.Rounds = append(res.Rounds, round)
		env.printf("proxy: round %d/%d: %s", i+1, cfg.Rounds, round.describe())
	}

	res.Medians = map[Transport]clusterSample{}
	for _, t := range transports {
		res.Medians[t] = medianSample(res.Rounds, t)
	}
	res.Plain, res.Netchaos = res.Medians[TransportPlain], res.Medians[TransportNetchaos]
	throughput := func(s clusterSample) float64 { return s.Throughput }
	p50 := func(s clusterSample) float64 { return float64(s.P50) }
	p99 := func(s clusterSample) float64 { return float64(s.P99) }
	res.Throughput = compareTransports(res.Rounds, res.Medians, TransportPlain, TransportNetchaos, throughput)
	res.P50 = compareTransports(res.Rounds, res.Medians, TransportPlain, TransportNetchaos, p50)
	res.P99 = compareTransports(res.Rounds, res.Medians, TransportPlain, TransportNetchaos, p99)
	if cfg.Diagnose {
		ratio := compareTransports(res.Rounds, res.Medians, TransportPlainNoPipeline, TransportNetchaosNoPipeline, throughput)
		res.NoPipelineThroughput = &ratio
	}
	return nil
}

func (r ProxyRound) describe() string {
	parts := make([]string, len(r.Order))
	for i, t := range r.Order {
		s := r.Samples[t]
		parts[i] = fmt.Sprintf("%s %.0f writes/s p50 %v p99 %v", t, s.Throughput, us(s.P50), us(s.P99))
	}
	return strings.Join(parts, "; ")
}

// measureRound runs the throughput phase and then the latency phase on c's
// current leader.
func measureRound(ctx context.Context, c *raftCluster, cfg ProxyConfig, prefix string, window time.Duration, latencyWrites int) (clusterSample, error) {
	leaderCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	leader, err := c.waitLeader(leaderCtx)
	if err != nil {
		return clusterSample{}, err
	}
	throughput, err := measureThroughput(ctx, leader, cfg.Writers, window, prefix+"-t")
	if err != nil {
		return clusterSample{}, err
	}
	latencies, err := measureLatency(ctx, leader, max(latencyWrites, 1), prefix+"-l")
	if err != nil {
		return clusterSample{}, err
	}
	return clusterSample{
		Throughput: throughput,
		P50:        Percentile(latencies, 50),
		P99:        Percentile(latencies, 99),
	}, nil
}

// medianSample takes the median of each figure of transport t over the
// rounds separately.
func medianSample(rounds []ProxyRound, t Transport) clusterSample {
	var tput, p50, p99 []float64
	for _, r := range rounds {
		s := r.Samples[t]
		tput = append(tput, s.Throughput)
		p50 = append(p50, float64(s.P50))
		p99 = append(p99, float64(s.P99))
	}
	return clusterSample{
		Throughput: Median(tput),
		P50:        time.Duration(Median(p50)),
		P99:        time.Duration(Median(p99)),
	}
}
