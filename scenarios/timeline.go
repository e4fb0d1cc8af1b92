package scenarios

import (
	"fmt"
	"sort"

	"github.com/faultline-dev/faultline/raftint"
)

// firstEvent returns the first event that matches.
func firstEvent(events []raftint.Event, match func(raftint.Event) bool) (raftint.Event, bool) {
	for _, e := range events {
		if match(e) {
			return e, true
		}
	}
	return raftint.Event{}, false
}

// isDetection matches the moment a node other than old notices that it has
// no leader: raft clears the known leader when a follower's heartbeat timer
// fires, just before it becomes a candidate.
func isDetection(old string) func(raftint.Event) bool {
	return func(e raftint.Event) bool {
		if e.Node == "" || e.Node == old {
			return false
		}
		return (e.Kind == raftint.EventLeader && e.Leader == "") ||
			(e.Kind == raftint.EventState && e.State == "Candidate")
	}
}

// isElection matches a node other than old becoming leader.
func isElection(old string) func(raftint.Event) bool {
	return func(e raftint.Event) bool {
		return e.Node != "" && e.Node != old && e.Kind == raftint.EventState && e.State == "Leader"
	}
}

// isStepDown matches node old leaving the leader state.
func isStepDown(old string) func(raftint.Event) bool {
	return func(e raftint.Event) bool {
		return e.Node == old && e.Kind == raftint.EventState && e.State != "Leader"
	}
}

// leadersPerTerm checks election safety, the Raft paper's rule that at most
// one leader is elected in a term, on every leader transition in events.
func leadersPerTerm(events []raftint.Event) []string {
	leaders := make(map[uint64]map[string]bool)
	for _, e := range events {
		if e.Kind != raftint.EventState || e.State != "Leader" {
			continue
		}
		if leaders[e.Term] == nil {
			leaders[e.Term] = make(map[string]bool)
		}
		leaders[e.Term][e.Node] = true
	}
	var violations []string
	for term, nodes := range leaders {
		if len(nodes) > 1 {
			names := make([]string, 0, len(nodes))
			for n := range nodes {
				names = append(names, n)
			}
			sort.Strings(names)
			violations = append(violations, fmt.Sprintf("election safety: %d leaders in term %d: %v", len(nodes), term, names))
		}
	}
	sort.Strings(violations)
	return violations
}
