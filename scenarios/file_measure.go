package scenarios

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Marks that steps set by themselves, besides those of mark steps. fault is
// the RTO origin: the first fault or crash, unless a mark: fault step moved
// it. The others contain the time of the latest step of their kind. A wait
// step sets the mark of its condition to the time the condition was met.
var implicitMarks = map[string]string{
	"fault":       "the first fault or crash",
	"heal":        "a heal step",
	"crash":       "a crash step",
	"restart":     "a restart step",
	untilLeader:   "a wait for leader_elected",
	untilWrite:    "a wait for write_committed",
	untilStable:   "a wait for stable",
	"first_write": "measure: {rto: from_fault_to_first_write}",
}

// autoPhases are the durations that the run records by itself, so no
// measure step may use their names.
var autoPhases = []string{PhaseDetection, PhaseElection, PhaseRTO, PhaseStepDown, PhaseHeal}

// measure parses {rto: DEFINITION} or {phase: NAME, from: MARK, to: MARK}.
func (d *decoder) measure(n *yaml.Node, field string, s *step) *measureStep {
	ms := &measureStep{}
	m, ok := d.mapping(n, field, "rto", "phase", "from", "to")
	if !ok {
		return ms
	}
	for key, v := range m {
		s.lines["measure."+key] = v.Line
	}
	if v := m["rto"]; v != nil {
		if m["phase"] != nil || m["from"] != nil || m["to"] != nil {
			d.failf(n, field, "rto stands alone: measure a phase in its own step")
		}
		if def, ok := d.str(v, field+".rto"); ok {
			if !slices.Contains(rtoDefinitions, def) {
				d.failf(v, field+".rto", "unknown RTO definition %q (use %s)", def, strings.Join(rtoDefinitions, " or "))
			}
			ms.rto = def
		}
		return ms
	}
	v := m["phase"]
	if v == nil {
		d.failf(n, field, "give rto: %s, or phase: NAME with from: MARK", rtoFirstWrite)
		return ms
	}
	if name, ok := d.str(v, field+".phase"); ok {
		switch {
		case !markName.MatchString(name):
			d.failf(v, field+".phase", "invalid phase name %q: use lower case letters, digits and '_'", name)
		case slices.Contains(autoPhases, name):
			d.failf(v, field+".phase", "%q is measured by the run itself: choose another name", name)
		default:
			ms.phase = name
		}
	}
	if f := m["from"]; f == nil {
		d.failf(n, field+".from", "missing: give the mark the phase starts at, such as fault")
	} else {
		ms.from, _ = d.str(f, field+".from")
	}
	if t := m["to"]; t != nil {
		ms.to, _ = d.str(t, field+".to")
	}
	return ms
}

// runMeasure records the RTO or a phase.
func (r *fileRun) runMeasure(ctx context.Context, s step) error {
	ms := s.measure
	t := r.t
	switch {
	case ms.rto == rtoFirstWrite:
		r.ensureWriter()
		if !t.awaitWrite(ctx) {
			r.fail(s, "%s", t.rep.Error)
			return nil
		}
		r.marks["first_write"] = t.faultAt.Add(t.rep.RTO)
	case ms.rto == rtoConverged:
		d, ok := t.rep.Durations[PhaseHeal]
		if !ok {
			r.fail(s, "no heal has converged, so there is no recovery to measure")
			return nil
		}
		t.rep.Recovered = true
		t.rep.RTO = d
		t.rep.Durations[PhaseRTO] = d
	default:
		from, ok := r.marks[ms.from]
		if !ok {
			return fmt.Errorf("mark %q was never set", ms.from)
		}
		to := time.Now()
		if ms.to != "" {
			if to, ok = r.marks[ms.to]; !ok {
				return fmt.Errorf("mark %q was never set", ms.to)
			}
		}
		t.rep.Durations[ms.phase] = to.Sub(from)
	}
	return nil
}

// runMark records a mark; mark: fault moves the RTO origin here.
func (r *fileRun) runMark(s step) {
	now := time.Now()
	r.marks[s.mark] = now
	if s.mark == "fault" {
		r.t.faultAt = now
		r.ensureWriter()
	}
}
