package cluster

import (
	"context"
	"slices"
	"time"

	"github.com/faultline-dev/faultline/admin"
	"github.com/faultline-dev/faultline/raftint"
)

// timelineReadTimeout bounds one GET /v1/timeline.
const timelineReadTimeout = time.Second

// observedKinds are the events that a node's raft observer records. The
// harness copies only these from the nodes, and records faults, heals,
// crashes and restarts itself, as Local does.
var observedKinds = []raftint.EventKind{
	raftint.EventState, raftint.EventLeader, raftint.EventHeartbeatFailed,
	raftint.EventHeartbeatResumed, raftint.EventVoteRequest,
}

// pollTimelines copies every running node's new timeline events into the
// harness timeline every interval until stopRemote.
func (r *remote) pollTimelines(interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	failures := make(map[string]int)
	for {
		r.pollOnce(failures)
		select {
		case <-r.stopPoll:
			return
		case <-ticker.C:
		}
	}
}

// timelineRead is the outcome of one GET /v1/timeline.
type timelineRead struct {
	node       *remoteNode
	generation uint64
	timeline   admin.Timeline
	err        error
}

// pollOnce reads the new events of every running node and records them
// sorted by their time.
//
// Each event keeps the time that its node took from its own clock
// (at_unix_nano). The nodes of Procs and Compose share this machine's
// clock, so times of different nodes compare. They carry no monotonic
// reading, so a step of the wall clock during a run shifts them. Only the
// order of one node's own events is guaranteed. Events reach the timeline up
// to one interval after they happen, so its Seq order may differ from the
// order of At across nodes.
func (r *remote) pollOnce(failures map[string]int) {
	r.pollMu.Lock()
	defer r.pollMu.Unlock()

	reads := r.readTimelines()
	var events []raftint.Event
	r.mu.Lock()
	for _, rd := range reads {
		if rd.err != nil {
			failures[rd.node.id]++
			// Log the first failure of a run of them, and then one in a
			// thousand, so that a node that stays unreachable does not
			// flood the log.
			if n := failures[rd.node.id]; n == 1 || n%1000 == 0 {
				r.log.Debug("timeline read failed", "node_id", rd.node.id, "failures", n, "error", rd.err)
			}
			continue
		}
		failures[rd.node.id] = 0
		last := rd.timeline.LastSeq
		for _, e := range rd.timeline.Events {
			last = max(last, e.Seq)
			if !slices.Contains(observedKinds, raftint.EventKind(e.Kind)) {
				continue
			}
			ev := e.Raft()
			if ev.Node == "" {
				ev.Node = rd.node.id
			}
			events = append(events, ev)
		}
		if rd.node.generation == rd.generation {
			rd.node.after = max(rd.node.after, last)
		}
	}
	r.mu.Unlock()

	slices.SortStableFunc(events, func(a, b raftint.Event) int { return a.At.Compare(b.At) })
	for _, e := range events {
		r.timeline.Record(e)
	}
}

// readTimelines reads every running node's timeline after the last event
// already read, one node after the other.
func (r *remote) readTimelines() []timelineRead {
	r.mu.Lock()
	var reads []timelineRead
	afters := make([]uint64, 0, len(r.nodes))
	for _, n := range r.nodes {
		if n.client != nil {
			reads = append(reads, timelineRead{node: n, generation: n.generation})
			afters = append(afters, n.after)
		}
	}
	clients := make([]*admin.Client, len(reads))
	for i, rd := range reads {
		clients[i] = rd.node.client
	}
	r.mu.Unlock()

	for i := range reads {
		ctx, cancel := context.WithTimeout(context.Background(), timelineReadTimeout)
		reads[i].timeline, reads[i].err = clients[i].Timeline(ctx, afters[i])
		cancel()
	}
	return reads
}

// pollNow reads every running node's timeline at once, so that a node's
// last events are in the harness timeline before it is killed.
func (r *remote) pollNow() {
	r.pollOnce(make(map[string]int))
}
