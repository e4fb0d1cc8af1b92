package scenarios

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/raftint"
)

func monkeyPlan(seed uint64, m ChaosMonkey, nodes int) []string {
	env := Env{Timing: raftint.ProfileFast.Timing(), Duration: 20 * time.Second}
	var out []string
	for _, d := range m.plan(rand.New(rand.NewPCG(seed, 1)), env, nodes) {
		out = append(out, d.String())
	}
	return out
}

func TestChaosMonkeyPlanRepeatsWithSeed(t *testing.T) {
	m := ChaosMonkey{Rate: 0.8}
	first := monkeyPlan(7, m, 3)
	if len(first) == 0 {
		t.Fatal("a 20 s plan at rate 0.8 has no fault")
	}
	if again := monkeyPlan(7, m, 3); !slices.Equal(first, again) {
		t.Fatalf("seed 7 gave two plans:\n%v\n%v", first, again)
	}
	if other := monkeyPlan(8, m, 3); slices.Equal(first, other) {
		t.Fatal("seeds 7 and 8 gave the same plan")
	}
}

func TestChaosMonkeyPlanKeepsBudget(t *testing.T) {
	cases := []struct {
		name string
		m    ChaosMonkey
	}{
		{"default", ChaosMonkey{Rate: 1}},
		{"one at a time", ChaosMonkey{Rate: 1, MaxConcurrent: 1}},
		{"operations only", ChaosMonkey{Rate: 1, MaxRadius: RadiusOperation}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := Env{Timing: raftint.ProfileFast.Timing(), Duration: 30 * time.Second}
			plan := tc.m.plan(rand.New(rand.NewPCG(3, 1)), env, 3)
			maxConc := max(tc.m.MaxConcurrent, 1)
			if tc.m.MaxConcurrent == 0 {
				maxConc = 2
			}
			for _, d := range plan {
				if n := activeAt(plan, d.At); n > maxConc {
					t.Fatalf("%d faults active at %v, budget %d", n, d.At, maxConc)
				}
				if crashesAt(plan, d.At) > 1 {
					t.Fatalf("two crashes overlap at %v in a 3-node cluster", d.At)
				}
				if tc.m.MaxRadius != "" && radiusRank[monkeyRadius[d.Kind]] > radiusRank[tc.m.MaxRadius] {
					t.Fatalf("%s exceeds the %s blast radius", d.Kind, tc.m.MaxRadius)
				}
				if d.At+d.For > env.Duration {
					t.Fatalf("%s ends after the run", d)
				}
			}
		})
	}
}

func TestChaosMonkeyRejectsUnknownKind(t *testing.T) {
	_, err := ChaosMonkey{Kinds: []string{"meteor"}}.Run(context.Background(), Env{})
	if err == nil {
		t.Fatal("Run accepted an unknown fault kind")
	}
}

func TestGameDayRecordsEveryPhase(t *testing.T) {
	cfg, rec := testConfig(t, 1)
	report, err := Run(context.Background(), GameDay{}, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if report.Verdict != VerdictPass {
		t.Fatalf("verdict %s, want pass: %v", report.Verdict, report.Reasons)
	}
	rep := report.Repetitions[0]
	if len(rep.Phases) != len((GameDay{}).Phases()) {
		t.Fatalf("%d phase records, want %d", len(rep.Phases), len((GameDay{}).Phases()))
	}
	for _, p := range rep.Phases {
		if !p.Recovered || p.Health == nil {
			t.Errorf("phase %s: recovered=%v health=%v", p.Name, p.Recovered, p.Health)
		}
	}
	if rep.Counts["daemon_success_percent"] <= 50 {
		t.Errorf("daemon success rate %d%%, want above 50%%", rep.Counts["daemon_success_percent"])
	}
	if rec.faultsAtClose != 0 {
		t.Fatalf("%d faults left", rec.faultsAtClose)
	}
}
