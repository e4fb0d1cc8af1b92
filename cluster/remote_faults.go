package cluster

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/partition"
	"github.com/faultline-dev/faultline/raftint"
)

// faultTimeout bounds one change of the fault table on every node.
const faultTimeout = 10 * time.Second

// faultState is the fault table that a remote harness keeps on every
// running node. The harness is the only client that changes the tables, so
// its copy of the rules is theirs. The version is the one it last installed; a node's
// own version may be higher because expiries also raise it.
type faultState struct {
	// rules are the rules as the first node installed them, with IDs and
	// expiry times.
	rules   []netchaos.Rule
	version uint64
	nextID  uint64
}

// keptRules returns the rules that have not expired at now, each with its
// remaining time as TTL, ready to install again without extending it.
func (f *faultState) keptRules(now time.Time) []netchaos.Rule {
	var out []netchaos.Rule
	for _, rule := range f.rules {
		remaining := rule.ExpiresAt.Sub(now)
		if remaining <= 0 {
			continue
		}
		rule.TTL = remaining
		rule.ExpiresAt = time.Time{}
		rule.Messages = slices.Clone(rule.Messages)
		out = append(out, rule)
	}
	return out
}

// installLocked puts rules on every running node at one version and
// remembers them. The caller holds faultMu.
func (r *remote) installLocked(rules []netchaos.Rule) error {
	targets := r.running()
	now := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), faultTimeout)
	defer cancel()
	result := partition.Install(ctx, targets, r.faults.version+1, rules)
	if err := result.Err(); err != nil {
		return fmt.Errorf("cluster: install the fault table: %w", err)
	}
	r.faults.version = result.Version
	if len(result.Nodes) > 0 {
		r.faults.rules = result.Nodes[0].Rules
		return nil
	}
	// No node is running: keep the rules for the nodes that restart.
	r.faults.rules = make([]netchaos.Rule, len(rules))
	for i, rule := range rules {
		rule.ExpiresAt = now.Add(rule.TTL)
		r.faults.rules[i] = rule
	}
	return nil
}

// AddFaults implements Cluster: the new table holds the rules in force and
// rules, and goes to every running node with one version. Rules without an
// ID get one, unique within the harness, so that every node stores the same
// IDs. A rule without a TTL lives netchaos.DefaultTTL.
func (r *remote) AddFaults(rules ...netchaos.Rule) ([]netchaos.Rule, error) {
	r.faultMu.Lock()
	defer r.faultMu.Unlock()
	kept := r.faults.keptRules(time.Now())
	added := make([]netchaos.Rule, len(rules))
	for i, rule := range rules {
		if err := rule.Validate(); err != nil {
			return nil, fmt.Errorf("cluster: rule %d (%s → %s): %w", i, rule.From, rule.To, err)
		}
		if rule.ID == "" {
			r.faults.nextID++
			rule.ID = "f" + strconv.FormatUint(r.faults.nextID, 10)
		}
		if rule.TTL == 0 {
			rule.TTL = netchaos.DefaultTTL
		}
		added[i] = rule
	}
	if err := r.installLocked(append(kept, added...)); err != nil {
		return nil, err
	}
	out := make([]netchaos.Rule, 0, len(added))
	for _, a := range added {
		i := slices.IndexFunc(r.faults.rules, func(x netchaos.Rule) bool { return x.ID == a.ID })
		if i >= 0 {
			out = append(out, r.faults.rules[i])
		}
	}
	r.timeline.Record(raftint.Event{Kind: raftint.EventFault, Detail: describeRules(out)})
	r.log.Info("faults added", "rules", describeRules(out), "version", r.faults.version)
	return out, nil
}

// RemoveFaults implements Cluster by installing the table without the
// rules named by ids.
func (r *remote) RemoveFaults(ids ...string) error {
	r.faultMu.Lock()
	defer r.faultMu.Unlock()
	kept := r.faults.keptRules(time.Now())
	remaining := slices.DeleteFunc(slices.Clone(kept), func(rule netchaos.Rule) bool { return slices.Contains(ids, rule.ID) })
	if len(remaining) == len(kept) {
		return nil
	}
	if err := r.installLocked(remaining); err != nil {
		return err
	}
	r.timeline.Record(raftint.Event{Kind: raftint.EventHeal, Detail: strings.Join(ids, ",")})
	r.log.Info("faults removed", "rule_ids", ids, "version", r.faults.version)
	return nil
}

// ClearFaults implements Cluster with DELETE /v1/faults on every running
// node, which also works on nodes with chaos off.
func (r *remote) ClearFaults() error {
	r.faultMu.Lock()
	defer r.faultMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), faultTimeout)
	defer cancel()
	result := partition.Heal(ctx, r.running())
	for _, n := range result.Nodes {
		r.faults.version = max(r.faults.version, n.Version)
	}
	if err := result.Err(); err != nil {
		return fmt.Errorf("cluster: clear the fault tables: %w", err)
	}
	r.faults.rules = nil
	r.timeline.Record(raftint.Event{Kind: raftint.EventHeal, Detail: "all"})
	r.log.Info("faults cleared", "version", r.faults.version)
	return nil
}

// Faults implements Cluster: the rules in force, with their IDs and expiry
// times.
func (r *remote) Faults() []netchaos.Rule {
	r.faultMu.Lock()
	defer r.faultMu.Unlock()
	now := time.Now()
	var out []netchaos.Rule
	for _, rule := range r.faults.rules {
		if now.Before(rule.ExpiresAt) {
			rule.Messages = slices.Clone(rule.Messages)
			out = append(out, rule)
		}
	}
	return out
}

// reinstallOn gives node id, which has just started with an empty table,
// the rules in force at the harness's version, so that it enforces the
// same faults as the other nodes.
func (r *remote) reinstallOn(id string) error {
	r.faultMu.Lock()
	defer r.faultMu.Unlock()
	if r.faults.version == 0 {
		return nil
	}
	c, err := r.client(id)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), faultTimeout)
	defer cancel()
	target := []partition.Target{{ID: id, Client: c}}
	result := partition.Install(ctx, target, r.faults.version, r.faults.keptRules(time.Now()))
	if err := result.Err(); err != nil {
		return fmt.Errorf("cluster: give restarted %s the fault table: %w", id, err)
	}
	return nil
}
