package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// DaemonConfig sets how the driver runs the daemon package's Go benchmarks.
type DaemonConfig struct {
	// BenchTime is passed to go test -benchtime, for example "1s" or "100ms".
	BenchTime string `json:"benchtime"`

	// Count is passed to go test -count; the driver takes the median of the
	// runs of each benchmark.
	Count int `json:"count"`

	// ModuleDir is the faultline module root, where go test runs. Empty
	// means the module that `go env GOMOD` finds from the working directory.
	ModuleDir string `json:"module_dir,omitempty"`

	// GoCommand is the go command to run.
	GoCommand string `json:"go_command"`
}

// BenchmarkRun is one line of go test -bench output: the benchmark name
// without the GOMAXPROCS suffix, the iterations, and each metric by unit.
type BenchmarkRun struct {
	Name       string             `json:"name"`
	Iterations int64              `json:"iterations"`
	Metrics    map[string]float64 `json:"metrics"`
}

// Reference is a figure of the JavaScript operation daemon that faultline's
// daemon reimplements, and the daemon benchmark metric compared with it.
type Reference struct {
	Figure    string  `json:"figure"`
	Value     float64 `json:"value"`
	Unit      string  `json:"unit"`
	Benchmark string  `json:"benchmark"`
	Metric    string  `json:"metric"`

	// HigherIsBetter is true for throughput and false for latency and
	// memory.
	HigherIsBetter bool `json:"higher_is_better"`
}

// DaemonReferences lists the JavaScript daemon's figures. Where they were
// measured, and on what machine, is not known, so the ratios compare orders
// of magnitude, not machines.
var DaemonReferences = []Reference{
	{"schedules per second", 8500, "schedules/s", "BenchmarkSchedule", "schedules/s", true},
	{"executions per second", 5200, "executions/s", "BenchmarkExecute", "executions/s", true},
	{"executions per second, 2 callers per core", 5200, "executions/s", "BenchmarkExecuteParallel", "executions/s", true},
	{"p99 execution latency", 5.2e6, "ns", "BenchmarkExecute", "p99-ns", false},
	{"p99 execution latency, 2 callers per core", 5.2e6, "ns", "BenchmarkExecuteParallel", "p99-ns", false},
	{"bytes per operation, allocated by Schedule", 4200, "B", "BenchmarkSchedule", "B/op", false},
	{"bytes per operation, retained after GC", 4200, "B", "BenchmarkRetainedBytesPerOperation/bare", "retained-B/op", false},
	{"bytes per operation with name and metadata, retained", 4200, "B", "BenchmarkRetainedBytesPerOperation/with-name-and-metadata", "retained-B/op", false},
}

// DaemonRow is one comparison: the median of the faultline metric over the
// runs and its ratio to the reference.
type DaemonRow struct {
	Reference Reference  `json:"reference"`
	Faultline float64    `json:"faultline"`
	Ratio     RatioValue `json:"ratio"`
	Missing   bool       `json:"missing,omitempty"`
}

// DaemonResult holds the parsed benchmark runs and the comparisons.
type DaemonResult struct {
	Config  DaemonConfig   `json:"config"`
	Command string         `json:"command"`
	Runs    []BenchmarkRun `json:"runs"`
	Rows    []DaemonRow    `json:"rows"`
}

func runDaemon(ctx context.Context, cfg DaemonConfig, env runEnv) (*DaemonResult, error) {
	dir := cfg.ModuleDir
	if dir == "" {
		var err error
		if dir, err = moduleRoot(ctx, cfg.GoCommand); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "daemon")); err != nil {
		return nil, fmt.Errorf("%w: no daemon package in %s: %w", ErrDaemonBenchmarks, dir, err)
	}

	args := []string{"test", "-run", "^$", "-bench", ".", "-benchmem",
		"-benchtime", cfg.BenchTime, "-count", strconv.Itoa(cfg.Count), "./daemon/"}
	res := &DaemonResult{Config: cfg, Command: cfg.GoCommand + " " + strings.Join(args, " ")}
	env.printf("daemon: %s", res.Command)

	cmd := exec.CommandContext(ctx, cfg.GoCommand, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return res, fmt.Errorf("%w: %s failed: %w\n%s%s", ErrDaemonBenchmarks, res.Command, err, tail(stdout.String(), 20), tail(stderr.String(), 20))
	}
	runs, err := ParseBenchmarks(stdout.String())
	if err != nil {
		return res, err
	}
	if len(runs) == 0 {
		return res, fmt.Errorf("%w: %s printed no benchmark lines", ErrDaemonBenchmarks, res.Command)
	}
	res.Runs = runs
	res.Rows = compareDaemon(runs, DaemonReferences)
	return res, nil
}

// moduleRoot returns the directory of the go.mod that governs the working
// directory.
func moduleRoot(ctx context.Context, goCommand string) (string, error) {
	out, err := exec.CommandContext(ctx, goCommand, "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("%w: %s env GOMOD: %w", ErrDaemonBenchmarks, goCommand, err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("%w: the working directory is outside a Go module: run from the faultline repository", ErrDaemonBenchmarks)
	}
	return filepath.Dir(gomod), nil
}

// procsSuffix is the -GOMAXPROCS suffix that go test adds to benchmark names.
var procsSuffix = regexp.MustCompile(`-\d+$`)

// ParseBenchmarks reads the result lines of go test -bench output. A result
// line is the name, the iteration count, and value-unit pairs; every other
// line is ignored.
func ParseBenchmarks(output string) ([]BenchmarkRun, error) {
	var runs []BenchmarkRun
	scanner := bufio.NewScanner(strings.NewReader(output))
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") || len(fields)%2 != 0 {
			continue
		}
		iterations, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			continue
		}
		run := BenchmarkRun{Name: procsSuffix.ReplaceAllString(fields[0], ""), Iterations: iterations, Metrics: map[string]float64{}}
		for i := 2; i < len(fields); i += 2 {
			value, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%w: value %q of %s in line %q", ErrDaemonBenchmarks, fields[i], fields[i+1], scanner.Text())
			}
			run.Metrics[fields[i+1]] = value
		}
		runs = append(runs, run)
	}
	return runs, scanner.Err()
}

// compareDaemon takes, for each reference, the median of its metric over
// the runs of its benchmark.
func compareDaemon(runs []BenchmarkRun, refs []Reference) []DaemonRow {
	rows := make([]DaemonRow, 0, len(refs))
	for _, ref := range refs {
		var values []float64
		for _, run := range runs {
			if v, ok := run.Metrics[ref.Metric]; ok && run.Name == ref.Benchmark {
				values = append(values, v)
			}
		}
		row := DaemonRow{Reference: ref, Missing: len(values) == 0}
		if !row.Missing {
			row.Faultline = Median(values)
			row.Ratio = RatioValue(Ratio(row.Faultline, ref.Value))
		}
		rows = append(rows, row)
	}
	return rows
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n") + "\n"
}
