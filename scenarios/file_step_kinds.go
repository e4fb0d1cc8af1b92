package scenarios

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/faultline-dev/faultline/netchaos"
)

// Fault operations and the other keys of a fault step.
var (
	faultOps  = []string{"isolate", "split", "cut", "drop", "delay"}
	faultKeys = append(slices.Clone(faultOps), "kind", "link", "jitter", "messages", "ttl", "label")
)

// fault parses a fault step.
func (d *decoder) fault(n *yaml.Node, field string, s *step) *faultStep {
	f := &faultStep{}
	m, ok := d.mapping(n, field, faultKeys...)
	if !ok {
		return f
	}
	for key, v := range m {
		s.lines["fault."+key] = v.Line
	}

	var ops []string
	for _, op := range faultOps {
		if m[op] != nil {
			ops = append(ops, op)
		}
	}
	if len(ops) != 1 {
		d.failf(n, field, "give exactly one of %s, not %d", strings.Join(faultOps, ", "), len(ops))
		return f
	}

	f.op = ops[0]
	v, path := m[f.op], field+"."+f.op
	switch f.op {
	case "isolate":
		f.node = d.node(v, path)
	case "split":
		f.groups = d.split(v, path)
	case "cut":
		f.from, f.to, _ = d.link(v, path)
	case "drop":
		f.probability, _ = d.percentage(v, path)
	case "delay":
		f.delay, _ = d.duration(v, path)
	}

	d.faultOptions(f, m, field)
	return f
}

// faultOptions parses kind, link, jitter, messages, ttl and label, each of
// which only some operations take.
func (d *decoder) faultOptions(f *faultStep, m map[string]*yaml.Node, field string) {
	linked := f.op == "drop" || f.op == "delay"
	if v := m["kind"]; v != nil {
		if linked {
			d.failf(v, field+".kind", "%s sets its own kind: kind applies to isolate, split and cut", f.op)
		} else {
			f.kind = d.cutKind(v, field+".kind")
		}
	} else if !linked {
		f.kind = netchaos.KindPartition
	}
	if linked {
		f.kind = netchaos.Kind(f.op)
		f.from, f.to = nameAny, nameAny
		if v := m["link"]; v != nil {
			f.from, f.to, _ = d.link(v, field+".link")
		}
	} else if v := m["link"]; v != nil {
		d.failf(v, field+".link", "only drop and delay take a link: %s names its nodes itself", f.op)
	}
	if v := m["jitter"]; v != nil {
		if f.op != "delay" {
			d.failf(v, field+".jitter", "only delay takes a jitter")
		} else {
			f.jitter, _ = d.durationOrZero(v, field+".jitter")
		}
	}
	if v := m["messages"]; v != nil {
		f.messages = d.messages(v, field+".messages")
	}
	if v := m["ttl"]; v != nil {
		f.ttl, _ = d.duration(v, field+".ttl")
	}
	if v := m["label"]; v != nil {
		f.label = d.label(v, field+".label")
	}
}

// cutKind parses the kind of isolate, split and cut.
func (d *decoder) cutKind(n *yaml.Node, field string) netchaos.Kind {
	s, ok := d.str(n, field)
	if !ok {
		return ""
	}
	switch k := netchaos.Kind(s); k {
	case netchaos.KindPartition, netchaos.KindReject:
		return k
	case netchaos.KindDrop, netchaos.KindDelay:
		d.failf(n, field, "kind %q does not cut a link (use partition or reject; for %s use the %s key with a link)", s, s, s)
	default:
		d.failf(n, field, "unknown kind %q (use partition or reject)", s)
	}
	return ""
}

// messages parses a list of raft message kinds.
func (d *decoder) messages(n *yaml.Node, field string) []netchaos.MessageKind {
	names, _ := d.stringList(n, field)
	var out []netchaos.MessageKind
	for i, name := range names {
		k, err := netchaos.ParseMessageKind(name)
		if err != nil {
			valid := append(netchaos.RaftMessages(), netchaos.MsgGossip)
			d.failf(itemNode(n, i), fmt.Sprintf("%s[%d]", field, i), "unknown message kind %q (use %s)", name, joinMessageKinds(valid))
			continue
		}
		out = append(out, k)
	}
	return out
}

func joinMessageKinds(kinds []netchaos.MessageKind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// itemNode returns item i of sequence n, or n when it is not a sequence.
func itemNode(n *yaml.Node, i int) *yaml.Node {
	if n.Kind == yaml.SequenceNode && i < len(n.Content) {
		return n.Content[i]
	}
	return n
}

// split parses a list of groups, each a list of node names; rest, in one
// group, stands for every node not named elsewhere.
func (d *decoder) split(n *yaml.Node, field string) [][]string {
	items, ok := d.list(n, field)
	if !ok {
		return nil
	}
	if len(items) < 2 {
		d.failf(n, field, "a split needs at least two groups, such as [[leader, follower], [rest]]")
	}
	seen := map[string]string{}
	var groups [][]string
	for i, item := range items {
		gfield := fmt.Sprintf("%s[%d]", field, i)
		members, ok := d.list(item, gfield)
		if !ok {
			continue
		}
		if len(members) == 0 {
			d.failf(item, gfield, "the group is empty")
		}
		var group []string
		for j, member := range members {
			mfield := fmt.Sprintf("%s[%d]", gfield, j)
			name := d.node(member, mfield, nameRest)
			if name == "" {
				continue
			}
			if first, dup := seen[canonical(name)]; dup {
				d.failf(member, mfield, "%s is already in %s: a node belongs to one group", name, first)
				continue
			}
			seen[canonical(name)] = mfield
			group = append(group, name)
		}
		groups = append(groups, group)
	}
	return groups
}

// wait parses a wait step: a duration, or {for, timeout, exclude}.
func (d *decoder) wait(n *yaml.Node, field string, s *step) *waitStep {
	w := &waitStep{}
	if n.Kind == yaml.ScalarNode {
		if slices.Contains(waitConditions, n.Value) {
			d.failf(n, field, "%q is a condition: write wait: {for: %s}", n.Value, n.Value)
			return w
		}
		w.hold, _ = d.duration(n, field)
		return w
	}
	m, ok := d.mapping(n, field, "for", "timeout", "exclude")
	if !ok {
		return w
	}
	for key, v := range m {
		s.lines["wait."+key] = v.Line
	}
	if v := m["for"]; v == nil {
		d.failf(n, field+".for", "missing: give %s", strings.Join(waitConditions, ", "))
	} else if c, ok := d.str(v, field+".for"); ok {
		if !slices.Contains(waitConditions, c) {
			d.failf(v, field+".for", "unknown condition %q (use %s)", c, strings.Join(waitConditions, ", "))
		}
		w.until = c
	}
	if v := m["timeout"]; v != nil {
		w.timeout, _ = d.duration(v, field+".timeout")
	}
	if v := m["exclude"]; v != nil {
		if w.until == untilStable {
			d.failf(v, field+".exclude", "stable means every node agrees, so it excludes none")
		}
		names, _ := d.stringList(v, field+".exclude")
		for i, name := range names {
			if slices.Contains(roles, name) || nodeID.MatchString(name) {
				w.exclude = append(w.exclude, name)
				continue
			}
			d.failf(itemNode(v, i), field+".exclude", "unknown node %q (use %s or a node ID such as node-2)", name, strings.Join(roles, ", "))
		}
	}
	return w
}

// write parses {count, timeout}.
func (d *decoder) write(n *yaml.Node, field string) *writeStep {
	w := &writeStep{}
	m, ok := d.mapping(n, field, "count", "timeout")
	if !ok {
		return w
	}
	if v := m["count"]; v == nil {
		d.failf(n, field+".count", "missing: give the number of writes, such as 10")
	} else {
		w.count, _ = d.integer(v, field+".count", 1)
	}
	if v := m["timeout"]; v != nil {
		w.timeout, _ = d.duration(v, field+".timeout")
	}
	return w
}
