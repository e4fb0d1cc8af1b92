package raftint

import (
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// Put sets key to value through the raft log and returns the log index of
// the entry. timeout bounds the wait to enqueue the entry, as in raft.Apply.
//
// Errors wrap the raft error. raft.ErrNotLeader and raft.ErrEnqueueTimeout
// mean the entry was never appended. Other errors, such as
// raft.ErrLeadershipLost, leave the outcome unknown: the entry may still
// commit.
func (n *Node) Put(key, value string, timeout time.Duration) (uint64, error) {
	_, index, err := n.apply(Command{Op: OpPut, Key: key, Value: value}, timeout)
	return index, err
}

// Delete removes key through the raft log and returns the log index of the
// entry. Deleting an absent key succeeds. Errors are as for Put.
func (n *Node) Delete(key string, timeout time.Duration) (uint64, error) {
	_, index, err := n.apply(Command{Op: OpDelete, Key: key}, timeout)
	return index, err
}

// CompareAndSet sets key to value if its current value equals *expected, or,
// when expected is nil, if key is absent. ok reports whether it wrote. The
// comparison runs in the state machine at the entry's position in the log,
// so it is atomic across the cluster. Errors are as for Put.
func (n *Node) CompareAndSet(key string, expected *string, value string, timeout time.Duration) (ok bool, index uint64, err error) {
	result, index, err := n.apply(Command{Op: OpCAS, Key: key, Value: value, Expected: expected}, timeout)
	return result.OK, index, err
}

func (n *Node) apply(cmd Command, timeout time.Duration) (Result, uint64, error) {
	data, err := cmd.MarshalBinary()
	if err != nil {
		return Result{}, 0, err
	}

	future := n.raft.Apply(data, timeout)
	if err := future.Error(); err != nil {
		return Result{}, 0, n.applyError(cmd, err)
	}

	switch response := future.Response().(type) {
	case Result:
		return response, future.Index(), nil
	case error:
		return Result{}, future.Index(), fmt.Errorf("%s key %q at index %d: %w", cmd.Op, cmd.Key, future.Index(), response)
	default:
		return Result{}, future.Index(), fmt.Errorf("%w: %T from %s key %q at index %d", ErrUnexpectedResult, response, cmd.Op, cmd.Key, future.Index())
	}
}

// applyError wraps a raft error and, when this node is not the leader, adds
// the leader ID this node last observed, so the caller can retry there.
func (n *Node) applyError(cmd Command, err error) error {
	if errors.Is(err, raft.ErrNotLeader) {
		_, leader := n.raft.LeaderWithID()
		return fmt.Errorf("%s key %q on node %s (known leader %q): %w", cmd.Op, cmd.Key, n.id, leader, err)
	}
	return fmt.Errorf("%s key %q on node %s: %w", cmd.Op, cmd.Key, n.id, err)
}

// Get returns the value of key in this node's state machine. On a follower
// or a deposed leader the value may be stale.
func (n *Node) Get(key string) (string, bool) {
	return n.kv.Get(key)
}

// ReadLinearizable returns the value of key as of a moment between the call
// and its return. It commits a raft barrier first and reads after the state
// machine has applied it. A barrier, unlike VerifyLeader alone, also covers
// a leader elected so recently that its commit index still lags entries the
// previous leader committed.
//
// Only the leader can serve it; other nodes return an error wrapping
// raft.ErrNotLeader. timeout bounds the wait to enqueue the barrier. After
// that the call returns when the barrier is applied or the leader steps
// down, which happens LeaderLeaseTimeout after it loses contact with a
// quorum.
func (n *Node) ReadLinearizable(key string, timeout time.Duration) (string, bool, error) {
	if err := n.raft.Barrier(timeout).Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) {
			_, leader := n.raft.LeaderWithID()
			return "", false, fmt.Errorf("linearizable read of key %q on node %s (known leader %q): %w", key, n.id, leader, err)
		}
		return "", false, fmt.Errorf("linearizable read of key %q on node %s: %w", key, n.id, err)
	}
	value, ok := n.kv.Get(key)
	return value, ok, nil
}

// Snapshot returns a copy of this node's key-value map.
func (n *Node) Snapshot() map[string]string {
	return n.kv.Copy()
}

// StateHash returns the index of the last entry this node's state machine
// applied and a SHA-256 hash of its map, both from the same state. See
// KV.StateHash.
func (n *Node) StateHash() (appliedIndex uint64, hash string) {
	return n.kv.StateHash()
}
