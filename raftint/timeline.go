package raftint

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// EventKind names what an Event records.
type EventKind string

// Event kinds. The node's observer records state, leader, heartbeat and vote
// events. The code that injects faults, crashes and restarts nodes, and
// writes, records the others, because only that code can tell when each
// one began.
const (
	EventState            EventKind = "state"             // raft state changed; Event.State holds the new one
	EventLeader           EventKind = "leader"            // observed leader changed; Event.Leader ("" = none known)
	EventHeartbeatFailed  EventKind = "heartbeat_failed"  // leader failed to heartbeat Event.Peer; once per outage
	EventHeartbeatResumed EventKind = "heartbeat_resumed" // leader reached Event.Peer again
	EventVoteRequest      EventKind = "vote_request"      // this node received a vote or pre-vote request; Event.Peer = candidate
	EventFault            EventKind = "fault"             // fault applied; Event.Detail describes it
	EventHeal             EventKind = "heal"              // fault removed; Event.Detail describes it
	EventWrite            EventKind = "write_committed"   // write acknowledged at Event.Index
	EventCrash            EventKind = "crash"             // node crashed; recorded just before Node.Crash
	EventRestart          EventKind = "restart"           // crashed node opened again on its data directory
)

// Event is one entry of a Timeline.
type Event struct {
	// Seq is the position in the timeline, starting at 1.
	Seq uint64 `json:"seq"`

	// At comes from time.Now, so it carries the monotonic clock reading.
	// Measure intervals with At.Sub and never compare wall clock fields.
	// Observer events carry the moment raft made the observation, so At of
	// events from different nodes, or from different raft goroutines of one
	// node, may be out of Seq order by the time it takes to drain the
	// observer channel.
	At time.Time `json:"at"`

	Node string    `json:"node,omitempty"`
	Kind EventKind `json:"kind"`

	// Term is the node's current term when raft made the observation. For
	// EventVoteRequest it is the term for which the candidate requests votes.
	Term uint64 `json:"term,omitempty"`

	State  string `json:"state,omitempty"`
	Leader string `json:"leader,omitempty"`
	Peer   string `json:"peer,omitempty"`
	Index  uint64 `json:"index,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// String formats e for logs and test failures.
func (e Event) String() string {
	return fmt.Sprintf("#%d %s %s term=%d state=%q leader=%q peer=%q index=%d detail=%q",
		e.Seq, e.Node, e.Kind, e.Term, e.State, e.Leader, e.Peer, e.Index, e.Detail)
}

// Timeline is an append-only, ordered record of cluster events, shared by the
// nodes of a cluster and the code that injects faults. It is safe for
// concurrent use.
//
// NOTE: the timeline keeps every event in memory. Heartbeat failures are
// recorded once per outage, so a run grows with its number of faults and
// elections, not with its length.
type Timeline struct {
	start time.Time

	mu      sync.Mutex
	events  []Event
	changed chan struct{} // closed and replaced by every Record

	dropsMu      sync.Mutex
	dropSources  map[*dropSource]struct{}
	droppedFinal uint64 // drops of sources already detached
}

// dropSource reads the drop counter of one raft observer.
type dropSource struct {
	count func() uint64
}

// NewTimeline returns an empty timeline that starts now.
func NewTimeline() *Timeline {
	return &Timeline{
		start:       time.Now(),
		changed:     make(chan struct{}),
		dropSources: make(map[*dropSource]struct{}),
	}
}

// Start returns the time the timeline was created.
func (t *Timeline) Start() time.Time {
	return t.start
}

// Record appends e, assigning Seq and, if e.At is zero, At. It wakes every
// Wait call and returns the stored event.
func (t *Timeline) Record(e Event) Event {
	if e.At.IsZero() {
		e.At = time.Now()
	}

	t.mu.Lock()
	defer t.mu.Unlock()

	e.Seq = uint64(len(t.events)) + 1
	t.events = append(t.events, e)
	close(t.changed)
	t.changed = make(chan struct{})
	return e
}

// Events returns a copy of every event in Seq order.
func (t *Timeline) Events() []Event {
	return t.Since(0)
}

// Since returns a copy of the events with Seq greater than seq.
func (t *Timeline) Since(seq uint64) []Event {
	t.mu.Lock()
	defer t.mu.Unlock()

	if seq >= uint64(len(t.events)) {
		return nil
	}
	return append([]Event(nil), t.events[seq:]...)
}

// LastSeq returns the Seq of the newest event, or 0 when there is none.
func (t *Timeline) LastSeq() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return uint64(len(t.events))
}

// Wait returns the first event with Seq greater than after for which match
// returns true, blocking until one is recorded. When ctx ends first it
// returns an error wrapping ctx.Err(). match runs without the timeline's
// lock held, so it may call Timeline methods.
func (t *Timeline) Wait(ctx context.Context, after uint64, match func(Event) bool) (Event, error) {
	next := after
	for {
		t.mu.Lock()
		pending := t.events[min(next, uint64(len(t.events))):]
		pending = append([]Event(nil), pending...)
		changed := t.changed
		t.mu.Unlock()

		for _, e := range pending {
			if match(e) {
				return e, nil
			}
			next = e.Seq
		}

		select {
		case <-changed:
		case <-ctx.Done():
			return Event{}, fmt.Errorf("wait for timeline event after seq %d: %w", after, ctx.Err())
		}
	}
}

// Dropped returns the number of observations raft discarded because an
// observer channel of a node using this timeline was full, summed over all
// nodes, including nodes already shut down.
func (t *Timeline) Dropped() uint64 {
	t.dropsMu.Lock()
	defer t.dropsMu.Unlock()

	total := t.droppedFinal
	for src := range t.dropSources {
		total += src.count()
	}
	return total
}

func (t *Timeline) attachDrops(count func() uint64) *dropSource {
	src := &dropSource{count: count}
	t.dropsMu.Lock()
	t.dropSources[src] = struct{}{}
	t.dropsMu.Unlock()
	return src
}

// detachDrops adds the final count of src to the total and stops reading it.
func (t *Timeline) detachDrops(src *dropSource) {
	t.dropsMu.Lock()
	defer t.dropsMu.Unlock()
	if _, ok := t.dropSources[src]; !ok {
		return
	}
	delete(t.dropSources, src)
	t.droppedFinal += src.count()
}
