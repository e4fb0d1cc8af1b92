package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
)

// Errors of the cluster harnesses.
var (
	// ErrUnknownNode reports a node ID that is not part of the cluster.
	ErrUnknownNode = errors.New("cluster: unknown node")
	// ErrNodeDown reports an operation on a crashed node.
	ErrNodeDown = errors.New("cluster: node is down")
	// ErrNodeUp reports a restart of a node that is running.
	ErrNodeUp = errors.New("cluster: node is already running")
	// ErrNoLeader reports that no node is leader.
	ErrNoLeader = errors.New("cluster: no leader")
	// ErrClosed reports use of a closed cluster.
	ErrClosed = errors.New("cluster: closed")
)

// Cluster is the interface that scenarios drive, wherever the cluster runs.
type Cluster interface {
	// Nodes returns the IDs of every node, running or not, in order.
	Nodes() []string
	// Profile returns the timing profile of the nodes.
	Profile() raftint.Profile
	// Status returns one node's raft status.
	Status(id string) (raftint.Status, error)
	// Timeline returns the leadership timeline that every node feeds.
	Timeline() *raftint.Timeline
	// WaitStable waits until every running node agrees on one leader in one
	// term and has applied the leader's commit index.
	WaitStable(ctx context.Context) (Stable, error)
	// WaitConverged waits until every running node agrees on one leader in
	// one term and has applied at least index. Unlike WaitStable, its
	// target does not move while writes go on.
	WaitConverged(ctx context.Context, index uint64) (Stable, error)
	// Put writes key through node id, which must be the leader.
	Put(ctx context.Context, id, key, value string) (uint64, error)
	// Get reads key from node id's state machine, which may be stale.
	Get(id, key string) (string, bool, error)
	// Read reads key through node id with a linearizable read; id must be
	// the leader.
	Read(ctx context.Context, id, key string) (string, bool, error)
	// CompareAndSet sets key to value through node id if its value is
	// expected, or if it is absent when expected is nil.
	CompareAndSet(ctx context.Context, id, key string, expected *string, value string) (bool, uint64, error)
	// StateHash returns node id's applied index and a hash of its state
	// machine taken at that index.
	StateHash(id string) (uint64, string, error)
	// AddFaults adds rules to the fault table and returns them with IDs.
	AddFaults(rules ...netchaos.Rule) ([]netchaos.Rule, error)
	// RemoveFaults removes rules by ID.
	RemoveFaults(ids ...string) error
	// ClearFaults removes every rule.
	ClearFaults() error
	// Faults returns the active rules.
	Faults() []netchaos.Rule
	// Crash stops a node without a graceful shutdown.
	Crash(id string) error
	// Restart starts a crashed node again from its data directory.
	Restart(ctx context.Context, id string) error
	// Close stops every node and releases every resource.
	Close() error
}

// Stable describes a cluster that agrees on its leader.
type Stable struct {
	Leader      string
	Term        uint64
	CommitIndex uint64
	// At is when the last check that made the cluster stable passed.
	At time.Time
}
