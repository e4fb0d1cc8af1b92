package scenarios

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
)

// exampleFiles returns every example scenario file of the repository.
func exampleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	if err != nil {
		t.Fatalf("glob examples: %v", err)
	}
	if len(files) < 7 {
		t.Fatalf("found %d example files, want at least 7: %v", len(files), files)
	}
	return files
}

func TestFileExamplesValidate(t *testing.T) {
	for _, path := range exampleFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := LoadFile(path)
			if err != nil {
				t.Fatalf("LoadFile: %v", err)
			}
			if want := strings.TrimSuffix(filepath.Base(path), ".yaml"); f.Name() != want {
				t.Errorf("name %q, want %q like the file", f.Name(), want)
			}
			if f.Nodes() < f.MinNodes() {
				t.Errorf("nodes %d below MinNodes %d", f.Nodes(), f.MinNodes())
			}
			if !slices.Contains(f.Phases(), PhaseRTO) {
				t.Errorf("phases %v lack %s", f.Phases(), PhaseRTO)
			}
			if err := f.DefaultTarget().Validate(); err != nil {
				t.Errorf("target: %v", err)
			}
		})
	}
}

// The examples that mirror a built-in scenario must ask for the same
// cluster and report the same phases where the built-in one has them.
func TestFileExamplesMatchCatalog(t *testing.T) {
	cases := []struct {
		file     string
		builtin  Scenario
		minNodes int
	}{
		{"leader-isolation.yaml", LeaderIsolation{}, 3},
		{"split-brain.yaml", SplitBrain{}, 5},
		{"node-crash.yaml", NodeCrash{}, 3},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			f, err := LoadFile(filepath.Join("..", "examples", tc.file))
			if err != nil {
				t.Fatalf("LoadFile: %v", err)
			}
			if f.MinNodes() != tc.minNodes {
				t.Errorf("MinNodes %d, want %d", f.MinNodes(), tc.minNodes)
			}
			if f.BlastRadius() != tc.builtin.BlastRadius() {
				t.Errorf("blast radius %s, want %s", f.BlastRadius(), tc.builtin.BlastRadius())
			}
			if f.DefaultTarget() != tc.builtin.DefaultTarget() {
				t.Errorf("target %+v, want %+v", f.DefaultTarget(), tc.builtin.DefaultTarget())
			}
			for _, phase := range tc.builtin.Phases() {
				if phase != PhaseRestart && !slices.Contains(f.Phases(), phase) {
					t.Errorf("phases %v lack %s", f.Phases(), phase)
				}
			}
		})
	}
}

func TestParseFileFields(t *testing.T) {
	const doc = `name: lossy
blast_radius: cluster
nodes: 4
profile: fast
repetitions: 3
steps:
  - fault: {drop: 25%, link: "leader->*", messages: [heartbeat], ttl: 30s, label: loss}
  - fault: {delay: 200ms, jitter: 50ms}
  - wait: 1s
  - heal: loss
  - heal: all
  - measure: {rto: from_heal_to_converged}
`
	f, err := ParseFile([]byte(doc), "lossy.yaml")
	if err != nil {
		t.Fatalf("ParseFile: %v", err)
	}
	if f.Nodes() != 4 || f.Profile() != raftint.ProfileFast || f.Repetitions() != 3 {
		t.Errorf("nodes %d profile %s reps %d, want 4 fast 3", f.Nodes(), f.Profile(), f.Repetitions())
	}
	if f.DefaultTarget() != TargetNetworkPartition {
		t.Errorf("target %+v, want the network partition objective", f.DefaultTarget())
	}
	drop := f.steps[0].fault
	if drop.kind != netchaos.KindDrop || drop.probability != 0.25 || drop.from != roleLeader || drop.to != netchaos.Any {
		t.Errorf("drop step parsed as %+v", drop)
	}
	if drop.ttl != 30*time.Second || !slices.Equal(drop.messages, []netchaos.MessageKind{netchaos.MsgHeartbeat}) {
		t.Errorf("drop ttl %v messages %v", drop.ttl, drop.messages)
	}
	delay := f.steps[1].fault
	if delay.kind != netchaos.KindDelay || delay.delay != 200*time.Millisecond || delay.jitter != 50*time.Millisecond {
		t.Errorf("delay step parsed as %+v", delay)
	}
	if delay.from != netchaos.Any || delay.to != netchaos.Any {
		t.Errorf("delay link %s->%s, want *->*", delay.from, delay.to)
	}
	cfg := f.Configure(DefaultConfig())
	if cfg.Nodes != 4 || cfg.Profile != raftint.ProfileFast || cfg.Reps != 3 {
		t.Errorf("Configure gave nodes %d profile %s reps %d", cfg.Nodes, cfg.Profile, cfg.Reps)
	}
}

func TestParseFilePercentages(t *testing.T) {
	cases := []struct {
		value string
		want  float64
	}{
		{"20%", 0.2},
		{"0.2", 0.2},
		{"100%", 1},
		{"1", 1},
		{"0.5 %", 0.005},
	}
	for _, tc := range cases {
		t.Run(tc.value, func(t *testing.T) {
			doc := "name: p\nblast_radius: cluster\nsteps:\n  - fault: {drop: " + tc.value + "}\n  - heal: all\n  - measure: {rto: from_heal_to_converged}\n"
			f, err := ParseFile([]byte(doc), "p.yaml")
			if err != nil {
				t.Fatalf("ParseFile: %v", err)
			}
			if got := f.steps[0].fault.probability; got != tc.want {
				t.Fatalf("probability %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseFileDerivesNeeds(t *testing.T) {
	cases := []struct {
		name     string
		steps    string
		minNodes int
		phases   []string
		target   Target
	}{
		{
			name:     "leader isolation needs a majority of three",
			steps:    "  - fault: {isolate: leader}\n  - measure: {rto: from_fault_to_first_write}\n",
			minNodes: 3,
			phases:   []string{PhaseDetection, PhaseElection, PhaseRTO, PhaseStepDown, PhaseHeal},
			target:   TargetNetworkPartition,
		},
		{
			name:     "two cut off need five",
			steps:    "  - fault: {split: [[leader, follower], [rest]]}\n  - wait: {for: leader_elected, exclude: leader}\n  - heal: all\n  - measure: {rto: from_heal_to_converged}\n",
			minNodes: 5,
			phases:   []string{PhaseDetection, PhaseElection, PhaseRTO, PhaseStepDown, PhaseHeal},
			target:   TargetNetworkPartition,
		},
		{
			name:     "crash has no step-down",
			steps:    "  - crash: leader\n  - measure: {rto: from_fault_to_first_write}\n  - mark: back\n  - restart: leader\n  - measure: {phase: back_again, from: crash, to: back}\n",
			minNodes: 3,
			phases:   []string{PhaseDetection, PhaseElection, PhaseRTO, "back_again"},
			target:   TargetNodeCrash,
		},
		{
			name:     "node ID sets the size",
			steps:    "  - fault: {cut: node-1->node-6}\n  - heal: all\n  - measure: {rto: from_heal_to_converged}\n",
			minNodes: 6,
			phases:   []string{PhaseRTO, PhaseHeal},
			target:   TargetNetworkPartition,
		},
		{
			name:     "crash all is a cluster failure",
			steps:    "  - crash: all\n  - restart: all\n  - measure: {rto: from_fault_to_first_write}\n",
			minNodes: 1,
			phases:   []string{PhaseRTO},
			target:   TargetClusterFailure,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := "name: derived\nblast_radius: cluster\nsteps:\n" + tc.steps
			f, err := ParseFile([]byte(doc), "derived.yaml")
			if err != nil {
				t.Fatalf("ParseFile: %v", err)
			}
			if f.MinNodes() != tc.minNodes {
				t.Errorf("MinNodes %d, want %d", f.MinNodes(), tc.minNodes)
			}
			if !slices.Equal(f.Phases(), tc.phases) {
				t.Errorf("phases %v, want %v", f.Phases(), tc.phases)
			}
			if f.DefaultTarget() != tc.target {
				t.Errorf("target %+v, want %+v", f.DefaultTarget(), tc.target)
			}
			if f.Nodes() != max(3, tc.minNodes) {
				t.Errorf("Nodes %d, want %d when the file sets none", f.Nodes(), max(3, tc.minNodes))
			}
		})
	}
}

func TestValidateCollectsEveryError(t *testing.T) {
	const doc = `name: many
blast_radius: galaxy
nodes: 3
steps:
  - fault: {isolate: leader, kind: sever}
  - wait: soon
  - measure: {rto: from_fault_to_first_write}
`
	err := Validate([]byte(doc), "many.yaml")
	if err == nil {
		t.Fatal("Validate accepted an invalid file")
	}
	if !errors.Is(err, ErrInvalidScenarioFile) {
		t.Errorf("error %v does not wrap ErrInvalidScenarioFile", err)
	}
	var fe *FileError
	if !errors.As(err, &fe) || fe.File != "many.yaml" {
		t.Errorf("errors.As gave %+v, want a *FileError of many.yaml", fe)
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{
		`many.yaml:2: blast_radius: unknown blast radius "galaxy"`,
		`many.yaml:5: steps[0].fault.kind: unknown kind "sever" (use partition or reject)`,
		`many.yaml:6: steps[1].wait: invalid duration "soon"`,
	}
	if len(lines) != len(want) {
		t.Fatalf("%d errors, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("error %d is %q, want it to start with %q", i, lines[i], w)
		}
	}
}
