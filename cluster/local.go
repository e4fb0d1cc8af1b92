package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/daemon"
	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
)

// LocalConfig configures an in-process cluster.
type LocalConfig struct {
	// Size is the number of nodes, named node-1 to node-N.
	Size int
	// Profile sets the raft timeouts of every node.
	Profile raftint.Profile
	// Seed feeds the fault table's random decisions.
	Seed int64
	// DataDir is the parent of the nodes' data directories. Empty makes a
	// temporary directory that Close removes.
	DataDir string
	// FaultTTL is the time to live of fault rules that set none.
	FaultTTL time.Duration
	// Logger receives the logs of every node; nil discards them.
	Logger *slog.Logger
}

// maxLocalSize bounds Size: beyond it a 2-core machine spends its time on
// heartbeats, not on the scenario.
const maxLocalSize = 31

// DefaultLocalConfig returns three nodes with raft's default timings.
func DefaultLocalConfig() LocalConfig {
	return LocalConfig{Size: 3, Profile: raftint.ProfileDefault, Seed: 1, FaultTTL: netchaos.DefaultTTL}
}

// Validate checks the config without changing it.
func (c LocalConfig) Validate() error {
	if c.Size < 1 || c.Size > maxLocalSize {
		return fmt.Errorf("cluster: size %d is outside 1..%d", c.Size, maxLocalSize)
	}
	if _, err := raftint.ParseProfile(string(c.Profile)); err != nil {
		return err
	}
	if c.FaultTTL <= 0 {
		return fmt.Errorf("cluster: fault ttl %v must be above zero", c.FaultTTL)
	}
	return nil
}

// member is one node slot; node and daemon are nil while the node is down.
type member struct {
	id     string
	addr   string
	dir    string
	node   *raftint.Node
	daemon *daemon.Daemon
}

// daemonStopTimeout bounds the wait for a daemon's operations when its node
// goes down; a crash does not wait for them at all.
const daemonStopTimeout = time.Second

// Local is an in-process cluster on 127.0.0.1. It is safe for concurrent use.
type Local struct {
	cfg      LocalConfig
	log      *slog.Logger
	table    *netchaos.Table
	timeline *raftint.Timeline
	dir      string
	ownDir   bool

	mu      sync.Mutex
	members []*member
	closed  bool
}

var _ Cluster = (*Local)(nil)

// StartLocal starts and bootstraps a cluster and waits until it is stable.
func StartLocal(ctx context.Context, cfg LocalConfig) (*Local, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c, err := newLocal(cfg)
	if err != nil {
		return nil, err
	}
	if err := c.startAll(); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := c.WaitStable(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("cluster: no stable leader after start: %w", err)
	}
	return c, nil
}

func newLocal(cfg LocalConfig) (*Local, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	table, err := netchaos.NewTable(netchaos.TableConfig{Seed: cfg.Seed, DefaultTTL: cfg.FaultTTL, Logger: log})
	if err != nil {
		return nil, err
	}
	c := &Local{cfg: cfg, log: log, table: table, timeline: raftint.NewTimeline(), dir: cfg.DataDir}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "faultline-"); err != nil {
			return nil, fmt.Errorf("cluster: create data directory: %w", err)
		}
		c.ownDir = true
	}
	for i := range cfg.Size {
		id := fmt.Sprintf("node-%d", i+1)
		c.members = append(c.members, &member{id: id, addr: "127.0.0.1:0", dir: filepath.Join(c.dir, id)})
	}
	return c, nil
}

func (c *Local) startAll() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.members {
		if err := c.startMember(m); err != nil {
			return err
		}
	}
	servers := c.serversLocked()
	for _, m := range c.members {
		if err := m.node.Bootstrap(servers); err != nil {
			return fmt.Errorf("cluster: bootstrap %s: %w", m.id, err)
		}
	}
	c.log.Info("cluster started", "size", len(c.members), "profile", c.cfg.Profile, "data_dir", c.dir)
	return nil
}

func (c *Local) serversLocked() []raft.Server {
	servers := make([]raft.Server, len(c.members))
	for i, m := range c.members {
		servers[i] = raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(m.id), Address: raft.ServerAddress(m.addr)}
	}
	return servers
}

// startMember opens m's node on m.addr; a restart reuses the port that the
// first start bound, because peers know the node by that address.
func (c *Local) startMember(m *member) error {
	timing := c.cfg.Profile.Timing()
	inner, err := raft.NewTCPTransportWithConfig(m.addr, nil, &raft.NetworkTransportConfig{
		MaxPool: 3,
		Timeout: timing.RPCTimeout,
		Logger:  raftint.NewHCLogger(c.log.With("node_id", m.id), "transport"),
	})
	if err != nil {
		return fmt.Errorf("cluster: listen for %s on %s: %w", m.id, m.addr, err)
	}
	m.addr = string(inner.LocalAddr())
	wrapped, err := netchaos.NewRaftTransport(inner, netchaos.RaftTransportConfig{
		Local: m.id, Table: c.table, RPCTimeout: timing.RPCTimeout, Logger: c.log,
	})
	if err != nil {
		inner.Close()
		return err
	}
	dcfg := daemon.DefaultConfig()
	dcfg.NodeID = m.id
	dcfg.Logger = c.log
	d, err := daemon.New(dcfg)
	if err == nil {
		err = d.Start(context.Background())
	}
	if err != nil {
		wrapped.Close()
		return fmt.Errorf("cluster: start the daemon of %s: %w", m.id, err)
	}
	rc := raftint.DefaultConfig()
	rc.ID = m.id
	rc.Leadership = d
	rc.DataDir = m.dir
	rc.Transport = wrapped
	rc.Profile = c.cfg.Profile
	rc.Logger = c.log
	rc.Timeline = c.timeline
	node, err := raftint.Open(rc)
	if err != nil {
		wrapped.Close()
		stopDaemon(d, 0)
		return fmt.Errorf("cluster: open %s: %w", m.id, err)
	}
	m.node = node
	m.daemon = d
	return nil
}

// stopDaemon stops d, letting running operations finish for at most wait.
func stopDaemon(d *daemon.Daemon, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, err := d.Stop(ctx)
	return err
}

// Daemon returns the daemon of running node id. The daemon follows its
// node's raft leadership.
func (c *Local) Daemon(id string) (*daemon.Daemon, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.nodeLocked(id); err != nil {
		return nil, err
	}
	return c.memberLocked(id).daemon, nil
}

// Nodes implements Cluster.
func (c *Local) Nodes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, len(c.members))
	for i, m := range c.members {
		ids[i] = m.id
	}
	return ids
}

// Profile implements Cluster.
func (c *Local) Profile() raftint.Profile { return c.cfg.Profile }

// Timeline implements Cluster.
func (c *Local) Timeline() *raftint.Timeline { return c.timeline }

// Table returns the fault table that every node's transport enforces.
func (c *Local) Table() *netchaos.Table { return c.table }

// DataDir returns the parent of the nodes' data directories.
func (c *Local) DataDir() string { return c.dir }

// Node returns the running node id, for tests that need raft itself.
func (c *Local) Node(id string) (*raftint.Node, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodeLocked(id)
}

func (c *Local) nodeLocked(id string) (*raftint.Node, error) {
	if c.closed {
		return nil, ErrClosed
	}
	m := c.memberLocked(id)
	if m == nil {
		return nil, fmt.Errorf("%w: %q (nodes: %s)", ErrUnknownNode, id, strings.Join(c.idsLocked(), ", "))
	}
	if m.node == nil {
		return nil, fmt.Errorf("%w: %s crashed; restart it first", ErrNodeDown, id)
	}
	return m.node, nil
}

func (c *Local) memberLocked(id string) *member {
	i := slices.IndexFunc(c.members, func(m *member) bool { return m.id == id })
	if i < 0 {
		return nil
	}
	return c.members[i]
}

func (c *Local) idsLocked() []string {
	ids := make([]string, len(c.members))
	for i, m := range c.members {
		ids[i] = m.id
	}
	return ids
}

// Status implements Cluster.
func (c *Local) Status(id string) (raftint.Status, error) {
	node, err := c.Node(id)
	if err != nil {
		return raftint.Status{}, err
	}
	return node.Status(), nil
}

// defaultOpTimeout bounds a write or linearizable read whose context has no
// deadline.
const defaultOpTimeout = 5 * time.Second

// opTimeout turns ctx's deadline into the timeout that raft's API takes.
func opTimeout(ctx context.Context) (time.Duration, error) {
	timeout := defaultOpTimeout
	if deadline, ok := ctx.Deadline(); ok {
		timeout = time.Until(deadline)
	}
	if timeout <= 0 {
		return 0, context.DeadlineExceeded
	}
	return timeout, ctx.Err()
}

// Put implements Cluster. The write's timeout is the context's deadline, or
// 5 seconds without one.
func (c *Local) Put(ctx context.Context, id, key, value string) (uint64, error) {
	node, err := c.Node(id)
	if err != nil {
		return 0, err
	}
	timeout, err := opTimeout(ctx)
	if err != nil {
		return 0, err
	}
	return node.Put(key, value, timeout)
}

// Read implements Cluster.
func (c *Local) Read(ctx context.Context, id, key string) (string, bool, error) {
	node, err := c.Node(id)
	if err != nil {
		return "", false, err
	}
	timeout, err := opTimeout(ctx)
	if err != nil {
		return "", false, err
	}
	return node.ReadLinearizable(key, timeout)
}

// CompareAndSet implements Cluster.
func (c *Local) CompareAndSet(ctx context.Context, id, key string, expected *string, value string) (bool, uint64, error) {
	node, err := c.Node(id)
	if err != nil {
		return false, 0, err
	}
	timeout, err := opTimeout(ctx)
	if err != nil {
		return false, 0, err
	}
	return node.CompareAndSet(key, expected, value, timeout)
}

// StateHash implements Cluster.
func (c *Local) StateHash(id string) (uint64, string, error) {
	node, err := c.Node(id)
	if err != nil {
		return 0, "", err
	}
	index, hash := node.StateHash()
	return index, hash, nil
}

// Get implements Cluster.
func (c *Local) Get(id, key string) (string, bool, error) {
	node, err := c.Node(id)
	if err != nil {
		return "", false, err
	}
	value, ok := node.Get(key)
	return value, ok, nil
}

// AddFaults implements Cluster.
func (c *Local) AddFaults(rules ...netchaos.Rule) ([]netchaos.Rule, error) {
	added, err := c.table.Add(rules...)
	if err != nil {
		return nil, err
	}
	c.timeline.Record(raftint.Event{Kind: raftint.EventFault, Detail: describeRules(added)})
	return added, nil
}

// RemoveFaults implements Cluster.
func (c *Local) RemoveFaults(ids ...string) error {
	if c.table.Remove(ids...) > 0 {
		c.timeline.Record(raftint.Event{Kind: raftint.EventHeal, Detail: strings.Join(ids, ",")})
	}
	return nil
}

// ClearFaults implements Cluster.
func (c *Local) ClearFaults() error {
	c.table.Clear()
	c.timeline.Record(raftint.Event{Kind: raftint.EventHeal, Detail: "all"})
	return nil
}

// Faults implements Cluster.
func (c *Local) Faults() []netchaos.Rule { return c.table.Rules() }

func describeRules(rules []netchaos.Rule) string {
	parts := make([]string, len(rules))
	for i, r := range rules {
		parts[i] = fmt.Sprintf("%s %s→%s %s", r.ID, r.From, r.To, r.Kind)
	}
	return strings.Join(parts, "; ")
}

// Crash implements Cluster: the node's transport closes first, so in-flight
// RPCs fail, and raft stops without a leadership transfer. Its data
// directory stays as a killed process would leave it.
func (c *Local) Crash(id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	node, err := c.nodeLocked(id)
	if err != nil {
		return err
	}
	m := c.memberLocked(id)
	d := m.daemon
	m.node, m.daemon = nil, nil
	c.timeline.Record(raftint.Event{Kind: raftint.EventCrash, Node: id})
	if err := node.Crash(); err != nil {
		return fmt.Errorf("cluster: crash %s: %w", id, err)
	}
	// A crashed process takes its daemon with it: runs are cancelled at
	// once. Stop reports runs that outlive the cancel, which a crash
	// ignores.
	if err := stopDaemon(d, 0); err != nil {
		c.log.Debug("daemon of crashed node still had runs", "node_id", id, "error", err)
	}
	c.log.Info("node crashed", "node_id", id)
	return nil
}

// Restart implements Cluster: the node reopens its bbolt files and
// snapshots on its old address and rejoins with the state they hold.
func (c *Local) Restart(ctx context.Context, id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	m := c.memberLocked(id)
	if m == nil {
		return fmt.Errorf("%w: %q", ErrUnknownNode, id)
	}
	if m.node != nil {
		return fmt.Errorf("%w: %s", ErrNodeUp, id)
	}
	if err := c.startMember(m); err != nil {
		return err
	}
	if err := m.node.Bootstrap(c.serversLocked()); err != nil {
		return fmt.Errorf("cluster: bootstrap restarted %s: %w", id, err)
	}
	c.timeline.Record(raftint.Event{Kind: raftint.EventRestart, Node: id})
	c.log.Info("node restarted", "node_id", id, "addr", m.addr)
	return ctx.Err()
}

// Close implements Cluster. It shuts every running node down and removes the
// data directory if the cluster made it. It is idempotent.
func (c *Local) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	c.table.Clear()
	var errs []error
	for _, m := range c.members {
		if m.node == nil {
			continue
		}
		if err := stopDaemon(m.daemon, daemonStopTimeout); err != nil {
			errs = append(errs, fmt.Errorf("stop the daemon of %s: %w", m.id, err))
		}
		if err := m.node.Shutdown(); err != nil {
			errs = append(errs, fmt.Errorf("shutdown %s: %w", m.id, err))
		}
		m.node, m.daemon = nil, nil
	}
	if c.ownDir {
		if err := os.RemoveAll(c.dir); err != nil {
			errs = append(errs, err)
		}
	}
	c.log.Info("cluster closed")
	return errors.Join(errs...)
}
