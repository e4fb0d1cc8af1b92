package safety

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/faultline-dev/faultline/cluster"
)

// DefaultConvergenceTimeout bounds CheckConvergence when its context has no
// deadline.
const DefaultConvergenceTimeout = 30 * time.Second

// ConvergenceResult describes the state hashes that CheckConvergence compared.
type ConvergenceResult struct {
	// Converged is true when every running node had the same state hash at
	// the same applied index.
	Converged bool   `json:"converged"`
	Leader    string `json:"leader,omitempty"`
	Term      uint64 `json:"term,omitempty"`
	// Index is the state machine's applied index at which the hashes were
	// taken.
	Index uint64 `json:"index"`
	// Hashes holds the state hash of each running node.
	Hashes map[string]string `json:"hashes,omitempty"`
	// Down lists the nodes that were not running and so not compared.
	Down []string `json:"down,omitempty"`
	// Waited is how long the check waited for a stable leader and equal
	// applied indexes.
	Waited time.Duration `json:"waited_ns"`
}

// nodeHash is one node's applied index and state hash.
type nodeHash struct {
	index uint64
	hash  string
}

// CheckConvergence waits until the cluster has a stable leader and every
// running node's state machine has applied the same index, then compares
// their state hashes. Nodes whose hash differs from the one most nodes hold
// are reported, and the leader's hash wins a tie. Call it once faults are healed
// and no client writes are running, because the applied indexes must stop
// moving. ctx bounds the wait, or DefaultConvergenceTimeout when it has no
// deadline.
func CheckConvergence(ctx context.Context, c cluster.Cluster) (ConvergenceResult, []Violation) {
	begin := time.Now()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultConvergenceTimeout)
		defer cancel()
	}

	var result ConvergenceResult
	stable, err := c.WaitStable(ctx)
	result.Waited = time.Since(begin)
	if err != nil {
		return result, []Violation{{Check: Convergence, Message: fmt.Sprintf("cluster had no stable leader before the deadline: %v", err)}}
	}
	result.Leader, result.Term = stable.Leader, stable.Term

	hashes, err := waitEqualIndexes(ctx, c, &result)
	result.Waited = time.Since(begin)
	if err != nil {
		return result, []Violation{{Check: Convergence, Nodes: slices.Sorted(maps.Keys(hashes)), Message: err.Error()}}
	}

	result.Hashes = make(map[string]string, len(hashes))
	for id, h := range hashes {
		result.Hashes[id] = h.hash
	}
	violations := compareHashes(result.Hashes, result.Leader, result.Index)
	result.Converged = len(violations) == 0
	return result, violations
}

// waitEqualIndexes reads every running node's state hash until all of them
// report the same applied index, and records that index and the nodes that
// are down in result.
func waitEqualIndexes(ctx context.Context, c cluster.Cluster, result *ConvergenceResult) (map[string]nodeHash, error) {
	for {
		hashes, down, err := readHashes(c)
		if err != nil {
			return hashes, err
		}
		result.Down = down
		if len(hashes) == 0 {
			return hashes, errors.New("no node is running")
		}
		lowest, highest := indexRange(hashes)
		if lowest == highest {
			result.Index = highest
			return hashes, nil
		}

		// Every node that reaches highest has applied the entries the
		// furthest node has, so the next read returns equal indexes unless new
		// entries were committed meanwhile.
		if _, err := c.WaitConverged(ctx, highest); err != nil {
			return hashes, fmt.Errorf("applied indexes never became equal (%s): %w", describeIndexes(hashes), err)
		}
	}
}

func readHashes(c cluster.Cluster) (map[string]nodeHash, []string, error) {
	hashes := make(map[string]nodeHash)
	var down []string
	for _, id := range c.Nodes() {
		index, hash, err := c.StateHash(id)
		switch {
		case errors.Is(err, cluster.ErrNodeDown):
			down = append(down, id)
		case err != nil:
			return hashes, down, fmt.Errorf("read state hash of %s: %w", id, err)
		default:
			hashes[id] = nodeHash{index: index, hash: hash}
		}
	}
	return hashes, down, nil
}

func indexRange(hashes map[string]nodeHash) (lowest, highest uint64) {
	first := true
	for _, h := range hashes {
		if first || h.index < lowest {
			lowest = h.index
		}
		highest = max(highest, h.index)
		first = false
	}
	return lowest, highest
}

func describeIndexes(hashes map[string]nodeHash) string {
	parts := make([]string, 0, len(hashes))
	for _, id := range slices.Sorted(maps.Keys(hashes)) {
		parts = append(parts, fmt.Sprintf("%s at %d", id, hashes[id].index))
	}
	return strings.Join(parts, ", ")
}

// compareHashes reports one violation per group of nodes whose hash differs
// from the reference hash, which the most nodes hold.
func compareHashes(hashes map[string]string, leader string, index uint64) []Violation {
	groups := make(map[string][]string)
	for _, id := range slices.Sorted(maps.Keys(hashes)) {
		groups[hashes[id]] = append(groups[hashes[id]], id)
	}
	if len(groups) <= 1 {
		return nil
	}

	sorted := slices.Sorted(maps.Keys(groups))
	reference := sorted[0]
	for _, hash := range sorted[1:] {
		nodes, best := groups[hash], groups[reference]
		if len(nodes) > len(best) || (len(nodes) == len(best) && slices.Contains(nodes, leader)) {
			reference = hash
		}
	}

	var violations []Violation
	for _, hash := range sorted {
		if hash == reference {
			continue
		}
		nodes := groups[hash]
		violations = append(violations, Violation{
			Check: Convergence,
			Nodes: nodes,
			Message: fmt.Sprintf("%s state hash %s differs from %s held by %s at applied index %d",
				joinNames(nodes), shortHash(hash), shortHash(reference), joinNames(groups[reference]), index),
		})
	}
	return violations
}

// shortHash returns the first 12 hex digits of a state hash, enough to tell
// hashes apart in a message.
func shortHash(hash string) string {
	return hash[:min(len(hash), 12)]
}
