package scenarios

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

func (a *analysis) crash(s step) {
	a.crashes, a.faulted = true, true
	a.marks["crash"], a.marks["fault"] = true, true
	name := canonical(s.crash)
	if name == "" {
		return
	}
	if name == nameAll {
		if a.allDown >= 0 {
			a.failf(s, "crash", "every node is already down since steps[%d]: restart them first", a.allDown)
			return
		}
		// No detection or election is measured: with every node down, no
		// node notices the leader's loss, and the old leader may win again.
		a.allDown, a.upAgain, a.crashAll = s.index, map[string]bool{}, true
		return
	}
	if a.allDown >= 0 && !a.upAgain[name] {
		a.failf(s, "crash", "%s is already down: steps[%d] crashed every node", s.crash, a.allDown)
		return
	}
	if j, ok := a.crashed[name]; ok {
		a.failf(s, "crash", "%s is already down: steps[%d] crashed it, so restart it first", s.crash, j)
		return
	}
	a.crashed[name] = s.index
	delete(a.upAgain, name)
	if name == roleLeader {
		a.f.leaderLost = true
	}
}

func (a *analysis) restart(s step) {
	a.marks["restart"] = true
	name := canonical(s.restart)
	if name == "" {
		return
	}
	if name == nameAll {
		if len(a.crashed) == 0 && a.allDown < 0 {
			a.failf(s, "restart", "no earlier step crashed a node: add a crash step before it")
		}
		a.crashed, a.allDown, a.upAgain = map[string]int{}, -1, nil
		return
	}
	if a.allDown >= 0 {
		if a.upAgain[name] {
			a.failf(s, "restart", "%s was already restarted after steps[%d] crashed every node", s.restart, a.allDown)
		}
		a.upAgain[name] = true
		return
	}
	if _, ok := a.crashed[name]; !ok {
		down := slices.Sorted(maps.Keys(a.crashed))
		if len(down) == 0 {
			a.failf(s, "restart", "%s was never crashed: no earlier step crashes a node, so add - crash: %s before it", s.restart, s.restart)
		} else {
			a.failf(s, "restart", "%s was never crashed by an earlier step (down now: %s)", s.restart, strings.Join(down, ", "))
		}
		return
	}
	delete(a.crashed, name)
}

func (a *analysis) wait(s step) {
	w := s.wait
	switch w.until {
	case untilLeader:
		a.majority(s, "waits for a leader")
	case untilWrite:
		a.majority(s, "waits for a write")
	case untilStable:
		a.requireHealed(s, "wait.for", "stable")
	}
	if w.until != "" {
		a.marks[w.until] = true
	}
}

// majority checks that the nodes neither cut off nor down can still form a
// majority when step s needs a leader, and raises the cluster size the
// steps need to make sure they can.
func (a *analysis) majority(s step, what string) {
	if a.allDown >= 0 {
		if len(a.upAgain) == 0 {
			a.failf(s, "", "%s, but every node is down since steps[%d]: restart them first", what, a.allDown)
		}
		// The nodes restarted one by one are known only at run time.
		return
	}
	down := map[string]bool{}
	for name := range a.crashed {
		down[name] = true
	}
	for _, f := range a.active {
		for _, name := range f.cutOff {
			down[name] = true
		}
	}
	if k := len(down); k > 0 {
		a.requireNodes(2*k+1, fmt.Sprintf("%s %s while %d nodes are cut off or down (%s), and the others must be a majority",
			s.field(), what, k, strings.Join(slices.Sorted(maps.Keys(down)), ", ")))
	}
}

// requireHealed reports a step that needs every node to follow the leader
// while an active fault keeps some from it.
func (a *analysis) requireHealed(s step, key, what string) {
	for _, f := range a.active {
		if len(f.cutOff) > 0 {
			a.failf(s, key, "%s cannot be met while the fault of steps[%d] cuts nodes off: heal it first", what, f.index)
			return
		}
	}
}

func (a *analysis) assert(s step) {
	as := s.assert
	if as.noCommitOn != "" {
		name := canonical(as.noCommitOn)
		cut := false
		for _, f := range a.active {
			cut = cut || slices.Contains(f.cutOff, name)
		}
		if !cut {
			a.failf(s, "assert.no_commit_on", "%s is not cut off by an active isolate or split, so a write through it may rightly commit", as.noCommitOn)
		}
	}
	if as.steppedDown != "" {
		switch {
		case canonical(as.steppedDown) != roleLeader:
			a.failf(s, "assert.stepped_down", "only the starting leader can step down: use leader or old_leader")
		case !a.f.leaderCutOff:
			a.failf(s, "assert.stepped_down", "no earlier fault cuts the leader off, so it has no reason to step down")
		}
	}
	if as.electedAfter > 0 && !a.f.leaderLost {
		a.failf(s, "assert.elected_after", "no earlier step cuts off or crashes the leader, so no election follows a fault")
	}
	if as.ackedSurvive {
		a.requireHealed(s, "assert.acked_writes_survive", "acked_writes_survive")
	}
}

func (a *analysis) measure(s step) {
	m := s.measure
	if m.rto != "" {
		if a.rtoStep >= 0 {
			a.failf(s, "measure.rto", "the RTO is already measured by steps[%d]: measure it once", a.rtoStep)
			return
		}
		a.rtoStep = s.index
	}
	switch m.rto {
	case rtoFirstWrite:
		if !a.faulted {
			a.failf(s, "measure.rto", "no earlier step injects a fault, crashes a node or sets mark: fault, so there is no fault to measure from")
		}
		a.majority(s, "waits for a write")
		a.marks["first_write"] = true
		return
	case rtoConverged:
		if !a.healed {
			a.failf(s, "measure.rto", "no earlier heal leaves the cluster without faults, so there is no convergence to measure")
		}
		return
	}
	for _, key := range []string{"from", "to"} {
		mark := m.from
		if key == "to" {
			mark = m.to
		}
		if mark != "" && !a.marks[mark] {
			a.failf(s, "measure."+key, "mark %q is not set by an earlier step (set so far: %s)", mark, a.markList())
		}
	}
	for _, earlier := range a.f.steps[:s.index] {
		if earlier.measure != nil && m.phase != "" && earlier.measure.phase == m.phase {
			a.failf(s, "measure.phase", "phase %q is already measured by steps[%d]", m.phase, earlier.index)
			return
		}
	}
}

func (a *analysis) markList() string {
	if len(a.marks) == 0 {
		return "none"
	}
	return strings.Join(slices.Sorted(maps.Keys(a.marks)), ", ")
}
