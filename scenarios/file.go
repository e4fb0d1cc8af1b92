package scenarios

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/faultline-dev/faultline/raftint"
)

// ErrInvalidScenarioFile reports a scenario file that does not parse or
// validate. Every *FileError wraps it.
var ErrInvalidScenarioFile = errors.New("scenarios: invalid scenario file")

// FileError is one problem in a scenario file: the line it is on, the path
// of the field, such as steps[2].fault.kind, and what is wrong.
type FileError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

// Error formats the problem as FILE:LINE: FIELD: MESSAGE.
func (e *FileError) Error() string {
	at := e.File
	if e.Line > 0 {
		at = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Field == "" {
		return at + ": " + e.Msg
	}
	return at + ": " + e.Field + ": " + e.Msg
}

// Unwrap returns ErrInvalidScenarioFile.
func (e *FileError) Unwrap() error { return ErrInvalidScenarioFile }

// FileScenario is a scenario read from a YAML file: a list of steps (faults,
// waits, heals, crashes, restarts, writes, assertions and measurements) run
// in order on every repetition. It implements Scenario, so Run repeats it,
// guards it and judges it like a built-in scenario. It does not change once
// loaded, so one value may run many times.
type FileScenario struct {
	file        string
	name        string
	description string
	// nodes is the cluster size the file sets; zero means the default.
	nodes   int
	profile raftint.Profile
	radius  BlastRadius
	target  Target
	reps    int
	probes  []string
	steps   []step
	// minNodes is the smallest cluster the steps can run on.
	minNodes int
	phases   []string
	// leaderLost is set when a step cuts the starting leader off or crashes
	// it alone, so the run measures detection and election, and
	// leaderCutOff when a fault cuts it off, so it also measures step-down.
	leaderLost   bool
	leaderCutOff bool
	usesFollower bool
}

// LoadFile reads and validates the scenario file at path.
func LoadFile(path string) (*FileScenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidScenarioFile, err)
	}
	return ParseFile(data, path)
}

// Validate checks a scenario file and returns every problem it finds,
// joined with errors.Join, or nil. filename is only used in the messages.
func Validate(data []byte, filename string) error {
	_, err := ParseFile(data, filename)
	return err
}

// ParseFile parses and validates a scenario file. filename is only used in
// messages. On error it returns every problem found, joined.
func ParseFile(data []byte, filename string) (*FileScenario, error) {
	d := &decoder{file: filename}
	f := d.document(data)
	if len(d.errs) > 0 {
		slices.SortStableFunc(d.errs, func(a, b *FileError) int { return cmp.Compare(a.Line, b.Line) })
		errs := make([]error, len(d.errs))
		for i, e := range d.errs {
			errs[i] = e
		}
		return nil, errors.Join(errs...)
	}
	f.file = filename
	return f, nil
}

// File returns the path the scenario was loaded from.
func (f *FileScenario) File() string { return f.file }

// Name implements Scenario.
func (f *FileScenario) Name() string { return f.name }

// Description implements Scenario. A file without a description gets one
// that names the file.
func (f *FileScenario) Description() string {
	if f.description != "" {
		return f.description
	}
	return "steps from " + filepath.Base(f.file)
}

// BlastRadius implements Scenario.
func (f *FileScenario) BlastRadius() BlastRadius { return f.radius }

// DefaultTarget implements Scenario: the file's rto, or the objective of the
// fault class its steps belong to.
func (f *FileScenario) DefaultTarget() Target { return f.target }

// MinNodes implements Scenario: the smallest cluster on which every step
// can run and every wait for a leader can be met by a majority.
func (f *FileScenario) MinNodes() int { return f.minNodes }

// Phases implements Scenario.
func (f *FileScenario) Phases() []string { return append([]string(nil), f.phases...) }

// Nodes returns the cluster size the file sets, or the larger of three and
// MinNodes when it sets none.
func (f *FileScenario) Nodes() int {
	if f.nodes > 0 {
		return f.nodes
	}
	return max(3, f.minNodes)
}

// Profile returns the file's timing profile, or ProfileDefault.
func (f *FileScenario) Profile() raftint.Profile {
	if f.profile == "" {
		return raftint.ProfileDefault
	}
	return f.profile
}

// Repetitions returns the file's repetitions, or 1.
func (f *FileScenario) Repetitions() int { return max(f.reps, 1) }

// Configure returns cfg with the file's cluster size, profile and
// repetitions in place of cfg's. cfg itself is not changed.
func (f *FileScenario) Configure(cfg Config) Config {
	cfg.Nodes = f.Nodes()
	cfg.Profile = f.Profile()
	cfg.Reps = f.Repetitions()
	return cfg
}

// Run implements Scenario: it checks the file's steady-state probes, runs
// every step in order, heals what the steps left behind, and checks the
// probes again.
func (f *FileScenario) Run(ctx context.Context, env Env) (Repetition, error) {
	t, err := newTrial(ctx, env)
	if err != nil {
		return t.rep, err
	}
	r := newFileRun(f, env, t)
	if err := r.probe(ctx); err != nil {
		t.rep.Error = "steady state before the steps: " + err.Error()
		return t.rep, fmt.Errorf("%w: %w", ErrUnstable, err)
	}
	stepErr := r.runSteps(ctx)
	return r.conclude(ctx, stepErr)
}
