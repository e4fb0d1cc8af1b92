package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
)

// Transport names how the nodes of a proxy-comparison cluster talk.
type Transport string

// Transports compared by the proxy benchmark.
const (
	// TransportPlain is raft.NetworkTransport over TCP on 127.0.0.1.
	TransportPlain Transport = "plain"

	// TransportNetchaos is netchaos.RaftTransport with an empty rule table,
	// wrapped around the same raft.NetworkTransport.
	TransportNetchaos Transport = "netchaos"

	// TransportPlainNoPipeline and TransportNetchaosNoPipeline are the two
	// above with AppendEntriesPipeline hidden, for ProxyConfig.Diagnose.
	TransportPlainNoPipeline    Transport = "plain-nopipeline"
	TransportNetchaosNoPipeline Transport = "netchaos-nopipeline"
)

// networkMaxPool is the number of pooled connections per peer. It matches
// cluster.Local, so the plain cluster differs from faultline's harness only
// by the proxy.
const networkMaxPool = 3

// raftCluster is a cluster of raftint nodes on 127.0.0.1 whose transports
// the benchmark chooses, built without the cluster package so that the plain
// variant has no netchaos code on its path.
type raftCluster struct {
	transport Transport
	timeline  *raftint.Timeline
	nodes     []*raftint.Node
	log       *slog.Logger
}

// startRaftCluster opens size nodes under dir, bootstraps them and waits
// until one leader is known to all of them.
func startRaftCluster(ctx context.Context, transport Transport, size int, profile raftint.Profile, dir string, log *slog.Logger) (*raftCluster, error) {
	c := &raftCluster{transport: transport, timeline: raftint.NewTimeline(), log: log}
	table, err := netchaos.NewTable(netchaos.DefaultTableConfig())
	if err != nil {
		return nil, err
	}

	var servers []raft.Server
	for i := range size {
		id := fmt.Sprintf("%s-%d", transport, i+1)
		node, addr, err := c.openNode(id, filepath.Join(dir, id), profile, table)
		if err != nil {
			c.Close()
			return nil, err
		}
		c.nodes = append(c.nodes, node)
		servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(id), Address: addr})
	}
	for _, node := range c.nodes {
		if err := node.Bootstrap(servers); err != nil {
			c.Close()
			return nil, err
		}
	}
	if _, err := c.waitLeader(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("%s cluster of %d nodes: %w", transport, size, err)
	}
	return c, nil
}

// openNode binds a TCP transport on a kernel-chosen port, wraps it when the
// cluster uses netchaos, and opens the node. It returns the node and its
// raft address.
func (c *raftCluster) openNode(id, dir string, profile raftint.Profile, table *netchaos.Table) (*raftint.Node, raft.ServerAddress, error) {
	timing := profile.Timing()
	logger := c.log.With("node_id", id)
	inner, err := raft.NewTCPTransportWithConfig("127.0.0.1:0", nil, &raft.NetworkTransportConfig{
		MaxPool: networkMaxPool,
		Timeout: timing.RPCTimeout,
		Logger:  raftint.NewHCLogger(logger, "transport"),
	})
	if err != nil {
		return nil, "", fmt.Errorf("listen for %s on 127.0.0.1: %w", id, err)
	}

	var transport raft.Transport = inner
	if c.transport == TransportNetchaos || c.transport == TransportNetchaosNoPipeline {
		wrapped, err := netchaos.NewRaftTransport(inner, netchaos.RaftTransportConfig{
			Local: id, Table: table, RPCTimeout: timing.RPCTimeout, Logger: logger,
		})
		if err != nil {
			inner.Close()
			return nil, "", err
		}
		transport = wrapped
	}
	if c.transport == TransportPlainNoPipeline || c.transport == TransportNetchaosNoPipeline {
		transport = noPipeline{transport.(pipelineTransport)}
	}

	cfg := raftint.DefaultConfig()
	cfg.ID = id
	cfg.DataDir = dir
	cfg.Transport = transport
	cfg.Profile = profile
	cfg.Logger = c.log
	cfg.Timeline = c.timeline
	node, err := raftint.Open(cfg)
	if err != nil {
		if closer, ok := transport.(raft.WithClose); ok {
			closer.Close()
		}
		return nil, "", err
	}
	return node, inner.LocalAddr(), nil
}

// stableWait bounds the wait between two leader checks when no timeline
// event arrives: followers learn the leader from heartbeats, which record
// no event.
const stableWait = 5 * time.Millisecond

// waitLeader returns the leader once exactly one node leads and every node
// follows it in the leader's term.
func (c *raftCluster) waitLeader(ctx context.Context) (*raftint.Node, error) {
	for {
		seq := c.timeline.LastSeq()
		if leader := c.stableLeader(); leader != nil {
			return leader, nil
		}
		wait, cancel := context.WithTimeout(ctx, stableWait)
		_, _ = c.timeline.Wait(wait, seq, func(raftint.Event) bool { return true })
		cancel()
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoLeader, err)
		}
	}
}

func (c *raftCluster) stableLeader() *raftint.Node {
	var leader *raftint.Node
	var term uint64
	for _, node := range c.nodes {
		s := node.Status()
		if s.State == raft.Leader.String() {
			if leader != nil {
				return nil
			}
			leader, term = node, s.Term
		}
	}
	if leader == nil {
		return nil
	}
	for _, node := range c.nodes {
		s := node.Status()
		if s.LeaderID != leader.ID() || s.Term != term {
			return nil
		}
	}
	return leader
}

// Close shuts every node down. It is safe to call on a cluster whose start
// failed part way.
func (c *raftCluster) Close() error {
	var errs []error
	for _, node := range c.nodes {
		if err := node.Shutdown(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// makeDataDir creates a directory for a benchmark's bbolt files under
// parent, or under the system's temporary directory when parent is empty.
func makeDataDir(parent, pattern string) (string, error) {
	dir, err := os.MkdirTemp(parent, pattern)
	if err != nil {
		return "", fmt.Errorf("create data directory: %w", err)
	}
	return dir, nil
}

// pipelineTransport is the set of interfaces that raft.NetworkTransport and
// netchaos.RaftTransport both implement.
type pipelineTransport interface {
	raft.Transport
	raft.WithPreVote
	raft.WithClose
}

// noPipeline hides the append pipeline of the transport it wraps, so raft
// falls back to one AppendEntries call at a time per follower. It forwards
// pre-vote and Close, without which raft would turn pre-vote off and
// Shutdown would leave the transport open.
type noPipeline struct {
	pipelineTransport
}

// AppendEntriesPipeline implements raft.Transport.
func (noPipeline) AppendEntriesPipeline(raft.ServerID, raft.ServerAddress) (raft.AppendPipeline, error) {
	return nil, raft.ErrPipelineReplicationNotSupported
}

// CloseStreams closes the pooled connections of the wrapped transport, as
// raftint.StreamCloser expects.
func (n noPipeline) CloseStreams() {
	if closer, ok := n.pipelineTransport.(raftint.StreamCloser); ok {
		closer.CloseStreams()
	}
}
