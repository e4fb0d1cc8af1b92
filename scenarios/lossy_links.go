package scenarios

import (
	"context"
	"fmt"
	"time"

	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
)

// LossyLinks drops each message on every link with probability Probability
// for Window and reports how often leadership changed, per minute.
type LossyLinks struct {
	// Probability is the drop chance per message; zero means 0.2.
	Probability float64
	// Window is how long the loss lasts; zero means twenty heartbeat
	// timeouts.
	Window time.Duration
}

// Name implements Scenario.
func (LossyLinks) Name() string { return "lossy-links" }

// Description implements Scenario.
func (LossyLinks) Description() string {
	return "drop messages on every link at a seeded rate; count step-downs and elections per minute and the write success rate"
}

// BlastRadius implements Scenario.
func (LossyLinks) BlastRadius() BlastRadius { return RadiusCluster }

// DefaultTarget implements Scenario.
func (LossyLinks) DefaultTarget() Target { return TargetNetworkPartition }

// MinNodes implements Scenario.
func (LossyLinks) MinNodes() int { return 3 }

// Phases implements Scenario.
func (LossyLinks) Phases() []string { return []string{PhaseHeal} }

// Run implements Scenario.
func (s LossyLinks) Run(ctx context.Context, env Env) (Repetition, error) {
	p, window := s.Probability, s.Window
	if p == 0 {
		p = 0.2
	}
	if window == 0 {
		window = 20 * env.Timing.HeartbeatTimeout
	}
	t, err := newTrial(ctx, env)
	if err != nil {
		return t.rep, err
	}
	t.startWriter(func(string) bool { return true })
	seq := t.tl.LastSeq()
	if err := t.inject(netchaos.Rule{From: netchaos.Any, To: netchaos.Any, Kind: netchaos.KindDrop, Probability: p}); err != nil {
		return t.rep, err
	}
	if err := hold(ctx, window); err != nil {
		return t.finish(ctx)
	}
	recordChurn(&t.rep, "", t.tl.Since(seq), window)
	t.rep.Counts["drop_percent"] = int64(p * 100)
	if err := t.heal(ctx); err != nil {
		return t.finish(ctx)
	}
	t.rep.Recovered = true
	t.rep.RTO = t.rep.Durations[PhaseHeal]
	return t.finish(ctx)
}

// SlowLinks delays every link in steps swept against the leader lease and
// reports the leadership churn of each step.
type SlowLinks struct {
	// Steps are the delays as fractions of the leader lease; nil means
	// 0.25, 0.5, 1 and 1.5.
	Steps []float64
	// Window is how long each step lasts; zero means eight heartbeat
	// timeouts.
	Window time.Duration
}

// Name implements Scenario.
func (SlowLinks) Name() string { return "slow-links" }

// Description implements Scenario.
func (SlowLinks) Description() string {
	return "delay every link with jitter in steps from a quarter to 1.5 leases; count step-downs and elections per minute per step"
}

// BlastRadius implements Scenario.
func (SlowLinks) BlastRadius() BlastRadius { return RadiusCluster }

// DefaultTarget implements Scenario.
func (SlowLinks) DefaultTarget() Target { return TargetNetworkPartition }

// MinNodes implements Scenario.
func (SlowLinks) MinNodes() int { return 3 }

// Phases implements Scenario.
func (SlowLinks) Phases() []string { return []string{PhaseHeal} }

// Run implements Scenario. Each step's delay has a jitter of a fifth of it.
func (s SlowLinks) Run(ctx context.Context, env Env) (Repetition, error) {
	steps, window := s.Steps, s.Window
	if steps == nil {
		steps = []float64{0.25, 0.5, 1, 1.5}
	}
	if window == 0 {
		window = 8 * env.Timing.HeartbeatTimeout
	}
	t, err := newTrial(ctx, env)
	if err != nil {
		return t.rep, err
	}
	t.startWriter(func(string) bool { return true })
	for _, f := range steps {
		delay := time.Duration(f * float64(env.Timing.LeaderLeaseTimeout))
		seq := t.tl.LastSeq()
		if err := t.inject(netchaos.Rule{From: netchaos.Any, To: netchaos.Any, Kind: netchaos.KindDelay, Delay: delay, Jitter: delay / 5}); err != nil {
			return t.rep, err
		}
		if err := hold(ctx, window); err != nil {
			return t.finish(ctx)
		}
		recordChurn(&t.rep, fmt.Sprintf("delay_%dms_", delay.Milliseconds()), t.tl.Since(seq), window)
		if err := t.heal(ctx); err != nil {
			return t.finish(ctx)
		}
	}
	t.rep.Recovered = true
	t.rep.RTO = t.rep.Durations[PhaseHeal]
	return t.finish(ctx)
}

// recordChurn counts elections and leader step-downs in events and their
// rates per minute over window.
func recordChurn(rep *Repetition, prefix string, events []raftint.Event, window time.Duration) {
	elections := countEvents(events, func(e raftint.Event) bool { return e.Kind == raftint.EventState && e.State == "Leader" })
	stepDowns := 0
	leaders := map[string]bool{}
	for _, e := range events {
		if e.Kind != raftint.EventState {
			continue
		}
		if leaders[e.Node] && e.State != "Leader" {
			stepDowns++
		}
		leaders[e.Node] = e.State == "Leader"
	}
	perMinute := func(n int) int64 { return int64(float64(n) * float64(time.Minute) / float64(window)) }
	rep.Counts[prefix+"elections"] = int64(elections)
	rep.Counts[prefix+"step_downs"] = int64(stepDowns)
	rep.Counts[prefix+"elections_per_min"] = perMinute(elections)
	rep.Counts[prefix+"step_downs_per_min"] = perMinute(stepDowns)
}
