package scenarios

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/faultline-dev/faultline/daemon"
)

// PhaseRecord is the outcome of one phase of a composite scenario: its
// recovery, and the leader daemon's health and metrics at its end.
type PhaseRecord struct {
	Name        string         `json:"name"`
	Recovered   bool           `json:"recovered"`
	RTO         time.Duration  `json:"rto_ns"`
	Max         time.Duration  `json:"rto_max_ns"`
	Duration    time.Duration  `json:"duration_ns"`
	Violations  []string       `json:"violations,omitempty"`
	Error       string         `json:"error,omitempty"`
	SuccessRate float64        `json:"daemon_success_rate"`
	Health      *daemon.Health `json:"daemon_health,omitempty"`
}

// GameDay runs phases of increasing severity on one cluster: operation
// failures, memory pressure, concurrent load, a network partition of the
// leader and a crash of the leader. It passes when the daemon's success rate
// over the day stays above MinSuccessRate and every phase recovers within
// its own RTO maximum.
type GameDay struct {
	// MinSuccessRate is the lowest acceptable share of successful daemon
	// operations over the day; zero means 0.5.
	MinSuccessRate float64
}

// InProcessOnly reports that the scenario needs the in-process target.
func (GameDay) InProcessOnly() bool { return true }

// Name implements Scenario.
func (GameDay) Name() string { return "game-day" }

// Description implements Scenario.
func (GameDay) Description() string {
	return "phases of increasing severity: operation failures, memory pressure, concurrent load, leader partition, leader crash"
}

// BlastRadius implements Scenario.
func (GameDay) BlastRadius() BlastRadius { return RadiusCluster }

// DefaultTarget implements Scenario: a whole day of faults is judged like a
// cluster failure.
func (GameDay) DefaultTarget() Target { return TargetClusterFailure }

// MinNodes implements Scenario.
func (GameDay) MinNodes() int { return 3 }

// Phases implements Scenario.
func (GameDay) Phases() []string {
	return []string{"operation_failures", "memory_pressure", "concurrent_load", "network_partition", "node_crash"}
}

// gameDayPhase is one phase: a scenario and the objective it is held to.
type gameDayPhase struct {
	name     string
	scenario Scenario
}

// Run implements Scenario. The repetition's RTO is the slowest phase's.
func (g GameDay) Run(ctx context.Context, env Env) (Repetition, error) {
	minRate := g.MinSuccessRate
	if minRate == 0 {
		minRate = 0.5
	}
	rep := Repetition{Index: env.Index, Durations: map[string]time.Duration{}, Counts: map[string]int64{}, Recovered: true}
	d, err := leaderDaemon(ctx, env)
	if err != nil {
		return rep, err
	}
	start := d.Metrics()
	phases := []gameDayPhase{
		{"operation_failures", daemonScenario("handler-failure")},
		{"memory_pressure", DaemonScenario{name: "game-day-memory", target: TargetMemoryPressure, chaos: memoryPressure}},
		{"concurrent_load", DaemonScenario{name: "game-day-load", target: TargetMemoryPressure, chaos: concurrentLoad}},
		{"network_partition", LeaderIsolation{}},
		{"node_crash", NodeCrash{}},
	}
	for _, p := range phases {
		env.Log.Info("game day phase", "phase", p.name)
		record, err := runPhase(ctx, env, p)
		rep.Phases = append(rep.Phases, record)
		rep.Durations[p.name] = record.RTO
		if record.RTO > rep.RTO {
			rep.RTO = record.RTO
		}
		for _, v := range record.Violations {
			rep.Violations = append(rep.Violations, p.name+": "+v)
		}
		if !record.Recovered {
			rep.Recovered = false
			rep.Violations = append(rep.Violations, fmt.Sprintf("%s did not recover: %s", p.name, record.Error))
		} else if record.RTO > record.Max {
			rep.Violations = append(rep.Violations, fmt.Sprintf("%s recovered in %v, beyond its %v maximum", p.name, record.RTO, record.Max))
		}
		if err != nil {
			return rep, err
		}
	}
	rate := successRate(start, d.Metrics())
	rep.Counts["daemon_success_percent"] = int64(100 * rate)
	if rate <= minRate {
		rep.Violations = append(rep.Violations, fmt.Sprintf("daemon success rate %.0f%% is not above %.0f%%", 100*rate, 100*minRate))
	}
	return rep, nil
}

// runPhase runs one phase as a repetition of its scenario and records it.
func runPhase(ctx context.Context, env Env, p gameDayPhase) (PhaseRecord, error) {
	penv := env
	penv.Target = p.scenario.DefaultTarget()
	// A tighter objective for the whole day tightens every phase.
	if env.Target.Max < penv.Target.Max {
		penv.Target = env.Target
	}
	penv.Name = env.Name + "-" + p.name
	record := PhaseRecord{Name: p.name, Max: penv.Target.Max}
	started := time.Now()
	prep, err := p.scenario.Run(ctx, penv)
	record.Duration = time.Since(started)
	record.Recovered, record.RTO = prep.Recovered, prep.RTO
	record.Violations, record.Error = prep.Violations, prep.Error
	if err != nil && record.Error == "" {
		record.Error = err.Error()
	}
	if d, derr := leaderDaemon(ctx, env); derr == nil {
		h := d.Health()
		record.Health = &h
		record.SuccessRate = d.Metrics().SuccessRate
	}
	return record, err
}

func daemonScenario(name string) Scenario {
	for _, s := range daemonCatalog() {
		if s.Name() == name {
			return s
		}
	}
	panic("scenarios: no daemon scenario " + name)
}

// successRate is the share of runs between two metric snapshots that
// succeeded.
func successRate(before, after daemon.Metrics) float64 {
	executed := after.Executed - before.Executed
	if executed == 0 {
		return 1
	}
	return float64(after.Succeeded-before.Succeeded) / float64(executed)
}

// concurrentLoad runs 100 operations at once, each sleeping a seeded random
// time of up to 20 ms.
func concurrentLoad(ctx context.Context, env Env, d *daemon.Daemon, rep *Repetition) (time.Time, error) {
	rng := rand.New(rand.NewPCG(env.Rand.Uint64(), env.Rand.Uint64()))
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = fmt.Sprintf("load-%s-%d-%d", env.Name, env.Index, i)
		delay := time.Duration(rng.Int64N(int64(20 * time.Millisecond)))
		if err := d.Schedule(daemon.Operation{ID: ids[i], Handler: daemon.Slow(delay, daemon.Succeed(i)), Timeout: 5 * time.Second}); err != nil {
			return time.Time{}, err
		}
	}
	failed := 0
	for _, r := range daemon.ExecuteConcurrently(ctx, d, ids) {
		d.Unschedule(r.ID)
		if r.Err != nil {
			failed++
		}
	}
	rep.Counts["load_failed"] = int64(failed)
	return time.Now(), nil
}
