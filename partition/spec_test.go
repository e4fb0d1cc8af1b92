package partition

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/netchaos"
)

var threeNodes = []string{"node-1", "node-2", "node-3"}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// ruleKey formats the fields that Rules sets, leaving out the ID and expiry
// that the node's table assigns.
func ruleKey(r netchaos.Rule) string {
	return fmt.Sprintf("%s->%s %s delay=%v jitter=%v p=%g ttl=%v", r.From, r.To, r.Kind, r.Delay, r.Jitter, r.Probability, r.TTL)
}

func ruleKeys(rules []netchaos.Rule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = ruleKey(r)
	}
	slices.Sort(out)
	return out
}

func TestSpecRules(t *testing.T) {
	fiveMinutes := 5 * time.Minute
	cases := []struct {
		name   string
		spec   Spec
		leader string
		want   []netchaos.Rule
	}{
		{"isolate", Spec{Isolate: "node-2", TTL: fiveMinutes}, "", netchaos.Isolate("node-2", netchaos.KindPartition)},
		{"isolate reject", Spec{Isolate: "node-2", Kind: netchaos.KindReject}, "", netchaos.Isolate("node-2", netchaos.KindReject)},
		{"isolate leader", Spec{Isolate: Leader}, "node-3", netchaos.Isolate("node-3", netchaos.KindPartition)},
		{"split", Spec{Split: [][]string{{"node-1"}, {"node-2", "node-3"}}}, "",
			netchaos.Split(netchaos.KindPartition, []string{"node-1"}, []string{"node-2", "node-3"})},
		{"one-way", Spec{OneWay: &Link{"node-1", "node-2"}, Kind: netchaos.KindReject}, "",
			[]netchaos.Rule{{From: "node-1", To: "node-2", Kind: netchaos.KindReject}}},
		{"one-way to any", Spec{OneWay: &Link{"node-1", "*"}}, "",
			[]netchaos.Rule{{From: "node-1", To: "*", Kind: netchaos.KindPartition}}},
		{"delay everywhere", Spec{Delay: 200 * time.Millisecond, Jitter: 50 * time.Millisecond}, "",
			[]netchaos.Rule{{From: "*", To: "*", Kind: netchaos.KindDelay, Delay: 200 * time.Millisecond, Jitter: 50 * time.Millisecond}}},
		{"delay on link", Spec{Delay: time.Second, Link: &Link{"node-1", "node-3"}}, "",
			[]netchaos.Rule{{From: "node-1", To: "node-3", Kind: netchaos.KindDelay, Delay: time.Second}}},
		{"drop", Spec{Drop: 0.2}, "",
			[]netchaos.Rule{{From: "*", To: "*", Kind: netchaos.KindDrop, Probability: 0.2}}},
		{"delay and drop on link", Spec{Delay: time.Second, Drop: 0.5, Link: &Link{"node-2", "node-1"}}, "",
			[]netchaos.Rule{
				{From: "node-2", To: "node-1", Kind: netchaos.KindDelay, Delay: time.Second},
				{From: "node-2", To: "node-1", Kind: netchaos.KindDrop, Probability: 0.5},
			}},
		{"isolate and delay", Spec{Isolate: "node-1", Delay: time.Second}, "",
			append(netchaos.Isolate("node-1", netchaos.KindPartition),
				netchaos.Rule{From: "*", To: "*", Kind: netchaos.KindDelay, Delay: time.Second})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.spec.Rules(threeNodes, tc.leader)
			if err != nil {
				t.Fatalf("Rules: %v", err)
			}
			for i := range tc.want {
				tc.want[i].TTL = tc.spec.TTL
			}
			if g, w := ruleKeys(got), ruleKeys(tc.want); !slices.Equal(g, w) {
				t.Errorf("rules\n got %q\nwant %q", g, w)
			}
			for _, r := range got {
				if err := r.Validate(); err != nil {
					t.Errorf("rule %+v: %v", r, err)
				}
			}
		})
	}
}

func TestSpecRulesErrors(t *testing.T) {
	link := &Link{"node-1", "node-2"}
	cases := []struct {
		name   string
		spec   Spec
		leader string
		want   error
		flag   string
	}{
		{"empty", Spec{}, "", ErrInvalidSpec, "--isolate"},
		{"isolate and split", Spec{Isolate: "node-1", Split: [][]string{{"node-1"}, {"node-2"}}}, "", ErrInvalidSpec, "--split"},
		{"isolate and one-way", Spec{Isolate: "node-1", OneWay: link}, "", ErrInvalidSpec, "--one-way"},
		{"split and one-way", Spec{Split: [][]string{{"node-1"}, {"node-2"}}, OneWay: link}, "", ErrInvalidSpec, "--split"},
		{"kind without cut", Spec{Delay: time.Second, Kind: netchaos.KindReject}, "", ErrInvalidSpec, "--kind"},
		{"kind drop", Spec{Isolate: "node-1", Kind: netchaos.KindDrop}, "", ErrInvalidSpec, "--kind"},
		{"jitter without delay", Spec{Jitter: time.Second, Drop: 0.1}, "", ErrInvalidSpec, "--jitter"},
		{"drop above one", Spec{Drop: 1.5}, "", ErrInvalidSpec, "--drop"},
		{"negative drop", Spec{Drop: -0.5}, "", ErrInvalidSpec, "--drop"},
		{"link without delay or drop", Spec{Isolate: "node-1", Link: link}, "", ErrInvalidSpec, "--link"},
		{"ttl too long", Spec{Isolate: "node-1", TTL: MaxTTL + 1}, "", ErrInvalidSpec, "--duration"},
		{"negative ttl", Spec{Isolate: "node-1", TTL: -1}, "", ErrInvalidSpec, "--duration"},
		{"unknown isolate", Spec{Isolate: "node-9"}, "", ErrUnknownNode, "--isolate"},
		{"unknown split", Spec{Split: [][]string{{"node-1"}, {"node-9"}}}, "", ErrUnknownNode, "--split"},
		{"unknown one-way", Spec{OneWay: &Link{"node-9", "node-1"}}, "", ErrUnknownNode, "--one-way"},
		{"unknown link", Spec{Drop: 0.1, Link: &Link{"node-1", "node-9"}}, "", ErrUnknownNode, "--link"},
		{"no leader", Spec{Isolate: Leader}, "", ErrNoLeader, "--isolate"},
		{"leader not member", Spec{Isolate: Leader}, "node-7", ErrUnknownNode, "--isolate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.spec.Rules(threeNodes, tc.leader)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Rules error = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.flag) {
				t.Errorf("error %q does not name %s", err, tc.flag)
			}
		})
	}
}

func TestSpecUnassigned(t *testing.T) {
	spec := Spec{Split: [][]string{{"node-1"}, {"node-3"}}}
	got := spec.Unassigned([]string{"node-1", "node-2", "node-3", "node-4"})
	if want := []string{"node-2", "node-4"}; !slices.Equal(got, want) {
		t.Errorf("Unassigned = %q, want %q", got, want)
	}
	if got := (Spec{Isolate: "node-1"}).Unassigned(threeNodes); got != nil {
		t.Errorf("Unassigned without split = %q, want none", got)
	}
}
