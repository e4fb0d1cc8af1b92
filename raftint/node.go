package raftint

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// File names inside Config.DataDir.
const (
	boltFileName = "raft.db"

	// snapshotsRetained is the number of snapshots FileSnapshotStore keeps,
	// so a torn latest snapshot still leaves an older one to recover from.
	snapshotsRetained = 2
)

// StreamCloser is an optional ability of a raft.Transport that closes its
// pooled connections. raft.NetworkTransport has it. Close alone leaves
// pooled outbound connections and the peers' goroutines serving them open,
// so the Node calls CloseStreams after Close when the transport offers it.
// Transport wrappers should forward it.
type StreamCloser interface {
	CloseStreams()
}

// Node is one raft member with its stores, state machine and observer.
type Node struct {
	id        string
	cfg       Config
	logger    *slog.Logger
	raft      *raft.Raft
	kv        *KV
	store     *raftboltdb.BoltStore
	transport raft.Transport
	timeline  *Timeline
	observer  *observer
	applied   appliedTracker

	closeMu  sync.Mutex
	closed   bool
	closeErr error
}

// Open opens or creates the stores in cfg.DataDir and starts raft with the
// timing of cfg.Profile. A node that already has raft state (a restart after
// Shutdown or Crash) recovers from its snapshot and log. A new node stays a
// follower with no peers until Bootstrap or until a leader adds it.
func Open(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}

	base := cfg.Logger
	if base == nil {
		base = slog.New(slog.DiscardHandler)
	}
	logger := base.With("node_id", cfg.ID)
	timeline := cfg.Timeline
	if timeline == nil {
		timeline = NewTimeline()
	}

	store, snapshots, err := openStores(cfg, logger)
	if err != nil {
		return nil, err
	}
	existingState, err := raft.HasExistingState(store, store, snapshots)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("check existing raft state in %s: %w", cfg.DataDir, err)
	}

	rc := cfg.raftConfig()
	rc.Logger = NewHCLogger(logger, "raft")
	kv := NewKV()
	r, err := raft.NewRaft(rc, kv, store, store, snapshots, cfg.Transport)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("start raft on node %s: %w", cfg.ID, err)
	}

	// raft.NewRaft sets the initial Follower state before an observer can
	// be registered, so the first recorded state change is the one after it.
	n := &Node{
		id:        cfg.ID,
		cfg:       cfg,
		logger:    logger,
		raft:      r,
		kv:        kv,
		store:     store,
		transport: cfg.Transport,
		timeline:  timeline,
		observer:  startObserver(r, cfg.ID, timeline, cfg.Leadership, cfg.ObserverBuffer, logger),
	}

	logger.Info("node opened", "data_dir", cfg.DataDir, "addr", cfg.Transport.LocalAddr(),
		"profile", cfg.Profile, "existing_state", existingState,
		"term", r.CurrentTerm(), "last_index", r.LastIndex(), "applied_index", kv.AppliedIndex())
	return n, nil
}

func openStores(cfg Config, logger *slog.Logger) (*raftboltdb.BoltStore, *raft.FileSnapshotStore, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, nil, fmt.Errorf("create data dir: %w", err)
	}

	path := filepath.Join(cfg.DataDir, boltFileName)
	store, err := raftboltdb.New(raftboltdb.Options{
		Path:        path,
		BoltOptions: &bbolt.Options{Timeout: cfg.BoltTimeout},
	})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, nil, fmt.Errorf("open %s: file lock still held after %s, close the node that uses it first: %w", path, cfg.BoltTimeout, err)
		}
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}

	snapshots, err := raft.NewFileSnapshotStoreWithLogger(cfg.DataDir, snapshotsRetained, NewHCLogger(logger, "snapshot"))
	if err != nil {
		store.Close()
		return nil, nil, fmt.Errorf("open snapshot store in %s: %w", cfg.DataDir, err)
	}
	return store, snapshots, nil
}

// Bootstrap writes the initial cluster configuration. With no servers it
// bootstraps a single-voter cluster of this node. On a node that already has
// raft state raft returns raft.ErrCantBootstrap, which Bootstrap logs and
// ignores, so callers can bootstrap unconditionally on every start.
func (n *Node) Bootstrap(servers []raft.Server) error {
	if len(servers) == 0 {
		servers = []raft.Server{{Suffrage: raft.Voter, ID: raft.ServerID(n.id), Address: n.transport.LocalAddr()}}
	}

	err := n.raft.BootstrapCluster(raft.Configuration{Servers: servers}).Error()
	if errors.Is(err, raft.ErrCantBootstrap) {
		n.logger.Info("skipped bootstrap because the node has existing raft state")
		return nil
	}
	if err != nil {
		return fmt.Errorf("bootstrap node %s with %d servers: %w", n.id, len(servers), err)
	}
	n.logger.Info("bootstrapped cluster", "servers", len(servers))
	return nil
}

// ID returns the raft server ID.
func (n *Node) ID() string { return n.id }

// Raft returns the underlying raft instance.
func (n *Node) Raft() *raft.Raft { return n.raft }

// Timeline returns the timeline the node records into.
func (n *Node) Timeline() *Timeline { return n.timeline }

// FSM returns the node's state machine.
func (n *Node) FSM() *KV { return n.kv }

// Status is a point-in-time view of a node's raft state. The fields are read
// one after another, so under load they may not all describe one instant.
type Status struct {
	State       string // Follower, Candidate, Leader or Shutdown
	Term        uint64
	LeaderID    string
	LeaderAddr  string
	LastIndex   uint64
	CommitIndex uint64

	// AppliedIndex is the highest index whose effect the state machine
	// reflects, so a read of this node's map after AppliedIndex reaches i
	// returns a state that includes every entry up to i. Unlike raft.Raft.AppliedIndex, it does not
	// count entries that are queued but not yet applied.
	AppliedIndex uint64
	LastContact  time.Time // last contact with a leader; zero if never, and not meaningful on the leader
}

// Status returns the node's raft state.
func (n *Node) Status() Status {
	addr, id := n.raft.LeaderWithID()
	return Status{
		State:        n.raft.State().String(),
		Term:         n.raft.CurrentTerm(),
		LeaderID:     string(id),
		LeaderAddr:   string(addr),
		LastIndex:    n.raft.LastIndex(),
		CommitIndex:  n.raft.CommitIndex(),
		AppliedIndex: n.appliedIndex(),
		LastContact:  n.raft.LastContact(),
	}
}
