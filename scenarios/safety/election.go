package safety

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/raftint"
)

// leaderState is the Event.State of a node that became leader.
var leaderState = raft.Leader.String()

// CheckElectionSafety checks Raft's election safety property (Figure 3 of
// the Raft paper, "In Search of an Understandable Consensus Algorithm"): at
// most one leader can be elected in a given term. It reads the EventState
// events with State "Leader" from every node's timeline and reports each
// term in which two or more nodes became leader.
func CheckElectionSafety(events []raftint.Event) []Violation {
	leaders := make(map[uint64][]string)
	for _, e := range events {
		if e.Kind != raftint.EventState || e.State != leaderState {
			continue
		}
		if !slices.Contains(leaders[e.Term], e.Node) {
			leaders[e.Term] = append(leaders[e.Term], e.Node)
		}
	}

	var violations []Violation
	for _, term := range slices.Sorted(maps.Keys(leaders)) {
		nodes := leaders[term]
		if len(nodes) < 2 {
			continue
		}
		slices.Sort(nodes)
		violations = append(violations, Violation{
			Check:   ElectionSafety,
			Term:    term,
			Nodes:   nodes,
			Message: fmt.Sprintf("term %d has %d leaders: %s", term, len(nodes), joinNames(nodes)),
		})
	}
	return violations
}

// StaleLeaderWindow returns how long oldLeader still acted as leader after
// faultAt: the time from faultAt to the first EventState at or after it in
// which oldLeader left the Leader state, or to oldLeader's crash. It
// reports false when the events show neither, so the node may still
// believe it leads. Events are searched by their At time, not their
// sequence, because observer events can be recorded slightly out of order.
func StaleLeaderWindow(events []raftint.Event, oldLeader string, faultAt time.Time) (time.Duration, bool) {
	var end time.Time
	for _, e := range events {
		if e.Node != oldLeader || e.At.Before(faultAt) {
			continue
		}
		left := (e.Kind == raftint.EventState && e.State != leaderState) || e.Kind == raftint.EventCrash
		if left && (end.IsZero() || e.At.Before(end)) {
			end = e.At
		}
	}
	if end.IsZero() {
		return 0, false
	}
	return end.Sub(faultAt), true
}
