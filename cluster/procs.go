package cluster

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/faultline-dev/faultline/raftint"
)

// ProcsConfig configures a cluster of node processes on 127.0.0.1.
type ProcsConfig struct {
	// Binary is the path of the node binary (make node builds bin/node).
	Binary string
	// Size is the number of nodes, named node-1 to node-N.
	Size int
	// Profile sets the raft timeouts of every node.
	Profile raftint.Profile
	// Seed feeds the nodes' random decisions: each node gets Seed plus its
	// number, so that nodes do not draw the same values.
	Seed int64
	// DataDir is the parent of the nodes' data directories and logs. Empty
	// makes a temporary directory that Close removes.
	DataDir string
	// Token is the admin token of every node. Empty makes a random one.
	Token string
	// TimelinePoll is how often the harness reads every node's timeline.
	TimelinePoll time.Duration
	// StopTimeout is how long Close waits for a node to exit after SIGTERM
	// before it sends SIGKILL.
	StopTimeout time.Duration
	// Logger receives the harness's logs; nil discards them. Each node's
	// own output goes to node-N.log in DataDir.
	Logger *slog.Logger
}

// DefaultProcsConfig returns three nodes of bin/node with raft's default
// timings.
func DefaultProcsConfig() ProcsConfig {
	return ProcsConfig{
		Binary:       filepath.Join("bin", "node"),
		Size:         3,
		Profile:      raftint.ProfileDefault,
		Seed:         1,
		TimelinePoll: DefaultTimelinePoll,
		StopTimeout:  15 * time.Second,
	}
}

// Validate checks the config without changing it.
func (c ProcsConfig) Validate() error {
	var errs []error
	if c.Binary == "" {
		errs = append(errs, errors.New("cluster: binary is empty: set the path of the node binary"))
	} else if info, err := os.Stat(c.Binary); err != nil {
		errs = append(errs, fmt.Errorf("cluster: node binary: %w (build it with make node)", err))
	} else if info.IsDir() || info.Mode()&0o111 == 0 {
		errs = append(errs, fmt.Errorf("cluster: node binary %s is not an executable file", c.Binary))
	}
	if c.Size < 1 || c.Size > maxLocalSize {
		errs = append(errs, fmt.Errorf("cluster: size %d is outside 1..%d", c.Size, maxLocalSize))
	}
	if _, err := raftint.ParseProfile(string(c.Profile)); err != nil {
		errs = append(errs, err)
	}
	if c.TimelinePoll <= 0 {
		errs = append(errs, fmt.Errorf("cluster: timeline poll interval %v must be above zero", c.TimelinePoll))
	}
	if c.StopTimeout <= 0 {
		errs = append(errs, fmt.Errorf("cluster: stop timeout %v must be above zero", c.StopTimeout))
	}
	return errors.Join(errs...)
}

// Procs is a cluster of node processes on 127.0.0.1, started from a node
// binary and driven through their admin APIs. Crash sends SIGKILL; Restart
// starts the process again with the same environment and data directory.
// It is safe for concurrent use.
type Procs struct {
	*remote
	cfg    ProcsConfig
	dir    string
	ownDir bool

	// lifeMu makes starts, crashes, restarts and Close one at a time.
	lifeMu  sync.Mutex
	procs   map[string]*proc
	stopped bool
	waiters sync.WaitGroup
}

var _ Cluster = (*Procs)(nil)

// StartProcs starts cfg.Size node processes that form one cluster through
// memberlist, and waits until every node serves its admin API and the
// cluster is stable. On failure it stops what it started.
func StartProcs(ctx context.Context, cfg ProcsConfig) (*Procs, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c, err := newProcs(cfg)
	if err != nil {
		return nil, err
	}
	if err := c.planNodes(); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.startAll(ctx); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := c.WaitStable(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("cluster: no stable leader after start (node logs in %s): %w", c.dir, err)
	}
	return c, nil
}

func newProcs(cfg ProcsConfig) (*Procs, error) {
	token := cfg.Token
	if token == "" {
		token = rand.Text()
	}
	ids := make([]string, cfg.Size)
	for i := range ids {
		ids[i] = fmt.Sprintf("node-%d", i+1)
	}
	c := &Procs{remote: newRemote(ids, cfg.Profile, token, cfg.Logger), cfg: cfg, dir: cfg.DataDir, procs: make(map[string]*proc)}
	if c.dir == "" {
		dir, err := os.MkdirTemp("", "faultline-procs-")
		if err != nil {
			return nil, fmt.Errorf("cluster: create data directory: %w", err)
		}
		c.dir, c.ownDir = dir, true
	}
	return c, nil
}

// planNodes picks each node's raft, gossip and HTTP ports and sets the
// environment that configures its process. The ports stay the same across
// restarts, because raft and memberlist know a node by its address.
func (c *Procs) planNodes() error {
	cfg := c.cfg
	ids := c.Nodes()
	ports, err := freePorts(3 * len(ids))
	if err != nil {
		return err
	}
	var join []string
	for i := range ids {
		join = append(join, fmt.Sprintf("127.0.0.1:%d", ports[3*i+1]))
	}
	for i, id := range ids {
		p := &proc{
			id:      id,
			logPath: filepath.Join(c.dir, id+".log"),
			httpURL: fmt.Sprintf("http://127.0.0.1:%d", ports[3*i+2]),
		}
		p.env = []string{
			"FAULTLINE_NODE_ID=" + id,
			fmt.Sprintf("FAULTLINE_RAFT_ADDR=127.0.0.1:%d", ports[3*i]),
			"FAULTLINE_GOSSIP_ADDR=" + join[i],
			fmt.Sprintf("FAULTLINE_HTTP_ADDR=127.0.0.1:%d", ports[3*i+2]),
			"FAULTLINE_DATA_DIR=" + filepath.Join(c.dir, id),
			"FAULTLINE_JOIN=" + strings.Join(join, ","),
			fmt.Sprintf("FAULTLINE_BOOTSTRAP_EXPECT=%d", cfg.Size),
			"FAULTLINE_PROFILE=" + string(cfg.Profile),
			"FAULTLINE_ADMIN_TOKEN=" + c.token,
			"FAULTLINE_CHAOS=on",
			fmt.Sprintf("FAULTLINE_SEED=%d", cfg.Seed+int64(i)),
		}
		c.procs[id] = p
	}
	return nil
}

// DataDir returns the parent of the nodes' data directories and logs.
func (c *Procs) DataDir() string { return c.dir }

// LogPath returns the file that holds node id's output.
func (c *Procs) LogPath(id string) string { return filepath.Join(c.dir, id+".log") }

// Token returns the admin token of the nodes.
func (c *Procs) Token() string { return c.token }

// URL returns the admin base URL of node id.
func (c *Procs) URL(id string) (string, error) {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	p, ok := c.procs[id]
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrUnknownNode, id)
	}
	return p.httpURL, nil
}

func (c *Procs) startAll(ctx context.Context) error {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	for _, id := range c.Nodes() {
		if err := c.startLocked(c.procs[id]); err != nil {
			return err
		}
	}
	for _, id := range c.Nodes() {
		p := c.procs[id]
		if err := c.waitProcHealthy(ctx, p); err != nil {
			return err
		}
		c.setUp(id, p.httpURL)
	}
	c.startPolling(c.cfg.TimelinePoll)
	c.log.Info("cluster started", "size", c.cfg.Size, "profile", c.cfg.Profile, "data_dir", c.dir, "binary", c.cfg.Binary)
	return nil
}

// Crash implements Cluster with SIGKILL. The node's last timeline events
// are read first, so that the harness timeline holds them.
func (c *Procs) Crash(id string) error {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	if _, err := c.client(id); err != nil {
		return err
	}
	p := c.procs[id]
	c.pollNow()
	c.timeline.Record(raftint.Event{Kind: raftint.EventCrash, Node: id})
	c.setDown(id)
	if err := p.kill(); err != nil {
		return fmt.Errorf("cluster: crash %s: %w", id, err)
	}
	c.log.Info("node crashed", "node_id", id, "pid", p.pid)
	return nil
}

// Restart implements Cluster: the process starts again with the same
// environment, so on the same ports and data directory, and gets the fault
// table in force once its admin API serves.
//
// NOTE: between the node's start and the install of the fault table, a
// few milliseconds, the restarted node enforces no rule on the links that
// start at it.
func (c *Procs) Restart(ctx context.Context, id string) error {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	down, err := c.isDown(id)
	if err != nil {
		return err
	}
	if c.isClosed() {
		return ErrClosed
	}
	if !down {
		return fmt.Errorf("%w: %s", ErrNodeUp, id)
	}
	p := c.procs[id]
	if err := c.startLocked(p); err != nil {
		return err
	}
	if err := c.waitProcHealthy(ctx, p); err != nil {
		return err
	}
	c.setUp(id, p.httpURL)
	if err := c.reinstallOn(id); err != nil {
		return err
	}
	c.timeline.Record(raftint.Event{Kind: raftint.EventRestart, Node: id})
	c.log.Info("node restarted", "node_id", id, "pid", p.pid)
	return nil
}

// Close implements Cluster: it sends SIGTERM to every running node, then
// SIGKILL to any that has not exited after StopTimeout, and removes the
// data directory if the cluster made it. It is idempotent.
func (c *Procs) Close() error {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	if c.stopped {
		return nil
	}
	c.stopped = true
	var wg sync.WaitGroup
	errs := make([]error, 0, len(c.procs))
	var errMu sync.Mutex
	for _, p := range c.procs {
		wg.Go(func() {
			if err := p.stop(c.cfg.StopTimeout); err != nil {
				errMu.Lock()
				errs = append(errs, fmt.Errorf("stop %s: %w", p.id, err))
				errMu.Unlock()
			}
		})
	}
	wg.Wait()
	c.waiters.Wait()
	c.stopRemote()
	if c.ownDir {
		if err := os.RemoveAll(c.dir); err != nil {
			errs = append(errs, err)
		}
	}
	c.log.Info("cluster closed")
	return errors.Join(errs...)
}
