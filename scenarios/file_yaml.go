package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decoder walks the yaml.Node tree of a scenario file and collects every
// problem with its line and field path instead of stopping at the first.
type decoder struct {
	file string
	errs []*FileError
}

// failf records a problem at node n, which may be nil when the line is
// unknown.
func (d *decoder) failf(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.failLine(line, field, format, args...)
}

// failLine records a problem at a line; 0 means the line is unknown.
func (d *decoder) failLine(line int, field, format string, args ...any) {
	d.errs = append(d.errs, &FileError{File: d.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// syntaxLine finds the line number in a yaml syntax error.
var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// root parses data and returns its top-level node, or nil after recording
// why it could not.
func (d *decoder) root(data []byte) *yaml.Node {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	if err == nil {
		// A file holds one scenario: a second document would be ignored
		// without a word, so it is an error.
		var extra yaml.Node
		if derr := dec.Decode(&extra); derr == nil {
			d.failf(&extra, "", "the file holds more than one YAML document: put each scenario in a file of its own")
			return nil
		} else if !errors.Is(derr, io.EOF) {
			err = derr
		}
	}
	if err != nil {
		if m := syntaxLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			d.errs = append(d.errs, &FileError{File: d.file, Line: line, Msg: "invalid YAML: " + m[2]})
			return nil
		}
		d.failf(nil, "", "invalid YAML: %v", strings.TrimPrefix(err.Error(), "yaml: "))
		return nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		d.failf(nil, "", "the file is empty: it needs at least name, blast_radius and steps")
		return nil
	}
	return resolveAlias(doc.Content[0])
}

// resolveAlias follows a YAML alias to the node it names.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// describeNode names the kind of a node for messages.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "an empty value"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unexpected node"
}

// mapping returns the values of mapping n by key. It records an unknown key,
// a repeated key or a node that is not a mapping, each at its own line.
func (d *decoder) mapping(n *yaml.Node, field string, allowed ...string) (map[string]*yaml.Node, bool) {
	if n.Kind != yaml.MappingNode {
		d.failf(n, field, "want a mapping, not %s", describeNode(n))
		return nil, false
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	lines := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], resolveAlias(n.Content[i+1])
		path := fieldPath(field, key.Value)
		switch {
		case !slices.Contains(allowed, key.Value):
			d.failf(key, path, "unknown key (valid keys: %s)", strings.Join(allowed, ", "))
		case lines[key.Value] > 0:
			d.failf(key, path, "repeated key, first set at line %d", lines[key.Value])
		default:
			out[key.Value] = value
			lines[key.Value] = key.Line
		}
	}
	return out, true
}

// fieldPath appends key to a field path.
func fieldPath(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// str returns scalar n as a string; it rejects lists, mappings and empty
// values.
func (d *decoder) str(n *yaml.Node, field string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" || n.Value == "" {
		d.failf(n, field, "want a string, not %s", describeNode(n))
		return "", false
	}
	return n.Value, true
}

// integer returns scalar n as an int of at least least.
func (d *decoder) integer(n *yaml.Node, field string, least int) (int, bool) {
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || err != nil {
		d.failf(n, field, "want a whole number, not %s", describeNode(n))
		return 0, false
	}
	if v < least {
		d.failf(n, field, "%d is below the minimum of %d", v, least)
		return 0, false
	}
	return v, true
}

// boolean returns scalar n as a bool.
func (d *decoder) boolean(n *yaml.Node, field string) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		d.failf(n, field, "want true or false, not %s", describeNode(n))
		return false, false
	}
	v, err := strconv.ParseBool(n.Value)
	if err != nil {
		// YAML 1.1 spellings such as "yes" carry the bool tag but are not
		// Go booleans.
		d.failf(n, field, "want true or false, not %q", n.Value)
		return false, false
	}
	return v, true
}

// duration returns scalar n as a Go duration above zero, such as 2s or
// 150ms.
func (d *decoder) duration(n *yaml.Node, field string) (time.Duration, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		d.failf(n, field, "want a duration such as 2s or 150ms, not %s", describeNode(n))
		return 0, false
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		hint := ""
		if _, nerr := strconv.ParseFloat(n.Value, 64); nerr == nil {
			hint = " (add a unit, such as " + n.Value + "s)"
		}
		d.failf(n, field, "invalid duration %q%s: use a Go duration such as 2s or 150ms", n.Value, hint)
		return 0, false
	}
	if v <= 0 {
		d.failf(n, field, "duration %v must be above zero", v)
		return 0, false
	}
	return v, true
}

// percentage returns n, written as "20%" or as a fraction such as 0.2, as
// a fraction in (0, 1].
func (d *decoder) percentage(n *yaml.Node, field string) (float64, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		d.failf(n, field, "want a percentage such as 20%% or 0.2, not %s", describeNode(n))
		return 0, false
	}
	text, scale := n.Value, 1.0
	if s, ok := strings.CutSuffix(text, "%"); ok {
		text, scale = strings.TrimSpace(s), 100
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil {
		d.failf(n, field, "invalid percentage %q: use a value such as 20%% or 0.2", n.Value)
		return 0, false
	}
	v /= scale
	if !(v > 0 && v <= 1) {
		d.failf(n, field, "percentage %q is outside (0%%, 100%%]: use a value such as 20%% or 0.2", n.Value)
		return 0, false
	}
	return v, true
}

// list returns the items of sequence n.
func (d *decoder) list(n *yaml.Node, field string) ([]*yaml.Node, bool) {
	if n.Kind != yaml.SequenceNode {
		d.failf(n, field, "want a list, not %s", describeNode(n))
		return nil, false
	}
	items := make([]*yaml.Node, len(n.Content))
	for i, item := range n.Content {
		items[i] = resolveAlias(item)
	}
	return items, true
}

// stringList returns n as a list of strings; a single string is a list of one.
func (d *decoder) stringList(n *yaml.Node, field string) ([]string, bool) {
	if n.Kind == yaml.ScalarNode {
		s, ok := d.str(n, field)
		return []string{s}, ok
	}
	items, ok := d.list(n, field)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		if s, ok := d.str(item, fmt.Sprintf("%s[%d]", field, i)); ok {
			out = append(out, s)
		}
	}
	return out, len(out) == len(items)
}
