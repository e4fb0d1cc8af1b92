package partition

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/faultline-dev/faultline/netchaos"
)

// LinkArrow separates the two ends of a link spec such as "node-1->node-2".
const LinkArrow = "->"

// MaxTTL bounds --duration. Rules never live forever, and a fault that must
// outlast a day is better installed again on purpose than forgotten.
const MaxTTL = 24 * time.Hour

// MinTTL bounds --duration from below: installing a table on every node
// takes a few requests, and a shorter rule would expire on the way.
const MinTTL = time.Second

// maxNodeIDLength bounds a node ID in a spec; raft and memberlist IDs of real
// clusters are far shorter, and the bound keeps error messages readable.
const maxNodeIDLength = 128

// Link is one directed link between two nodes. Either end may be
// netchaos.Any, which stands for every node.
type Link struct {
	From string
	To   string
}

// String formats the link as it is written on the command line.
func (l Link) String() string { return l.From + LinkArrow + l.To }

// ParseLink reads a link spec "FROM->TO" given to flag. Each end is a node ID
// or "*". Spaces around the ends are ignored.
func ParseLink(flag, text string) (Link, error) {
	from, to, ok := strings.Cut(text, LinkArrow)
	if !ok {
		return Link{}, fmt.Errorf("%w: %s %q: write the link as FROM->TO, for example node-1->node-2",
			ErrInvalidSpec, flag, text)
	}
	link := Link{From: strings.TrimSpace(from), To: strings.TrimSpace(to)}
	for _, end := range []string{link.From, link.To} {
		if end == netchaos.Any {
			continue
		}
		if err := checkNodeID(end); err != nil {
			return Link{}, fmt.Errorf("%w: %s %q: %w", ErrInvalidSpec, flag, text, err)
		}
	}
	if link.From == link.To && link.From != netchaos.Any {
		return Link{}, fmt.Errorf("%w: %s %q: both ends are %s; a link joins two different nodes",
			ErrInvalidSpec, flag, text, link.From)
	}
	return link, nil
}

// ParseGroups reads a split spec given to flag: groups separated by "/",
// node IDs in a group separated by ",", as in "node-1,node-2/node-3". It
// needs at least two groups, and a node may appear only once.
func ParseGroups(flag, text string) ([][]string, error) {
	parts := strings.Split(text, "/")
	if len(parts) < 2 {
		return nil, fmt.Errorf("%w: %s %q: a split needs at least two groups separated by /, for example node-1,node-2/node-3",
			ErrInvalidSpec, flag, text)
	}
	seen := make(map[string]int)
	groups := make([][]string, 0, len(parts))
	for i, part := range parts {
		var group []string
		for _, name := range strings.Split(part, ",") {
			id := strings.TrimSpace(name)
			if err := checkNodeID(id); err != nil {
				return nil, fmt.Errorf("%w: %s %q: group %d: %w", ErrInvalidSpec, flag, text, i+1, err)
			}
			if first, dup := seen[id]; dup && first == i+1 {
				return nil, fmt.Errorf("%w: %s %q: %s appears twice in group %d; name each node once",
					ErrInvalidSpec, flag, text, id, first)
			} else if dup {
				return nil, fmt.Errorf("%w: %s %q: %s is in group %d and group %d; a node belongs to one group",
					ErrInvalidSpec, flag, text, id, first, i+1)
			}
			seen[id] = i + 1
			group = append(group, id)
		}
		groups = append(groups, group)
	}
	return groups, nil
}

// ParseNodeID reads one node ID given to flag, with spaces around it
// removed.
func ParseNodeID(flag, text string) (string, error) {
	id := strings.TrimSpace(text)
	if err := checkNodeID(id); err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrInvalidSpec, flag, err)
	}
	return id, nil
}

// checkNodeID rejects IDs that the spec syntax cannot carry: empty ones, "*",
// and IDs with spaces, control characters, separators or an arrow.
func checkNodeID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("a node ID is empty")
	case id == netchaos.Any:
		return fmt.Errorf("%q stands for every node and is not valid here; name the nodes", netchaos.Any)
	case len(id) > maxNodeIDLength:
		return fmt.Errorf("node ID %.20q... is longer than %d bytes", id, maxNodeIDLength)
	case !utf8.ValidString(id):
		return fmt.Errorf("node ID %q is not valid UTF-8", id)
	case strings.Contains(id, LinkArrow):
		return fmt.Errorf("node ID %q contains %q, which separates the ends of a link", id, LinkArrow)
	}
	for _, r := range id {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(",/=", r) {
			return fmt.Errorf("node ID %q contains %q; IDs may not contain spaces, control characters, ',', '/' or '='", id, r)
		}
	}
	return nil
}

// ParseTTL reads the time to live of the rules given to flag: a Go duration
// such as 30s or 5m, above zero and at most MaxTTL.
func ParseTTL(flag, text string) (time.Duration, error) {
	d, err := parsePositiveDuration(flag, text)
	if err != nil {
		return 0, err
	}
	if d < MinTTL {
		return 0, fmt.Errorf("%w: %s %s is below the minimum of %v: the rules would expire before every node has them",
			ErrInvalidSpec, flag, text, MinTTL)
	}
	if d > MaxTTL {
		return 0, fmt.Errorf("%w: %s %s is above the maximum of %v; install the fault again when it expires",
			ErrInvalidSpec, flag, text, MaxTTL)
	}
	return d, nil
}

// ParseDelay reads a delay or jitter given to flag: a Go duration such as
// 200ms, above zero. Delays up to the TTL are accepted, so a caller should
// check a delay against the raft timeouts it cares about.
func ParseDelay(flag, text string) (time.Duration, error) {
	d, err := parsePositiveDuration(flag, text)
	if err != nil {
		return 0, err
	}
	if d > MaxTTL {
		return 0, fmt.Errorf("%w: %s %s is above the maximum of %v", ErrInvalidSpec, flag, text, MaxTTL)
	}
	return d, nil
}

func parsePositiveDuration(flag, text string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(text))
	if err != nil {
		return 0, fmt.Errorf("%w: %s %q is not a duration: write a number with a unit, such as 200ms, 30s or 5m",
			ErrInvalidSpec, flag, text)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%w: %s %s must be above zero", ErrInvalidSpec, flag, text)
	}
	return d, nil
}

// ParsePercent reads a probability given to flag, either as a percentage
// ("20%", "0.5%") in (0%, 100%] or as a fraction ("0.2") in (0, 1]. A bare
// number above 1 is rejected because "20" could mean 20% or a mistake.
func ParsePercent(flag, text string) (float64, error) {
	s := strings.TrimSpace(text)
	number, percent := strings.CutSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(number), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%w: %s %q is not a percentage: write 20%% or the fraction 0.2",
			ErrInvalidSpec, flag, text)
	}
	if percent {
		if !(v > 0 && v <= 100) {
			return 0, fmt.Errorf("%w: %s %s is outside (0%%, 100%%]", ErrInvalidSpec, flag, text)
		}
		return v / 100, nil
	}
	if v > 1 && v <= 100 {
		return 0, fmt.Errorf("%w: %s %s is ambiguous: write %s%% for a percentage or a fraction in (0, 1]",
			ErrInvalidSpec, flag, text, s)
	}
	if !(v > 0 && v <= 1) {
		return 0, fmt.Errorf("%w: %s %s is outside (0, 1]: write a fraction such as 0.2 or a percentage such as 20%%",
			ErrInvalidSpec, flag, text)
	}
	return v, nil
}

// ParseKind reads the kind of a cut given to flag: partition or reject.
func ParseKind(flag, text string) (netchaos.Kind, error) {
	switch k := netchaos.Kind(strings.TrimSpace(text)); k {
	case netchaos.KindPartition, netchaos.KindReject:
		return k, nil
	}
	return "", fmt.Errorf("%w: %s %q: use partition (silent blackhole) or reject (refused at once); use --delay or --drop for the other kinds",
		ErrInvalidSpec, flag, text)
}
