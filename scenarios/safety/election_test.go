package safety

import (
	"slices"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/raftint"
)

func stateEvent(node, state string, term uint64, at time.Time) raftint.Event {
	return raftint.Event{Kind: raftint.EventState, Node: node, State: state, Term: term, At: at}
}

func TestCheckElectionSafety(t *testing.T) {
	at := time.Now()
	cases := []struct {
		name   string
		events []raftint.Event
		terms  []uint64   // terms reported, in order
		nodes  [][]string // nodes reported per term
	}{
		{
			name: "one leader per term",
			events: []raftint.Event{
				stateEvent("node-1", "Leader", 2, at),
				stateEvent("node-1", "Follower", 3, at),
				stateEvent("node-2", "Candidate", 3, at),
				stateEvent("node-2", "Leader", 3, at),
			},
		},
		{
			name: "same node leader twice in a term",
			events: []raftint.Event{
				stateEvent("node-1", "Leader", 2, at),
				stateEvent("node-1", "Leader", 2, at),
			},
		},
		{
			name: "two leaders in one term",
			events: []raftint.Event{
				stateEvent("node-1", "Leader", 2, at),
				stateEvent("node-3", "Leader", 4, at),
				stateEvent("node-2", "Leader", 4, at),
			},
			terms: []uint64{4},
			nodes: [][]string{{"node-2", "node-3"}},
		},
		{
			name: "two terms with two leaders",
			events: []raftint.Event{
				stateEvent("node-2", "Leader", 7, at),
				stateEvent("node-1", "Leader", 5, at),
				stateEvent("node-3", "Leader", 5, at),
				stateEvent("node-1", "Leader", 7, at),
			},
			terms: []uint64{5, 7},
			nodes: [][]string{{"node-1", "node-3"}, {"node-1", "node-2"}},
		},
		{
			name: "leader events of other kinds ignored",
			events: []raftint.Event{
				stateEvent("node-1", "Leader", 2, at),
				{Kind: raftint.EventLeader, Node: "node-2", Leader: "node-2", Term: 2, At: at},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			violations := CheckElectionSafety(tc.events)
			if len(violations) != len(tc.terms) {
				t.Fatalf("got %d violations %v, want %d", len(violations), violations, len(tc.terms))
			}
			for i, v := range violations {
				if v.Check != ElectionSafety {
					t.Errorf("violation %d check %q, want %q", i, v.Check, ElectionSafety)
				}
				if v.Term != tc.terms[i] {
					t.Errorf("violation %d term %d, want %d", i, v.Term, tc.terms[i])
				}
				if !slices.Equal(v.Nodes, tc.nodes[i]) {
					t.Errorf("violation %d nodes %v, want %v", i, v.Nodes, tc.nodes[i])
				}
			}
		})
	}
}

func TestStaleLeaderWindow(t *testing.T) {
	fault := time.Now()
	after := func(d time.Duration) time.Time { return fault.Add(d) }
	cases := []struct {
		name   string
		events []raftint.Event
		want   time.Duration
		found  bool
	}{
		{
			name:   "steps down",
			events: []raftint.Event{stateEvent("node-1", "Follower", 3, after(120*time.Millisecond))},
			want:   120 * time.Millisecond,
			found:  true,
		},
		{
			name: "earliest step-down by time, not by order",
			events: []raftint.Event{
				stateEvent("node-1", "Candidate", 4, after(300*time.Millisecond)),
				stateEvent("node-1", "Follower", 3, after(100*time.Millisecond)),
			},
			want:  100 * time.Millisecond,
			found: true,
		},
		{
			name: "events before the fault ignored",
			events: []raftint.Event{
				stateEvent("node-1", "Follower", 1, after(-time.Second)),
				stateEvent("node-1", "Follower", 3, after(50*time.Millisecond)),
			},
			want:  50 * time.Millisecond,
			found: true,
		},
		{
			name: "other nodes ignored",
			events: []raftint.Event{
				stateEvent("node-2", "Follower", 3, after(10*time.Millisecond)),
				stateEvent("node-2", "Leader", 3, after(20*time.Millisecond)),
			},
		},
		{
			name:   "crash ends leadership",
			events: []raftint.Event{{Kind: raftint.EventCrash, Node: "node-1", At: after(70 * time.Millisecond)}},
			want:   70 * time.Millisecond,
			found:  true,
		},
		{
			name:   "still leader",
			events: []raftint.Event{stateEvent("node-1", "Leader", 2, after(10*time.Millisecond))},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, found := StaleLeaderWindow(tc.events, "node-1", fault)
			if found != tc.found {
				t.Fatalf("found = %v, want %v", found, tc.found)
			}
			if got != tc.want {
				t.Errorf("window %v, want %v", got, tc.want)
			}
		})
	}
}
