package partition

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/faultline-dev/faultline/admin"
	"github.com/faultline-dev/faultline/netchaos"
)

// maxInstallRounds bounds how often Install starts over with a higher
// version. A round meets a version conflict only when a node's version rose
// after the read, because a rule expired or another client installed a
// table, so a third conflict in a row means a competing writer.
const maxInstallRounds = 3

// NodeResult is one node's outcome of an install or a heal.
type NodeResult struct {
	ID string
	// Version is the node's table version after the call; zero when Err is
	// set.
	Version uint64
	// Rules are the rules the node installed, with the IDs and expiry times
	// it gave them. Empty after a heal.
	Rules []netchaos.Rule
	Err   error
}

// Result is the outcome of Install or Heal, one entry per target in order.
type Result struct {
	// Version is the version that Install put on every node; zero for Heal.
	Version uint64
	Nodes   []NodeResult
}

// Succeeded returns the IDs of the nodes that took the change.
func (r Result) Succeeded() []string {
	var ids []string
	for _, n := range r.Nodes {
		if n.Err == nil {
			ids = append(ids, n.ID)
		}
	}
	return ids
}

// Failed returns the nodes that did not take the change.
func (r Result) Failed() []NodeResult {
	var out []NodeResult
	for _, n := range r.Nodes {
		if n.Err != nil {
			out = append(out, n)
		}
	}
	return out
}

// Err returns nil when every node took the change, and otherwise an error
// wrapping ErrPartial that names the nodes that did and did not.
func (r Result) Err() error {
	failed := r.Failed()
	if len(failed) == 0 {
		return nil
	}
	names := make([]string, len(failed))
	errs := make([]error, len(failed))
	for i, n := range failed {
		names[i] = n.ID
		errs[i] = fmt.Errorf("%s: %w", n.ID, n.Err)
	}
	took := "no node"
	if ok := r.Succeeded(); len(ok) > 0 {
		took = strings.Join(ok, ", ")
	}
	return fmt.Errorf("%w: %s failed and %s took it: %w",
		ErrPartial, strings.Join(names, ", "), took, errors.Join(errs...))
}

// forEach runs fn for every target at once and waits for all of them.
func forEach(targets []Target, fn func(i int, t Target)) {
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() { fn(i, t) })
	}
	wg.Wait()
}

// ReadTables reads GET /v1/faults of every target at once. It fails, naming
// every node that did not respond, unless all of them did.
func ReadTables(ctx context.Context, targets []Target) ([]admin.FaultTable, error) {
	tables := make([]admin.FaultTable, len(targets))
	errs := make([]error, len(targets))
	forEach(targets, func(i int, t Target) {
		table, err := t.Client.Faults(ctx)
		if err != nil {
			errs[i] = nodeErr(ErrUnreachable, t.ID, err)
		}
		tables[i] = table
	})
	return tables, errors.Join(errs...)
}

// NextVersion returns the version to install after tables: one above the
// highest current version, so that every node accepts it.
func NextVersion(tables []admin.FaultTable) uint64 {
	var highest uint64
	for _, t := range tables {
		highest = max(highest, t.Version)
	}
	return highest + 1
}

// Install puts rules with version on every target at once. When a node
// rejects the version because its own rose in the meantime, Install starts
// over on every node with a version above the one that node reported, so
// that all nodes still end at one version. The result's Err reports the
// nodes that did not take the table.
func Install(ctx context.Context, targets []Target, version uint64, rules []netchaos.Rule) Result {
	for round := 1; ; round++ {
		result := installRound(ctx, targets, version, rules)
		conflict, ok := highestConflict(result)
		if !ok || round == maxInstallRounds || ctx.Err() != nil {
			return result
		}
		version = max(version, conflict) + 1
	}
}

func installRound(ctx context.Context, targets []Target, version uint64, rules []netchaos.Rule) Result {
	result := Result{Version: version, Nodes: make([]NodeResult, len(targets))}
	forEach(targets, func(i int, t Target) {
		table, err := t.Client.InstallFaults(ctx, version, rules)
		result.Nodes[i] = NodeResult{ID: t.ID, Version: table.Version, Rules: table.Rules, Err: err}
		if err != nil {
			result.Nodes[i].Version = 0
		}
	})
	return result
}

// highestConflict returns the highest current version that a node reported
// with a version conflict.
func highestConflict(r Result) (uint64, bool) {
	var highest uint64
	found := false
	for _, n := range r.Nodes {
		var apiErr *admin.Error
		if errors.Is(n.Err, admin.ErrVersionConflict) && errors.As(n.Err, &apiErr) {
			highest = max(highest, apiErr.Body.Version)
			found = true
		}
	}
	return highest, found
}

// Heal sends DELETE /v1/faults to every target at once, which removes every
// rule; nodes with chaos off accept it too. It does not stop at a node that
// fails, so that every reachable node heals.
func Heal(ctx context.Context, targets []Target) Result {
	result := Result{Nodes: make([]NodeResult, len(targets))}
	forEach(targets, func(i int, t Target) {
		version, err := t.Client.ClearFaults(ctx)
		result.Nodes[i] = NodeResult{ID: t.ID, Version: version, Err: err}
	})
	return result
}

// CheckWritable makes sure every target accepts fault tables from this
// client before any of them changes. It sends each a PUT /v1/faults with
// version 0, which no node installs: a node checks the token and its kill
// switch first, so a node that would accept a real table rejects the probe
// as invalid (400) or as a version conflict (409). A missing or wrong token
// and chaos being off come back as errors wrapping ErrNotWritable and the
// admin sentinel, admin.ErrUnauthorized or admin.ErrChaosDisabled.
func CheckWritable(ctx context.Context, targets []Target) error {
	errs := make([]error, len(targets))
	forEach(targets, func(i int, t Target) {
		_, err := t.Client.InstallFaults(ctx, 0, nil)
		switch {
		case err == nil:
			// A node that follows the admin API never accepts version
			// 0. One that did has replaced its rules with the probe's
			// empty table.
			errs[i] = fmt.Errorf("%w: %s installed the version 0 probe; check that it runs a matching node version",
				ErrNotWritable, t.ID)
		case errors.Is(err, admin.ErrInvalid), errors.Is(err, admin.ErrVersionConflict):
		case errors.Is(err, admin.ErrUnauthorized), errors.Is(err, admin.ErrChaosDisabled):
			errs[i] = nodeErr(ErrNotWritable, t.ID, err)
		default:
			errs[i] = nodeErr(ErrUnreachable, t.ID, err)
		}
	})
	return errors.Join(errs...)
}

// Apply installs rules on every target as one table, or on none when a
// node is unreachable or does not accept tables. It reads every node's
// table and checks that each accepts a table from this client before it
// changes any of them, then installs the rules with NextVersion. When the
// install itself fails on some nodes, the others keep the new table. The
// error then wraps ErrPartial, and the result lists the nodes that took it.
func Apply(ctx context.Context, targets []Target, rules []netchaos.Rule) (Result, error) {
	tables, err := ReadTables(ctx, targets)
	if err != nil {
		return Result{}, err
	}
	if err := CheckWritable(ctx, targets); err != nil {
		return Result{}, err
	}
	result := Install(ctx, targets, NextVersion(tables), rules)
	return result, result.Err()
}
