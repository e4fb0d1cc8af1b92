package safety

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/cluster"
)

// intent is an operation a client decided to run, before it has a value and
// a node. A retry after a failed outcome reuses the intent.
type intent struct {
	kind     OpKind
	key      string
	expected *string
}

// client runs operations one at a time. Only its own goroutine uses it.
type client struct {
	id      int
	cluster cluster.Cluster
	cfg     WorkloadConfig
	rng     *rand.Rand
	keys    []string
	w       *Workload
	log     *slog.Logger

	leader string
	seq    int
	// known holds the last value this client read or wrote per key, for
	// the expected value of a compare-and-set. A key is absent from known
	// after an unknown outcome or a failed compare.
	known map[string]string
}

// callResult is the output and error of one cluster call.
type callResult struct {
	out Output
	err error
}

func (cl *client) run(ctx context.Context) {
	var retry *intent
	for ctx.Err() == nil {
		if cl.leader == "" && !cl.findLeader(ctx) {
			return
		}
		var in intent
		if retry != nil {
			in, retry = *retry, nil
		} else {
			in = cl.next()
		}

		switch outcome, err := cl.do(ctx, in); outcome {
		case OutcomeFailed:
			// The operation did not take effect, so the client may run it
			// again, on a node it looks up afresh.
			retry = &in
			cl.w.retries.Add(1)
			cl.log.Debug("operation failed, retrying on a fresh leader", "kind", in.kind, "key", in.key, "node_id", cl.leader, "error", err)
			cl.leader = ""
		case OutcomeUnknown:
			cl.log.Debug("operation outcome unknown", "kind", in.kind, "key", in.key, "node_id", cl.leader, "error", err)
			cl.leader = ""
		}
		if !sleep(ctx, cl.cfg.Pause) {
			return
		}
	}
}

// next draws the next intent. It draws the same numbers from rng whatever
// values the client has seen, so the sequence of kinds and keys depends on
// the seed alone.
func (cl *client) next() intent {
	mix := cl.cfg.Mix
	pick := cl.rng.IntN(mix.Put + mix.Get + mix.CAS)
	key := cl.keys[cl.rng.IntN(len(cl.keys))]
	// Three in four compare-and-sets expect the last value the client saw,
	// and the rest expect the key to be absent.
	useKnown := cl.rng.IntN(4) != 0

	switch {
	case pick < mix.Put:
		return intent{kind: OpPut, key: key}
	case pick < mix.Put+mix.Get:
		return intent{kind: OpGet, key: key}
	}
	in := intent{kind: OpCAS, key: key}
	if value, ok := cl.known[key]; ok && useKnown {
		in.expected = &value
	}
	return in
}

// findLeader waits until some node is leader and remembers it. It returns
// false when ctx ends first.
func (cl *client) findLeader(ctx context.Context) bool {
	for attempt := 0; ; attempt++ {
		id, _, err := cluster.Leader(cl.cluster)
		if err == nil {
			cl.leader = id
			return true
		}
		if attempt == 0 {
			cl.log.Debug("no leader found, retrying", "interval", cl.cfg.LeaderRetryInterval, "error", err)
		}
		if !sleep(ctx, cl.cfg.LeaderRetryInterval) {
			return false
		}
	}
}

// do runs in on the leader the client last found, records it in the history
// and returns its outcome. A put or cas gets a value no other operation
// writes. When the operation timeout passes first, do records an unknown
// outcome and leaves the call running, and Workload.Stop waits for it.
func (cl *client) do(ctx context.Context, in intent) (Outcome, error) {
	op := Op{Client: cl.id, Kind: in.kind, Key: in.key, Expected: in.expected, Node: cl.leader}
	if in.kind != OpGet {
		cl.seq++
		op.Value = fmt.Sprintf("c%d-%d", cl.id, cl.seq)
	}

	opCtx, cancel := context.WithTimeout(ctx, cl.cfg.OpTimeout)
	defer cancel()
	results := make(chan callResult, 1)
	pending := cl.w.history.Begin(op)
	cl.w.calls.Add(1)
	go func() {
		defer cl.w.calls.Done()
		results <- cl.call(opCtx, op)
	}()

	var r callResult
	select {
	case r = <-results:
	case <-opCtx.Done():
		r.err = fmt.Errorf("%s of key %s on %s got no response within %v: %w", op.Kind, op.Key, op.Node, cl.cfg.OpTimeout, opCtx.Err())
	}
	outcome := classify(r.err)
	pending.End(outcome, r.out, r.err)
	cl.learn(op, outcome, r.out)
	return outcome, r.err
}

func (cl *client) call(ctx context.Context, op Op) callResult {
	var r callResult
	switch op.Kind {
	case OpPut:
		r.out.Index, r.err = cl.cluster.Put(ctx, op.Node, op.Key, op.Value)
	case OpGet:
		r.out.Value, r.out.Found, r.err = cl.cluster.Read(ctx, op.Node, op.Key)
	case OpCAS:
		r.out.OK, r.out.Index, r.err = cl.cluster.CompareAndSet(ctx, op.Node, op.Key, op.Expected, op.Value)
	}
	return r
}

// learn updates what the client knows of op's key from op's outcome.
func (cl *client) learn(op Op, outcome Outcome, out Output) {
	switch {
	case outcome == OutcomeFailed:
	case outcome == OutcomeUnknown:
		delete(cl.known, op.Key)
	case op.Kind == OpGet && out.Found:
		cl.known[op.Key] = out.Value
	case op.Kind == OpGet:
		delete(cl.known, op.Key)
	case op.Kind == OpPut || out.OK:
		cl.known[op.Key] = op.Value
	default:
		delete(cl.known, op.Key)
	}
}

// classify turns a cluster call's error into an outcome. Only errors that
// hashicorp/raft v1.7.2 or the cluster return before an entry is appended
// to the leader's log mean failed:
//   - raft.ErrNotLeader: a follower or candidate, or a leader stepping down,
//     rejected the entry.
//   - raft.ErrLeadershipTransferInProgress: the leader rejected it.
//   - raft.ErrEnqueueTimeout: the entry never reached raft's apply queue.
//   - raft.ErrAbortedByRestore: a snapshot restore discarded it (raft's
//     Apply documents that its effects are gone).
//   - cluster.ErrNoLeader, ErrNodeDown, ErrUnknownNode, ErrClosed: no node
//     was asked.
//
// Every other error is unknown, raft.ErrLeadershipLost and
// raft.ErrRaftShutdown included: raft returns them for entries already
// appended, which a new leader may still commit. Context errors are unknown
// as well, because the call may have reached the node.
func classify(err error) Outcome {
	if err == nil {
		return OutcomeOK
	}
	for _, definite := range notApplied {
		if errors.Is(err, definite) {
			return OutcomeFailed
		}
	}
	return OutcomeUnknown
}

// notApplied lists the errors that classify treats as failed.
var notApplied = []error{
	raft.ErrNotLeader,
	raft.ErrLeadershipTransferInProgress,
	raft.ErrEnqueueTimeout,
	raft.ErrAbortedByRestore,
	cluster.ErrNoLeader,
	cluster.ErrNodeDown,
	cluster.ErrUnknownNode,
	cluster.ErrClosed,
}

// sleep waits d and returns true, or returns false when ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
