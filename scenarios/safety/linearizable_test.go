package safety

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func put(client int, key, value string, call, ret int, outcome Outcome) Op {
	return Op{Client: client, Kind: OpPut, Key: key, Value: value, Outcome: outcome, Call: ms(call), Return: ms(ret)}
}

func get(client int, key, value string, found bool, call, ret int) Op {
	return Op{Client: client, Kind: OpGet, Key: key, Outcome: OutcomeOK,
		Output: Output{Value: value, Found: found}, Call: ms(call), Return: ms(ret)}
}

func cas(client int, key string, expected *string, value string, ok bool, call, ret int, outcome Outcome) Op {
	return Op{Client: client, Kind: OpCAS, Key: key, Expected: expected, Value: value, Outcome: outcome,
		Output: Output{OK: ok}, Call: ms(call), Return: ms(ret)}
}

func TestCheckLinearizable(t *testing.T) {
	cases := []struct {
		name      string
		ops       []Op
		violating []string // nil: linearizable
	}{
		{
			name:      "stale read after completed put",
			ops:       []Op{put(0, "x", "1", 0, 10, OutcomeOK), get(1, "x", "", false, 20, 30)},
			violating: []string{"x"},
		},
		{
			name: "stale read names only its key",
			ops: []Op{
				put(0, "x", "1", 0, 10, OutcomeOK), put(1, "y", "1", 0, 10, OutcomeOK),
				put(0, "x", "2", 20, 30, OutcomeOK), get(1, "y", "1", true, 20, 30),
				get(2, "x", "1", true, 40, 50),
			},
			violating: []string{"x"},
		},
		{
			name: "read concurrent with put sees old value",
			ops:  []Op{put(0, "x", "1", 0, 30, OutcomeOK), get(1, "x", "", false, 10, 20)},
		},
		{
			name: "read concurrent with put sees new value",
			ops:  []Op{put(0, "x", "1", 0, 30, OutcomeOK), get(1, "x", "1", true, 10, 20)},
		},
		{
			name: "reads disagree on order of concurrent puts",
			ops: []Op{
				put(0, "x", "1", 0, 100, OutcomeOK), put(1, "x", "2", 0, 100, OutcomeOK),
				get(2, "x", "1", true, 10, 20), get(2, "x", "2", true, 30, 40), get(2, "x", "1", true, 50, 60),
			},
			violating: []string{"x"},
		},
		{
			name: "unknown put seen by later read",
			ops:  []Op{put(0, "x", "1", 0, 10, OutcomeUnknown), get(1, "x", "1", true, 20, 30)},
		},
		{
			name: "unknown put never seen",
			ops:  []Op{put(0, "x", "1", 0, 10, OutcomeUnknown), get(1, "x", "", false, 20, 30)},
		},
		{
			name: "unknown put seen then lost",
			ops: []Op{
				put(0, "x", "1", 0, 10, OutcomeUnknown),
				get(1, "x", "1", true, 20, 30), get(1, "x", "", false, 40, 50),
			},
			violating: []string{"x"},
		},
		{
			name:      "failed put seen by read",
			ops:       []Op{put(0, "x", "1", 0, 10, OutcomeFailed), get(1, "x", "1", true, 20, 30)},
			violating: []string{"x"},
		},
		{
			name: "unknown read ignored",
			ops: []Op{
				put(0, "x", "1", 0, 10, OutcomeOK),
				{Client: 1, Kind: OpGet, Key: "x", Outcome: OutcomeUnknown, Call: ms(20), Return: ms(30)},
			},
		},
		{
			name: "cas on expected value",
			ops: []Op{
				put(0, "x", "a", 0, 10, OutcomeOK), cas(1, "x", ptr("a"), "b", true, 20, 30, OutcomeOK),
				get(2, "x", "b", true, 40, 50),
			},
		},
		{
			name: "cas on absent key",
			ops:  []Op{cas(0, "x", nil, "a", true, 0, 10, OutcomeOK), cas(1, "x", nil, "b", false, 20, 30, OutcomeOK)},
		},
		{
			name:      "cas succeeds on wrong value",
			ops:       []Op{put(0, "x", "a", 0, 10, OutcomeOK), cas(1, "x", ptr("z"), "b", true, 20, 30, OutcomeOK)},
			violating: []string{"x"},
		},
		{
			name:      "cas fails on expected value",
			ops:       []Op{put(0, "x", "a", 0, 10, OutcomeOK), cas(1, "x", ptr("a"), "b", false, 20, 30, OutcomeOK)},
			violating: []string{"x"},
		},
		{
			name: "unknown cas applied",
			ops: []Op{
				put(0, "x", "a", 0, 10, OutcomeOK), cas(1, "x", ptr("a"), "b", false, 20, 30, OutcomeUnknown),
				get(2, "x", "b", true, 40, 50),
			},
		},
		{
			name: "unknown cas cannot apply on mismatch",
			ops: []Op{
				put(0, "x", "a", 0, 10, OutcomeOK), cas(1, "x", ptr("z"), "b", false, 20, 30, OutcomeUnknown),
				get(2, "x", "b", true, 40, 50),
			},
			violating: []string{"x"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "viz")
			result := CheckLinearizable(historyOf(tc.ops), 10*time.Second, dir)

			if result.Unknown {
				t.Fatal("check timed out")
			}
			if tc.violating == nil {
				if !result.OK {
					t.Fatalf("history rejected, keys %v", result.ViolatingKeys)
				}
				if len(result.Violations()) != 0 {
					t.Errorf("violations %v for a linearizable history", result.Violations())
				}
				if _, err := os.Stat(dir); !os.IsNotExist(err) {
					t.Errorf("visualization directory created for a linearizable history: %v", err)
				}
				return
			}

			if result.OK {
				t.Fatal("history accepted")
			}
			if !slices.Equal(result.ViolatingKeys, tc.violating) {
				t.Errorf("violating keys %v, want %v", result.ViolatingKeys, tc.violating)
			}
			violations := result.Violations()
			if len(violations) != 1 || violations[0].Check != Linearizability {
				t.Fatalf("violations %v, want one linearizability violation", violations)
			}
			if !strings.Contains(violations[0].Message, result.VisualizationPath) {
				t.Errorf("message %q does not name the visualization", violations[0].Message)
			}
			if result.VisualizationError != "" {
				t.Fatalf("visualization: %s", result.VisualizationError)
			}
			if filepath.Dir(result.VisualizationPath) != dir {
				t.Errorf("visualization %q is not in %q", result.VisualizationPath, dir)
			}
			if info, err := os.Stat(result.VisualizationPath); err != nil || info.Size() == 0 {
				t.Errorf("visualization file: %v", err)
			}
		})
	}
}

func TestCheckLinearizableNoVizDir(t *testing.T) {
	ops := []Op{put(0, "x", "1", 0, 10, OutcomeOK), get(1, "x", "", false, 20, 30)}
	result := CheckLinearizable(historyOf(ops), 10*time.Second, "")
	if result.OK {
		t.Fatal("history accepted")
	}
	if result.VisualizationPath != "" || result.VisualizationError != "" {
		t.Errorf("visualization %q (%s) written without a directory", result.VisualizationPath, result.VisualizationError)
	}
}

func TestCheckLinearizableCountsCheckedOps(t *testing.T) {
	ops := []Op{
		put(0, "x", "1", 0, 10, OutcomeOK),
		put(0, "x", "2", 0, 10, OutcomeFailed),
		{Kind: OpGet, Key: "x", Outcome: OutcomeUnknown, Call: ms(20), Return: ms(30)},
		put(1, "x", "3", 20, 30, OutcomeUnknown),
	}
	result := CheckLinearizable(historyOf(ops), 10*time.Second, "")
	if result.Operations != 2 {
		t.Errorf("checked %d operations, want 2: the ok put and the unknown put", result.Operations)
	}
}

func TestCheckLinearizableGenerated(t *testing.T) {
	cases := []struct {
		name        string
		seed        uint64
		unknownRate float64
	}{
		{"definite outcomes", 1, 0},
		{"some unknown outcomes", 2, 0.02},
		{"many unknown outcomes", 3, 0.1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(tc.seed, 0))
			ops := generateHistory(rng, 4, 200, 4, tc.unknownRate)
			result := CheckLinearizable(historyOf(ops), 10*time.Second, "")
			if !result.OK {
				t.Fatalf("generated linearizable history rejected (unknown=%v), keys %v", result.Unknown, result.ViolatingKeys)
			}

			stale := appendStaleRead(t, ops)
			result = CheckLinearizable(historyOf(stale), 10*time.Second, "")
			if result.OK || result.Unknown {
				t.Fatalf("history with a stale read accepted (unknown=%v)", result.Unknown)
			}
			want := stale[len(stale)-1].Key
			if !slices.Equal(result.ViolatingKeys, []string{want}) {
				t.Errorf("violating keys %v, want [%s]", result.ViolatingKeys, want)
			}
		})
	}
}

func TestBudget(t *testing.T) {
	unlimited := newBudget(time.Now(), 0)
	if d, ok := unlimited.remaining(); d != 0 || !ok {
		t.Errorf("unlimited budget remaining = (%v, %v), want (0, true)", d, ok)
	}
	spent := newBudget(time.Now().Add(-time.Second), time.Millisecond)
	if _, ok := spent.remaining(); ok {
		t.Error("spent budget has time left")
	}
	fresh := newBudget(time.Now(), time.Hour)
	if d, ok := fresh.remaining(); !ok || d <= 0 {
		t.Errorf("fresh budget remaining = (%v, %v), want positive", d, ok)
	}
}
