package scenarios

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/faultline-dev/faultline/cluster"
)

// Checks of an assert step.
var assertKeys = []string{
	"no_commit_on", "leader_changed", "term_increased", "acked_writes_survive",
	"single_leader_per_term", "stepped_down", "elected_after",
}

// assert parses an assert step; every check is optional, but one is needed.
func (d *decoder) assert(n *yaml.Node, field string, s *step) *assertStep {
	a := &assertStep{}
	m, ok := d.mapping(n, field, assertKeys...)
	if !ok {
		return a
	}
	if len(m) == 0 {
		d.failf(n, field, "no check: give one of %s", strings.Join(assertKeys, ", "))
	}
	for key, v := range m {
		s.lines["assert."+key] = v.Line
		path := field + "." + key
		switch key {
		case "no_commit_on":
			a.noCommitOn = d.node(v, path)
		case "stepped_down":
			a.steppedDown = d.node(v, path)
		case "leader_changed":
			if b, ok := d.boolean(v, path); ok {
				a.leaderChanged = &b
			}
		case "term_increased":
			if b, ok := d.boolean(v, path); ok {
				a.termIncreased = &b
			}
		case "acked_writes_survive":
			a.ackedSurvive = d.onlyTrue(v, path)
		case "single_leader_per_term":
			a.singleLeader = d.onlyTrue(v, path)
		case "elected_after":
			a.electedAfter, _ = d.duration(v, path)
		}
	}
	return a
}

// onlyTrue parses a check that can only be turned on.
func (d *decoder) onlyTrue(n *yaml.Node, field string) bool {
	b, ok := d.boolean(n, field)
	if ok && !b {
		d.failf(n, field, "only true is allowed: leave the check out instead")
	}
	return b
}

// runAssert evaluates an assert step now and records every failed check as
// a violation. no_commit_on starts a write that is judged later, at the next
// heal or at the end of the steps.
func (r *fileRun) runAssert(ctx context.Context, s step) error {
	a := s.assert
	if a.noCommitOn != "" {
		id, err := r.resolve(a.noCommitOn)
		if err != nil {
			return err
		}
		key := fmt.Sprintf("no-commit-%s-%d-step%d", r.env.Name, r.env.Index, s.index)
		r.pending = append(r.pending, pendingWrite{node: id, key: key, result: r.t.stuckWrite(id, key)})
	}
	if a.leaderChanged != nil || a.termIncreased != nil {
		r.assertLeadership(ctx, s)
	}
	if a.ackedSurvive {
		r.assertAcked(ctx, s)
	}
	if a.singleLeader {
		r.violate(leadersPerTerm(r.t.tl.Since(r.t.seq))...)
	}
	if a.steppedDown != "" {
		id, err := r.resolve(a.steppedDown)
		if err != nil {
			return err
		}
		if _, ok := firstEvent(r.t.tl.Since(r.t.seq), isStepDown(id)); !ok {
			r.violatef(s, "assert.stepped_down", "%s never left the leader state", id)
		}
	}
	if a.electedAfter > 0 {
		r.assertElectedAfter(s, a.electedAfter)
	}
	return nil
}

// assertLeadership compares the current leader and term with those of the
// steady state the repetition started from. When no node is leader, it
// waits for one up to the stable timeout.
func (r *fileRun) assertLeadership(ctx context.Context, s step) {
	a := s.assert
	wctx, cancel := context.WithTimeout(ctx, r.stableTimeout())
	defer cancel()
	var leader string
	var term uint64
	err := r.waitUntil(wctx, func() bool {
		id, st, err := cluster.Leader(r.t.c)
		leader, term = id, st.Term
		return err == nil
	})
	if err != nil {
		r.violatef(s, "assert", "no node became leader within %v to compare with %s", r.stableTimeout(), r.t.stable.Leader)
		return
	}
	old, oldTerm := r.t.stable.Leader, r.t.stable.Term
	if a.leaderChanged != nil && (leader != old) != *a.leaderChanged {
		if *a.leaderChanged {
			r.violatef(s, "assert.leader_changed", "%s is still leader (term %d)", old, term)
		} else {
			r.violatef(s, "assert.leader_changed", "leadership moved from %s (term %d) to %s (term %d)", old, oldTerm, leader, term)
		}
	}
	if a.termIncreased != nil && (term > oldTerm) != *a.termIncreased {
		if *a.termIncreased {
			r.violatef(s, "assert.term_increased", "the term is still %d", term)
		} else {
			r.violatef(s, "assert.term_increased", "the term rose from %d to %d", oldTerm, term)
		}
	}
}

// assertAcked waits until every running node has applied the last
// acknowledged write, then checks that each holds every acknowledged write:
// those of write steps and those of the background writer so far.
func (r *fileRun) assertAcked(ctx context.Context, s step) {
	acks := slices.Concat(r.acks, r.writerAcks())
	var index uint64
	for _, a := range acks {
		index = max(index, a.Index)
	}
	wctx, cancel := context.WithTimeout(ctx, r.stableTimeout())
	defer cancel()
	if _, err := r.t.c.WaitConverged(wctx, index); err != nil {
		r.violatef(s, "assert.acked_writes_survive", "the cluster did not converge on index %d to check the writes: %v", index, err)
		return
	}
	for _, v := range checkAcked(r.t.c, acks) {
		r.violatef(s, "assert.acked_writes_survive", "%s", v)
	}
}

// assertElectedAfter checks that no node other than the starting leader
// became leader sooner than after d from the fault.
func (r *fileRun) assertElectedAfter(s step, d time.Duration) {
	old := r.t.stable.Leader
	e, ok := firstEvent(r.t.tl.Since(r.t.seq), isElection(old))
	switch {
	case !ok:
		r.violatef(s, "assert.elected_after", "no node other than %s became leader", old)
	case e.At.Sub(r.t.faultAt) < d:
		r.violatef(s, "assert.elected_after", "%s became leader %v after the fault, before %v", e.Node, e.At.Sub(r.t.faultAt).Round(time.Millisecond), d)
	}
}

func (r *fileRun) writerAcks() []ack {
	if r.t.w == nil {
		return nil
	}
	return r.t.w.Acks()
}
