package scenarios

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/faultline-dev/faultline/raftint"
)

// Keys of a scenario file's top level.
var fileKeys = []string{"name", "description", "nodes", "profile", "blast_radius", "rto", "repetitions", "steady_state", "steps"}

// Steady-state probes, checked before the steps of every repetition and
// after them.
const (
	probeLeaderElected = "leader_elected"
	probeWritesCommit  = "writes_commit"
	probeNodesAgree    = "all_nodes_agree"
)

var probeNames = []string{probeLeaderElected, probeWritesCommit, probeNodesAgree}

// scenarioName is the pattern of a scenario name, which appears in keys,
// logs and report file names.
var scenarioName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// document parses the whole file into a FileScenario; problems go to d.errs.
func (d *decoder) document(data []byte) *FileScenario {
	root := d.root(data)
	if root == nil {
		return nil
	}
	m, ok := d.mapping(root, "", fileKeys...)
	if !ok {
		return nil
	}
	f := &FileScenario{}
	d.header(f, root, m)
	d.probes(f, m["steady_state"])
	stepsNode := m["steps"]
	if stepsNode == nil {
		d.failf(root, "steps", "missing: list the steps to run, such as - fault: {isolate: leader}")
		return f
	}
	items, ok := d.list(stepsNode, "steps")
	if !ok {
		return f
	}
	if len(items) == 0 {
		d.failf(stepsNode, "steps", "the list is empty: give at least one step")
		return f
	}
	for i, item := range items {
		f.steps = append(f.steps, d.step(item, i))
	}
	analyze(d, f, keyLine(root, "steps"), m["nodes"], m["rto"] != nil)
	return f
}

// keyLine returns the line of key in mapping n, or n's line.
func keyLine(n *yaml.Node, key string) int {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i].Line
		}
	}
	return n.Line
}

// header parses the fields above the steps.
func (d *decoder) header(f *FileScenario, root *yaml.Node, m map[string]*yaml.Node) {
	if n := m["name"]; n == nil {
		d.failf(root, "name", "missing: give the scenario a name such as leader-isolation")
	} else if s, ok := d.str(n, "name"); ok {
		if !scenarioName.MatchString(s) {
			d.failf(n, "name", "invalid name %q: use letters, digits, '.', '_' and '-', such as leader-isolation", s)
		}
		f.name = s
	}
	if n := m["description"]; n != nil {
		f.description, _ = d.str(n, "description")
	}
	if n := m["nodes"]; n != nil {
		f.nodes, _ = d.integer(n, "nodes", 1)
	}
	if n := m["profile"]; n != nil {
		if s, ok := d.str(n, "profile"); ok {
			p, err := raftint.ParseProfile(s)
			if err != nil {
				d.failf(n, "profile", "unknown profile %q (use default or fast)", s)
			}
			f.profile = p
		}
	}
	if n := m["blast_radius"]; n == nil {
		d.failf(root, "blast_radius", "missing: say how much a fault can affect: operation, instance, node or cluster")
	} else if s, ok := d.str(n, "blast_radius"); ok {
		r, err := ParseBlastRadius(s)
		if err != nil {
			d.failf(n, "blast_radius", "unknown blast radius %q (use operation, instance, node or cluster)", s)
		}
		f.radius = r
	}
	if n := m["rto"]; n != nil {
		f.target = d.rto(n)
	}
	if n := m["repetitions"]; n != nil {
		f.reps, _ = d.integer(n, "repetitions", 1)
	}
}

// rto parses {target: D, max: D}. Zero is allowed for both, as for the
// operation-failure objective.
func (d *decoder) rto(n *yaml.Node) Target {
	m, ok := d.mapping(n, "rto", "target", "max")
	if !ok {
		return Target{}
	}
	var t Target
	for _, key := range []string{"target", "max"} {
		v := m[key]
		if v == nil {
			d.failf(n, "rto."+key, "missing: give a duration such as 120s")
			continue
		}
		dur, ok := d.durationOrZero(v, "rto."+key)
		if !ok {
			continue
		}
		if key == "target" {
			t.Target = dur
		} else {
			t.Max = dur
		}
	}
	if m["target"] != nil && m["max"] != nil && t.Max < t.Target {
		d.failf(m["max"], "rto.max", "%v is below the target %v", t.Max, t.Target)
	}
	return t
}

// durationOrZero is duration that also accepts zero.
func (d *decoder) durationOrZero(n *yaml.Node, field string) (time.Duration, bool) {
	if n.Kind == yaml.ScalarNode && (n.Value == "0" || n.Value == "0s") {
		return 0, true
	}
	return d.duration(n, field)
}

// probes parses steady_state, a list of probe names.
func (d *decoder) probes(f *FileScenario, n *yaml.Node) {
	if n == nil {
		return
	}
	items, ok := d.list(n, "steady_state")
	if !ok {
		return
	}
	for i, item := range items {
		field := fmt.Sprintf("steady_state[%d]", i)
		s, ok := d.str(item, field)
		switch {
		case !ok:
		case !slices.Contains(probeNames, s):
			d.failf(item, field, "unknown probe %q (use %s)", s, strings.Join(probeNames, ", "))
		case slices.Contains(f.probes, s):
			d.failf(item, field, "probe %q is listed twice", s)
		default:
			f.probes = append(f.probes, s)
		}
	}
}
