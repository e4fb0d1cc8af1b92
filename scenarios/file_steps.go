package scenarios

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/faultline-dev/faultline/netchaos"
)

// Step kinds: each step of a file is a mapping with exactly one of these keys.
const (
	stepFault   = "fault"
	stepWait    = "wait"
	stepHeal    = "heal"
	stepCrash   = "crash"
	stepRestart = "restart"
	stepWrite   = "write"
	stepAssert  = "assert"
	stepMeasure = "measure"
	stepMark    = "mark"
)

var stepKinds = []string{stepFault, stepWait, stepHeal, stepCrash, stepRestart, stepWrite, stepAssert, stepMeasure, stepMark}

// Names a step may give a node besides node IDs. leader and old_leader are
// the leader of the steady state the repetition started from. follower is
// one of its followers, drawn from the run's seeded generator.
const (
	roleLeader    = "leader"
	roleOldLeader = "old_leader"
	roleFollower  = "follower"
	nameRest      = "rest" // every node a split does not name elsewhere
	nameAll       = "all"  // every node, for crash, restart and heal
	nameAny       = netchaos.Any
)

var roles = []string{roleLeader, roleOldLeader, roleFollower}

// nodeID matches the IDs that every cluster harness gives its nodes.
var nodeID = regexp.MustCompile(`^node-([1-9][0-9]*)$`)

// Conditions that a wait step waits for.
const (
	untilLeader = "leader_elected"
	untilWrite  = "write_committed"
	untilStable = "stable"
)

var waitConditions = []string{untilLeader, untilWrite, untilStable}

// RTO definitions of a measure step.
const (
	rtoFirstWrite = "from_fault_to_first_write"
	rtoConverged  = "from_heal_to_converged"
)

var rtoDefinitions = []string{rtoFirstWrite, rtoConverged}

// markName is the pattern of mark, label and phase names.
var markName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// step is one item of a file's steps. kind names the field that is set: one
// of the pointer fields, or heal, crash, restart or mark.
type step struct {
	index int
	line  int
	kind  string
	// lines holds the line of each key of the step, by its field path
	// below the step, such as "fault.label", for messages about it.
	lines map[string]int

	fault   *faultStep
	wait    *waitStep
	heal    string
	crash   string
	restart string
	write   *writeStep
	assert  *assertStep
	measure *measureStep
	mark    string
}

func (s step) field() string { return fmt.Sprintf("steps[%d]", s.index) }

// line of the key at path below the step, or of the step itself.
func (s step) lineOf(path string) int {
	if l, ok := s.lines[path]; ok {
		return l
	}
	return s.line
}

// faultStep is a fault. op is its operation: isolate, split, cut, drop or
// delay.
type faultStep struct {
	label       string
	op          string
	node        string     // isolate
	groups      [][]string // split
	from, to    string     // cut, drop and delay
	kind        netchaos.Kind
	probability float64
	delay       time.Duration
	jitter      time.Duration
	messages    []netchaos.MessageKind
	ttl         time.Duration
}

// waitStep is either a fixed pause (hold) or a wait for a condition.
type waitStep struct {
	hold    time.Duration
	until   string
	timeout time.Duration // zero: the objective's maximum
	exclude []string
}

type writeStep struct {
	count   int
	timeout time.Duration // zero: the objective's maximum
}

// assertStep holds the checks of one assert step; unset checks are zero.
type assertStep struct {
	noCommitOn    string
	leaderChanged *bool
	termIncreased *bool
	ackedSurvive  bool
	singleLeader  bool
	steppedDown   string
	electedAfter  time.Duration
}

// measureStep records the RTO, or a named phase between two marks.
type measureStep struct {
	rto      string
	phase    string
	from, to string // to empty: when the step runs
}

// step parses item index of steps.
func (d *decoder) step(n *yaml.Node, index int) step {
	s := step{index: index, line: n.Line, lines: map[string]int{}}
	field := s.field()
	m, ok := d.mapping(n, field, append(slices.Clone(stepKinds), "label")...)
	if !ok {
		return s
	}
	var kinds []string
	for _, k := range stepKinds {
		if m[k] != nil {
			kinds = append(kinds, k)
		}
	}
	switch len(kinds) {
	case 0:
		d.failf(n, field, "no step: give one of %s", strings.Join(stepKinds, ", "))
		return s
	case 1:
	default:
		d.failf(n, field, "%s are set together: give each its own list item", strings.Join(kinds, " and "))
	}
	s.kind = kinds[0]
	v, path := m[s.kind], field+"."+s.kind
	s.lines[s.kind] = v.Line
	switch s.kind {
	case stepFault:
		s.fault = d.fault(v, path, &s)
	case stepWait:
		s.wait = d.wait(v, path, &s)
	case stepHeal:
		s.heal, _ = d.str(v, path)
	case stepCrash:
		s.crash = d.node(v, path, nameAll)
	case stepRestart:
		s.restart = d.node(v, path, nameAll)
	case stepWrite:
		s.write = d.write(v, path)
	case stepAssert:
		s.assert = d.assert(v, path, &s)
	case stepMeasure:
		s.measure = d.measure(v, path, &s)
	case stepMark:
		if name, ok := d.str(v, path); ok && !markName.MatchString(name) {
			d.failf(v, path, "invalid mark %q: use lower case letters, digits and '_', such as isolated", name)
		} else {
			s.mark = name
		}
	}
	if l := m["label"]; l != nil {
		d.stepLabel(l, &s)
	}
	return s
}

// stepLabel parses a label given beside the fault key instead of inside it.
func (d *decoder) stepLabel(n *yaml.Node, s *step) {
	field := s.field() + ".label"
	switch {
	case s.fault == nil:
		d.failf(n, field, "only fault steps take a label")
	case s.fault.label != "":
		d.failf(n, field, "the fault has a label already, set at line %d", s.lines["fault.label"])
	default:
		s.fault.label = d.label(n, field)
		s.lines["fault.label"] = n.Line
	}
}

// label parses the label of a fault, which heal steps name.
func (d *decoder) label(n *yaml.Node, field string) string {
	s, ok := d.str(n, field)
	if !ok {
		return ""
	}
	if s == nameAll || !markName.MatchString(s) {
		d.failf(n, field, "invalid label %q: use lower case letters, digits and '_', and not %q", s, nameAll)
		return ""
	}
	return s
}

// node parses a node name: a role, a node ID such as node-2, or one of
// extra.
func (d *decoder) node(n *yaml.Node, field string, extra ...string) string {
	s, ok := d.str(n, field)
	if !ok {
		return ""
	}
	if slices.Contains(roles, s) || slices.Contains(extra, s) || nodeID.MatchString(s) {
		return s
	}
	d.failf(n, field, "unknown node %q (use %s or a node ID such as node-2)", s, strings.Join(append(slices.Clone(roles), extra...), ", "))
	return ""
}

// link parses "FROM->TO", where each end is a node name or *.
func (d *decoder) link(n *yaml.Node, field string) (string, string, bool) {
	s, ok := d.str(n, field)
	if !ok {
		return "", "", false
	}
	from, to, found := strings.Cut(s, "->")
	from, to = strings.TrimSpace(from), strings.TrimSpace(to)
	if !found || from == "" || to == "" {
		d.failf(n, field, "invalid link %q: use FROM->TO, such as leader->follower or *->*", s)
		return "", "", false
	}
	ends := []string{from, to}
	for i, end := range ends {
		if end != nameAny && !slices.Contains(roles, end) && !nodeID.MatchString(end) {
			d.failf(n, field, "unknown node %q in link %q (use %s, * or a node ID such as node-2)", end, s, strings.Join(roles, ", "))
			ends[i] = ""
		}
	}
	if canonical(from) == canonical(to) && from != nameAny {
		d.failf(n, field, "link %q joins %s to itself: a link joins two nodes", s, from)
		return "", "", false
	}
	return ends[0], ends[1], ends[0] != "" && ends[1] != ""
}

// canonical maps old_leader to leader, which name the same node.
func canonical(name string) string {
	if name == roleOldLeader {
		return roleLeader
	}
	return name
}
