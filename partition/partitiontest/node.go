// Package partitiontest provides a fake faultline node for tests of code
// that drives the admin API: an httptest server that serves /v1/raft,
// /v1/members, /v1/timeline and /v1/faults over a real netchaos.Table and
// raftint.Timeline, with switches for the failures that a real cluster
// shows.
package partitiontest

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"

	"github.com/faultline-dev/faultline/admin"
	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
)

// Config configures a fake node.
type Config struct {
	// ID is the node's raft ID.
	ID string
	// Token, when set, is required on PUT and DELETE, as on a real node.
	Token string
	// ChaosDisabled makes PUT /v1/faults fail with 403, as the kill switch
	// does.
	ChaosDisabled bool
}

// Node is a fake node. Its methods are safe for concurrent use.
type Node struct {
	cfg      Config
	table    *netchaos.Table
	timeline *raftint.Timeline
	server   *httptest.Server

	mu          sync.Mutex
	raft        admin.RaftStatus
	members     []admin.Member
	failInstall int
	raiseBy     uint64
	raiseCount  int
	puts        int
	deletes     int
}

// NewNode starts a fake node on 127.0.0.1. Close stops it.
func NewNode(cfg Config) *Node {
	table, err := netchaos.NewTable(netchaos.DefaultTableConfig())
	if err != nil {
		panic(err) // the default config is valid
	}
	n := &Node{
		cfg:      cfg,
		table:    table,
		timeline: raftint.NewTimeline(),
		raft:     admin.RaftStatus{NodeID: cfg.ID, State: "Follower", Term: 1},
	}
	n.server = httptest.NewServer(http.HandlerFunc(n.serve))
	return n
}

// URL returns the node's admin base URL.
func (n *Node) URL() string { return n.server.URL }

// Close stops the server, after which every request fails to connect. It is
// idempotent.
func (n *Node) Close() {
	n.server.Close()
}

// Table returns the node's fault table.
func (n *Node) Table() *netchaos.Table { return n.table }

// Timeline returns the timeline that GET /v1/timeline serves.
func (n *Node) Timeline() *raftint.Timeline { return n.timeline }

// SetRaft sets the raft state that GET /v1/raft returns. NodeID is always
// the configured ID.
func (n *Node) SetRaft(state string, term uint64, leader string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.raft.State, n.raft.Term, n.raft.LeaderID = state, term, leader
}

// SetIndexes sets the commit and applied index that GET /v1/raft returns.
func (n *Node) SetIndexes(commit, applied uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.raft.CommitIndex, n.raft.AppliedIndex = commit, applied
}

// SetMembers sets the member list that GET /v1/members returns.
func (n *Node) SetMembers(members []admin.Member) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.members = members
}

// FailInstalls makes the next count PUT /v1/faults requests fail with 500.
func (n *Node) FailInstalls(count int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.failInstall = count
}

// RaiseVersionBeforeInstalls makes each of the next count PUT /v1/faults
// requests first raise the table's version by delta, as a rule expiring or
// another client would, so that the request meets a version conflict.
func (n *Node) RaiseVersionBeforeInstalls(delta uint64, count int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.raiseBy, n.raiseCount = delta, count
}

// Writes returns how many PUT and DELETE requests reached /v1/faults,
// failed ones included.
func (n *Node) Writes() (puts, deletes int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.puts, n.deletes
}

func (n *Node) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && n.cfg.Token != "" {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		switch {
		case !ok:
			writeError(w, http.StatusUnauthorized, admin.ErrorBody{Error: "missing token", Code: admin.CodeUnauthorized})
			return
		case token != n.cfg.Token:
			writeError(w, http.StatusForbidden, admin.ErrorBody{Error: "invalid admin token", Code: admin.CodeForbidden})
			return
		}
	}
	switch r.Method + " " + r.URL.Path {
	case "GET /v1/raft":
		n.mu.Lock()
		status := n.raft
		n.mu.Unlock()
		writeJSON(w, http.StatusOK, status)
	case "GET /v1/members":
		n.mu.Lock()
		members := admin.Members{Members: n.members}
		n.mu.Unlock()
		writeJSON(w, http.StatusOK, members)
	case "GET /v1/timeline":
		n.serveTimeline(w, r)
	case "GET /v1/faults":
		writeJSON(w, http.StatusOK, admin.FaultTable{Version: n.table.Version(), Rules: n.table.Rules(), Counters: n.table.Counters()})
	case "PUT /v1/faults":
		n.install(w, r)
	case "DELETE /v1/faults":
		n.mu.Lock()
		n.deletes++
		n.mu.Unlock()
		n.table.Clear()
		writeJSON(w, http.StatusOK, admin.FaultTable{Version: n.table.Version()})
	default:
		writeError(w, http.StatusNotFound, admin.ErrorBody{Error: "no route " + r.Method + " " + r.URL.Path, Code: admin.CodeNotFound})
	}
}

// install follows the real server's order: the kill switch, then the body,
// then the table. Injected failures and version raises happen at the table,
// so requests that a real node rejects earlier never reach them.
func (n *Node) install(w http.ResponseWriter, r *http.Request) {
	n.mu.Lock()
	n.puts++
	n.mu.Unlock()
	if n.cfg.ChaosDisabled {
		writeError(w, http.StatusForbidden, admin.ErrorBody{Error: "chaos is disabled on this node", Code: admin.CodeChaosDisabled})
		return
	}
	var body admin.InstallFaults
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, admin.ErrorBody{Error: err.Error(), Code: admin.CodeInvalid})
		return
	}
	if body.Version == 0 {
		writeError(w, http.StatusBadRequest, admin.ErrorBody{Error: "version is 0", Code: admin.CodeInvalid, Field: "version"})
		return
	}
	if err := n.injectBeforeInstall(); err != nil {
		writeError(w, http.StatusInternalServerError, admin.ErrorBody{Error: err.Error(), Code: admin.CodeInternal})
		return
	}
	if err := n.table.Install(body.Version, body.Rules); err != nil {
		if errors.Is(err, netchaos.ErrVersionMismatch) {
			writeError(w, http.StatusConflict, admin.ErrorBody{Error: err.Error(), Code: admin.CodeVersionConflict, Version: n.table.Version()})
			return
		}
		writeError(w, http.StatusBadRequest, admin.ErrorBody{Error: err.Error(), Code: admin.CodeInvalid, Field: "rules"})
		return
	}
	writeJSON(w, http.StatusOK, admin.FaultTable{Version: n.table.Version(), Rules: n.table.Rules()})
}

// injectBeforeInstall applies the failures set by FailInstalls and
// RaiseVersionBeforeInstalls.
func (n *Node) injectBeforeInstall() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.failInstall > 0 {
		n.failInstall--
		return errors.New("injected install failure")
	}
	if n.raiseCount > 0 {
		n.raiseCount--
		return n.table.Install(n.table.Version()+n.raiseBy, n.table.Rules())
	}
	return nil
}

func (n *Node) serveTimeline(w http.ResponseWriter, r *http.Request) {
	after, err := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, admin.ErrorBody{Error: "after: " + err.Error(), Code: admin.CodeInvalid, Field: "after"})
		return
	}
	out := admin.Timeline{Events: []admin.Event{}, LastSeq: n.timeline.LastSeq()}
	for _, e := range n.timeline.Since(after) {
		out.Events = append(out.Events, admin.EventFromRaft(e))
		out.LastSeq = max(out.LastSeq, e.Seq)
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, body admin.ErrorBody) {
	writeJSON(w, status, body)
}
