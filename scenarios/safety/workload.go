package safety

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faultline-dev/faultline/cluster"
)

// OpMix weighs how often clients pick each operation kind. A weight of 0
// leaves the kind out.
type OpMix struct {
	Put int
	Get int
	CAS int
}

// WorkloadConfig configures the clients of a Workload.
type WorkloadConfig struct {
	// Clients is the number of concurrent clients.
	Clients int
	// Keys is the number of keys the clients share. Few keys make
	// conflicting writes and reads of fresh values likely, which is what the
	// linearizability check needs to find anomalies.
	Keys int
	// KeyPrefix starts every key. StartWorkload appends a tag drawn from its
	// random source, so repeated workloads on one cluster use fresh keys.
	KeyPrefix string
	// OpTimeout bounds each operation. An operation still running then ends
	// with an unknown outcome.
	OpTimeout time.Duration
	// Pause is the wait between two operations of one client, so that the
	// clients leave CPU to the cluster. 0 means no pause.
	Pause time.Duration
	// LeaderRetryInterval is the wait before a client looks for a leader
	// again when no node is leader.
	LeaderRetryInterval time.Duration
	// Mix weighs the operation kinds.
	Mix OpMix
	// Logger receives the workload's logs. Nil discards them.
	Logger *slog.Logger
}

// DefaultWorkloadConfig returns 4 clients on 8 keys with 500ms operation
// timeouts, a 2ms pause between operations, and twice as many puts and gets
// as compare-and-sets.
func DefaultWorkloadConfig() WorkloadConfig {
	return WorkloadConfig{
		Clients:             4,
		Keys:                8,
		KeyPrefix:           "safety-",
		OpTimeout:           500 * time.Millisecond,
		Pause:               2 * time.Millisecond,
		LeaderRetryInterval: 10 * time.Millisecond,
		Mix:                 OpMix{Put: 2, Get: 2, CAS: 1},
	}
}

// Validate checks the config without changing it.
func (c WorkloadConfig) Validate() error {
	switch {
	case c.Clients < 1:
		return fmt.Errorf("%w: clients %d must be at least 1", ErrInvalidConfig, c.Clients)
	case c.Keys < 1:
		return fmt.Errorf("%w: keys %d must be at least 1", ErrInvalidConfig, c.Keys)
	case c.OpTimeout <= 0:
		return fmt.Errorf("%w: operation timeout %v must be above zero", ErrInvalidConfig, c.OpTimeout)
	case c.Pause < 0:
		return fmt.Errorf("%w: pause %v must not be negative", ErrInvalidConfig, c.Pause)
	case c.LeaderRetryInterval <= 0:
		return fmt.Errorf("%w: leader retry interval %v must be above zero", ErrInvalidConfig, c.LeaderRetryInterval)
	case c.Mix.Put < 0 || c.Mix.Get < 0 || c.Mix.CAS < 0:
		return fmt.Errorf("%w: operation weights %+v must not be negative", ErrInvalidConfig, c.Mix)
	case c.Mix.Put+c.Mix.Get+c.Mix.CAS == 0:
		return fmt.Errorf("%w: operation weights are all zero; set at least one of put, get and cas", ErrInvalidConfig)
	}
	return nil
}

// Workload runs clients against a cluster until Stop. Its methods are safe
// for concurrent use.
type Workload struct {
	history *History
	keys    []string
	log     *slog.Logger
	cancel  context.CancelFunc

	clients  sync.WaitGroup
	calls    sync.WaitGroup // cluster calls, including those a client gave up on
	retries  atomic.Int64
	stopOnce sync.Once
}

// StartWorkload starts cfg.Clients clients on c and returns at once. The
// clients stop when ctx ends or Stop is called. Every random decision comes
// from rng: StartWorkload draws the key tag and then one seed per client
// from it before any client starts, so the operations each client picks
// depend only on rng and on the values the cluster returns.
func StartWorkload(ctx context.Context, c cluster.Cluster, cfg WorkloadConfig, rng *rand.Rand) (*Workload, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if c == nil || rng == nil {
		return nil, fmt.Errorf("%w: StartWorkload needs a cluster and a random source", ErrMissingArgument)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	// The linearizability model starts every key absent, so the keys must
	// be new to the cluster.
	// NOTE: a rerun with the same seed on a cluster that keeps its data,
	// such as a docker compose cluster, reuses the keys and can report
	// false linearizability violations; use another seed or KeyPrefix.
	prefix := fmt.Sprintf("%s%08x/", cfg.KeyPrefix, rng.Uint32())
	keys := make([]string, cfg.Keys)
	for i := range keys {
		keys[i] = fmt.Sprintf("%sk%d", prefix, i)
	}
	runCtx, cancel := context.WithCancel(ctx)
	w := &Workload{history: NewHistory(), keys: keys, log: log, cancel: cancel}

	clients := make([]*client, cfg.Clients)
	for i := range clients {
		clients[i] = &client{
			id:      i,
			cluster: c,
			cfg:     cfg,
			rng:     rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64())),
			keys:    keys,
			known:   make(map[string]string),
			w:       w,
			log:     log.With("client_id", i),
		}
	}
	log.Info("workload started", "clients", cfg.Clients, "keys", cfg.Keys, "key_prefix", prefix,
		"op_timeout", cfg.OpTimeout, "pause", cfg.Pause)
	for _, cl := range clients {
		w.clients.Add(1)
		go func() {
			defer w.clients.Done()
			cl.run(runCtx)
		}()
	}
	return w, nil
}

// RunWorkload runs a workload until ctx ends and returns its history.
func RunWorkload(ctx context.Context, c cluster.Cluster, cfg WorkloadConfig, rng *rand.Rand) (*History, error) {
	w, err := StartWorkload(ctx, c, cfg, rng)
	if err != nil {
		return nil, err
	}
	<-ctx.Done()
	return w.Stop(), nil
}

// Keys returns the keys the clients use.
func (w *Workload) Keys() []string {
	return append([]string(nil), w.keys...)
}

// History returns the history the clients record into. It keeps growing
// until Stop returns.
func (w *Workload) History() *History {
	return w.history
}

// Stop stops the clients and returns the history. Operations still running
// end with an unknown outcome. Stop also waits for the cluster calls that
// clients gave up on. With cluster.Local such a call returns once its entry
// commits or its leader steps down, which an isolated leader does after its
// lease timeout. Stop is idempotent.
func (w *Workload) Stop() *History {
	w.stopOnce.Do(func() {
		w.cancel()
		w.clients.Wait()
		w.calls.Wait()
		s := Summarize(w.history.Ops())
		w.log.Info("workload stopped", "ops", s.Ops, "ok", s.OK, "failed", s.Failed, "unknown", s.Unknown,
			"retries", w.retries.Load())
	})
	return w.history
}
