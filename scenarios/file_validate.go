package scenarios

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/faultline-dev/faultline/netchaos"
)

// analysis walks the parsed steps in order and tracks which faults are
// active, which nodes are down and which labels and marks exist. It finds
// the problems that no single step shows, such as a heal of an unknown
// label, a restart of a node never crashed, a wait that no majority can
// meet, or a cluster too small for the steps.
type analysis struct {
	d      *decoder
	f      *FileScenario
	labels map[string]int // label → index of the fault step that set it
	active []activeFault
	// crashed maps a node name to the crash step that took it down.
	crashed map[string]int
	// allDown is the index of a crash: all step still in force, or -1;
	// upAgain holds the nodes restarted one by one since.
	allDown  int
	upAgain  map[string]bool
	marks    map[string]bool
	faulted  bool // a fault, a crash or mark: fault came earlier
	healed   bool // a heal left no fault active
	rtoStep  int
	need     int
	needWhy  string
	network  bool
	crashes  bool
	crashAll bool
}

// activeFault is a fault step whose rules are in force.
type activeFault struct {
	label  string
	index  int
	cutOff []string // node names separated from the majority
}

// analyze runs the cross-step checks and fills the fields of f that depend
// on every step: MinNodes, the default objective and the phases.
func analyze(d *decoder, f *FileScenario, stepsLine int, nodesNode *yaml.Node, rtoSet bool) {
	a := &analysis{
		d: d, f: f, labels: map[string]int{}, crashed: map[string]int{},
		allDown: -1, marks: map[string]bool{}, rtoStep: -1, need: 1,
	}
	for _, s := range f.steps {
		a.names(s)
		a.step(s)
	}
	if a.rtoStep < 0 {
		d.failLine(stepsLine, "steps", "no step measures the RTO: add - measure: {rto: %s} after a fault, or - measure: {rto: %s} after a heal", rtoFirstWrite, rtoConverged)
	}
	if f.nodes > 0 && f.nodes < a.need {
		d.failf(nodesNode, "nodes", "%d is below the %d nodes the steps need: %s (set nodes: %d or more)", f.nodes, a.need, a.needWhy, a.need)
	}
	f.minNodes = a.need
	if !rtoSet {
		f.target = a.defaultTarget()
	}
	f.phases = a.phases()
}

// defaultTarget is the objective of the most severe fault class the steps
// use.
func (a *analysis) defaultTarget() Target {
	switch {
	case a.crashAll:
		return TargetClusterFailure
	case a.network:
		return TargetNetworkPartition
	case a.crashes:
		return TargetNodeCrash
	}
	return TargetNetworkPartition
}

// phases lists what the run records, in report order.
func (a *analysis) phases() []string {
	var out []string
	if a.f.leaderLost {
		out = append(out, PhaseDetection, PhaseElection)
	}
	out = append(out, PhaseRTO)
	if a.f.leaderCutOff {
		out = append(out, PhaseStepDown)
	}
	if a.network {
		out = append(out, PhaseHeal)
	}
	for _, s := range a.f.steps {
		if s.measure != nil && s.measure.phase != "" && !slices.Contains(out, s.measure.phase) {
			out = append(out, s.measure.phase)
		}
	}
	return out
}

func (a *analysis) failf(s step, key, format string, args ...any) {
	field := s.field()
	if key != "" {
		field += "." + key
	}
	a.d.failLine(s.lineOf(key), field, format, args...)
}

func (a *analysis) requireNodes(n int, why string) {
	if n > a.need {
		a.need, a.needWhy = n, why
	}
}

// names checks the node names of a step against the cluster size they
// imply.
func (a *analysis) names(s step) {
	for _, name := range stepNames(s) {
		if name == roleFollower {
			a.f.usesFollower = true
			a.requireNodes(2, fmt.Sprintf("%s names follower, which needs a leader and a follower", s.field()))
		}
		if m := nodeID.FindStringSubmatch(name); m != nil {
			n, _ := strconv.Atoi(m[1])
			a.requireNodes(n, fmt.Sprintf("%s names %s", s.field(), name))
		}
	}
}

// stepNames returns every node name a step uses.
func stepNames(s step) []string {
	var out []string
	if f := s.fault; f != nil {
		out = append(out, f.node, f.from, f.to)
		for _, g := range f.groups {
			out = append(out, g...)
		}
	}
	if w := s.wait; w != nil {
		out = append(out, w.exclude...)
	}
	if as := s.assert; as != nil {
		out = append(out, as.noCommitOn, as.steppedDown)
	}
	return append(out, s.crash, s.restart)
}

func (a *analysis) step(s step) {
	switch s.kind {
	case stepFault:
		a.fault(s)
	case stepHeal:
		a.heal(s)
	case stepCrash:
		a.crash(s)
	case stepRestart:
		a.restart(s)
	case stepWait:
		a.wait(s)
	case stepWrite:
		a.majority(s, "writes")
	case stepAssert:
		a.assert(s)
	case stepMeasure:
		a.measure(s)
	case stepMark:
		a.marks[s.mark] = true
		if s.mark == "fault" {
			a.faulted = true
		}
	}
}

func (a *analysis) fault(s step) {
	f := s.fault
	a.network, a.faulted = true, true
	a.marks["fault"] = true
	if f.label != "" {
		if j, dup := a.labels[f.label]; dup {
			a.failf(s, "fault.label", "label %q is already used by steps[%d]", f.label, j)
		} else {
			a.labels[f.label] = s.index
		}
	}
	if f.op == "split" {
		named, rest := 0, 0
		for _, g := range f.groups {
			for _, name := range g {
				if name == nameRest {
					rest = 1
				} else {
					named++
				}
			}
		}
		why := fmt.Sprintf("%s splits %d named nodes", s.field(), named)
		if rest > 0 {
			why += " and rest, which needs one more"
		}
		a.requireNodes(named+rest, why)
	}
	cut := staticCutOff(f)
	if slices.Contains(cut, roleLeader) {
		a.f.leaderLost, a.f.leaderCutOff = true, true
	}
	a.active = append(a.active, activeFault{label: f.label, index: s.index, cutOff: cut})
}

// separates reports whether a fault keeps the nodes it cuts off from
// replicating: an isolate or split that holds append entries or
// heartbeats. Such a node cannot follow the leader while the fault lasts.
func (f *faultStep) separates() bool {
	if f.op != "isolate" && f.op != "split" {
		return false
	}
	return len(f.messages) == 0 || slices.Contains(f.messages, netchaos.MsgAppendEntries) ||
		slices.Contains(f.messages, netchaos.MsgHeartbeat)
}

// staticCutOff names the nodes a fault separates from the majority. For a
// split, the group with rest counts as the majority, or else the largest
// group. At run time the majority is the group with more than half the
// nodes.
func staticCutOff(f *faultStep) []string {
	if !f.separates() {
		return nil
	}
	if f.op == "isolate" {
		return []string{canonical(f.node)}
	}
	major := slices.IndexFunc(f.groups, func(g []string) bool { return slices.Contains(g, nameRest) })
	if major < 0 {
		major = 0
		for i, g := range f.groups {
			if len(g) > len(f.groups[major]) {
				major = i
			}
		}
	}
	var out []string
	for i, g := range f.groups {
		if i != major {
			for _, name := range g {
				out = append(out, canonical(name))
			}
		}
	}
	return out
}

func (a *analysis) heal(s step) {
	a.marks["heal"] = true
	label := s.heal
	if label == nameAll {
		a.active, a.healed = nil, true
		return
	}
	i := slices.IndexFunc(a.active, func(f activeFault) bool { return f.label == label })
	if i >= 0 {
		a.active = slices.Delete(a.active, i, i+1)
		a.healed = len(a.active) == 0
		return
	}
	if j, ok := a.labels[label]; ok {
		a.failf(s, "heal", "the fault labelled %q at steps[%d] is already healed", label, j)
		return
	}
	for _, later := range a.f.steps[s.index+1:] {
		if later.fault != nil && later.fault.label == label {
			a.failf(s, "heal", "the fault labelled %q comes later, at steps[%d]: heal it after that step", label, later.index)
			return
		}
	}
	known := slices.Sorted(maps.Keys(a.labels))
	if len(known) == 0 {
		a.failf(s, "heal", "unknown label %q: no earlier fault step has a label (use heal: all, or add label: %s to a fault)", label, label)
		return
	}
	a.failf(s, "heal", "unknown label %q: no earlier fault step has it (labels so far: %s, or use heal: all)", label, strings.Join(known, ", "))
}
