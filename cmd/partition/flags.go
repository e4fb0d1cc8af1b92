package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/faultline-dev/faultline/partition"
)

// usageError is an error in the command line; the command exits with
// exitUsage for it. Its message is the wrapped error's.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a *usageError with a formatted message.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// isUsage reports whether err comes from the command line.
func isUsage(err error) bool {
	var u *usageError
	return errors.As(err, &u)
}

// tokenEnv is the environment variable that holds the admin token when
// --token is not given.
const tokenEnv = "FAULTLINE_ADMIN_TOKEN"

// defaultRequestTimeout bounds each admin request when --timeout is not
// given.
const defaultRequestTimeout = 5 * time.Second

// mode is the action of one run of the command.
type mode int

const (
	modeApply mode = iota
	modeHeal
	modeStatus
)

// options holds a parsed command line.
type options struct {
	mode mode
	spec partition.Spec
	// endpoints come from --nodes; clusterURL from --cluster. Exactly one
	// is set.
	endpoints  []partition.Endpoint
	clusterURL string
	// nodesFlag repeats the node selection as typed, for the heal hint.
	nodesFlag string
	token     string
	timeout   time.Duration
	json      bool
}

// rawFlags holds flag values as typed; parseArgs converts them.
type rawFlags struct {
	nodes, cluster, token string
	timeout               time.Duration
	isolate, split        string
	oneWay, link          string
	kind                  string
	delay, jitter         string
	drop, duration        string
	heal, json            bool
}

func newFlagSet(name string, raw *rawFlags) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// run prints the errors and the usage text itself.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&raw.nodes, "nodes", "", "admin URLs of every node: ID=URL or bare URLs, comma-separated")
	fs.StringVar(&raw.cluster, "cluster", "", "admin URL of one node; the others come from its member list")
	fs.StringVar(&raw.token, "token", "", "admin bearer token (default $"+tokenEnv+")")
	fs.DurationVar(&raw.timeout, "timeout", defaultRequestTimeout, "timeout of each admin request")
	fs.StringVar(&raw.isolate, "isolate", "", "cut this node, or the current leader with 'leader', off in both directions")
	fs.StringVar(&raw.split, "split", "", "cut the links between groups, such as node-1,node-2/node-3")
	fs.StringVar(&raw.oneWay, "one-way", "", "cut one direction of one link, such as node-1->node-2")
	fs.StringVar(&raw.kind, "kind", "", "kind of cut for --isolate, --split and --one-way: partition (default) or reject")
	fs.StringVar(&raw.delay, "delay", "", "hold every message for this long, such as 200ms")
	fs.StringVar(&raw.jitter, "jitter", "", "add a uniform random delay in [0, jitter) to --delay")
	fs.StringVar(&raw.drop, "drop", "", "lose this share of messages: a percentage such as 20% or a fraction such as 0.2")
	fs.StringVar(&raw.link, "link", "", "limit --delay and --drop to one link, such as node-1->node-2 (default every link)")
	fs.StringVar(&raw.duration, "duration", "5m", "time to live of the rules; they expire on their own after it (at most 24h)")
	fs.BoolVar(&raw.heal, "heal", false, "remove every rule from every node")
	if name == "partition status" {
		fs.BoolVar(&raw.json, "json", false, "print the tables as JSON")
	}
	return fs
}

// faultFlags are the flags that describe a fault; --heal and status take
// none of them.
var faultFlags = []string{"isolate", "split", "one-way", "kind", "delay", "jitter", "drop", "link", "duration"}

// parseArgs reads the command line. getenv supplies the token's environment
// variable. Errors are *usageError and name the flag at fault.
func parseArgs(args []string, getenv func(string) string) (options, error) {
	opts := options{mode: modeApply}
	name := "partition"
	if len(args) > 0 && args[0] == "status" {
		opts.mode, name, args = modeStatus, "partition status", args[1:]
	}
	var raw rawFlags
	fs := newFlagSet(name, &raw)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return opts, err
		}
		return opts, &usageError{err}
	}
	if fs.NArg() > 0 {
		return opts, usagef("unexpected argument %q: every fault is a flag, and the only subcommand is status", fs.Arg(0))
	}
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	if err := parseSelection(&opts, raw, set, getenv); err != nil {
		return opts, err
	}
	if raw.heal {
		if opts.mode == modeStatus {
			return opts, usagef("status does not heal; run 'partition --heal' instead")
		}
		opts.mode = modeHeal
	}
	if opts.mode != modeApply {
		if given := givenFlags(set, faultFlags); len(given) > 0 {
			what := map[mode]string{modeHeal: "--heal", modeStatus: "status"}[opts.mode]
			return opts, usagef("%s takes no fault flags, but %s given", what, strings.Join(given, ", "))
		}
		opts.json = raw.json
		return opts, nil
	}
	spec, err := parseSpec(raw, set)
	if err != nil {
		return opts, err
	}
	opts.spec = spec
	return opts, nil
}

// parseSelection reads --nodes or --cluster, --token and --timeout.
func parseSelection(opts *options, raw rawFlags, set map[string]bool, getenv func(string) string) error {
	switch {
	case set["nodes"] && set["cluster"]:
		return usagef("--nodes and --cluster cannot be combined; give one of them")
	case set["nodes"]:
		endpoints, err := partition.ParseEndpoints("--nodes", raw.nodes)
		if err != nil {
			return &usageError{err}
		}
		opts.endpoints, opts.nodesFlag = endpoints, "--nodes "+raw.nodes
	case set["cluster"]:
		u, err := partition.NormalizeURL(raw.cluster)
		if err != nil {
			return usagef("--cluster: %w", err)
		}
		opts.clusterURL, opts.nodesFlag = u, "--cluster "+u
	default:
		return usagef("name the nodes with --nodes node-1=http://127.0.0.1:8081,... or --cluster http://127.0.0.1:8081")
	}
	opts.token = raw.token
	if !set["token"] {
		opts.token = getenv(tokenEnv)
	}
	if raw.timeout <= 0 {
		return usagef("--timeout %v must be above zero", raw.timeout)
	}
	opts.timeout = raw.timeout
	return nil
}

// parseSpec converts the fault flags into a validated Spec.
func parseSpec(raw rawFlags, set map[string]bool) (partition.Spec, error) {
	var spec partition.Spec
	var err error
	wrap := func(e error) error { return &usageError{e} }
	if set["isolate"] {
		if spec.Isolate, err = parseIsolate(raw.isolate); err != nil {
			return spec, wrap(err)
		}
	}
	if set["split"] {
		if spec.Split, err = partition.ParseGroups("--split", raw.split); err != nil {
			return spec, wrap(err)
		}
	}
	if set["one-way"] {
		link, err := partition.ParseLink("--one-way", raw.oneWay)
		if err != nil {
			return spec, wrap(err)
		}
		spec.OneWay = &link
	}
	if set["kind"] {
		if spec.Kind, err = partition.ParseKind("--kind", raw.kind); err != nil {
			return spec, wrap(err)
		}
	}
	if err := parseLinkFaults(&spec, raw, set); err != nil {
		return spec, wrap(err)
	}
	if spec.TTL, err = partition.ParseTTL("--duration", raw.duration); err != nil {
		return spec, wrap(err)
	}
	if err := spec.Validate(); err != nil {
		return spec, wrap(err)
	}
	return spec, nil
}

func parseIsolate(text string) (string, error) {
	if strings.TrimSpace(text) == partition.Leader {
		return partition.Leader, nil
	}
	return partition.ParseNodeID("--isolate", text)
}

// parseLinkFaults reads --delay, --jitter, --drop and --link.
func parseLinkFaults(spec *partition.Spec, raw rawFlags, set map[string]bool) error {
	var err error
	if set["jitter"] && !set["delay"] {
		return fmt.Errorf("%w: --jitter needs --delay; give a delay such as --delay 200ms", partition.ErrInvalidSpec)
	}
	if set["delay"] {
		if spec.Delay, err = partition.ParseDelay("--delay", raw.delay); err != nil {
			return err
		}
	}
	if set["jitter"] {
		if spec.Jitter, err = partition.ParseDelay("--jitter", raw.jitter); err != nil {
			return err
		}
	}
	if set["drop"] {
		if spec.Drop, err = partition.ParsePercent("--drop", raw.drop); err != nil {
			return err
		}
	}
	if set["link"] {
		link, err := partition.ParseLink("--link", raw.link)
		if err != nil {
			return err
		}
		spec.Link = &link
	}
	return nil
}

// givenFlags returns "--name" for each of names that was set, in order.
func givenFlags(set map[string]bool, names []string) []string {
	var out []string
	for _, n := range names {
		if set[n] {
			out = append(out, "--"+n)
		}
	}
	return out
}
