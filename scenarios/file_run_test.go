package scenarios

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/raftint"
)

// fileTestConfig returns a config that runs f once, with the fast profile,
// on an in-process cluster of the size the file sets.
func fileTestConfig(t *testing.T, f *FileScenario) (Config, *recordingCluster) {
	t.Helper()
	cfg, rec := testConfig(t, 1)
	cfg = f.Configure(cfg)
	cfg.Reps = 1
	cfg.Profile = raftint.ProfileFast
	cfg.Seed = 7
	return cfg, rec
}

// detectionBound is the earliest a follower can notice a leader that went
// silent at the fault. Its heartbeat timer runs from its last contact, and
// hashicorp/raft v1.7.2 sends heartbeats every [HeartbeatTimeout/10,
// HeartbeatTimeout/5), so that contact can precede the fault by up to
// HeartbeatTimeout/5.
func detectionBound(p raftint.Profile) time.Duration {
	timing := p.Timing()
	return timing.Floor() - timing.HeartbeatTimeout/5
}

func TestFileExamplesRunAndPass(t *testing.T) {
	cases := []struct {
		file   string
		phases []string
		counts []string
	}{
		{
			file:   "leader-isolation.yaml",
			phases: []string{PhaseDetection, PhaseElection, PhaseRTO, PhaseStepDown, PhaseHeal},
			counts: []string{"writes_acked", "term_elected"},
		},
		{
			file:   "node-crash.yaml",
			phases: []string{PhaseDetection, PhaseElection, PhaseRTO, PhaseRestart},
			counts: []string{"writes_acked", "term_elected"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			f, err := LoadFile(filepath.Join("..", "examples", tc.file))
			if err != nil {
				t.Fatalf("LoadFile: %v", err)
			}
			cfg, counter := fileTestConfig(t, f)
			report, err := Run(context.Background(), f, cfg)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if report.Verdict != VerdictPass {
				t.Fatalf("verdict %s, want pass: %v", report.Verdict, report.Reasons)
			}
			rep := report.Repetitions[0]
			for _, phase := range tc.phases {
				if d, ok := rep.Durations[phase]; !ok || d <= 0 {
					t.Errorf("phase %s = %v, %v; want a positive duration", phase, d, ok)
				}
			}
			for _, count := range tc.counts {
				if rep.Counts[count] <= 0 {
					t.Errorf("count %s = %d, want above zero", count, rep.Counts[count])
				}
			}
			if bound := detectionBound(cfg.Profile); rep.Durations[PhaseDetection] < bound {
				t.Errorf("detection %v below %v, the profile floor less one heartbeat interval", rep.Durations[PhaseDetection], bound)
			}
			if rep.RTO < rep.Durations[PhaseElection] {
				t.Errorf("RTO %v before the election %v", rep.RTO, rep.Durations[PhaseElection])
			}
			if !counter.closed || counter.faultsAtClose != 0 {
				t.Errorf("cluster closed=%v with %d faults left", counter.closed, counter.faultsAtClose)
			}
		})
	}
}

func TestFileStepsRun(t *testing.T) {
	cases := []struct {
		name  string
		doc   string
		check func(t *testing.T, report *Report)
	}{
		{
			name: "failed assertion names its line",
			doc: `name: wrong-expectation
nodes: 3
blast_radius: node
steps:
  - fault: {isolate: follower, kind: reject, label: cut}
  - write: {count: 5}
  - heal: cut
  - measure: {rto: from_heal_to_converged}
  - assert: {leader_changed: true}
`,
			check: func(t *testing.T, report *Report) {
				if report.Verdict != VerdictFail {
					t.Fatalf("verdict %s, want fail", report.Verdict)
				}
				violations := report.Repetitions[0].Violations
				if len(violations) != 1 || !strings.HasPrefix(violations[0], "steps.yaml:9: steps[4].assert.leader_changed: ") {
					t.Fatalf("violations %q, want one of steps.yaml:9: steps[4].assert.leader_changed", violations)
				}
				if !report.Repetitions[0].Recovered {
					t.Errorf("repetition not recovered: %s", report.Repetitions[0].Error)
				}
			},
		},
		{
			name: "partial heal and marks",
			doc: `name: two-faults
nodes: 3
blast_radius: cluster
steps:
  - fault: {isolate: leader, label: isolated}
  - fault: {delay: 5ms, link: "*->*", label: slow}
  - wait: {for: leader_elected, exclude: leader, timeout: 10s}
  - measure: {phase: to_leader, from: fault, to: leader_elected}
  - heal: slow
  - write: {count: 3}
  - measure: {rto: from_fault_to_first_write}
  - heal: isolated
  - assert:
      acked_writes_survive: true
      single_leader_per_term: true
      leader_changed: true
      term_increased: true
      stepped_down: leader
`,
			check: func(t *testing.T, report *Report) {
				if report.Verdict != VerdictPass {
					t.Fatalf("verdict %s, want pass: %v", report.Verdict, report.Reasons)
				}
				rep := report.Repetitions[0]
				toLeader := rep.Durations["to_leader"]
				if bound := detectionBound(raftint.ProfileFast); toLeader < bound {
					t.Errorf("to_leader %v below %v, the profile floor less one heartbeat interval", toLeader, bound)
				}
				if rep.RTO < toLeader {
					t.Errorf("RTO %v before the leader was elected at %v", rep.RTO, toLeader)
				}
				if _, ok := rep.Durations[PhaseHeal]; !ok {
					t.Errorf("no %s after the last heal: %v", PhaseHeal, rep.Durations)
				}
			},
		},
		{
			name: "crash and restart every node",
			doc: `name: restart-all
nodes: 3
blast_radius: cluster
steps:
  - write: {count: 3}
  - crash: all
  - restart: all
  - measure: {rto: from_fault_to_first_write}
  - assert: {acked_writes_survive: true, single_leader_per_term: true}
`,
			check: func(t *testing.T, report *Report) {
				if report.Verdict != VerdictPass {
					t.Fatalf("verdict %s, want pass: %v", report.Verdict, report.Reasons)
				}
				if report.Target != TargetClusterFailure {
					t.Errorf("objective %+v, want the cluster-failure one", report.Target)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFile([]byte(tc.doc), "steps.yaml")
			if err != nil {
				t.Fatalf("ParseFile: %v", err)
			}
			cfg, counter := fileTestConfig(t, f)
			report, err := Run(context.Background(), f, cfg)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			tc.check(t, report)
			if !counter.closed || counter.faultsAtClose != 0 {
				t.Errorf("cluster closed=%v with %d faults left", counter.closed, counter.faultsAtClose)
			}
		})
	}
}
