package scenarios

import (
	"context"
	"fmt"
)

// probe checks the file's steady-state probes, each within the stable
// timeout, and returns the first that fails.
func (r *fileRun) probe(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, r.stableTimeout())
	defer cancel()
	for _, p := range r.f.probes {
		var err error
		switch p {
		case probeLeaderElected:
			_, err = r.t.c.WaitStable(pctx)
		case probeWritesCommit:
			r.probes++
			key := fmt.Sprintf("steady-%s-%d-%d", r.env.Name, r.env.Index, r.probes)
			err = putRetrying(pctx, r.t.c, key, "ok")
		case probeNodesAgree:
			err = r.nodesAgree(pctx)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}

// nodesAgree waits until every running node has applied the same index and
// then compares the hashes of their state machines.
func (r *fileRun) nodesAgree(ctx context.Context) error {
	c := r.t.c
	for {
		if _, err := c.WaitStable(ctx); err != nil {
			return err
		}
		first, firstIndex, firstHash := "", uint64(0), ""
		same, highest := true, uint64(0)
		for _, id := range c.Nodes() {
			if r.crashed[id] {
				continue
			}
			index, hash, err := c.StateHash(id)
			if err != nil {
				return fmt.Errorf("hash of %s: %w", id, err)
			}
			highest = max(highest, index)
			if first == "" {
				first, firstIndex, firstHash = id, index, hash
				continue
			}
			if index != firstIndex {
				same = false
				continue
			}
			if hash != firstHash {
				return fmt.Errorf("%s and %s differ at applied index %d", first, id, index)
			}
		}
		if same {
			return nil
		}
		// Some node had not applied the latest entry yet; wait until every
		// node has applied the highest index seen, then compare again.
		if _, err := c.WaitConverged(ctx, highest); err != nil {
			return err
		}
	}
}
