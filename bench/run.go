package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"
)

// Machine describes where the figures were measured.
type Machine struct {
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	Date      string `json:"date"`
}

// String formats m for the report's header.
func (m Machine) String() string {
	return fmt.Sprintf("%s %s/%s, %d CPUs (%s), %s", m.GoVersion, m.OS, m.Arch, m.CPUs, m.CPUModel, m.Date)
}

// Results holds every section that ran. A section that failed keeps what
// it measured before the failure, and its error is in Errors.
type Results struct {
	Machine   Machine       `json:"machine"`
	Config    Config        `json:"config"`
	StartedAt time.Time     `json:"started_at"`
	Duration  time.Duration `json:"duration_ns"`
	Proxy     *ProxyResult  `json:"proxy,omitempty"`
	RTO       *RTOResult    `json:"rto,omitempty"`
	Scale     *ScaleResult  `json:"scale,omitempty"`
	Daemon    *DaemonResult `json:"daemon,omitempty"`

	// Load holds the machine's load average before and after each section,
	// because other processes on the machine move every figure.
	Load   []SectionLoad `json:"load"`
	Errors []string      `json:"errors,omitempty"`
}

// SectionLoad is the 1, 5 and 15 minute load averages of /proc/loadavg
// before and after one section.
type SectionLoad struct {
	Section Section `json:"section"`
	Before  string  `json:"before"`
	After   string  `json:"after"`
}

// runEnv is the logger, progress output and data directory that Run
// passes to every section.
type runEnv struct {
	log      *slog.Logger
	progress io.Writer
	dataDir  string
	start    time.Time
}

// printf writes one progress line with the time since the run began.
func (e runEnv) printf(format string, args ...any) {
	fmt.Fprintf(e.progress, "[%6.1fs] %s\n", time.Since(e.start).Seconds(), fmt.Sprintf(format, args...))
}

// Run runs the sections of cfg in order. A failed section does not stop the
// sections after it; the error returned joins every section's error. Run
// stops early only when ctx ends.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	env := runEnv{log: cfg.Logger, progress: cfg.Progress, dataDir: cfg.DataDir, start: time.Now()}
	if env.log == nil {
		env.log = slog.New(slog.DiscardHandler)
	}
	if env.progress == nil {
		env.progress = io.Discard
	}

	res := &Results{Machine: DescribeMachine(), Config: cfg, StartedAt: env.start.UTC()}
	env.printf("machine: %s", res.Machine)
	var errs []error
	record := func(s Section, err error) {
		if err != nil {
			env.printf("%s: FAILED: %v", s, err)
			res.Errors = append(res.Errors, fmt.Sprintf("%s: %v", s, err))
			errs = append(errs, fmt.Errorf("%s: %w", s, err))
		}
	}
	for _, s := range AllSections {
		if !cfg.runs(s) {
			continue
		}
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		load := SectionLoad{Section: s, Before: loadAverage()}
		env.printf("%s: load average %s", s, load.Before)
		var err error
		switch s {
		case SectionProxy:
			res.Proxy, err = runProxy(ctx, cfg.Proxy, env)
		case SectionRTO:
			res.RTO, err = runRTO(ctx, cfg.RTO, env)
		case SectionScale:
			res.Scale, err = runScale(ctx, cfg.Scale, env)
		case SectionDaemon:
			res.Daemon, err = runDaemon(ctx, cfg.Daemon, env)
		}
		load.After = loadAverage()
		res.Load = append(res.Load, load)
		record(s, err)
	}
	res.Duration = time.Since(env.start)
	return res, errors.Join(errs...)
}

// DescribeMachine returns the Go version, platform, CPU count and model, and
// today's date in UTC.
func DescribeMachine() Machine {
	return Machine{
		GoVersion: runtime.Version(),
		OS:        runtime.GOOS,
		Arch:      runtime.GOARCH,
		CPUs:      runtime.NumCPU(),
		CPUModel:  cpuModel(),
		Date:      time.Now().UTC().Format(time.DateOnly),
	}
}

// cpuModel reads the first "model name" of /proc/cpuinfo, or returns
// "unknown" where that file does not exist.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		key, value, ok := strings.Cut(scanner.Text(), ":")
		if ok && strings.TrimSpace(key) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown"
}

// loadAverage returns the first three fields of /proc/loadavg, or
// "unknown" where that file does not exist.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	fields := strings.Fields(string(data))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ")
}

// WriteJSON writes the results, every raw measurement included, to path.
func (r *Results) WriteJSON(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}
