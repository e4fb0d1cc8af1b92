package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/faultline-dev/faultline/admin"
	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/partition"
)

// apply installs the spec's rules on every node, or on none when a node is
// unreachable or rejects tables.
func (c *command) apply(ctx context.Context) error {
	endpoints, err := c.endpoints(ctx)
	if err != nil {
		return err
	}
	rctx, cancel := c.requestContext(ctx)
	statuses, err := partition.Resolve(rctx, endpoints, c.opts.token, c.http)
	cancel()
	if err != nil {
		return fmt.Errorf("%w\nNothing was changed", err)
	}
	targets := partition.Targets(statuses)
	ids := partition.IDs(targets)
	leader := partition.LeaderOf(statuses)
	rules, err := c.opts.spec.Rules(ids, leader)
	if err != nil {
		return err
	}
	if c.opts.spec.NeedsLeader() {
		fmt.Fprintf(c.stdout, "leader is %s\n", leader)
	}
	for _, id := range c.opts.spec.Unassigned(ids) {
		fmt.Fprintf(c.stdout, "note: %s is in no group of --split and keeps every link\n", id)
	}

	// Reading, probing and installing each wait for every node, so the
	// three rounds share a budget of three request timeouts.
	rctx, cancel = context.WithTimeout(ctx, 3*c.opts.timeout)
	defer cancel()
	result, err := partition.Apply(rctx, targets, rules)
	if result.Nodes == nil {
		return fmt.Errorf("%w\nNothing was changed", err)
	}
	fmt.Fprintf(c.stdout, "installing fault table version %d on %d nodes, ttl %v:\n", result.Version, len(targets), ttlOf(rules))
	for _, r := range rules {
		fmt.Fprintf(c.stdout, "  %s\n", describeRule(r))
	}
	c.printResult(result, "ok")
	if err != nil {
		return c.partialError(result)
	}
	return nil
}

// partialError returns an error that names the nodes with the new table
// and the command that heals them.
func (c *command) partialError(result partition.Result) error {
	var failed []string
	var errs []error
	for _, n := range result.Failed() {
		failed = append(failed, n.ID)
		errs = append(errs, n.Err)
	}
	have := "no node has it"
	if ok := result.Succeeded(); len(ok) > 0 {
		have = strings.Join(ok, ", ") + " have it"
	}
	return fmt.Errorf("%s did not take fault table version %d: %w\n%s. To remove every fault, run:\n  partition --heal %s",
		strings.Join(failed, ", "), result.Version, errors.Join(errs...), have, c.opts.nodesFlag)
}

// heal clears the fault table of every node it reaches.
func (c *command) heal(ctx context.Context) error {
	endpoints, err := c.endpoints(ctx)
	if err != nil {
		return err
	}
	targets := make([]partition.Target, len(endpoints))
	for i, ep := range endpoints {
		targets[i] = partition.Target{ID: ep.Name(), Client: admin.NewClient(ep.URL, c.opts.token, c.http)}
	}
	rctx, cancel := c.requestContext(ctx)
	defer cancel()
	result := partition.Heal(rctx, targets)
	c.printResult(result, "healed")
	if err := result.Err(); err != nil {
		return fmt.Errorf("some nodes keep their faults until the rules expire or a heal reaches them: %w", err)
	}
	return nil
}

func (c *command) printResult(result partition.Result, success string) {
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	for _, n := range result.Nodes {
		if n.Err != nil {
			fmt.Fprintf(tw, "%s\terror\t%v\n", n.ID, n.Err)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\tversion %d\n", n.ID, success, n.Version)
	}
	tw.Flush()
}

// nodeStatus is one node's entry in the status output.
type nodeStatus struct {
	ID       string                  `json:"id"`
	URL      string                  `json:"url"`
	State    string                  `json:"state,omitempty"`
	Term     uint64                  `json:"term,omitempty"`
	Leader   string                  `json:"leader_id,omitempty"`
	Version  uint64                  `json:"version"`
	Rules    []netchaos.Rule         `json:"rules"`
	Counters []netchaos.LinkCounters `json:"counters"`
	Error    string                  `json:"error,omitempty"`
}

// statusReport is the status output.
type statusReport struct {
	Nodes []nodeStatus `json:"nodes"`
	// Consistent is true when every node responded with the same version
	// and the same rules.
	Consistent bool `json:"consistent"`
}

// status shows every node's rules and link counters.
func (c *command) status(ctx context.Context) error {
	endpoints, err := c.endpoints(ctx)
	if err != nil {
		return err
	}
	rctx, cancel := c.requestContext(ctx)
	defer cancel()
	report := statusReport{Nodes: make([]nodeStatus, len(endpoints))}
	var wg sync.WaitGroup
	for i, ep := range endpoints {
		wg.Go(func() { report.Nodes[i] = readStatus(rctx, admin.NewClient(ep.URL, c.opts.token, c.http), ep) })
	}
	wg.Wait()
	report.Consistent = consistent(report.Nodes)

	if c.opts.json {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return err
		}
	} else {
		printStatus(c.stdout, report)
	}
	var unreachable []string
	for _, n := range report.Nodes {
		if n.Error != "" {
			unreachable = append(unreachable, n.ID)
		}
	}
	if len(unreachable) > 0 {
		return fmt.Errorf("%w: %s", partition.ErrUnreachable, strings.Join(unreachable, ", "))
	}
	return nil
}

func readStatus(ctx context.Context, client *admin.Client, ep partition.Endpoint) nodeStatus {
	out := nodeStatus{ID: ep.Name(), URL: ep.URL}
	raft, err := client.Raft(ctx)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.ID, out.State, out.Term, out.Leader = raft.NodeID, raft.State, raft.Term, raft.LeaderID
	table, err := client.Faults(ctx)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.Version, out.Rules, out.Counters = table.Version, table.Rules, table.Counters
	if out.Rules == nil {
		out.Rules = []netchaos.Rule{}
	}
	if out.Counters == nil {
		out.Counters = []netchaos.LinkCounters{}
	}
	return out
}

// consistent reports whether every node responded with one version and the
// same rules, compared without their expiry times.
func consistent(nodes []nodeStatus) bool {
	for _, n := range nodes {
		if n.Error != "" || n.Version != nodes[0].Version || ruleSet(n.Rules) != ruleSet(nodes[0].Rules) {
			return false
		}
	}
	return true
}

func ruleSet(rules []netchaos.Rule) string {
	parts := make([]string, len(rules))
	for i, r := range rules {
		parts[i] = r.ID + " " + describeRule(r)
	}
	return strings.Join(parts, "\n")
}

// describeRule formats a rule for people: its link, kind and parameters.
func describeRule(r netchaos.Rule) string {
	s := fmt.Sprintf("%s->%s %s", r.From, r.To, r.Kind)
	switch r.Kind {
	case netchaos.KindDelay:
		s += " " + r.Delay.String()
		if r.Jitter > 0 {
			s += " jitter " + r.Jitter.String()
		}
	case netchaos.KindDrop:
		s += fmt.Sprintf(" %g%%", r.Probability*100)
	}
	if len(r.Messages) > 0 {
		kinds := make([]string, len(r.Messages))
		for i, m := range r.Messages {
			kinds[i] = string(m)
		}
		s += " (" + strings.Join(kinds, ",") + " only)"
	}
	return s
}

func ttlOf(rules []netchaos.Rule) time.Duration {
	if len(rules) == 0 || rules[0].TTL == 0 {
		return netchaos.DefaultTTL
	}
	return rules[0].TTL
}

// printStatus writes the status report as text: per node its raft state,
// table version, rules and link counters, then whether the tables match.
func printStatus(w io.Writer, report statusReport) {
	for _, n := range report.Nodes {
		if n.Error != "" {
			fmt.Fprintf(w, "%s  %s  unreachable: %s\n", n.ID, n.URL, n.Error)
			continue
		}
		fmt.Fprintf(w, "%s  %s  %s in term %d, fault table version %d, rules: %d\n",
			n.ID, n.URL, n.State, n.Term, n.Version, len(n.Rules))
		rules := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, r := range n.Rules {
			fmt.Fprintf(rules, "  %s\t%s\texpires in %v\n", r.ID, describeRule(r), time.Until(r.ExpiresAt).Round(time.Second))
		}
		rules.Flush()
		if len(n.Counters) == 0 {
			continue
		}
		counters := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(counters, "  link\tpassed\tdelayed\tdropped\trejected\theld\t")
		for _, l := range n.Counters {
			fmt.Fprintf(counters, "  %s->%s\t%d\t%d\t%d\t%d\t%d\t\n", l.From, l.To, l.Passed, l.Delayed, l.Dropped, l.Rejected, l.Held)
		}
		counters.Flush()
	}
	if report.Consistent {
		fmt.Fprintf(w, "tables match: version %d and the same rules on every node\n", report.Nodes[0].Version)
		return
	}
	fmt.Fprintln(w, statusMismatch(report))
}

// statusMismatch explains why the nodes' tables do not match and what to do.
func statusMismatch(report statusReport) string {
	var down []string
	rules := map[int]bool{}
	for _, n := range report.Nodes {
		if n.Error != "" {
			down = append(down, n.ID)
			continue
		}
		rules[len(n.Rules)] = true
	}
	switch {
	case len(down) > 0:
		return fmt.Sprintf("tables not compared on every node: %s unreachable", strings.Join(down, ", "))
	case len(rules) == 1:
		return "tables hold the same number of rules but differ in version or content (a restarted node starts at version 0): " +
			"the next fault command installs one version on every node, or run partition --heal to remove every rule"
	}
	return "tables differ between nodes: run the fault again, or partition --heal"
}
