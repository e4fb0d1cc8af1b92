package netchaos

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Any matches every node ID in a rule's From or To.
const Any = "*"

// DefaultTTL is the time to live of a rule that sets none.
const DefaultTTL = 5 * time.Minute

// Kind is the effect of a rule on the messages it matches.
type Kind string

// Rule kinds.
const (
	KindPartition Kind = "partition"
	KindReject    Kind = "reject"
	KindDrop      Kind = "drop"
	KindDelay     Kind = "delay"
)

// ParseKind returns the Kind named by s.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case KindPartition, KindReject, KindDrop, KindDelay:
		return k, nil
	}
	return "", fmt.Errorf("%w: unknown kind %q: use partition, reject, drop or delay", ErrInvalidRule, s)
}

// MessageKind classifies a message so that a rule can match some kinds only.
type MessageKind string

// Message kinds. Heartbeats are the AppendEntries calls that carry no entries
// and no log position, which raft sends from its heartbeat loop.
const (
	MsgAppendEntries   MessageKind = "append_entries"
	MsgHeartbeat       MessageKind = "heartbeat"
	MsgRequestVote     MessageKind = "request_vote"
	MsgPreVote         MessageKind = "pre_vote"
	MsgInstallSnapshot MessageKind = "install_snapshot"
	MsgTimeoutNow      MessageKind = "timeout_now"
	MsgGossip          MessageKind = "gossip"
)

// RaftMessages lists every raft RPC kind.
var raftMessages = []MessageKind{
	MsgAppendEntries, MsgHeartbeat, MsgRequestVote, MsgPreVote, MsgInstallSnapshot, MsgTimeoutNow,
}

// RaftMessages returns every raft RPC kind, for a rule that must leave gossip
// alone.
func RaftMessages() []MessageKind { return slices.Clone(raftMessages) }

// ParseMessageKind returns the MessageKind named by s.
func ParseMessageKind(s string) (MessageKind, error) {
	k := MessageKind(s)
	if k == MsgGossip || slices.Contains(raftMessages, k) {
		return k, nil
	}
	return "", fmt.Errorf("%w: unknown message kind %q: use one of %s, gossip",
		ErrInvalidRule, s, joinKinds(raftMessages))
}

func joinKinds(kinds []MessageKind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// Rule is one fault on a directed link.
type Rule struct {
	// ID is assigned by the Table when empty; IDs are unique within a table.
	ID string `json:"id"`
	// From and To are node IDs, or Any.
	From string `json:"from"`
	To   string `json:"to"`
	Kind Kind   `json:"kind"`
	// Probability is the chance that a drop rule loses a message, in (0, 1].
	Probability float64 `json:"probability,omitempty"`
	// Delay and Jitter set a delay rule's hold: Delay plus a uniform draw
	// from [0, Jitter).
	Delay  time.Duration `json:"delay,omitempty"`
	Jitter time.Duration `json:"jitter,omitempty"`
	// Messages limits the rule to these kinds; empty matches every kind.
	Messages []MessageKind `json:"messages,omitempty"`
	// TTL is how long the rule lives; zero means DefaultTTL. It is never
	// infinite.
	TTL time.Duration `json:"ttl,omitempty"`
	// ExpiresAt is set by the Table when the rule is added.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Validate checks the rule's fields together. It does not change r.
func (r Rule) Validate() error {
	if r.From == "" || r.To == "" {
		return fmt.Errorf("%w: from and to are required (a node ID or %q)", ErrInvalidRule, Any)
	}
	if r.From == r.To && r.From != Any {
		return fmt.Errorf("%w: from and to are both %q: a link joins two nodes", ErrInvalidRule, r.From)
	}
	if _, err := ParseKind(string(r.Kind)); err != nil {
		return err
	}
	for _, m := range r.Messages {
		if _, err := ParseMessageKind(string(m)); err != nil {
			return err
		}
	}
	if r.TTL < 0 {
		return fmt.Errorf("%w: ttl %v is negative", ErrInvalidRule, r.TTL)
	}
	return r.validateKindFields()
}

func (r Rule) validateKindFields() error {
	switch r.Kind {
	case KindDrop:
		if !(r.Probability > 0 && r.Probability <= 1) {
			return fmt.Errorf("%w: drop probability %v is outside (0, 1]", ErrInvalidRule, r.Probability)
		}
	case KindDelay:
		if r.Delay < 0 || r.Jitter < 0 {
			return fmt.Errorf("%w: delay %v and jitter %v must not be negative", ErrInvalidRule, r.Delay, r.Jitter)
		}
		if r.Delay == 0 && r.Jitter == 0 {
			return fmt.Errorf("%w: a delay rule needs a delay or a jitter above zero", ErrInvalidRule)
		}
	}
	if r.Kind != KindDrop && r.Probability != 0 {
		return fmt.Errorf("%w: probability is only valid for drop rules, not %s", ErrInvalidRule, r.Kind)
	}
	if r.Kind != KindDelay && (r.Delay != 0 || r.Jitter != 0) {
		return fmt.Errorf("%w: delay and jitter are only valid for delay rules, not %s", ErrInvalidRule, r.Kind)
	}
	return nil
}

// matches reports whether the rule applies to a message of kind on from → to.
func (r Rule) matches(from, to string, kind MessageKind) bool {
	if r.From != Any && r.From != from {
		return false
	}
	if r.To != Any && r.To != to {
		return false
	}
	return len(r.Messages) == 0 || slices.Contains(r.Messages, kind)
}

// Isolate returns the two rules that cut node off from every other node in
// both directions, with the given kind (usually partition or reject).
func Isolate(node string, kind Kind) []Rule {
	return []Rule{
		{From: node, To: Any, Kind: kind},
		{From: Any, To: node, Kind: kind},
	}
}

// Split returns the rules that cut every link between nodes of different
// groups, in both directions. Links inside a group stay open.
func Split(kind Kind, groups ...[]string) []Rule {
	var rules []Rule
	for i, a := range groups {
		for j, b := range groups {
			if i == j {
				continue
			}
			for _, from := range a {
				for _, to := range b {
					rules = append(rules, Rule{From: from, To: to, Kind: kind})
				}
			}
		}
	}
	return rules
}

// Cut returns the rule that cuts the single direction from → to.
func Cut(from, to string, kind Kind) Rule {
	return Rule{From: from, To: to, Kind: kind}
}
