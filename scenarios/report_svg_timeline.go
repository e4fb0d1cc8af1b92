package scenarios

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/faultline-dev/faultline/raftint"
)

// nodeState is the state of a node that a timeline row draws.
type nodeState string

const (
	stateLeader    nodeState = "leader"
	stateFollower  nodeState = "follower"
	stateCandidate nodeState = "candidate"
	stateDown      nodeState = "down" // crashed or shut down, until restarted
	stateUnknown   nodeState = "unknown"
)

// stateBand is one interval of a node's row, in time since the repetition
// started.
type stateBand struct {
	from, to time.Duration
	state    nodeState
	term     uint64 // 0 when unknown
}

// timelineMarker is a vertical line across every row.
type timelineMarker struct {
	at     time.Duration
	kind   string // fault, heal, crash, restart or rto
	label  string
	detail string
	node   string // the node that crashed or restarted
}

// faultWindow is an interval from a fault to the next heal, or to the end.
type faultWindow struct {
	from, to time.Duration
}

// repTimeline is a repetition's events turned into what a timeline draws.
type repTimeline struct {
	nodes   []string // sorted, digits compared as numbers
	bands   map[string][]stateBand
	windows []faultWindow
	markers []timelineMarker
	writes  []time.Duration
	end     time.Duration // the latest event or marker
}

// timedEvent is an event with its time since the repetition started.
type timedEvent struct {
	raftint.Event
	at time.Duration
}

// buildTimeline turns rep's events into bands, windows and markers. Times
// run from rep.Start, or from the first event when Start is zero. Events
// that raft observed just before the start are drawn at zero.
func buildTimeline(rep Repetition) repTimeline {
	events := timedEvents(rep)
	tl := repTimeline{nodes: timelineNodes(events), bands: map[string][]stateBand{}}
	for _, e := range events {
		tl.end = max(tl.end, e.at)
	}

	// The RTO runs from the first fault, or the first crash when a
	// scenario injects no fault rule.
	anchor, anchored := firstTimed(events, raftint.EventFault)
	if !anchored {
		anchor, anchored = firstTimed(events, raftint.EventCrash)
	}
	if anchored && rep.Recovered {
		at := anchor + rep.RTO
		tl.markers = append(tl.markers, timelineMarker{at: at, kind: "rto", label: "RTO " + ms(rep.RTO)})
		tl.end = max(tl.end, at)
	}

	var open *time.Duration
	for _, e := range events {
		switch e.Kind {
		case raftint.EventFault:
			tl.markers = append(tl.markers, timelineMarker{at: e.at, kind: "fault", label: "fault", detail: e.Detail})
			if open == nil {
				open = &e.at
			}
		case raftint.EventHeal:
			tl.markers = append(tl.markers, timelineMarker{at: e.at, kind: "heal", label: "heal", detail: e.Detail})
			if open != nil {
				tl.windows = append(tl.windows, faultWindow{from: *open, to: e.at})
				open = nil
			}
		case raftint.EventCrash:
			tl.markers = append(tl.markers, timelineMarker{at: e.at, kind: "crash", label: "crash " + e.Node, node: e.Node})
		case raftint.EventRestart:
			tl.markers = append(tl.markers, timelineMarker{at: e.at, kind: "restart", label: "restart " + e.Node, node: e.Node})
		case raftint.EventWrite:
			tl.writes = append(tl.writes, e.at)
		}
	}
	if open != nil {
		tl.windows = append(tl.windows, faultWindow{from: *open, to: tl.end})
	}
	slices.SortStableFunc(tl.markers, func(a, b timelineMarker) int { return cmp.Compare(a.at, b.at) })

	leader, term := initialLeader(events)
	for _, node := range tl.nodes {
		first := stateBand{state: stateUnknown}
		switch {
		case leader == node:
			first = stateBand{state: stateLeader, term: term}
		case leader != "" || firstStateChange(events, node) == "Candidate":
			// raft reaches Candidate only from Follower.
			first = stateBand{state: stateFollower}
		}
		tl.bands[node] = nodeBands(events, node, first, tl.end)
	}
	return tl
}

func timedEvents(rep Repetition) []timedEvent {
	origin := rep.Start
	if origin.IsZero() {
		for _, e := range rep.Events {
			if origin.IsZero() || e.At.Before(origin) {
				origin = e.At
			}
		}
	}
	events := make([]timedEvent, len(rep.Events))
	for i, e := range rep.Events {
		events[i] = timedEvent{Event: e, at: max(0, e.At.Sub(origin))}
	}
	slices.SortStableFunc(events, func(a, b timedEvent) int {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.Seq, b.Seq))
	})
	return events
}

func firstTimed(events []timedEvent, kind raftint.EventKind) (time.Duration, bool) {
	for _, e := range events {
		if e.Kind == kind {
			return e.at, true
		}
	}
	return 0, false
}

// timelineNodes collects every node named by an event, as its subject, a
// peer or a leader, so a node that recorded nothing still gets a row.
func timelineNodes(events []timedEvent) []string {
	seen := map[string]bool{}
	var nodes []string
	for _, e := range events {
		for _, id := range []string{e.Node, e.Peer, e.Leader} {
			if id != "" && !seen[id] {
				seen[id] = true
				nodes = append(nodes, id)
			}
		}
	}
	slices.SortFunc(nodes, compareNodeIDs)
	return nodes
}

// initialLeader infers which node led, and in which term, when the
// repetition started. The runner starts a repetition only on a stable
// cluster, but the timeline records changes, not the state at the start.
// It tries four clues, most trusted first:
//   - A node whose first state change is to Follower was the leader. In
//     hashicorp/raft v1.7.2 the observer reports only real changes, and a
//     running node reaches Follower only from Leader or Candidate. A node
//     that became a candidate during the repetition would have recorded
//     that change first.
//   - A write acknowledged by a node before its first state change names
//     the leader, because write events name the leader that committed them.
//   - Only a leader sends heartbeats, so a heartbeat failure in the first
//     term names the leader.
//   - A leader event in the first term names the leader.
//
// It returns "" when no clue exists.
//
// NOTE: this is an inference. If Repetition carried each node's state at
// its start, the timeline could draw it instead.
func initialLeader(events []timedEvent) (string, uint64) {
	var firstTerm uint64
	for _, e := range events {
		switch e.Kind {
		case raftint.EventState, raftint.EventLeader, raftint.EventHeartbeatFailed:
			if e.Term > 0 && (firstTerm == 0 || e.Term < firstTerm) {
				firstTerm = e.Term
			}
		}
	}

	changed := map[string]bool{}
	for _, e := range events {
		if e.Kind != raftint.EventState || changed[e.Node] {
			continue
		}
		changed[e.Node] = true
		if e.State == "Follower" {
			return e.Node, firstTerm
		}
	}
	changed = map[string]bool{}
	for _, e := range events {
		switch {
		case e.Kind == raftint.EventState || e.Kind == raftint.EventCrash:
			changed[e.Node] = true
		case e.Kind == raftint.EventWrite && e.Node != "" && !changed[e.Node]:
			return e.Node, firstTerm
		}
	}
	for _, e := range events {
		if e.Kind == raftint.EventHeartbeatFailed && e.Term == firstTerm && e.Node != "" {
			return e.Node, firstTerm
		}
	}
	for _, e := range events {
		if e.Kind == raftint.EventLeader && e.Term == firstTerm && e.Leader != "" {
			return e.Leader, firstTerm
		}
	}
	return "", 0
}

// firstStateChange returns the raft state that node first changed to, or ""
// when it recorded no change.
func firstStateChange(events []timedEvent, node string) string {
	for _, e := range events {
		if e.Node == node && e.Kind == raftint.EventState {
			return e.State
		}
	}
	return ""
}

// nodeBands splits node's row into bands from zero to end. A crash holds the
// node down until its restart, whatever states raft reports meanwhile, and a
// restarted node starts as a follower, as raft does.
func nodeBands(events []timedEvent, node string, first stateBand, end time.Duration) []stateBand {
	var bands []stateBand
	cur := first
	crashed := false
	for _, e := range events {
		if e.Node != node {
			continue
		}
		next := cur
		switch e.Kind {
		case raftint.EventState:
			if crashed {
				continue
			}
			next = stateBand{state: raftState(e.State), term: e.Term}
		case raftint.EventCrash:
			crashed = true
			next = stateBand{state: stateDown}
		case raftint.EventRestart:
			crashed = false
			next = stateBand{state: stateFollower}
		default:
			continue
		}
		if next.state == cur.state && next.term == cur.term {
			continue
		}
		if cur.from < e.at {
			cur.to = e.at
			bands = append(bands, cur)
		}
		next.from = e.at
		cur = next
	}
	if cur.from < end {
		cur.to = end
		bands = append(bands, cur)
	}
	return bands
}

// raftState maps the name of a raft.RaftState to a row state.
func raftState(name string) nodeState {
	switch name {
	case "Leader":
		return stateLeader
	case "Follower":
		return stateFollower
	case "Candidate":
		return stateCandidate
	case "Shutdown":
		return stateDown
	}
	return stateUnknown
}

// compareNodeIDs orders IDs as text, except that runs of digits compare as
// numbers, so node-2 sorts before node-10.
func compareNodeIDs(a, b string) int {
	for a != "" && b != "" {
		da, db := leadingDigits(a), leadingDigits(b)
		if da != "" && db != "" {
			na, _ := strconv.ParseUint(da, 10, 64)
			nb, _ := strconv.ParseUint(db, 10, 64)
			if c := cmp.Or(cmp.Compare(na, nb), cmp.Compare(len(da), len(db))); c != 0 {
				return c
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// bandTitle describes a band for the hover text of its rectangle.
func bandTitle(node string, b stateBand) string {
	text := fmt.Sprintf("%s %s", node, b.state)
	if b.term > 0 {
		text += fmt.Sprintf(", term %d", b.term)
	}
	return text + fmt.Sprintf(", %d–%d ms", b.from.Milliseconds(), b.to.Milliseconds())
}
