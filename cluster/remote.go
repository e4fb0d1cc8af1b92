package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/admin"
	"github.com/faultline-dev/faultline/partition"
	"github.com/faultline-dev/faultline/raftint"
)

// Timeouts of the remote harnesses' admin calls that take no context.
const (
	// statusTimeout bounds one GET /v1/raft. The admin API is not subject
	// to faults, so a node that needs longer is stuck or gone.
	statusTimeout = 2 * time.Second
	// remoteOpTimeout bounds a write or read whose context has no deadline,
	// as defaultOpTimeout does for Local.
	remoteOpTimeout = defaultOpTimeout
	// DefaultTimelinePoll is how often a remote harness reads every node's
	// timeline.
	DefaultTimelinePoll = 5 * time.Millisecond
)

// remoteNode is one node of a harness whose nodes run in other processes.
type remoteNode struct {
	id string
	// client is nil while the node is down.
	client *admin.Client
	// after is the Seq of the newest event read from the node's timeline.
	after uint64
	// generation increases at every start, so a timeline read that
	// overlaps a restart does not move after.
	generation uint64
}

// remote implements every Cluster method except Crash, Restart and Close
// over the admin API of nodes in other processes. Procs and Compose embed
// it and start, kill and restart the nodes.
type remote struct {
	log       *slog.Logger
	profile   raftint.Profile
	token     string
	transport *http.Transport
	http      *http.Client
	timeline  *raftint.Timeline

	mu     sync.Mutex
	nodes  []*remoteNode
	closed bool

	// faultMu makes changes of the fault tables one at a time; it is never
	// taken while mu is held.
	faultMu sync.Mutex
	faults  faultState

	// pollMu makes timeline reads one at a time, so that no event is read
	// twice.
	pollMu   sync.Mutex
	stopPoll chan struct{}
	polling  sync.WaitGroup
}

func newRemote(ids []string, profile raftint.Profile, token string, log *slog.Logger) *remote {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 8}
	r := &remote{
		log:       log,
		profile:   profile,
		token:     token,
		transport: transport,
		http:      &http.Client{Transport: transport},
		timeline:  raftint.NewTimeline(),
		stopPoll:  make(chan struct{}),
	}
	for _, id := range ids {
		r.nodes = append(r.nodes, &remoteNode{id: id})
	}
	return r
}

// startPolling starts the goroutine that merges the nodes' timelines;
// stopRemote stops it.
func (r *remote) startPolling(interval time.Duration) {
	r.polling.Add(1)
	go func() {
		defer r.polling.Done()
		r.pollTimelines(interval)
	}()
}

// stopRemote stops the timeline reader and closes idle connections. It
// returns false when the harness was already closed.
func (r *remote) stopRemote() bool {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return false
	}
	r.closed = true
	r.mu.Unlock()
	close(r.stopPoll)
	r.polling.Wait()
	r.transport.CloseIdleConnections()
	return true
}

// setUp points node id at the admin API at url and starts reading its
// timeline from the beginning, because a new process numbers its events
// from 1 again.
func (r *remote) setUp(id, url string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.nodeLocked(id)
	n.client = admin.NewClient(url, r.token, r.http)
	n.after = 0
	n.generation++
}

// setDown marks node id as down.
func (r *remote) setDown(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nodeLocked(id).client = nil
}

func (r *remote) nodeLocked(id string) *remoteNode {
	i := slices.IndexFunc(r.nodes, func(n *remoteNode) bool { return n.id == id })
	if i < 0 {
		return nil
	}
	return r.nodes[i]
}

// client returns the admin client of the running node id.
func (r *remote) client(id string) (*admin.Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	n := r.nodeLocked(id)
	if n == nil {
		return nil, fmt.Errorf("%w: %q (nodes: %s)", ErrUnknownNode, id, strings.Join(r.idsLocked(), ", "))
	}
	if n.client == nil {
		return nil, fmt.Errorf("%w: %s crashed; restart it first", ErrNodeDown, id)
	}
	return n.client, nil
}

// isDown reports whether id is a known node that is down.
func (r *remote) isDown(id string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.nodeLocked(id)
	if n == nil {
		return false, fmt.Errorf("%w: %q (nodes: %s)", ErrUnknownNode, id, strings.Join(r.idsLocked(), ", "))
	}
	return n.client == nil, nil
}

func (r *remote) idsLocked() []string {
	ids := make([]string, len(r.nodes))
	for i, n := range r.nodes {
		ids[i] = n.id
	}
	return ids
}

// running returns a target for every running node, in node order.
func (r *remote) running() []partition.Target {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []partition.Target
	for _, n := range r.nodes {
		if n.client != nil {
			out = append(out, partition.Target{ID: n.id, Client: n.client})
		}
	}
	return out
}

// Nodes implements Cluster.
func (r *remote) Nodes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.idsLocked()
}

// Profile implements Cluster.
func (r *remote) Profile() raftint.Profile { return r.profile }

// Timeline implements Cluster. It holds the nodes' own raft observations,
// copied from their /v1/timeline, and the faults, crashes and restarts that
// the harness records.
func (r *remote) Timeline() *raftint.Timeline { return r.timeline }

// Status implements Cluster with GET /v1/raft. LastContact is not part of
// the admin API's raft status, so it stays zero.
func (r *remote) Status(id string) (raftint.Status, error) {
	c, err := r.client(id)
	if err != nil {
		return raftint.Status{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), statusTimeout)
	defer cancel()
	s, err := c.Raft(ctx)
	if err != nil {
		return raftint.Status{}, fmt.Errorf("cluster: status of %s: %w", id, err)
	}
	return raftint.Status{
		State: s.State, Term: s.Term, LeaderID: s.LeaderID, LeaderAddr: s.LeaderAddr,
		LastIndex: s.LastIndex, CommitIndex: s.CommitIndex, AppliedIndex: s.AppliedIndex, LastContact: s.LastContact,
	}, nil
}

// WaitStable implements Cluster.
func (r *remote) WaitStable(ctx context.Context) (Stable, error) {
	return r.WaitConverged(ctx, 0)
}

// WaitConverged implements Cluster. It checks after every timeline event,
// and at least every recheckInterval, until the check passes or ctx ends.
func (r *remote) WaitConverged(ctx context.Context, index uint64) (Stable, error) {
	return waitConverged(ctx, r.timeline, remoteRecheckInterval, r.statuses, index)
}

// remoteRecheckInterval bounds the wait between two stability checks. Each
// check costs one HTTP request per node, so it is longer than Local's.
const remoteRecheckInterval = 10 * time.Millisecond

// statuses returns the status of every running node, or why it could not.
func (r *remote) statuses() (map[string]raftint.Status, string) {
	if r.isClosed() {
		return nil, "cluster closed"
	}
	statuses := make(map[string]raftint.Status)
	for _, t := range r.running() {
		s, err := r.Status(t.ID)
		if err != nil {
			return nil, err.Error()
		}
		statuses[t.ID] = s
	}
	return statuses, ""
}

func (r *remote) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// withTimeout gives ctx the default deadline of a write or read when it
// has none.
func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, remoteOpTimeout)
}

// writeError wraps an admin error of a write on id. A 421 means that a
// follower rejected the write before raft saw it, as raft.ErrNotLeader does
// in process. The error wraps raft.ErrNotLeader too, so that callers
// classify it as they do with Local. Every other error keeps only its admin
// sentinel.
func writeError(op, id string, err error) error {
	if errors.Is(err, admin.ErrNotLeader) {
		return fmt.Errorf("cluster: %s through %s: %w: %w", op, id, raft.ErrNotLeader, err)
	}
	return fmt.Errorf("cluster: %s through %s: %w", op, id, err)
}

// Put implements Cluster with PUT /v1/kv/{key}.
func (r *remote) Put(ctx context.Context, id, key, value string) (uint64, error) {
	c, err := r.client(id)
	if err != nil {
		return 0, err
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	index, err := c.Put(ctx, key, value)
	if err != nil {
		return 0, writeError("put", id, err)
	}
	return index, nil
}

// Get implements Cluster with GET /v1/kv/{key}, a read of the node's own
// state machine.
func (r *remote) Get(id, key string) (string, bool, error) {
	c, err := r.client(id)
	if err != nil {
		return "", false, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), statusTimeout)
	defer cancel()
	v, err := c.Get(ctx, key, false)
	if err != nil {
		return "", false, fmt.Errorf("cluster: get from %s: %w", id, err)
	}
	return v.Value, v.Found, nil
}

// Read implements Cluster with GET /v1/kv/{key}?consistent=true.
func (r *remote) Read(ctx context.Context, id, key string) (string, bool, error) {
	c, err := r.client(id)
	if err != nil {
		return "", false, err
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	v, err := c.Get(ctx, key, true)
	if err != nil {
		return "", false, writeError("linearizable read", id, err)
	}
	return v.Value, v.Found, nil
}

// CompareAndSet implements Cluster with POST /v1/kv/{key}/cas.
func (r *remote) CompareAndSet(ctx context.Context, id, key string, expected *string, value string) (bool, uint64, error) {
	c, err := r.client(id)
	if err != nil {
		return false, 0, err
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	res, err := c.CompareAndSet(ctx, key, expected, value)
	if err != nil {
		return false, 0, writeError("compare-and-set", id, err)
	}
	return res.OK, res.Index, nil
}

// StateHash implements Cluster with the state index and hash that the node
// serves in GET /v1/raft.
func (r *remote) StateHash(id string) (uint64, string, error) {
	c, err := r.client(id)
	if err != nil {
		return 0, "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), statusTimeout)
	defer cancel()
	st, err := c.Raft(ctx)
	if err != nil {
		return 0, "", fmt.Errorf("cluster: state hash of %s: %w", id, err)
	}
	return st.StateIndex, st.StateHash, nil
}
