package scenarios

import (
	"testing"
	"time"

	"github.com/faultline-dev/faultline/raftint"
)

func TestJudge(t *testing.T) {
	target := Target{Target: time.Second, Max: 5 * time.Second}
	ok := func(i int, rto time.Duration) Repetition {
		return Repetition{Index: i, Recovered: true, RTO: rto}
	}
	cases := []struct {
		name    string
		reps    []Repetition
		planned int
		want    Verdict
	}{
		{"within target", []Repetition{ok(1, 500*time.Millisecond), ok(2, 900*time.Millisecond)}, 2, VerdictPass},
		{"above target", []Repetition{ok(1, 2*time.Second)}, 1, VerdictWarn},
		{"at target", []Repetition{ok(1, time.Second)}, 1, VerdictPass},
		{"above max", []Repetition{ok(1, 6*time.Second)}, 1, VerdictFail},
		{"not recovered", []Repetition{ok(1, time.Millisecond), {Index: 2, Error: "stuck"}}, 2, VerdictFail},
		{"violation", []Repetition{{Index: 1, Recovered: true, RTO: 1, Violations: []string{"lost write"}}}, 1, VerdictFail},
		{"missing repetitions", []Repetition{ok(1, time.Millisecond)}, 3, VerdictFail},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, reasons := judge(tc.reps, tc.planned, target)
			if got != tc.want {
				t.Fatalf("judge = %s (%v), want %s", got, reasons, tc.want)
			}
			if got != VerdictPass && len(reasons) == 0 {
				t.Fatal("a verdict other than pass gave no reason")
			}
		})
	}
}

func TestPercentileNearestRank(t *testing.T) {
	values := make([]time.Duration, 20)
	for i := range values {
		values[i] = time.Duration(i+1) * time.Millisecond
	}
	s := summarize(values)
	if s.P50 != 10*time.Millisecond || s.P95 != 19*time.Millisecond || s.Max != 20*time.Millisecond {
		t.Fatalf("summary %+v, want p50 10ms, p95 19ms, max 20ms", s)
	}
	if one := summarize([]time.Duration{7}); one.P50 != 7 || one.P99 != 7 {
		t.Fatalf("summary of one value %+v", one)
	}
}

func TestLeadersPerTermFlagsTwoLeaders(t *testing.T) {
	events := []raftint.Event{
		{Node: "node-1", Kind: raftint.EventState, State: "Leader", Term: 2},
		{Node: "node-2", Kind: raftint.EventState, State: "Leader", Term: 3},
		{Node: "node-3", Kind: raftint.EventState, State: "Leader", Term: 3},
		{Node: "node-1", Kind: raftint.EventState, State: "Leader", Term: 4},
		{Node: "node-1", Kind: raftint.EventState, State: "Leader", Term: 4},
	}
	v := leadersPerTerm(events)
	if len(v) != 1 {
		t.Fatalf("violations %v, want exactly one for term 3", v)
	}
	if v[0] != "election safety: 2 leaders in term 3: [node-2 node-3]" {
		t.Fatalf("violation %q", v[0])
	}
}

func TestPhaseMatchers(t *testing.T) {
	events := []raftint.Event{
		{Node: "node-1", Kind: raftint.EventLeader, Leader: ""},
		{Node: "node-2", Kind: raftint.EventLeader, Leader: ""},
		{Node: "node-1", Kind: raftint.EventState, State: "Follower"},
		{Node: "node-3", Kind: raftint.EventState, State: "Leader", Term: 5},
	}
	if e, ok := firstEvent(events, isDetection("node-1")); !ok || e.Node != "node-2" {
		t.Fatalf("detection %+v, %v; want node-2's", e, ok)
	}
	if e, ok := firstEvent(events, isStepDown("node-1")); !ok || e.State != "Follower" {
		t.Fatalf("step-down %+v, %v", e, ok)
	}
	if e, ok := firstEvent(events, isElection("node-1")); !ok || e.Term != 5 {
		t.Fatalf("election %+v, %v", e, ok)
	}
}
