package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/raftint"
	"github.com/faultline-dev/faultline/scenarios"
)

// Targets of --target.
const (
	targetLocal   = "local"
	targetProcs   = "procs"
	targetCompose = "compose"
)

// radiusOrder lists the blast radius levels from the smallest.
var radiusOrder = []scenarios.BlastRadius{
	scenarios.RadiusOperation, scenarios.RadiusInstance, scenarios.RadiusNode, scenarios.RadiusCluster,
}

// targetOptions holds the flags that choose where the cluster runs.
type targetOptions struct {
	target      string
	nodeBinary  string
	composeFile string
	// allowRadius is the largest blast radius allowed outside this
	// process; empty allows operation and instance scenarios only.
	allowRadius string
}

func addTargetFlags(fs *flag.FlagSet, t *targetOptions) {
	fs.StringVar(&t.target, "target", targetLocal,
		"where the cluster runs: local (in this process), procs (node processes on 127.0.0.1) or compose (docker compose containers)")
	fs.StringVar(&t.nodeBinary, "node-binary", filepath.Join("bin", "node"), "node binary of --target procs (make node builds it)")
	fs.StringVar(&t.composeFile, "compose-file", "docker-compose.yml", "compose file of --target compose; the run starts and removes a project of its own")
	fs.StringVar(&t.allowRadius, "allow-blast-radius", "",
		"largest blast radius to run on procs or compose: operation, instance, node or cluster (node and cluster scenarios need it)")
}

// validate checks the target flags together.
func (t targetOptions) validate() error {
	if !slices.Contains([]string{targetLocal, targetProcs, targetCompose}, t.target) {
		return fmt.Errorf("--target %q: use local, procs or compose", t.target)
	}
	if t.allowRadius != "" && !slices.Contains(radiusOrder, scenarios.BlastRadius(t.allowRadius)) {
		return fmt.Errorf("--allow-blast-radius %q: use operation, instance, node or cluster", t.allowRadius)
	}
	return nil
}

// checkRadius rejects a node or cluster scenario on a target outside this
// process unless --allow-blast-radius names its level or a larger one.
// Those scenarios kill, cut off or overload whole nodes, which on real
// processes and containers is a decision to make on purpose.
func (t targetOptions) checkRadius(s scenarios.Scenario) error {
	if ip, ok := s.(interface{ InProcessOnly() bool }); ok && ip.InProcessOnly() && t.target != targetLocal {
		return fmt.Errorf("%s drives the nodes' daemons directly and runs only on --target %s", s.Name(), targetLocal)
	}
	radius := s.BlastRadius()
	if t.target == targetLocal || slices.Index(radiusOrder, radius) < slices.Index(radiusOrder, scenarios.RadiusNode) {
		return nil
	}
	allowed := slices.Index(radiusOrder, scenarios.BlastRadius(t.allowRadius))
	if allowed >= slices.Index(radiusOrder, radius) {
		return nil
	}
	larger := radiusOrder[slices.Index(radiusOrder, radius):]
	names := make([]string, len(larger))
	for i, r := range larger {
		names[i] = string(r)
	}
	return fmt.Errorf("%s has blast radius %s: to run it on --target %s, pass --allow-blast-radius %s",
		s.Name(), radius, t.target, strings.Join(names, " or "))
}

// factory returns the factory that starts the target's cluster; nil means
// the runner's in-process default.
func (t targetOptions) factory(log *slog.Logger) scenarios.Factory {
	switch t.target {
	case targetProcs:
		return func(ctx context.Context, size int, profile raftint.Profile, seed int64) (cluster.Cluster, error) {
			cfg := cluster.DefaultProcsConfig()
			cfg.Binary, cfg.Size, cfg.Profile, cfg.Seed, cfg.Logger = t.nodeBinary, size, profile, seed, log
			return cluster.StartProcs(ctx, cfg)
		}
	case targetCompose:
		return func(ctx context.Context, size int, profile raftint.Profile, seed int64) (cluster.Cluster, error) {
			cfg := cluster.DefaultComposeConfig()
			cfg.File, cfg.Size, cfg.Profile, cfg.Seed, cfg.Logger = t.composeFile, size, profile, seed, log
			return cluster.StartCompose(ctx, cfg)
		}
	}
	return nil
}
