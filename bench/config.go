package bench

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/faultline-dev/faultline/raftint"
)

// Section names one part of the benchmark run.
type Section string

// Sections, in the order Run runs them.
const (
	SectionProxy  Section = "proxy"
	SectionRTO    Section = "rto"
	SectionScale  Section = "scale"
	SectionDaemon Section = "daemon"
)

// AllSections lists every section in run order.
var AllSections = []Section{SectionProxy, SectionRTO, SectionScale, SectionDaemon}

// maxClusterSize is the largest size cluster.StartLocal accepts.
const maxClusterSize = 31

// Config sets a benchmark run. Start from DefaultConfig or SmokeConfig.
type Config struct {
	// Sections lists the sections to run; Run runs them in AllSections order.
	Sections []Section `json:"sections"`

	Proxy  ProxyConfig  `json:"proxy"`
	RTO    RTOConfig    `json:"rto"`
	Scale  ScaleConfig  `json:"scale"`
	Daemon DaemonConfig `json:"daemon"`

	// Smoke marks a run with SmokeConfig's sizes, whose figures only show
	// that every measurement works.
	Smoke bool `json:"smoke"`

	// DataDir is the parent of the clusters' data directories; empty uses
	// the system's temporary directory. Every directory is removed after
	// its measurement.
	DataDir string `json:"data_dir,omitempty"`

	// Logger receives raft, fault-table and driver logs; nil discards them.
	Logger *slog.Logger `json:"-"`

	// Progress receives a line per step as the run goes; nil discards them.
	Progress io.Writer `json:"-"`
}

// DefaultConfig returns the configuration whose figures BENCHMARKS.md
// records. It runs for several minutes on two cores.
func DefaultConfig() Config {
	return Config{
		Sections: slices.Clone(AllSections),
		Proxy: ProxyConfig{
			Rounds:        20,
			Writers:       32,
			Window:        time.Second,
			LatencyWrites: 200,
			RPCRounds:     30,
			RPCCalls:      5000,
			Profile:       raftint.ProfileDefault,
		},
		RTO: RTOConfig{
			Reps:         20,
			Profiles:     []raftint.Profile{raftint.ProfileDefault, raftint.ProfileFast},
			Nodes:        3,
			Seed:         1,
			PollInterval: time.Millisecond,
		},
		Scale: ScaleConfig{
			Sizes:      []int{3, 5, 7, 9, 15, 25},
			Reps:       5,
			IdleWindow: 3 * time.Second,
			Profile:    raftint.ProfileFast,
			Seed:       1,
		},
		Daemon: DaemonConfig{BenchTime: "1s", Count: 3, GoCommand: "go"},
	}
}

// SmokeConfig returns one iteration of every measurement with small sizes:
// it checks that each one works in well under a minute on two cores, and
// its figures carry no weight.
func SmokeConfig() Config {
	cfg := DefaultConfig()
	cfg.Smoke = true
	cfg.Proxy.Rounds = 1
	cfg.Proxy.Writers = 8
	cfg.Proxy.Window = 300 * time.Millisecond
	cfg.Proxy.LatencyWrites = 30
	cfg.Proxy.RPCRounds = 2
	cfg.Proxy.RPCCalls = 500
	cfg.RTO.Reps = 1
	cfg.Scale.Sizes = []int{3, 5}
	cfg.Scale.Reps = 1
	cfg.Scale.IdleWindow = 300 * time.Millisecond
	cfg.Daemon.BenchTime = "100ms"
	cfg.Daemon.Count = 1
	return cfg
}

// Validate reports every invalid field at once, each error wrapping
// ErrInvalidConfig. It does not modify c.
func (c Config) Validate() error {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}

	if len(c.Sections) == 0 {
		fail("no sections: choose from %s", joinSections(AllSections))
	}
	for _, s := range c.Sections {
		if !slices.Contains(AllSections, s) {
			fail("unknown section %q: choose from %s", s, joinSections(AllSections))
		}
	}
	if c.runs(SectionProxy) {
		c.Proxy.validate(fail)
	}
	if c.runs(SectionRTO) {
		c.RTO.validate(fail)
	}
	if c.runs(SectionScale) {
		c.Scale.validate(fail)
	}
	if c.runs(SectionDaemon) {
		if c.Daemon.BenchTime == "" || c.Daemon.Count < 1 || c.Daemon.GoCommand == "" {
			fail("daemon: benchtime %q, count %d and go command %q must all be set", c.Daemon.BenchTime, c.Daemon.Count, c.Daemon.GoCommand)
		}
	}
	return errors.Join(errs...)
}

func (c Config) runs(s Section) bool { return slices.Contains(c.Sections, s) }

func (p ProxyConfig) validate(fail func(string, ...any)) {
	if p.Rounds < 1 || p.Writers < 1 || p.LatencyWrites < 1 || p.RPCRounds < 1 || p.RPCCalls < 1 {
		fail("proxy: rounds %d, writers %d, latency writes %d, rpc rounds %d and rpc calls %d must all be at least 1",
			p.Rounds, p.Writers, p.LatencyWrites, p.RPCRounds, p.RPCCalls)
	}
	if p.Window <= 0 {
		fail("proxy: window %v must be positive", p.Window)
	}
	if _, err := raftint.ParseProfile(string(p.Profile)); err != nil {
		fail("proxy: %v", err)
	}
}

func (r RTOConfig) validate(fail func(string, ...any)) {
	if r.Reps < 1 {
		fail("rto: reps %d must be at least 1", r.Reps)
	}
	if r.Nodes < 3 || r.Nodes > maxClusterSize {
		fail("rto: nodes %d must be in 3..%d, because a leader's loss needs a majority left", r.Nodes, maxClusterSize)
	}
	if len(r.Profiles) == 0 {
		fail("rto: no profiles: choose default, fast or both")
	}
	for _, p := range r.Profiles {
		if _, err := raftint.ParseProfile(string(p)); err != nil {
			fail("rto: %v", err)
		}
	}
	if r.PollInterval <= 0 {
		fail("rto: poll interval %v must be positive", r.PollInterval)
	}
}

func (s ScaleConfig) validate(fail func(string, ...any)) {
	if len(s.Sizes) == 0 {
		fail("scale: no sizes")
	}
	for _, n := range s.Sizes {
		if n < 3 || n > maxClusterSize {
			fail("scale: size %d must be in 3..%d", n, maxClusterSize)
		}
	}
	if s.Reps < 1 {
		fail("scale: reps %d must be at least 1", s.Reps)
	}
	if s.IdleWindow <= 0 {
		fail("scale: idle window %v must be positive", s.IdleWindow)
	}
	if _, err := raftint.ParseProfile(string(s.Profile)); err != nil {
		fail("scale: %v", err)
	}
}

// ParseSections parses a comma-separated list of section names.
func ParseSections(list string) ([]Section, error) {
	var out []Section
	for _, name := range strings.Split(list, ",") {
		s := Section(strings.TrimSpace(name))
		if !slices.Contains(AllSections, s) {
			return nil, fmt.Errorf("%w: unknown section %q: choose from %s", ErrInvalidConfig, s, joinSections(AllSections))
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

func joinSections(sections []Section) string {
	names := make([]string, len(sections))
	for i, s := range sections {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}
