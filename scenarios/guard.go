package scenarios

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/faultline-dev/faultline/cluster"
)

// ErrAborted reports a repetition that the safety guard stopped.
var ErrAborted = errors.New("scenarios: aborted by the safety guard")

// GuardConfig configures the safety guard that watches every repetition.
type GuardConfig struct {
	// MaxDuration bounds one repetition; zero means the scenario's maximum
	// RTO plus one minute.
	MaxDuration time.Duration
	// Interval is the time between two health checks of the cluster.
	Interval time.Duration
	// AbortRate is the failed-check fraction above which the guard aborts,
	// once MinChecks checks have run.
	AbortRate float64
	// MinChecks is the number of checks before AbortRate applies.
	MinChecks int
}

// DefaultGuardConfig checks every second and aborts past a 50 % failure
// rate after ten checks.
func DefaultGuardConfig() GuardConfig {
	return GuardConfig{Interval: time.Second, AbortRate: 0.5, MinChecks: 10}
}

// Validate checks the guard's fields.
func (g GuardConfig) Validate() error {
	switch {
	case g.MaxDuration < 0:
		return fmt.Errorf("%w: guard max duration %v is negative", ErrInvalidConfig, g.MaxDuration)
	case g.Interval <= 0:
		return fmt.Errorf("%w: guard interval %v must be above zero", ErrInvalidConfig, g.Interval)
	case g.AbortRate <= 0 || g.AbortRate > 1:
		return fmt.Errorf("%w: guard abort rate %v is outside (0, 1]", ErrInvalidConfig, g.AbortRate)
	case g.MinChecks < 1:
		return fmt.Errorf("%w: guard min checks %d must be at least 1", ErrInvalidConfig, g.MinChecks)
	}
	return nil
}

// GuardReport holds the safety guard's observations of one repetition.
type GuardReport struct {
	Checks   int    `json:"checks"`
	Failures int    `json:"failures"`
	Aborted  bool   `json:"aborted,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// LastHealth is the last check's view of every node, kept for the
	// emergency-stop record.
	LastHealth []NodeHealth `json:"last_health,omitempty"`
}

// NodeHealth is one node's state at a health check.
type NodeHealth struct {
	Node   string `json:"node"`
	Up     bool   `json:"up"`
	State  string `json:"state,omitempty"`
	Term   uint64 `json:"term,omitempty"`
	Leader string `json:"leader,omitempty"`
	Error  string `json:"error,omitempty"`
}

// guard checks the cluster's health while a repetition runs and cancels it
// when the repetition runs too long or too many checks fail. A check passes
// when a majority of nodes return their status. A moment without a leader is
// what the faults cause, so it is not counted against the cluster.
type guard struct {
	cfg    GuardConfig
	c      cluster.Cluster
	cancel context.CancelCauseFunc
	mu     sync.Mutex
	report GuardReport
	done   chan struct{}
	stop   chan struct{}
	once   sync.Once
}

func startGuard(ctx context.Context, cfg GuardConfig, c cluster.Cluster) (*guard, context.Context) {
	gctx, cancel := context.WithCancelCause(ctx)
	g := &guard{cfg: cfg, c: c, cancel: cancel, done: make(chan struct{}), stop: make(chan struct{})}
	go g.run(gctx)
	return g, gctx
}

func (g *guard) run(ctx context.Context) {
	defer close(g.done)
	deadline := time.NewTimer(g.cfg.MaxDuration)
	defer deadline.Stop()
	tick := time.NewTicker(g.cfg.Interval)
	defer tick.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-ctx.Done():
			return
		case <-deadline.C:
			g.check() // records the health at the emergency stop
			g.abort(fmt.Sprintf("repetition ran past the %v maximum duration", g.cfg.MaxDuration))
			return
		case <-tick.C:
			if reason := g.check(); reason != "" {
				g.abort(reason)
				return
			}
		}
	}
}

// check runs one health check and returns a reason to abort, if any.
func (g *guard) check() string {
	nodes := g.c.Nodes()
	health := make([]NodeHealth, 0, len(nodes))
	up := 0
	for _, id := range nodes {
		s, err := g.c.Status(id)
		h := NodeHealth{Node: id, Up: err == nil, State: s.State, Term: s.Term, Leader: s.LeaderID}
		if err != nil {
			h.Error = err.Error()
		} else {
			up++
		}
		health = append(health, h)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.report.Checks++
	if up <= len(nodes)/2 {
		g.report.Failures++
	}
	g.report.LastHealth = health
	rate := float64(g.report.Failures) / float64(g.report.Checks)
	if g.report.Checks >= g.cfg.MinChecks && rate > g.cfg.AbortRate {
		return fmt.Sprintf("%.0f%% of %d health checks failed, above the %.0f%% threshold", 100*rate, g.report.Checks, 100*g.cfg.AbortRate)
	}
	return ""
}

func (g *guard) abort(reason string) {
	g.mu.Lock()
	g.report.Aborted = true
	g.report.Reason = reason
	g.mu.Unlock()
	g.cancel(fmt.Errorf("%w: %s", ErrAborted, reason))
}

// Stop ends the guard and returns what it saw. It is idempotent.
func (g *guard) Stop() GuardReport {
	g.once.Do(func() { close(g.stop) })
	<-g.done
	g.cancel(nil)
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.report
}
