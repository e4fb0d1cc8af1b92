// Command bench measures what faultline costs and what it reports: the
// proxy's overhead on raft throughput, commit latency and single RPCs, the
// RTO distributions against an independent observer, cluster scale, and the
// daemon's benchmarks. It prints progress lines as it goes, then one table
// per section.
//
// Usage:
//
//	bench [--smoke] [--only proxy,rto,scale,daemon] [--reps N] [--profiles default,fast]
//	      [--sizes 3,5,7,9,15,25] [--rounds N] [--scale-reps N] [--seed N]
//	      [--proxy-diagnose] [--toxiproxy PATH] [--data-dir DIR] [--json FILE] [--verbose]
//
// Exit codes: 0 when every section ran (a missed goal is reported, not an
// error), 1 when a section failed, 2 when a signal aborted the run, 64 on
// bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/faultline-dev/faultline/bench"
	"github.com/faultline-dev/faultline/raftint"
)

// Exit codes.
const (
	exitOK      = 0
	exitFail    = 1
	exitAborted = 2
	exitUsage   = 64
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// options holds the parsed command line.
type options struct {
	cfg      bench.Config
	jsonPath string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := parse(args, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return exitUsage
	}

	results, err := bench.Run(ctx, opts.cfg)
	if results == nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return exitUsage
	}
	if werr := results.WriteTable(stdout); werr != nil {
		fmt.Fprintf(stderr, "bench: write the table: %v\n", werr)
	}
	if opts.jsonPath != "" {
		if jerr := results.WriteJSON(opts.jsonPath); jerr != nil {
			fmt.Fprintf(stderr, "bench: %v\n", jerr)
			return exitFail
		}
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintf(stderr, "bench: aborted: %v\n", ctx.Err())
		return exitAborted
	case err != nil:
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return exitFail
	}
	return exitOK
}

// parse builds the config: SmokeConfig with --smoke, DefaultConfig
// otherwise, then every flag given on the command line on top.
func parse(args []string, stdout, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := bench.DefaultConfig()
	smoke := fs.Bool("smoke", false, "one iteration of every measurement with small sizes; checks that each works, in under a minute on two cores")
	only := fs.String("only", "proxy,rto,scale,daemon", "comma-separated sections to run: proxy, rto, scale, daemon")
	reps := fs.Int("reps", def.RTO.Reps, "repetitions of each RTO scenario and profile")
	profiles := fs.String("profiles", "default,fast", "comma-separated timing profiles of the RTO section")
	sizes := fs.String("sizes", "3,5,7,9,15,25", "comma-separated cluster sizes of the scale section, each 3..31")
	rounds := fs.Int("rounds", def.Proxy.Rounds, "A/B rounds of the proxy section")
	scaleReps := fs.Int("scale-reps", def.Scale.Reps, "leader-isolation repetitions per size in the scale section")
	seed := fs.Int64("seed", def.RTO.Seed, "seed of the fault tables and the scenario runner")
	diagnose := fs.Bool("proxy-diagnose", false, "also measure a plain and a netchaos cluster with raft's append pipeline turned off, to show how much of the proxy's cost comes from its pipeline wrapper")
	toxiproxy := fs.String("toxiproxy", os.Getenv(bench.ToxiproxyEnv), "path of a toxiproxy-server binary for the per-RPC comparison (default $"+bench.ToxiproxyEnv+")")
	dataDir := fs.String("data-dir", "", "parent directory of the clusters' bbolt files (default: the system's temporary directory); a tmpfs such as /dev/shm takes fsync cost out of the figures")
	jsonPath := fs.String("json", "", "write every raw measurement to this JSON file")
	verbose := fs.Bool("verbose", false, "log raft, fault-table and driver activity to stderr")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected argument %q: bench takes flags only (see --help)", fs.Arg(0))
	}

	cfg := def
	if *smoke {
		cfg = bench.SmokeConfig()
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := applyFlags(&cfg, set, flagValues{*only, *profiles, *sizes, *reps, *rounds, *scaleReps, *seed}); err != nil {
		return options{}, err
	}
	cfg.Proxy.Toxiproxy = *toxiproxy
	cfg.Proxy.Diagnose = *diagnose
	cfg.DataDir = *dataDir
	cfg.Progress = stdout
	cfg.Logger = slog.New(slog.DiscardHandler)
	if *verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return options{cfg: cfg, jsonPath: *jsonPath}, cfg.Validate()
}

// flagValues holds the flags that override the base config when given.
type flagValues struct {
	only, profiles, sizes   string
	reps, rounds, scaleReps int
	seed                    int64
}

func applyFlags(cfg *bench.Config, set map[string]bool, v flagValues) error {
	if set["only"] {
		sections, err := bench.ParseSections(v.only)
		if err != nil {
			return err
		}
		cfg.Sections = sections
	}
	if set["profiles"] {
		profiles, err := parseProfiles(v.profiles)
		if err != nil {
			return err
		}
		cfg.RTO.Profiles = profiles
	}
	if set["sizes"] {
		sizes, err := parseSizes(v.sizes)
		if err != nil {
			return err
		}
		cfg.Scale.Sizes = sizes
	}
	if set["reps"] {
		cfg.RTO.Reps = v.reps
	}
	if set["rounds"] {
		cfg.Proxy.Rounds = v.rounds
	}
	if set["scale-reps"] {
		cfg.Scale.Reps = v.scaleReps
	}
	if set["seed"] {
		cfg.RTO.Seed = v.seed
		cfg.Scale.Seed = v.seed
	}
	return nil
}

func parseProfiles(list string) ([]raftint.Profile, error) {
	var out []raftint.Profile
	for _, name := range strings.Split(list, ",") {
		p, err := raftint.ParseProfile(strings.TrimSpace(name))
		if err != nil {
			return nil, fmt.Errorf("--profiles: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

func parseSizes(list string) ([]int, error) {
	var out []int
	for _, s := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("--sizes: %q is not a whole number", s)
		}
		out = append(out, n)
	}
	return out, nil
}
