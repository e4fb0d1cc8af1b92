package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// RPCRound is one round of the per-message measurement: the mean time of
// one AppendEntries round trip on each path.
type RPCRound struct {
	Index     int           `json:"index"`
	Plain     time.Duration `json:"plain_ns"`
	Netchaos  time.Duration `json:"netchaos_ns"`
	Toxiproxy time.Duration `json:"toxiproxy_ns,omitempty"`
}

// RPCResult holds the per-message cost of each path: medians over rounds of
// the mean time per AppendEntries call, request and response, on loopback.
type RPCResult struct {
	Calls    int           `json:"calls_per_round"`
	Rounds   []RPCRound    `json:"rounds"`
	Plain    time.Duration `json:"plain_ns"`
	Netchaos time.Duration `json:"netchaos_ns"`

	// Overhead is the time the proxy adds to one RPC: the median over rounds
	// of Netchaos minus Plain in the same round.
	Overhead time.Duration `json:"overhead_ns"`

	// Toxiproxy is the time through a Toxiproxy hop. ToxiproxyOverhead is
	// the time that hop adds to the plain path, computed as Overhead is.
	// Both stay zero when Skipped is set.
	Toxiproxy         time.Duration `json:"toxiproxy_ns,omitempty"`
	ToxiproxyOverhead time.Duration `json:"toxiproxy_overhead_ns,omitempty"`
	Skipped           string        `json:"toxiproxy_skipped,omitempty"`
}

// rpcVariant is one path of the per-message measurement.
type rpcVariant struct {
	name string
	call func() error
	set  func(*RPCRound, time.Duration)
}

func measureRPC(ctx context.Context, cfg ProxyConfig, env runEnv) (RPCResult, error) {
	res := RPCResult{Calls: cfg.RPCCalls}
	pair, err := NewRPCPair(env.log)
	if err != nil {
		return res, err
	}
	defer pair.Close()

	variants := []rpcVariant{
		{"plain", func() error { return pair.CallPlain(pair.ReceiverAddr()) }, func(r *RPCRound, d time.Duration) { r.Plain = d }},
		{"netchaos", pair.CallNetchaos, func(r *RPCRound, d time.Duration) { r.Netchaos = d }},
	}
	if cfg.Toxiproxy == "" {
		res.Skipped = ToxiproxySkipped
		env.printf("%s", ToxiproxySkipped)
	} else {
		toxi, err := startToxiproxy(ctx, cfg.Toxiproxy, env.log)
		if err != nil {
			return res, err
		}
		defer toxi.Close()
		listen, err := toxi.createProxy("faultline-bench-rpc", string(pair.ReceiverAddr()))
		if err != nil {
			return res, err
		}
		target := raft.ServerAddress(listen)
		variants = append(variants, rpcVariant{"toxiproxy", func() error { return pair.CallPlain(target) },
			func(r *RPCRound, d time.Duration) { r.Toxiproxy = d }})
	}

	// Warm up: open the pooled connections of every path.
	for _, v := range variants {
		if _, err := timeCalls(max(cfg.RPCCalls/10, 1), v.call); err != nil {
			return res, fmt.Errorf("warm up the %s path: %w", v.name, err)
		}
	}

	for i := range cfg.RPCRounds {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		round := RPCRound{Index: i + 1}
		// Rotate the order, so no path always runs first.
		for j := range variants {
			v := variants[(i+j)%len(variants)]
			d, err := timeCalls(cfg.RPCCalls, v.call)
			if err != nil {
				return res, fmt.Errorf("round %d on the %s path: %w", i+1, v.name, err)
			}
			v.set(&round, d)
		}
		res.Rounds = append(res.Rounds, round)
		if (i+1)%10 == 0 || i+1 == cfg.RPCRounds {
			env.printf("proxy: rpc round %d/%d: plain %v, netchaos %v%s", i+1, cfg.RPCRounds, round.Plain, round.Netchaos, toxiproxyNote(round.Toxiproxy))
		}
	}

	res.Plain = medianDuration(res.Rounds, func(r RPCRound) time.Duration { return r.Plain })
	res.Netchaos = medianDuration(res.Rounds, func(r RPCRound) time.Duration { return r.Netchaos })
	res.Overhead = medianDuration(res.Rounds, func(r RPCRound) time.Duration { return r.Netchaos - r.Plain })
	if res.Skipped == "" {
		res.Toxiproxy = medianDuration(res.Rounds, func(r RPCRound) time.Duration { return r.Toxiproxy })
		res.ToxiproxyOverhead = medianDuration(res.Rounds, func(r RPCRound) time.Duration { return r.Toxiproxy - r.Plain })
	}
	return res, nil
}

func toxiproxyNote(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return fmt.Sprintf(", toxiproxy %v", d)
}

func medianDuration[T any](items []T, get func(T) time.Duration) time.Duration {
	values := make([]float64, len(items))
	for i, item := range items {
		values[i] = float64(get(item))
	}
	return time.Duration(Median(values))
}
