package scenarios

import (
	"context"
	"fmt"
	"time"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
)

// OneWayPartition cuts one direction between the leader and a follower,
// first follower → leader and then leader → follower, and reports what raft
// does in each phase: elections, term changes and step-downs. The RTO is the
// time to converge after the last heal.
type OneWayPartition struct {
	// Hold is how long each direction stays cut; zero means eight heartbeat
	// timeouts.
	Hold time.Duration
}

// Name implements Scenario.
func (OneWayPartition) Name() string { return "one-way-partition" }

// Description implements Scenario.
func (OneWayPartition) Description() string {
	return "cut follower→leader, then leader→follower; report elections, term changes and step-downs in each direction"
}

// BlastRadius implements Scenario.
func (OneWayPartition) BlastRadius() BlastRadius { return RadiusNode }

// DefaultTarget implements Scenario.
func (OneWayPartition) DefaultTarget() Target { return TargetNetworkPartition }

// MinNodes implements Scenario.
func (OneWayPartition) MinNodes() int { return 3 }

// Phases implements Scenario.
func (OneWayPartition) Phases() []string { return []string{PhaseHeal} }

// Run implements Scenario.
func (s OneWayPartition) Run(ctx context.Context, env Env) (Repetition, error) {
	holdFor := s.Hold
	if holdFor == 0 {
		holdFor = 8 * env.Timing.HeartbeatTimeout
	}
	t, err := newTrial(ctx, env)
	if err != nil {
		return t.rep, err
	}
	followers := t.followers()
	follower := followers[env.Rand.IntN(len(followers))]
	t.startWriter(func(id string) bool { return true })
	phases := []struct {
		name     string
		from, to string
	}{
		{"follower_to_leader", follower, t.stable.Leader},
		{"leader_to_follower", t.stable.Leader, follower},
	}
	for _, p := range phases {
		st, err := t.c.WaitStable(ctx)
		if err != nil {
			t.rep.Error = fmt.Sprintf("cluster unstable before the %s cut: %v", p.name, err)
			return t.finish(ctx)
		}
		seq := t.tl.LastSeq()
		if err := t.inject(netchaos.Cut(p.from, p.to, netchaos.KindPartition)); err != nil {
			return t.rep, err
		}
		if err := hold(ctx, holdFor); err != nil {
			return t.finish(ctx)
		}
		if err := t.heal(ctx); err != nil {
			return t.finish(ctx)
		}
		s.count(&t.rep, p.name, st, t.tl.Since(seq))
	}
	t.rep.Recovered = true
	t.rep.RTO = t.rep.Durations[PhaseHeal]
	return t.finish(ctx)
}

// count records the elections, step-downs and term growth of one phase.
func (OneWayPartition) count(rep *Repetition, phase string, before cluster.Stable, events []raftint.Event) {
	termBefore := before.Term
	var maxTerm uint64
	elections, stepDowns := 0, 0
	for _, e := range events {
		// A vote request carries the term a candidate requests. With
		// pre-vote that term is never entered, so it does not count.
		if e.Kind != raftint.EventVoteRequest && e.Term > maxTerm {
			maxTerm = e.Term
		}
		if e.Kind != raftint.EventState {
			continue
		}
		if e.State == "Leader" {
			elections++
		}
		if e.State == "Follower" && wasLeader(events, e, before.Leader) {
			stepDowns++
		}
	}
	rep.Counts[phase+"_elections"] = int64(elections)
	rep.Counts[phase+"_step_downs"] = int64(stepDowns)
	if maxTerm > termBefore {
		rep.Counts[phase+"_term_increase"] = int64(maxTerm - termBefore)
	} else {
		rep.Counts[phase+"_term_increase"] = 0
	}
}

// wasLeader reports whether e's node was leader just before e; leader led
// when events begin.
func wasLeader(events []raftint.Event, e raftint.Event, leader string) bool {
	state := ""
	if e.Node == leader {
		state = "Leader"
	}
	for _, prev := range events {
		if prev.Seq >= e.Seq {
			break
		}
		if prev.Node == e.Node && prev.Kind == raftint.EventState {
			state = prev.State
		}
	}
	return state == "Leader"
}
