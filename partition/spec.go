package partition

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline-dev/faultline/netchaos"
)

// Leader is the name that --isolate accepts for the node that is leader when
// the command runs. A node whose ID is literally "leader" cannot be isolated
// by name.
const Leader = "leader"

// Spec is one fault request: at most one cut (isolate, split or one-way),
// plus an optional delay and an optional drop. The command installs the
// rules of one Spec as the whole fault table, replacing what was there.
type Spec struct {
	// Isolate cuts a node, or Leader, from every other node in both
	// directions.
	Isolate string
	// Split cuts every link between nodes of different groups.
	Split [][]string
	// OneWay cuts one direction of one link.
	OneWay *Link
	// Kind is the kind of the cut: partition or reject. Empty means
	// partition.
	Kind netchaos.Kind

	// Delay and Jitter hold every message on Link for Delay plus a uniform
	// draw from [0, Jitter).
	Delay  time.Duration
	Jitter time.Duration
	// Drop is the probability, in (0, 1], that a message on Link is lost.
	Drop float64
	// Link limits Delay and Drop to one directed link; nil means every link.
	Link *Link

	// TTL is how long every rule lives. Zero means netchaos.DefaultTTL.
	TTL time.Duration
}

// cuts returns the names of the cut flags that are set.
func (s Spec) cuts() []string {
	var set []string
	if s.Isolate != "" {
		set = append(set, "--isolate")
	}
	if s.Split != nil {
		set = append(set, "--split")
	}
	if s.OneWay != nil {
		set = append(set, "--one-way")
	}
	return set
}

// Validate checks the fields together, naming the flags at fault. It does
// not check node IDs against a cluster; Rules does.
func (s Spec) Validate() error {
	cuts := s.cuts()
	if len(cuts) > 1 {
		return fmt.Errorf("%w: %s cannot be combined; give one cut per command", ErrInvalidSpec, strings.Join(cuts, " and "))
	}
	if len(cuts) == 0 && s.Delay == 0 && s.Drop == 0 {
		return fmt.Errorf("%w: no fault given: use --isolate, --split, --one-way, --delay or --drop (or --heal to remove faults)", ErrInvalidSpec)
	}
	if s.Kind != "" {
		if len(cuts) == 0 {
			return fmt.Errorf("%w: --kind applies to --isolate, --split and --one-way only", ErrInvalidSpec)
		}
		if _, err := ParseKind("--kind", string(s.Kind)); err != nil {
			return err
		}
	}
	if s.Delay < 0 || s.Jitter < 0 {
		return fmt.Errorf("%w: --delay %v and --jitter %v must not be negative", ErrInvalidSpec, s.Delay, s.Jitter)
	}
	if s.Jitter > 0 && s.Delay == 0 {
		return fmt.Errorf("%w: --jitter needs --delay; give a delay such as --delay 200ms", ErrInvalidSpec)
	}
	if s.Drop != 0 && !(s.Drop > 0 && s.Drop <= 1) {
		return fmt.Errorf("%w: --drop %v is outside (0, 1]", ErrInvalidSpec, s.Drop)
	}
	if s.Link != nil && s.Delay == 0 && s.Drop == 0 {
		return fmt.Errorf("%w: --link applies to --delay and --drop only; use --one-way to cut one link", ErrInvalidSpec)
	}
	if s.TTL < 0 || s.TTL > MaxTTL {
		return fmt.Errorf("%w: --duration %v is outside (0, %v]", ErrInvalidSpec, s.TTL, MaxTTL)
	}
	return nil
}

// NeedsLeader reports whether Rules needs the current leader's ID.
func (s Spec) NeedsLeader() bool { return s.Isolate == Leader }

// Rules validates the spec, checks every node ID it names against nodes,
// and returns the rules to install. leader is the current leader's ID; it
// is used, and required, only when the spec isolates Leader.
func (s Spec) Rules(nodes []string, leader string) ([]netchaos.Rule, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	kind := s.Kind
	if kind == "" {
		kind = netchaos.KindPartition
	}
	var rules []netchaos.Rule
	switch {
	case s.NeedsLeader():
		if leader == "" {
			return nil, fmt.Errorf("%w: --isolate leader: wait for an election, or name the node to isolate", ErrNoLeader)
		}
		if err := checkKnown("--isolate", nodes, leader); err != nil {
			return nil, err
		}
		rules = netchaos.Isolate(leader, kind)
	case s.Isolate != "":
		if err := checkKnown("--isolate", nodes, s.Isolate); err != nil {
			return nil, err
		}
		rules = netchaos.Isolate(s.Isolate, kind)
	case s.Split != nil:
		if err := checkKnown("--split", nodes, slices.Concat(s.Split...)...); err != nil {
			return nil, err
		}
		rules = netchaos.Split(kind, s.Split...)
	case s.OneWay != nil:
		if err := checkKnown("--one-way", nodes, s.OneWay.From, s.OneWay.To); err != nil {
			return nil, err
		}
		rules = []netchaos.Rule{netchaos.Cut(s.OneWay.From, s.OneWay.To, kind)}
	}
	link := Link{From: netchaos.Any, To: netchaos.Any}
	if s.Link != nil {
		if err := checkKnown("--link", nodes, s.Link.From, s.Link.To); err != nil {
			return nil, err
		}
		link = *s.Link
	}
	if s.Delay > 0 {
		rules = append(rules, netchaos.Rule{From: link.From, To: link.To, Kind: netchaos.KindDelay, Delay: s.Delay, Jitter: s.Jitter})
	}
	if s.Drop > 0 {
		rules = append(rules, netchaos.Rule{From: link.From, To: link.To, Kind: netchaos.KindDrop, Probability: s.Drop})
	}
	for i := range rules {
		rules[i].TTL = s.TTL
		if err := rules[i].Validate(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidSpec, err)
		}
	}
	return rules, nil
}

// Unassigned returns the nodes that a split leaves in no group. They keep
// every link, so they bridge the groups.
func (s Spec) Unassigned(nodes []string) []string {
	if s.Split == nil {
		return nil
	}
	named := slices.Concat(s.Split...)
	var out []string
	for _, id := range nodes {
		if !slices.Contains(named, id) {
			out = append(out, id)
		}
	}
	return out
}

// checkKnown returns an error naming flag for the first ID that is neither
// in nodes nor netchaos.Any.
func checkKnown(flag string, nodes []string, ids ...string) error {
	for _, id := range ids {
		if id != netchaos.Any && !slices.Contains(nodes, id) {
			return fmt.Errorf("%w: %s names %q; the cluster's nodes are %s",
				ErrUnknownNode, flag, id, strings.Join(nodes, ", "))
		}
	}
	return nil
}
