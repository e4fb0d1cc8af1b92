package scenarios

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
)

// runFault turns a fault step into rules and injects them. The writer stops
// writing through the nodes the fault cuts off before the rules land, and
// starts, if it has not yet, right after, as in LeaderIsolation.
func (r *fileRun) runFault(s step) error {
	f := s.fault
	rules, cutOff, err := r.rules(f)
	if err != nil {
		return err
	}
	for i := range rules {
		rules[i].Messages = slices.Clone(f.messages)
		rules[i].TTL = f.ttl
	}
	r.faults = append(r.faults, runFault{label: f.label, index: s.index, cutOff: cutOff})
	r.updateAllowed()
	before := len(r.t.rules)
	if err := r.t.inject(rules...); err != nil {
		r.faults = r.faults[:len(r.faults)-1]
		r.updateAllowed()
		return fmt.Errorf("inject the fault: %w", err)
	}
	added := r.t.rules[before:]
	last := &r.faults[len(r.faults)-1]
	for _, rule := range added {
		last.ids = append(last.ids, rule.ID)
	}
	r.marks["fault"] = r.t.faultAt
	r.env.Log.Info("scenario file fault", "step", s.index, "op", f.op, "label", f.label, "rules", len(added), "cut_off", cutOff)
	r.ensureWriter()
	return nil
}

// rules builds the rules of a fault and names the nodes it separates from
// the majority.
func (r *fileRun) rules(f *faultStep) ([]netchaos.Rule, []string, error) {
	switch f.op {
	case "isolate":
		id, err := r.resolve(f.node)
		if err != nil {
			return nil, nil, err
		}
		var cutOff []string
		if f.separates() {
			cutOff = []string{id}
		}
		return netchaos.Isolate(id, f.kind), cutOff, nil
	case "split":
		return r.splitRules(f)
	}
	from, err := r.resolveEnd(f.from)
	if err != nil {
		return nil, nil, err
	}
	to, err := r.resolveEnd(f.to)
	if err != nil {
		return nil, nil, err
	}
	if from == to && from != nameAny {
		return nil, nil, fmt.Errorf("link %s->%s joins %s to itself in this run", f.from, f.to, from)
	}
	rule := netchaos.Rule{From: from, To: to, Kind: f.kind, Probability: f.probability, Delay: f.delay, Jitter: f.jitter}
	return []netchaos.Rule{rule}, nil, nil
}

func (r *fileRun) resolveEnd(name string) (string, error) {
	if name == nameAny {
		return nameAny, nil
	}
	return r.resolve(name)
}

// splitRules resolves the groups of a split, rest included, and names the
// nodes outside the group that holds a majority, if any group does.
func (r *fileRun) splitRules(f *faultStep) ([]netchaos.Rule, []string, error) {
	nodes := r.t.c.Nodes()
	named := map[string]string{}
	groups := make([][]string, len(f.groups))
	restAt := -1
	for i, g := range f.groups {
		for _, name := range g {
			if name == nameRest {
				restAt = i
				continue
			}
			id, err := r.resolve(name)
			if err != nil {
				return nil, nil, err
			}
			if other, dup := named[id]; dup {
				return nil, nil, fmt.Errorf("the split names %s twice in this run: as %s and as %s", id, other, name)
			}
			named[id] = name
			groups[i] = append(groups[i], id)
		}
	}
	if restAt >= 0 {
		for _, id := range nodes {
			if _, ok := named[id]; !ok {
				groups[restAt] = append(groups[restAt], id)
			}
		}
	}
	for i, g := range groups {
		if len(g) == 0 {
			return nil, nil, fmt.Errorf("group %d of the split is empty on this %d-node cluster", i, len(nodes))
		}
	}
	var cutOff []string
	major := slices.IndexFunc(groups, func(g []string) bool { return 2*len(g) > len(nodes) })
	if major >= 0 && f.separates() {
		for i, g := range groups {
			if i != major {
				cutOff = append(cutOff, g...)
			}
		}
	}
	return netchaos.Split(f.kind, groups...), cutOff, nil
}

// runHeal removes the rules of one labelled fault, or of all. A heal that
// leaves no fault active waits, as trial.heal does, until every node
// follows one leader and has caught up, and records heal_recovery.
func (r *fileRun) runHeal(ctx context.Context, s step) error {
	r.collectPending(ctx)

	var healed, kept []runFault
	for _, f := range r.faults {
		if s.heal == nameAll || f.label == s.heal {
			healed = append(healed, f)
		} else {
			kept = append(kept, f)
		}
	}
	seq := r.t.tl.LastSeq()

	if len(kept) == 0 {
		r.faults = nil
		err := r.t.heal(ctx)
		r.updateAllowed()
		r.marks["heal"] = r.healTime(seq)
		if err != nil {
			r.fail(s, "%s", r.t.rep.Error)
		}
		return nil
	}

	// Other faults stay in force, so the cluster cannot be expected to
	// converge yet: remove the rules and go on.
	var ids []string
	for _, f := range healed {
		ids = append(ids, f.ids...)
	}
	if err := r.t.c.RemoveFaults(ids...); err != nil {
		return fmt.Errorf("remove the faults labelled %s: %w", s.heal, err)
	}
	r.t.rules = slices.DeleteFunc(r.t.rules, func(rule netchaos.Rule) bool { return slices.Contains(ids, rule.ID) })
	r.faults = kept
	r.updateAllowed()
	r.marks["heal"] = r.healTime(seq)
	r.env.Log.Info("scenario file heal", "step", s.index, "label", s.heal, "rules", len(ids))
	return nil
}

// healTime returns the time of the first heal event after seq, or now when
// every rule had expired already.
func (r *fileRun) healTime(seq uint64) time.Time {
	if e, ok := firstEvent(r.t.tl.Since(seq), func(e raftint.Event) bool { return e.Kind == raftint.EventHeal }); ok {
		return e.At
	}
	return time.Now()
}

// runCrash crashes one node, or every running one.
func (r *fileRun) runCrash(s step) error {
	ids, err := r.targets(s.crash, func(id string) bool { return !r.crashed[id] })
	if err != nil {
		return err
	}
	for _, id := range ids {
		r.crashed[id] = true
		r.updateAllowed()
		at := time.Now()
		if err := r.t.c.Crash(id); err != nil {
			return fmt.Errorf("crash %s: %w", id, err)
		}
		r.t.markFault(at)
		r.marks["crash"] = at
	}
	r.marks["fault"] = r.t.faultAt
	r.ensureWriter()
	return nil
}

// runRestart restarts one crashed node, or every one.
func (r *fileRun) runRestart(ctx context.Context, s step) error {
	ids, err := r.targets(s.restart, func(id string) bool { return r.crashed[id] })
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !r.crashed[id] {
			return fmt.Errorf("%s is running: no step crashed it in this run", id)
		}
		at := time.Now()
		if err := r.t.c.Restart(ctx, id); err != nil {
			r.fail(s, "restart of %s failed: %v", id, err)
			return nil
		}
		delete(r.crashed, id)
		r.updateAllowed()
		r.marks["restart"] = at
	}
	return nil
}

// targets resolves a crash or restart name; all means every node that
// match accepts.
func (r *fileRun) targets(name string, match func(string) bool) ([]string, error) {
	if name != nameAll {
		id, err := r.resolve(name)
		return []string{id}, err
	}
	return slices.DeleteFunc(r.t.c.Nodes(), func(id string) bool { return !match(id) }), nil
}

// runWait pauses, or waits for a condition up to the step's timeout.
func (r *fileRun) runWait(ctx context.Context, s step) error {
	w := s.wait
	if w.hold > 0 {
		return hold(ctx, w.hold)
	}
	excluded := map[string]bool{}
	for _, name := range w.exclude {
		id, err := r.resolve(name)
		if err != nil {
			return err
		}
		excluded[id] = true
	}
	timeout := r.stepTimeout(w.timeout)
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch w.until {
	case untilLeader:
		r.waitLeader(wctx, s, excluded, timeout)
	case untilWrite:
		r.waitWrite(wctx, s, excluded, timeout)
	case untilStable:
		target := uint64(0)
		if _, ls, err := cluster.Leader(r.t.c); err == nil {
			target = ls.CommitIndex
		}
		st, err := r.t.c.WaitConverged(wctx, target)
		if err != nil {
			r.fail(s, "the cluster did not converge on index %d within %v: %v", target, timeout, err)
			break
		}
		r.marks[untilStable] = st.At
	}
	return ctx.Err()
}

// waitLeader waits until a running node outside excluded is leader, and
// marks the time raft reported it.
func (r *fileRun) waitLeader(ctx context.Context, s step, excluded map[string]bool, timeout time.Duration) {
	seq := r.t.tl.LastSeq()
	var leader string
	err := r.waitUntil(ctx, func() bool {
		leader = r.leaderAmong(func(id string) bool { return !excluded[id] })
		return leader != ""
	})
	if err != nil {
		r.fail(s, "no leader elected within %v", timeout)
		return
	}
	r.marks[untilLeader] = time.Now()
	isNew := func(e raftint.Event) bool {
		return e.Node == leader && e.Kind == raftint.EventState && e.State == "Leader"
	}
	if e, ok := firstEvent(r.t.tl.Since(seq), isNew); ok {
		r.marks[untilLeader] = e.At
	}
}

// waitWrite waits for the writer's first write acknowledged after the step
// started, through a node outside excluded.
func (r *fileRun) waitWrite(ctx context.Context, s step, excluded map[string]bool, timeout time.Duration) {
	r.ensureWriter()
	after := time.Now()
	for {
		a, ok := r.t.w.waitAckAfter(ctx, after)
		if !ok {
			r.fail(s, "no write committed within %v", timeout)
			return
		}
		if !excluded[a.Node] {
			r.marks[untilWrite] = a.At
			return
		}
		after = a.At
	}
}

// runWrite writes count keys, one at a time, each through the current
// leader among the nodes not cut off, retrying until it commits or the
// step's timeout passes.
func (r *fileRun) runWrite(ctx context.Context, s step) {
	timeout := r.stepTimeout(s.write.timeout)
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	putTimeout := 2 * r.env.Timing.HeartbeatTimeout
	for i := range s.write.count {
		key := fmt.Sprintf("%s-%d-step%d-%06d", r.env.Name, r.env.Index, s.index, i)
		value := fmt.Sprint(i)
		err := r.waitUntil(wctx, func() bool {
			leader := r.leaderAmong(r.allowed())
			if leader == "" {
				return false
			}
			pctx, pcancel := context.WithTimeout(wctx, putTimeout)
			index, err := r.t.c.Put(pctx, leader, key, value)
			pcancel()
			if err != nil {
				return false
			}
			at := time.Now()
			r.acks = append(r.acks, ack{Key: key, Value: value, Node: leader, Index: index, At: at})
			r.t.tl.Record(raftint.Event{At: at, Kind: raftint.EventWrite, Node: leader, Index: index, Detail: key})
			return true
		})
		if err != nil {
			r.fail(s, "write %d of %d did not commit within %v", i+1, s.write.count, timeout)
			return
		}
	}
}
