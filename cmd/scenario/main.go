// Command scenario lists faultline's scenarios and runs them against an
// in-process raft cluster on 127.0.0.1, node processes or docker compose
// containers.
//
// Usage:
//
//	scenario list
//	scenario validate FILE...
//	scenario run NAME...|all|-f FILE [--nodes N] [--reps N] [--profile fast|default] [--seed N]
//	                  [--cooldown D] [--rto-target D] [--rto-max D] [--json FILE] [--verbose]
//	                  [--markdown FILE] [--report-dir DIR]
//	                  [--health-interval D] [--max-duration D] [--abort-rate F]
//	                  [--target local|procs|compose] [--node-binary PATH]
//	                  [--compose-file FILE] [--allow-blast-radius LEVEL]
//
// Exit codes: 0 when every scenario passed (or warned), 1 when one failed,
// 2 when the run was aborted by a signal, 64 on bad usage.
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
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/faultline-dev/faultline/raftint"
	"github.com/faultline-dev/faultline/scenarios"
)

// Exit codes.
const (
	exitPass    = 0
	exitFail    = 1
	exitAborted = 2
	exitUsage   = 64
)

// errUsage marks errors in the command line.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "list":
		if len(args) > 1 {
			fmt.Fprintf(stderr, "scenario: list takes no arguments, got %q\n", strings.Join(args[1:], " "))
			return exitUsage
		}
		return list(stdout)
	case "run":
		return runScenarios(ctx, args[1:], stdout, stderr)
	case "validate":
		return validateFiles(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		printUsage(stdout)
		return exitPass
	}
	fmt.Fprintf(stderr, "scenario: unknown command %q\n", args[0])
	printUsage(stderr)
	return exitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `usage:
  scenario list
  scenario validate FILE...
  scenario run NAME...|all [flags]
  scenario run -f FILE [flags]

Run 'scenario run --help' for the flags.
`)
}

func list(stdout io.Writer) int {
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tRADIUS\tRTO TARGET\tRTO MAX\tDESCRIPTION")
	for _, s := range scenarios.Catalog() {
		t := s.DefaultTarget()
		fmt.Fprintf(tw, "%s\t%s\t%v\t%v\t%s\n", s.Name(), s.BlastRadius(), t.Target, t.Max, s.Description())
	}
	tw.Flush()
	return exitPass
}

// runOptions holds the parsed flags of 'scenario run'.
type runOptions struct {
	cfg      scenarios.Config
	names    []string
	files    []string
	nodesSet bool
	// set holds the names of the flags given on the command line.
	set          map[string]bool
	jsonPath     string
	markdownPath string
	reportDir    string
	verbose      bool
	target       targetOptions
}

// lookupAll resolves scenario names; "all" stands for the whole catalog,
// less the scenarios that need the in-process target when another one is
// chosen (a note on stderr names them).
func lookupAll(names []string, local bool, stderr io.Writer) ([]scenarios.Scenario, error) {
	var list []scenarios.Scenario
	for _, name := range names {
		if name != "all" {
			s, err := scenarios.Lookup(name)
			if err != nil {
				return nil, err
			}
			list = append(list, s)
			continue
		}
		var skipped []string
		for _, s := range scenarios.Catalog() {
			if ip, ok := s.(interface{ InProcessOnly() bool }); ok && ip.InProcessOnly() && !local {
				skipped = append(skipped, s.Name())
				continue
			}
			list = append(list, s)
		}
		if len(skipped) > 0 {
			fmt.Fprintf(stderr, "scenario: all: leaving out %s, which run only on --target local\n", strings.Join(skipped, ", "))
		}
	}
	return list, nil
}

func parseRun(args []string, stderr io.Writer) (runOptions, error) {
	opts := runOptions{cfg: scenarios.DefaultConfig(), set: map[string]bool{}}
	fs := flag.NewFlagSet("scenario run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	profile := fs.String("profile", string(raftint.ProfileDefault), "raft timing profile: default (1s heartbeat and election timeouts) or fast (150ms)")
	fs.IntVar(&opts.cfg.Nodes, "nodes", opts.cfg.Nodes, "number of raft nodes; a scenario that needs more gets more")
	fs.IntVar(&opts.cfg.Reps, "reps", opts.cfg.Reps, "repetitions of each scenario")
	fs.Int64Var(&opts.cfg.Seed, "seed", opts.cfg.Seed, "seed of every random choice; the same seed replays the same fault decisions")
	fs.DurationVar(&opts.cfg.Cooldown, "cooldown", opts.cfg.Cooldown, "pause between repetitions")
	fs.DurationVar(&opts.cfg.Duration, "duration", 0, "how long chaos-monkey injects faults (0: sixty heartbeat timeouts)")
	rtoTarget := fs.Duration("rto-target", 0, "override the scenario's RTO target (0 keeps the default)")
	rtoMax := fs.Duration("rto-max", 0, "override the scenario's RTO maximum (0 keeps the default)")
	fs.StringVar(&opts.jsonPath, "json", "", "write the report, with every raw timing, to this JSON file")
	fs.StringVar(&opts.markdownPath, "markdown", "", "write a Markdown summary, fit for a CI job summary, to this file")
	fs.StringVar(&opts.reportDir, "report-dir", "", "write one SVG timeline per scenario, and porcupine's view of any linearizability violation, into this directory")
	noChecks := fs.Bool("no-checks", false, "skip the client workload and the safety checks (linearizability, durability, convergence, election safety)")
	fs.BoolVar(&opts.verbose, "verbose", false, "log raft and fault-table activity to stderr")
	fs.DurationVar(&opts.cfg.Guard.Interval, "health-interval", opts.cfg.Guard.Interval, "time between two health checks of the safety guard")
	fs.DurationVar(&opts.cfg.Guard.MaxDuration, "max-duration", 0, "abort a repetition that runs longer (0: the RTO maximum plus one minute)")
	fs.Float64Var(&opts.cfg.Guard.AbortRate, "abort-rate", opts.cfg.Guard.AbortRate, "abort when more than this fraction of health checks fail")
	addTargetFlags(fs, &opts.target)
	fs.Func("f", "run the scenario file `FILE` (repeatable); its nodes, profile and repetitions apply unless --nodes, --profile or --reps is given", func(path string) error {
		opts.files = append(opts.files, path)
		return nil
	})

	// Flags may come before or after the scenario names.
	for {
		if err := fs.Parse(args); err != nil {
			return opts, fmt.Errorf("%w: %w", errUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		opts.names = append(opts.names, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(opts.names) == 0 && len(opts.files) == 0 {
		return opts, fmt.Errorf("%w: name a scenario to run (see 'scenario list') or a file with -f", errUsage)
	}
	opts.cfg.Checks = !*noChecks
	opts.cfg.ReportDir = opts.reportDir
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "nodes" {
			opts.nodesSet = true
		}
	})
	fs.Visit(func(f *flag.Flag) { opts.set[f.Name] = true })
	p, err := raftint.ParseProfile(*profile)
	if err != nil {
		return opts, fmt.Errorf("%w: --profile: %w", errUsage, err)
	}
	opts.cfg.Profile = p
	if err := opts.target.validate(); err != nil {
		return opts, fmt.Errorf("%w: %w", errUsage, err)
	}
	return opts, applyTarget(&opts, *rtoTarget, *rtoMax)
}

// applyTarget turns --rto-target and --rto-max into a target override; a
// flag left at zero keeps the scenario's default for that bound.
func applyTarget(opts *runOptions, target, max time.Duration) error {
	if target < 0 || max < 0 {
		return fmt.Errorf("%w: --rto-target and --rto-max must not be negative", errUsage)
	}
	if target == 0 && max == 0 {
		return nil
	}
	opts.cfg.Target = &scenarios.Target{Target: target, Max: max}
	return nil
}

func runScenarios(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := parseRun(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitPass
	}
	if err != nil {
		fmt.Fprintf(stderr, "scenario: %v\n", err)
		return exitUsage
	}
	list, err := lookupAll(opts.names, opts.target.target == targetLocal, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "scenario: %v\n", err)
		return exitUsage
	}
	for _, path := range opts.files {
		f, err := scenarios.LoadFile(path)
		if err != nil {
			fmt.Fprintf(stderr, "scenario: %v\n", err)
			return exitUsage
		}
		list = append(list, f)
	}
	// raft logs every RPC that a fault stops at error level, which is the
	// point of the run, so its logs only show with --verbose.
	opts.cfg.Logger = slog.New(slog.DiscardHandler)
	if opts.verbose {
		opts.cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if err := checkOutputs(opts); err != nil {
		fmt.Fprintf(stderr, "scenario: %v\n", err)
		return exitUsage
	}
	opts.cfg.Progress = stdout
	opts.cfg.Factory = opts.target.factory(opts.cfg.Logger)
	for _, s := range list {
		if err := opts.target.checkRadius(s); err != nil {
			fmt.Fprintf(stderr, "scenario: %v\n", err)
			return exitUsage
		}
	}

	code := exitPass
	var reports []*scenarios.Report
	for _, s := range list {
		cfg, err := withDefaultBounds(opts.cfg, s)
		if f, ok := s.(*scenarios.FileScenario); ok {
			cfg = fileConfig(cfg, f, opts.set)
		} else if !opts.nodesSet {
			cfg.Nodes = max(cfg.Nodes, s.MinNodes())
		}
		if err == nil {
			err = cfg.Validate(s)
		}
		if err != nil {
			fmt.Fprintf(stderr, "scenario: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stdout, "running %s: %d nodes, %s, profile %s, seed %d\n", s.Name(), cfg.Nodes, plural(cfg.Reps, "repetition"), cfg.Profile, cfg.Seed)
		report, err := scenarios.Run(ctx, s, cfg)
		if report != nil {
			report.WriteTable(stdout)
			reports = append(reports, report)
		}
		switch {
		case ctx.Err() != nil || errors.Is(err, scenarios.ErrAborted):
			cause := err
			if ctx.Err() != nil {
				cause = context.Cause(ctx)
			}
			fmt.Fprintf(stderr, "scenario: %s aborted: %v; every fault was removed and the cluster stopped\n", s.Name(), cause)
			writeReports(opts, reports, stderr)
			return exitAborted
		case err != nil:
			fmt.Fprintf(stderr, "scenario: %s: %v\n", s.Name(), err)
			code = exitFail
		case report.Verdict == scenarios.VerdictFail:
			code = exitFail
		}
	}
	if !writeReports(opts, reports, stderr) {
		return exitFail
	}
	return code
}

// fileConfig takes the cluster size, profile and repetitions of a scenario
// file, except those set on the command line.
func fileConfig(cfg scenarios.Config, f *scenarios.FileScenario, set map[string]bool) scenarios.Config {
	fromFile := f.Configure(cfg)
	if !set["nodes"] {
		cfg.Nodes = fromFile.Nodes
	}
	if !set["profile"] {
		cfg.Profile = fromFile.Profile
	}
	if !set["reps"] {
		cfg.Reps = fromFile.Reps
	}
	return cfg
}

// validateFiles checks scenario files and prints every problem of each, as
// FILE:LINE: FIELD: message. It returns exitFail when a file is invalid.
func validateFiles(paths []string, stdout, stderr io.Writer) int {
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "scenario: validate needs at least one scenario file")
		return exitUsage
	}
	code := exitPass
	for _, path := range paths {
		f, err := scenarios.LoadFile(path)
		if err != nil {
			fmt.Fprintln(stderr, err)
			code = exitFail
			continue
		}
		fmt.Fprintf(stdout, "%s: valid: %s, %d nodes, objective %v / %v\n", path, f.Name(), f.Nodes(), f.DefaultTarget().Target, f.DefaultTarget().Max)
	}
	return code
}

// plural returns "1 repetition" or "3 repetitions".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// checkOutputs fails before the run, not after it, when a report could not
// be written: the directory of --json or --markdown must exist, and
// --report-dir is created.
func checkOutputs(opts runOptions) error {
	for flagName, path := range map[string]string{"--json": opts.jsonPath, "--markdown": opts.markdownPath} {
		if path == "" {
			continue
		}
		if info, err := os.Stat(filepath.Dir(path)); err != nil || !info.IsDir() {
			return fmt.Errorf("%s %s: directory %s does not exist: create it first", flagName, path, filepath.Dir(path))
		}
	}
	if opts.reportDir != "" {
		if err := os.MkdirAll(opts.reportDir, 0o755); err != nil {
			return fmt.Errorf("--report-dir %s: %w", opts.reportDir, err)
		}
	}
	return nil
}

// writeReports writes the JSON, Markdown and SVG reports that were asked
// for, and reports whether all of them were written.
func writeReports(opts runOptions, reports []*scenarios.Report, stderr io.Writer) bool {
	ok := writeJSON(opts.jsonPath, reports, stderr)
	if opts.markdownPath != "" && len(reports) > 0 {
		if err := scenarios.WriteMarkdownFile(opts.markdownPath, reports); err != nil {
			fmt.Fprintf(stderr, "scenario: %v\n", err)
			ok = false
		}
	}
	if opts.reportDir != "" && len(reports) > 0 {
		if err := os.MkdirAll(opts.reportDir, 0o755); err != nil {
			fmt.Fprintf(stderr, "scenario: create report directory: %v\n", err)
			return false
		}
		if _, err := scenarios.WriteSVGs(opts.reportDir, reports); err != nil {
			fmt.Fprintf(stderr, "scenario: %v\n", err)
			ok = false
		}
	}
	return ok
}

// withDefaultBounds fills an overridden target's unset bound from the
// scenario's default.
func withDefaultBounds(cfg scenarios.Config, s scenarios.Scenario) (scenarios.Config, error) {
	if cfg.Target == nil {
		return cfg, nil
	}
	t := *cfg.Target
	def := s.DefaultTarget()
	if t.Target == 0 {
		t.Target = min(def.Target, t.Max)
	}
	if t.Max == 0 {
		t.Max = max(def.Max, t.Target)
	}
	cfg.Target = &t
	return cfg, t.Validate()
}

// writeJSON writes one report, or an array when several scenarios ran.
func writeJSON(path string, reports []*scenarios.Report, stderr io.Writer) bool {
	if path == "" || len(reports) == 0 {
		return true
	}
	var err error
	if len(reports) == 1 {
		err = reports[0].WriteJSON(path)
	} else {
		err = scenarios.WriteJSONAll(path, reports)
	}
	if err != nil {
		fmt.Fprintf(stderr, "scenario: %v\n", err)
		return false
	}
	return true
}
