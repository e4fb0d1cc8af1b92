package raftint

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hashicorp/raft"
)

// Config describes one raft member. Start from DefaultConfig and set ID,
// DataDir and Transport.
type Config struct {
	// ID is the raft ServerID of this node.
	ID string

	// DataDir is the directory that holds raft.db (the bbolt log and stable
	// store) and snapshots/. Open creates it if needed.
	DataDir string

	// Transport carries raft RPCs. The caller creates it. Once Open succeeds
	// the Node owns it and closes it on Shutdown or Crash, if it implements
	// raft.WithClose, and also closes its pooled connections, if it
	// implements StreamCloser. If Open fails the caller still owns it.
	Transport raft.Transport

	// Profile selects the raft timeouts.
	Profile Profile

	// Logger receives node and raft logs. The node adds a node_id attribute.
	// Nil discards logs.
	Logger *slog.Logger

	// Timeline is shared by the nodes of one cluster. Nil makes Open create
	// one for this node alone.
	Timeline *Timeline

	// Leadership receives leadership changes. Nil disables it.
	Leadership LeadershipSink

	// SnapshotThreshold is the number of log entries since the last snapshot
	// that makes raft take a new one.
	SnapshotThreshold uint64

	// SnapshotInterval is how often raft checks SnapshotThreshold.
	SnapshotInterval time.Duration

	// TrailingLogs is the number of entries kept in the log after a snapshot,
	// so a follower that lags by fewer entries catches up without a snapshot
	// transfer. Zero keeps none.
	TrailingLogs uint64

	// BoltTimeout bounds the wait for the bbolt file lock. bbolt waits
	// forever at 0, which turns a second open of the same file in one
	// process into a hang, so Validate rejects 0.
	BoltTimeout time.Duration

	// ObserverBuffer is the channel size of the raft observer. raft drops
	// observations when it is full; Timeline.Dropped counts them.
	ObserverBuffer int
}

// DefaultConfig returns a Config with every tunable set and ID, DataDir and
// Transport empty.
func DefaultConfig() Config {
	return Config{
		Profile:           ProfileDefault,
		SnapshotThreshold: 1024,
		SnapshotInterval:  30 * time.Second,
		TrailingLogs:      1024,
		BoltTimeout:       time.Second,
		ObserverBuffer:    4096,
	}
}

// minSnapshotInterval is the smallest SnapshotInterval raft.ValidateConfig
// accepts in v1.7.2.
const minSnapshotInterval = 5 * time.Millisecond

// Validate reports every invalid field at once, each error wrapping
// ErrInvalidConfig. It does not modify c.
func (c Config) Validate() error {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}

	if c.ID == "" {
		fail("missing ID: set the raft server ID")
	}
	if c.DataDir == "" {
		fail("missing DataDir: set the directory for raft.db and snapshots")
	}
	if c.Transport == nil {
		fail("missing Transport: pass a raft.Transport bound to this node's address")
	} else if c.Transport.LocalAddr() == "" {
		fail("Transport has an empty local address")
	}
	if _, err := ParseProfile(string(c.Profile)); err != nil {
		fail("Profile: %v", err)
	}
	if c.SnapshotThreshold == 0 {
		fail("SnapshotThreshold is 0: set the number of entries between snapshots, for example 1024")
	}
	if c.SnapshotInterval < minSnapshotInterval {
		fail("SnapshotInterval %s is below the raft minimum of %s", c.SnapshotInterval, minSnapshotInterval)
	}
	if c.BoltTimeout <= 0 {
		fail("BoltTimeout %s must be positive because bbolt waits forever for the file lock at 0", c.BoltTimeout)
	}
	if c.ObserverBuffer <= 0 {
		fail("ObserverBuffer %d must be positive", c.ObserverBuffer)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	// raft checks the timeouts against each other, for example that the
	// leader lease does not exceed the heartbeat timeout.
	if err := raft.ValidateConfig(c.raftConfig()); err != nil {
		return fmt.Errorf("%w: rejected by raft: %w", ErrInvalidConfig, err)
	}
	return nil
}

// raftConfig builds the hashicorp/raft configuration for c, without a logger.
func (c Config) raftConfig() *raft.Config {
	timing := c.Profile.Timing()

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(c.ID)
	rc.HeartbeatTimeout = timing.HeartbeatTimeout
	rc.ElectionTimeout = timing.ElectionTimeout
	rc.LeaderLeaseTimeout = timing.LeaderLeaseTimeout
	rc.CommitTimeout = timing.CommitTimeout
	rc.SnapshotThreshold = c.SnapshotThreshold
	rc.SnapshotInterval = c.SnapshotInterval
	rc.TrailingLogs = c.TrailingLogs

	// Leadership changes reach the node through an observer, because
	// NotifyCh is a blocking send that would stall raft on a slow reader.
	rc.NotifyCh = nil
	return rc
}
