package scenarios

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/daemon"
	"github.com/faultline-dev/faultline/netchaos"
)

// Monkey fault kinds.
const (
	MonkeyHandlerError   = "handler-error"
	MonkeySlowOperation  = "slow-operation"
	MonkeyLargePayload   = "large-payload"
	MonkeyLinkLoss       = "link-loss"
	MonkeyLinkDelay      = "link-delay"
	MonkeyLeaderIsolated = "leader-isolation"
	MonkeyNodeCrash      = "node-crash"
)

// monkeyRadius is the blast radius of each monkey fault kind.
var monkeyRadius = map[string]BlastRadius{
	MonkeyHandlerError:   RadiusOperation,
	MonkeySlowOperation:  RadiusOperation,
	MonkeyLargePayload:   RadiusInstance,
	MonkeyLinkLoss:       RadiusNode,
	MonkeyLinkDelay:      RadiusNode,
	MonkeyLeaderIsolated: RadiusNode,
	MonkeyNodeCrash:      RadiusNode,
}

// ChaosMonkey injects random faults at seeded random times for Duration,
// within a budget: at most MaxConcurrent faults at once and none above
// MaxRadius. Every decision is drawn from the run's seed before the first
// fault, so the same seed on the same cluster size gives the same sequence,
// which the report lists. The safety guard stays on throughout.
type ChaosMonkey struct {
	// Duration is how long faults are injected; zero means 60 heartbeat
	// timeouts, or the run's --duration.
	Duration time.Duration
	// Interval is the mean time between two chances of a fault; zero means
	// five heartbeat timeouts.
	Interval time.Duration
	// Rate is the chance that a chance becomes a fault; zero means 0.5.
	Rate float64
	// Kinds lists the fault kinds to draw from; nil means all.
	Kinds []string
	// MaxConcurrent bounds the faults active at once; zero means 2.
	MaxConcurrent int
	// MaxRadius bounds the blast radius of a fault; empty means node.
	MaxRadius BlastRadius
}

// Name implements Scenario.
func (ChaosMonkey) Name() string { return "chaos-monkey" }

// Description implements Scenario.
func (ChaosMonkey) Description() string {
	return "random seeded faults (handler errors, slow operations, large payloads, link loss and delay, leader isolation, node crashes) within a budget"
}

// BlastRadius implements Scenario.
func (ChaosMonkey) BlastRadius() BlastRadius { return RadiusNode }

// DefaultTarget implements Scenario: the cluster must recover from whatever
// the monkey left like from a partition.
func (ChaosMonkey) DefaultTarget() Target { return TargetNetworkPartition }

// MinNodes implements Scenario.
func (ChaosMonkey) MinNodes() int { return 3 }

// Phases implements Scenario.
func (ChaosMonkey) Phases() []string { return []string{PhaseSettle} }

// monkeyDecision is one planned fault.
type monkeyDecision struct {
	At     time.Duration // from the start of the run
	Kind   string
	Target int // node index, or -1 for the leader at that time
	For    time.Duration
}

func (d monkeyDecision) String() string {
	target := "leader"
	if d.Target >= 0 {
		target = fmt.Sprintf("node-%d", d.Target+1)
	}
	return fmt.Sprintf("at %v: %s on %s for %v", d.At.Round(time.Millisecond), d.Kind, target, d.For.Round(time.Millisecond))
}

// Validate checks the monkey's settings.
func (m ChaosMonkey) Validate() error {
	for _, k := range m.Kinds {
		if _, ok := monkeyRadius[k]; !ok {
			names := make([]string, 0, len(monkeyRadius))
			for n := range monkeyRadius {
				names = append(names, n)
			}
			sort.Strings(names)
			return fmt.Errorf("%w: unknown monkey fault %q: use %s", ErrInvalidConfig, k, strings.Join(names, ", "))
		}
	}
	if m.Rate < 0 || m.Rate > 1 || m.MaxConcurrent < 0 || m.Duration < 0 || m.Interval < 0 || m.Duration > MaxDuration {
		return fmt.Errorf("%w: monkey rate must be in [0, 1] and counts and durations not negative", ErrInvalidConfig)
	}
	return nil
}

// plan draws every decision of a run from rng.
func (m ChaosMonkey) plan(rng *rand.Rand, env Env, nodes int) []monkeyDecision {
	duration, interval, rate, maxConc, radius := m.Duration, m.Interval, m.Rate, m.MaxConcurrent, m.MaxRadius
	if duration == 0 {
		duration = env.Duration
	}
	if duration == 0 {
		duration = 60 * env.Timing.HeartbeatTimeout
	}
	if interval == 0 {
		interval = 5 * env.Timing.HeartbeatTimeout
	}
	if rate == 0 {
		rate = 0.5
	}
	if maxConc == 0 {
		maxConc = 2
	}
	if radius == "" {
		radius = RadiusNode
	}

	kinds := m.Kinds
	if kinds == nil {
		kinds = []string{MonkeyHandlerError, MonkeySlowOperation, MonkeyLargePayload, MonkeyLinkLoss, MonkeyLinkDelay, MonkeyLeaderIsolated, MonkeyNodeCrash}
	}
	kinds = slices.DeleteFunc(slices.Clone(kinds), func(k string) bool { return radiusRank[monkeyRadius[k]] > radiusRank[radius] })
	if len(kinds) == 0 {
		return nil
	}

	var plan []monkeyDecision
	// A fault lasts less than three intervals, so only the plan's tail from
	// lo on can still be active: the budget checks stay linear in the plan.
	lo := 0
	for at := time.Duration(0); ; {
		// Chances arrive at uniform random gaps in [interval/2, 3*interval/2).
		at += interval/2 + time.Duration(rng.Int64N(int64(interval)))
		if at >= duration {
			return plan
		}
		if rng.Float64() >= rate {
			continue
		}
		d := monkeyDecision{At: at, Kind: kinds[rng.IntN(len(kinds))], Target: rng.IntN(nodes+1) - 1}
		d.For = interval + time.Duration(rng.Int64N(int64(2*interval)))
		if d.At+d.For > duration {
			d.For = duration - d.At
		}
		for lo < len(plan) && plan[lo].At+3*interval <= at {
			lo++
		}
		if activeAt(plan[lo:], at) >= maxConc || (d.Kind == MonkeyNodeCrash && crashesAt(plan[lo:], at) >= (nodes-1)/2) {
			continue
		}
		plan = append(plan, d)
	}
}

func activeAt(plan []monkeyDecision, at time.Duration) int {
	n := 0
	for _, d := range plan {
		if d.At <= at && at < d.At+d.For {
			n++
		}
	}
	return n
}

// crashesAt counts crashed nodes at a time. plan uses it to keep enough
// nodes up for a quorum.
func crashesAt(plan []monkeyDecision, at time.Duration) int {
	n := 0
	for _, d := range plan {
		if d.Kind == MonkeyNodeCrash && d.At <= at && at < d.At+d.For {
			n++
		}
	}
	return n
}

// Run implements Scenario. The RTO is the time from the end of the last
// fault until the cluster is stable again.
func (m ChaosMonkey) Run(ctx context.Context, env Env) (Repetition, error) {
	if err := m.Validate(); err != nil {
		return Repetition{}, err
	}
	rng := rand.New(rand.NewPCG(env.Rand.Uint64(), env.Rand.Uint64()))
	t, err := newTrial(ctx, env)
	if err != nil {
		return t.rep, err
	}
	plan := m.plan(rng, env, len(t.c.Nodes()))
	for _, d := range plan {
		t.rep.Decisions = append(t.rep.Decisions, d.String())
	}
	t.rep.Counts["faults_planned"] = int64(len(plan))
	if len(plan) == 0 {
		t.rep.Error = "the plan holds no fault: lengthen --duration or raise the rate"
		return t.finish(ctx)
	}
	t.startWriter(func(string) bool { return true })
	start := time.Now()
	ex := &monkeyExecutor{t: t, env: env}
	lastEnd, err := ex.execute(ctx, plan, start)
	if err != nil {
		t.rep.Error = err.Error()
		return t.finish(ctx)
	}
	t.rep.Counts["faults_injected"] = int64(ex.injected)
	cctx, cancel := context.WithTimeout(ctx, env.Target.Max)
	defer cancel()
	st, err := t.c.WaitStable(cctx)
	if err != nil {
		t.rep.Error = fmt.Sprintf("cluster did not settle after the last fault: %v", err)
		return t.finish(ctx)
	}
	t.rep.Recovered = true
	t.rep.RTO = max(0, st.At.Sub(lastEnd))
	t.rep.Durations[PhaseSettle] = t.rep.RTO
	return t.finish(ctx)
}

// monkeyExecutor carries out a plan in real time.
type monkeyExecutor struct {
	t        *trial
	env      Env
	injected int
}

// monkeyEvent is a start or an end of a planned fault.
type monkeyEvent struct {
	at    time.Duration
	start bool
	index int
}

// execute runs the plan and returns when its last fault ended.
func (ex *monkeyExecutor) execute(ctx context.Context, plan []monkeyDecision, start time.Time) (time.Time, error) {
	var events []monkeyEvent
	for i, d := range plan {
		events = append(events, monkeyEvent{d.At, true, i}, monkeyEvent{d.At + d.For, false, i})
	}
	sort.SliceStable(events, func(a, b int) bool { return events[a].at < events[b].at })
	undo := make([]func() error, len(plan))
	lastEnd := start
	for _, e := range events {
		if err := hold(ctx, time.Until(start.Add(e.at))); err != nil {
			for _, u := range undo {
				if u != nil {
					u()
				}
			}
			return lastEnd, err
		}
		if e.start {
			u, err := ex.inject(ctx, plan[e.index])
			if err != nil {
				ex.env.Log.Warn("monkey fault not injected", "decision", plan[e.index].String(), "error", err)
				continue
			}
			ex.injected++
			undo[e.index] = u
			continue
		}
		if u := undo[e.index]; u != nil {
			if err := u(); err != nil {
				return lastEnd, fmt.Errorf("undo %s: %w", plan[e.index], err)
			}
			undo[e.index] = nil
		}
		lastEnd = time.Now()
	}
	return lastEnd, nil
}

// node resolves a decision's target to a running node ID.
func (ex *monkeyExecutor) node(target int) (string, error) {
	if target < 0 {
		id, _, err := cluster.Leader(ex.t.c)
		return id, err
	}
	return ex.t.c.Nodes()[target], nil
}

// inject starts one fault and returns the function that ends it.
func (ex *monkeyExecutor) inject(ctx context.Context, d monkeyDecision) (func() error, error) {
	id, err := ex.node(d.Target)
	if err != nil {
		return nil, err
	}
	c := ex.t.c
	switch d.Kind {
	case MonkeyLinkLoss, MonkeyLinkDelay, MonkeyLeaderIsolated:
		rules := netchaos.Isolate(id, netchaos.KindPartition)
		if d.Kind == MonkeyLinkLoss {
			rules = []netchaos.Rule{{From: id, To: netchaos.Any, Kind: netchaos.KindDrop, Probability: 0.3}, {From: netchaos.Any, To: id, Kind: netchaos.KindDrop, Probability: 0.3}}
		}
		if d.Kind == MonkeyLinkDelay {
			lease := ex.env.Timing.LeaderLeaseTimeout
			rules = []netchaos.Rule{{From: id, To: netchaos.Any, Kind: netchaos.KindDelay, Delay: lease / 2, Jitter: lease / 4}}
		}
		added, err := c.AddFaults(rules...)
		if err != nil {
			return nil, err
		}
		return func() error {
			ids := make([]string, len(added))
			for i, r := range added {
				ids[i] = r.ID
			}
			return c.RemoveFaults(ids...)
		}, nil
	case MonkeyNodeCrash:
		if err := c.Crash(id); err != nil {
			return nil, err
		}
		return func() error { return c.Restart(ctx, id) }, nil
	}
	return ex.daemonFault(ctx, id, d)
}

// daemonFault runs an operation-level fault on node id's daemon.
func (ex *monkeyExecutor) daemonFault(ctx context.Context, id string, d monkeyDecision) (func() error, error) {
	ds, ok := ex.t.c.(Daemons)
	if !ok {
		return nil, ErrNoDaemon
	}
	dm, err := ds.Daemon(id)
	if err != nil {
		return nil, err
	}
	op := daemon.Operation{ID: fmt.Sprintf("monkey-%s-%d-%d", ex.env.Name, ex.env.Index, d.At.Milliseconds()), Timeout: d.For}
	switch d.Kind {
	case MonkeyHandlerError:
		op.Handler = daemon.FailSync(errChaos)
	case MonkeySlowOperation:
		op.Handler = daemon.Slow(d.For/2, daemon.Succeed(true))
	case MonkeyLargePayload:
		op.Handler, op.Metadata = daemon.Succeed(true), daemon.LargeMetadata(100)
	}
	if err := dm.Schedule(op); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		dm.Execute(ctx, op.ID)
	}()
	return func() error {
		<-done
		return dm.Unschedule(op.ID)
	}, nil
}
