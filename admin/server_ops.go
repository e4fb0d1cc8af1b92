package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/faultline-dev/faultline/daemon"
)

func (s *Server) handleListOps(w http.ResponseWriter, r *http.Request) {
	infos := s.b.Daemon.List()
	out := Ops{Ops: make([]OpInfo, len(infos))}
	for i, info := range infos {
		out.Ops[i] = opInfo(info)
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) handleScheduleOp(w http.ResponseWriter, r *http.Request) {
	data, e := readBody(w, r, s.cfg.MaxBodyBytes)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	op, e := decodeOp(data)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	if chaosKinds[op.Kind] && !s.cfg.ChaosEnabled {
		s.fail(w, r, chaosDisabled("operation kind "+op.Kind))
		return
	}

	if err := s.b.Daemon.Schedule(s.operation(op)); err != nil {
		s.fail(w, r, scheduleError(err))
		return
	}
	for _, info := range s.b.Daemon.List() {
		if info.ID == op.ID {
			s.writeJSON(w, r, http.StatusCreated, opInfo(info))
			return
		}
	}
	// Someone deleted the operation between Schedule and List.
	s.writeJSON(w, r, http.StatusCreated, OpInfo{ID: op.ID, Name: op.Name, Kind: op.Kind, Params: op.Params, Scope: op.Scope, Timeout: op.Timeout})
}

func scheduleError(err error) *apiError {
	var invalidOp *daemon.ValidationError
	switch {
	case errors.Is(err, daemon.ErrDuplicateID):
		return &apiError{status: http.StatusConflict, code: CodeConflict, field: "id", err: err,
			msg: "an operation with this id is already scheduled: delete it first or pick another id"}
	case errors.As(err, &invalidOp):
		return invalid(strings.ToLower(invalidOp.Field), err.Error())
	case errors.Is(err, daemon.ErrQueueFull), errors.Is(err, daemon.ErrStopped):
		return &apiError{status: http.StatusServiceUnavailable, code: CodeUnavailable, err: err, msg: err.Error()}
	}
	return &apiError{status: http.StatusInternalServerError, code: CodeInternal, err: err, msg: "scheduling failed: " + err.Error()}
}

func (s *Server) handleExecuteOp(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	start := time.Now()
	value, err := s.b.Daemon.Execute(r.Context(), id)
	elapsed := time.Since(start)
	if e := s.rejectedRun(err, id); e != nil {
		s.fail(w, r, e)
		return
	}

	out := ExecuteResult{ID: id, Status: runStatus(err), DurationMS: float64(elapsed) / float64(time.Millisecond)}
	if err != nil {
		out.Error = err.Error()
	}
	if value != nil {
		data, marshalErr := json.Marshal(value)
		if marshalErr != nil {
			s.log.Warn("operation result is not JSON", "op_id", id, "error", marshalErr)
		} else {
			out.Result = data
		}
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// rejectedRun returns the response for an Execute error that means no run
// started, or nil when a run started (whatever its outcome).
func (s *Server) rejectedRun(err error, id string) *apiError {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, daemon.ErrNotFound):
		return notFound(fmt.Sprintf("operation %q is not scheduled: POST /v1/ops first", id))
	case errors.Is(err, daemon.ErrNotLeader):
		leaderID, url := s.leaderHint()
		return &apiError{status: http.StatusMisdirectedRequest, code: CodeNotLeader, err: err, leaderID: leaderID, leaderHTTP: url,
			msg: fmt.Sprintf("operation %q is leader-scoped and this node is not the leader: execute it on %s", id, leaderID)}
	case errors.Is(err, daemon.ErrNoLeader), errors.Is(err, daemon.ErrNotRunning), errors.Is(err, daemon.ErrStopped),
		errors.Is(err, daemon.ErrTooManyAbandoned):
		return &apiError{status: http.StatusServiceUnavailable, code: CodeUnavailable, err: err, msg: err.Error() + ": retry later"}
	}
	return nil
}

func (s *Server) handleUnscheduleOp(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.b.Daemon.Unschedule(id); err != nil {
		if errors.Is(err, daemon.ErrNotFound) {
			s.fail(w, r, notFound(fmt.Sprintf("operation %q is not scheduled", id)))
			return
		}
		s.fail(w, r, &apiError{status: http.StatusInternalServerError, code: CodeInternal, err: err, msg: err.Error()})
		return
	}
	s.writeJSON(w, r, http.StatusOK, OpInfo{ID: id})
}
