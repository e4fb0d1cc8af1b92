package raftint

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// LeadershipSink receives the leader that a node observes. Calls come from
// one goroutine per node, in the order raft made the observations, and must
// not block, because a blocked sink fills the observer buffer and raft then
// drops observations. Terms let the sink ignore a notification older than
// one it already has when several nodes share a sink.
type LeadershipSink interface {
	// SetLeadership reports that leaderID leads in term.
	SetLeadership(term uint64, leaderID string)

	// LeadershipLost reports that the node has no known leader in term.
	LeadershipLost(term uint64)
}

// stampedObservation wraps raft observation data with the time and term at
// the moment raft made it. The filter function creates it synchronously
// inside raft, before the observation is queued.
type stampedObservation struct {
	at   time.Time
	term uint64
	data any
}

// stampObservation keeps the observation kinds that become events and stamps
// them. raft calls it while it holds the observers read lock, so it must
// stay cheap: CurrentTerm is an atomic load.
func stampObservation(ob *raft.Observation) bool {
	switch ob.Data.(type) {
	case raft.RaftState, raft.LeaderObservation,
		raft.FailedHeartbeatObservation, raft.ResumedHeartbeatObservation,
		raft.RequestVoteRequest, raft.RequestPreVoteRequest:
	default:
		return false
	}
	ob.Data = stampedObservation{at: time.Now(), term: ob.Raft.CurrentTerm(), data: ob.Data}
	return true
}

// observer turns the raft observations of one node into timeline events and
// leadership notifications. Its goroutine runs from startObserver to stop.
type observer struct {
	node     string
	raft     *raft.Raft
	timeline *Timeline
	sink     LeadershipSink
	logger   *slog.Logger

	ch       chan raft.Observation
	registry *raft.Observer
	drops    *dropSource
	wg       sync.WaitGroup
	stopOnce sync.Once

	// failedHeartbeats counts consecutive failed heartbeats per peer since
	// the last resume or state change. Only the drain goroutine uses it.
	failedHeartbeats map[string]uint64
}

func startObserver(r *raft.Raft, node string, timeline *Timeline, sink LeadershipSink, buffer int, logger *slog.Logger) *observer {
	o := &observer{
		node:             node,
		raft:             r,
		timeline:         timeline,
		sink:             sink,
		logger:           logger,
		ch:               make(chan raft.Observation, buffer),
		failedHeartbeats: make(map[string]uint64),
	}
	o.registry = raft.NewObserver(o.ch, false, stampObservation)
	o.drops = timeline.attachDrops(o.registry.GetNumDropped)
	r.RegisterObserver(o.registry)

	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		o.drain()
	}()
	return o
}

// stop deregisters the observer, lets the goroutine record what is queued
// and waits for it. Deregistering takes raft's observers write lock, so no
// send to the channel is in progress when it is closed. stop is idempotent.
func (o *observer) stop() {
	o.stopOnce.Do(func() {
		o.raft.DeregisterObserver(o.registry)
		close(o.ch)
		o.wg.Wait()

		if dropped := o.registry.GetNumDropped(); dropped > 0 {
			o.logger.Warn("raft dropped observations because the observer buffer was full",
				"dropped", dropped, "buffer", cap(o.ch))
		}
		o.timeline.detachDrops(o.drops)
	})
}

func (o *observer) drain() {
	for ob := range o.ch {
		stamped, ok := ob.Data.(stampedObservation)
		if !ok {
			continue
		}
		o.handle(stamped)
	}
}

func (o *observer) handle(s stampedObservation) {
	e := Event{At: s.at, Node: o.node, Term: s.term}

	switch data := s.data.(type) {
	case raft.RaftState:
		e.Kind, e.State = EventState, data.String()
		clear(o.failedHeartbeats)
		o.logger.Info("raft state changed", "state", e.State, "term", e.Term)

	case raft.LeaderObservation:
		e.Kind, e.Leader = EventLeader, string(data.LeaderID)
		o.logger.Info("observed leader changed", "leader_id", e.Leader, "leader_addr", data.LeaderAddr, "term", e.Term)
		o.notifySink(e.Term, e.Leader)

	case raft.FailedHeartbeatObservation:
		peer := string(data.PeerID)
		o.failedHeartbeats[peer]++
		if o.failedHeartbeats[peer] > 1 {
			return
		}
		e.Kind, e.Peer = EventHeartbeatFailed, peer
		o.logger.Info("heartbeat to peer failed", "peer_id", peer, "last_contact", data.LastContact)

	case raft.ResumedHeartbeatObservation:
		peer := string(data.PeerID)
		e.Kind, e.Peer = EventHeartbeatResumed, peer
		e.Detail = fmt.Sprintf("%d failed heartbeats observed", o.failedHeartbeats[peer])
		delete(o.failedHeartbeats, peer)
		o.logger.Info("heartbeat to peer resumed", "peer_id", peer)

	case raft.RequestVoteRequest:
		e.Kind, e.Peer, e.Term = EventVoteRequest, candidateID(data.RPCHeader), data.Term
		if data.LeadershipTransfer {
			e.Detail = "leadership transfer"
		}
		o.logger.Debug("received vote request", "candidate_id", e.Peer, "candidate_term", e.Term)

	case raft.RequestPreVoteRequest:
		e.Kind, e.Peer, e.Term = EventVoteRequest, candidateID(data.RPCHeader), data.Term
		e.Detail = "pre-vote"
		o.logger.Debug("received pre-vote request", "candidate_id", e.Peer, "candidate_term", e.Term)

	default:
		return
	}
	o.timeline.Record(e)
}

func (o *observer) notifySink(term uint64, leaderID string) {
	if o.sink == nil {
		return
	}
	if leaderID == "" {
		o.sink.LeadershipLost(term)
		return
	}
	o.sink.SetLeadership(term, leaderID)
}

// candidateID returns the sender's server ID, or its address for a sender
// that predates IDs in the RPC header.
func candidateID(header raft.RPCHeader) string {
	if len(header.ID) > 0 {
		return string(header.ID)
	}
	return string(header.Addr)
}
