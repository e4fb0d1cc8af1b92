// Command partition applies, heals and shows network faults on a running
// faultline cluster through the admin API of each node.
//
// Usage:
//
//	partition (--nodes LIST | --cluster URL) FAULT... [--kind partition|reject] [--duration D]
//	partition (--nodes LIST | --cluster URL) --heal
//	partition status (--nodes LIST | --cluster URL) [--json]
//
// FAULT is at most one cut, --isolate NODE|leader, --split A,B/C or
// --one-way A->B, with an optional --delay D [--jitter D] and --drop P
// [--link A->B]. Each run installs its rules as the whole fault table of
// every node, replacing the rules that were there.
//
// Exit codes: 0 when every node took the change, 1 when a node was
// unreachable or did not take it, 64 on bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/faultline-dev/faultline/admin"
	"github.com/faultline-dev/faultline/partition"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 64
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `usage:
  partition (--nodes LIST | --cluster URL) FAULT... [--kind partition|reject] [--duration D]
  partition (--nodes LIST | --cluster URL) --heal
  partition status (--nodes LIST | --cluster URL) [--json]

Nodes:
  --nodes node-1=http://127.0.0.1:8081,node-2=...   admin URL of every node (bare URLs work too)
  --cluster http://127.0.0.1:8081                   one node; the rest come from its member list
  --token T                                         admin token (default $FAULTLINE_ADMIN_TOKEN)
  --timeout D                                       timeout of each admin request (default 5s)

Faults (at most one of the first three; each run replaces every node's fault table):
  --isolate NODE|leader     cut a node, or the current leader, off in both directions
  --split A,B/C             cut every link between the groups
  --one-way A->B            cut the direction A to B only
  --kind partition|reject   how cuts fail: a silent blackhole (default) or a refusal at once
  --delay D [--jitter D]    hold every message for D plus a uniform draw from [0, jitter)
  --drop P                  lose the share P of messages, such as 20% or 0.2
  --link A->B               limit --delay and --drop to one link (default every link)
  --duration D              time to live of the rules (default 5m, at most 24h)
  --heal                    remove every rule from every node

Exit codes: 0 every node took the change, 1 a node was unreachable or did not
take it, 64 bad usage.
`)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	opts, err := parseArgs(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "partition: %v\n", err)
		fmt.Fprintln(stderr, "Run 'partition --help' for the flags.")
		return exitUsage
	}
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	c := &command{opts: opts, http: &http.Client{Transport: transport, Timeout: opts.timeout}, stdout: stdout, stderr: stderr}

	switch opts.mode {
	case modeHeal:
		err = c.heal(ctx)
	case modeStatus:
		err = c.status(ctx)
	default:
		err = c.apply(ctx)
	}
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "partition: %v\n", err)
	if hint := hintFor(err); hint != "" {
		fmt.Fprintln(stderr, hint)
	}
	if isUsage(err) || errors.Is(err, partition.ErrInvalidSpec) || errors.Is(err, partition.ErrUnknownNode) {
		return exitUsage
	}
	return exitFailed
}

// hintFor returns what the user can do about err, or "".
func hintFor(err error) string {
	switch {
	case errors.Is(err, admin.ErrUnauthorized):
		return "A node rejected the admin token: pass the cluster's token with --token or $" + tokenEnv + "."
	case errors.Is(err, admin.ErrChaosDisabled):
		return "Chaos is off on a node (its kill switch): start it with chaos on, or leave it out of --nodes."
	case errors.Is(err, partition.ErrNoLeader):
		return "No node reported a leader: wait for an election, or name the node to isolate."
	}
	return ""
}

// command is one run of the command with its parsed options.
type command struct {
	opts   options
	http   *http.Client
	stdout io.Writer
	stderr io.Writer
}

// requestContext bounds one round of admin requests.
func (c *command) requestContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.opts.timeout)
}

// endpoints returns the nodes from --nodes, or from the member list of the
// --cluster node.
func (c *command) endpoints(ctx context.Context) ([]partition.Endpoint, error) {
	if c.opts.clusterURL == "" {
		return c.opts.endpoints, nil
	}
	rctx, cancel := c.requestContext(ctx)
	defer cancel()
	endpoints, skipped, err := partition.Discover(rctx, admin.NewClient(c.opts.clusterURL, c.opts.token, c.http))
	for _, m := range skipped {
		fmt.Fprintf(c.stderr, "partition: leaving out %s: its member state is %s\n", m.Name, m.State)
	}
	return endpoints, err
}
