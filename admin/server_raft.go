package admin

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, Health{Status: "ok", NodeID: s.cfg.NodeID})
}

// handleReady reports ready when raft has a known leader and this node is in
// the raft configuration.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	st := s.b.Raft.Status()
	out := Ready{NodeID: s.cfg.NodeID, State: st.State, LeaderID: st.LeaderID, Term: st.Term}

	servers, err := s.b.Raft.Configuration()
	member := slices.ContainsFunc(servers, func(srv RaftServer) bool { return srv.ID == s.cfg.NodeID })
	switch {
	case err != nil:
		out.Reason = "reading the raft configuration failed: " + err.Error()
	case !member:
		out.Reason = "this node is not in the raft configuration yet: it waits for bootstrap or for the leader to add it"
	case st.LeaderID == "":
		out.Reason = "no leader is known: an election is in progress or a quorum is unreachable"
	default:
		out.Ready = true
		s.writeJSON(w, r, http.StatusOK, out)
		return
	}
	s.writeJSON(w, r, http.StatusServiceUnavailable, out)
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{ErrorLog: slogPrinter{s.log}}).ServeHTTP(w, r)
}

func (s *Server) handleRaft(w http.ResponseWriter, r *http.Request) {
	st := s.b.Raft.Status()
	servers, err := s.b.Raft.Configuration()
	if err != nil {
		s.fail(w, r, &apiError{status: http.StatusServiceUnavailable, code: CodeUnavailable, err: err,
			msg: "reading the raft configuration failed: " + err.Error()})
		return
	}
	if servers == nil {
		servers = []RaftServer{}
	}
	stateIndex, stateHash := s.b.Raft.StateHash()
	s.writeJSON(w, r, http.StatusOK, RaftStatus{
		NodeID: s.cfg.NodeID, State: st.State, Term: st.Term, LeaderID: st.LeaderID, LeaderAddr: st.LeaderAddr,
		LastIndex: st.LastIndex, CommitIndex: st.CommitIndex, AppliedIndex: st.AppliedIndex,
		LastContact: st.LastContact, Configuration: servers,
		StateIndex: stateIndex, StateHash: stateHash,
	})
}

func (s *Server) handleMembers(w http.ResponseWriter, r *http.Request) {
	members := []Member{}
	if s.b.Members != nil {
		members = append(members, s.b.Members.Members()...)
	}
	s.writeJSON(w, r, http.StatusOK, Members{Members: members})
}

func (s *Server) handleTimeline(w http.ResponseWriter, r *http.Request) {
	var after uint64
	if text := r.URL.Query().Get("after"); text != "" {
		parsed, err := strconv.ParseUint(text, 10, 64)
		if err != nil {
			s.fail(w, r, invalid("after", "after "+strconv.Quote(text)+" is not a sequence number: use 0 or the last_seq of an earlier call"))
			return
		}
		after = parsed
	}
	last := s.b.Timeline.LastSeq()
	events := s.b.Timeline.Since(after)
	out := Timeline{Events: make([]Event, len(events)), LastSeq: last}
	for i, e := range events {
		out.Events[i] = EventFromRaft(e)
		out.LastSeq = max(out.LastSeq, e.Seq)
	}
	s.writeJSON(w, r, http.StatusOK, out)
}
