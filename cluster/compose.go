package cluster

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/faultline-dev/faultline/admin"
	"github.com/faultline-dev/faultline/raftint"
)

// composeAdminPort is the admin API port inside every node container.
const composeAdminPort = "8080"

// maxComposeSize is the number of node services in docker-compose.yml.
const maxComposeSize = 5

// ComposeConfig configures a harness over the node containers of a docker
// compose project. The compose file must define services node-1 to node-5
// as docker-compose.yml does: the first three bootstrap the cluster, and
// the others join it.
type ComposeConfig struct {
	// File is the compose file.
	File string
	// Project is the compose project name. Empty makes a unique one.
	Project string
	// Attach drives a project that is already running instead of starting
	// one. Close then clears the faults and leaves the containers running.
	Attach bool
	// Size is the number of nodes, node-1 to node-N, from 3 to 5.
	Size int
	// Profile sets the raft timeouts of a project that the harness starts.
	Profile raftint.Profile
	// Seed feeds the nodes' random decisions in a project that the harness
	// starts.
	Seed int64
	// Token is the admin token. Empty makes a random one, except with
	// Attach, where it must be the project's token.
	Token string
	// Image is the node image to run; empty keeps the compose file's.
	Image string
	// Build builds the image before starting the project.
	Build bool
	// Command is the compose command, such as ["docker", "compose"]. Empty
	// detects it with DetectCompose.
	Command []string
	// TimelinePoll is how often the harness reads every node's timeline.
	TimelinePoll time.Duration
	// Logger receives the harness's logs; nil discards them.
	Logger *slog.Logger
}

// DefaultComposeConfig returns three nodes of docker-compose.yml with raft's
// default timings.
func DefaultComposeConfig() ComposeConfig {
	return ComposeConfig{
		File:         "docker-compose.yml",
		Size:         3,
		Profile:      raftint.ProfileDefault,
		Seed:         1,
		TimelinePoll: DefaultTimelinePoll,
	}
}

// Validate checks the config without changing it.
func (c ComposeConfig) Validate() error {
	var errs []error
	if _, err := os.Stat(c.File); err != nil {
		errs = append(errs, fmt.Errorf("cluster: compose file: %w", err))
	}
	if c.Size < 3 || c.Size > maxComposeSize {
		errs = append(errs, fmt.Errorf("cluster: size %d is outside 3..%d: the compose file bootstraps three nodes and defines %d",
			c.Size, maxComposeSize, maxComposeSize))
	}
	if _, err := raftint.ParseProfile(string(c.Profile)); err != nil {
		errs = append(errs, err)
	}
	if c.Attach && c.Project == "" {
		errs = append(errs, errors.New("cluster: attaching needs the project name"))
	}
	if c.Attach && c.Token == "" {
		errs = append(errs, errors.New("cluster: attaching needs the project's admin token"))
	}
	if c.TimelinePoll <= 0 {
		errs = append(errs, fmt.Errorf("cluster: timeline poll interval %v must be above zero", c.TimelinePoll))
	}
	return errors.Join(errs...)
}

// Compose is a cluster of node containers in a docker compose project,
// driven through the admin ports that the project publishes on 127.0.0.1.
// Crash is `kill -s SIGKILL`, Restart is `start`. It is safe for concurrent
// use.
type Compose struct {
	*remote
	cfg     ComposeConfig
	compose composeCommand

	// lifeMu makes crashes, restarts and Close one at a time.
	lifeMu  sync.Mutex
	stopped bool
	// owned is set once the harness has run `up`, so Close removes the
	// project; it never removes a project that it did not start.
	owned bool
}

var _ Cluster = (*Compose)(nil)

// StartCompose starts the project's node services, or attaches to them,
// and waits until every node serves its admin API and the cluster is
// stable. On failure it removes what it started.
func StartCompose(ctx context.Context, cfg ComposeConfig) (*Compose, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	command := cfg.Command
	if len(command) == 0 {
		detected, err := DetectCompose(ctx)
		if err != nil {
			return nil, err
		}
		command = detected
	}
	if cfg.Project == "" {
		cfg.Project = "faultline-" + strings.ToLower(rand.Text()[:10])
	}
	if cfg.Token == "" {
		cfg.Token = rand.Text()
	}
	ids := make([]string, cfg.Size)
	for i := range ids {
		ids[i] = fmt.Sprintf("node-%d", i+1)
	}
	c := &Compose{remote: newRemote(ids, cfg.Profile, cfg.Token, cfg.Logger), cfg: cfg}
	c.compose = composeCommand{command: command, file: cfg.File, project: cfg.Project, env: composeEnv(cfg), log: c.log}

	if err := c.start(ctx); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := c.WaitStable(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("cluster: no stable leader in compose project %s: %w", cfg.Project, err)
	}
	return c, nil
}

// composeEnv returns the variables that the compose file interpolates. A
// project that the harness starts publishes its admin ports on free ports,
// so that it runs beside one started with make up.
func composeEnv(cfg ComposeConfig) []string {
	env := []string{
		"FAULTLINE_ADMIN_TOKEN=" + cfg.Token,
		"FAULTLINE_PROFILE=" + string(cfg.Profile),
		fmt.Sprintf("FAULTLINE_SEED=%d", cfg.Seed),
	}
	if cfg.Image != "" {
		env = append(env, "FAULTLINE_IMAGE="+cfg.Image)
	}
	if !cfg.Attach {
		for i := 1; i <= maxComposeSize; i++ {
			env = append(env, fmt.Sprintf("FAULTLINE_HTTP_PORT_%d=0", i))
		}
	}
	return env
}

// Project returns the compose project name.
func (c *Compose) Project() string { return c.cfg.Project }

// Token returns the admin token of the nodes.
func (c *Compose) Token() string { return c.token }

func (c *Compose) start(ctx context.Context) error {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	ids := c.Nodes()
	if !c.cfg.Attach {
		// A project that already has containers belongs to someone else;
		// Close would remove it with its volumes.
		existing, err := c.compose.running(ctx)
		if err != nil {
			return err
		}
		if len(existing) > 0 {
			return fmt.Errorf("cluster: compose project %s already has %d containers: attach to it, or pick another project name",
				c.cfg.Project, len(existing))
		}
		args := []string{"up", "--detach", "--no-color"}
		if c.cfg.Build {
			args = append(args, "--build")
		}
		c.owned = true
		if _, err := c.compose.run(ctx, append(args, ids...)...); err != nil {
			return err
		}
		c.log.Info("compose project started", "project", c.cfg.Project, "size", len(ids), "profile", c.cfg.Profile)
	}
	for _, id := range ids {
		if err := c.connect(ctx, id); err != nil {
			return err
		}
	}
	c.startPolling(c.cfg.TimelinePoll)
	return nil
}

// connect reads the published admin port of id, waits until the node
// serves there, and points the harness at it.
func (c *Compose) connect(ctx context.Context, id string) error {
	url, err := c.compose.adminURL(ctx, id)
	if err != nil {
		return err
	}
	client := admin.NewClient(url, c.token, c.http)
	err = waitHealthy(ctx, client, id, nil, func() string { return "its logs:\n" + c.compose.logs(id) })
	if err != nil {
		return err
	}
	c.setUp(id, url)
	return nil
}

// URL returns the admin base URL of the running node id on this machine.
func (c *Compose) URL(id string) (string, error) {
	client, err := c.client(id)
	if err != nil {
		return "", err
	}
	return client.BaseURL(), nil
}

// Crash implements Cluster with `kill -s SIGKILL` of the node's service.
func (c *Compose) Crash(id string) error {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	if _, err := c.client(id); err != nil {
		return err
	}
	c.pollNow()
	c.timeline.Record(raftint.Event{Kind: raftint.EventCrash, Node: id})
	c.setDown(id)
	ctx, cancel := context.WithTimeout(context.Background(), composeCommandTimeout)
	defer cancel()
	if _, err := c.compose.run(ctx, "kill", "-s", "SIGKILL", id); err != nil {
		return fmt.Errorf("cluster: crash %s: %w", id, err)
	}
	c.log.Info("node crashed", "node_id", id, "project", c.cfg.Project)
	return nil
}

// Restart implements Cluster with `start` of the node's service, which
// keeps its volume. A free admin port changes at every start, so the
// harness reads it again.
//
// NOTE: between the node's start and the install of the fault table, a
// few milliseconds, the restarted node enforces no rule on the links that
// start at it.
func (c *Compose) Restart(ctx context.Context, id string) error {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	down, err := c.isDown(id)
	switch {
	case err != nil:
		return err
	case c.isClosed():
		return ErrClosed
	case !down:
		return fmt.Errorf("%w: %s", ErrNodeUp, id)
	}
	if _, err := c.compose.run(ctx, "start", id); err != nil {
		return fmt.Errorf("cluster: restart %s: %w", id, err)
	}
	if err := c.connect(ctx, id); err != nil {
		return err
	}
	if err := c.reinstallOn(id); err != nil {
		return err
	}
	c.timeline.Record(raftint.Event{Kind: raftint.EventRestart, Node: id})
	c.log.Info("node restarted", "node_id", id, "project", c.cfg.Project)
	return nil
}

// Close implements Cluster. A project that the harness started goes away
// with its volumes (`down -v`). An attached project keeps running, without
// faults. It is idempotent.
func (c *Compose) Close() error {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	if c.stopped {
		return nil
	}
	c.stopped = true
	var errs []error
	if c.cfg.Attach {
		if err := c.ClearFaults(); err != nil {
			errs = append(errs, err)
		}
	}
	c.stopRemote()
	if c.owned {
		ctx, cancel := context.WithTimeout(context.Background(), composeDownTimeout)
		defer cancel()
		if _, err := c.compose.run(ctx, "--profile", "five", "down", "--volumes", "--remove-orphans"); err != nil {
			errs = append(errs, err)
		}
	}
	c.log.Info("compose harness closed", "project", c.cfg.Project, "attached", c.cfg.Attach)
	return errors.Join(errs...)
}
