package admin

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/faultline-dev/faultline/daemon"
)

func (s *Server) handleDaemonHealth(w http.ResponseWriter, r *http.Request) {
	h := s.b.Daemon.Health()
	m := s.b.Daemon.Metrics()
	s.writeJSON(w, r, http.StatusOK, DaemonStatus{
		Health: DaemonHealth{
			NodeID: h.NodeID, Name: h.Name, Running: h.Running, IsLeader: h.IsLeader, LeaderID: h.LeaderID,
			Term: h.Term, UptimeMS: millis(h.Uptime), Active: h.Active, Waiting: h.Waiting, Scheduled: h.Scheduled,
			Queued: h.Queued, Completed: h.Completed, Concurrency: h.Concurrency, Abandoned: h.Abandoned,
		},
		Metrics: DaemonMetrics{
			Executed: m.Executed, Succeeded: m.Succeeded, Failed: m.Failed, TimedOut: m.TimedOut,
			Cancelled: m.Cancelled, Panics: m.Panics, Rejected: m.Rejected, Abandoned: m.Abandoned,
			CorruptRecords: m.CorruptRecords, DroppedEvents: m.DroppedEvents, SuccessRate: m.SuccessRate,
			MeanMS: millis(m.Mean), P50MS: millis(m.P50), P95MS: millis(m.P95), P99MS: millis(m.P99), MaxMS: millis(m.Max),
		},
	})
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (s *Server) handleListFailpoints(w http.ResponseWriter, r *http.Request) {
	out := Failpoints{Failpoints: make(map[string]FailpointStatus)}
	for _, st := range s.b.Daemon.Failpoints() {
		out.Failpoints[st.Name] = failpointStatus(st)
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) handlePutFailpoint(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !s.cfg.ChaosEnabled {
		s.fail(w, r, chaosDisabled("enabling failpoint "+name))
		return
	}
	data, e := readBody(w, r, s.cfg.MaxBodyBytes)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	in, e := decodeFailpoint(data)
	if e != nil {
		s.fail(w, r, e)
		return
	}

	if err := s.b.Daemon.EnableFailpoint(name, failpointAction(in)); err != nil {
		s.fail(w, r, failpointError(err, name))
		return
	}
	s.writeFailpoint(w, r, name)
}

func (s *Server) handleDeleteFailpoint(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := s.b.Daemon.DisableFailpoint(name); err != nil {
		s.fail(w, r, failpointError(err, name))
		return
	}
	s.writeFailpoint(w, r, name)
}

func (s *Server) writeFailpoint(w http.ResponseWriter, r *http.Request, name string) {
	for _, st := range s.b.Daemon.Failpoints() {
		if st.Name == name {
			s.writeJSON(w, r, http.StatusOK, failpointStatus(st))
			return
		}
	}
	s.fail(w, r, notFound(fmt.Sprintf("failpoint %q is unknown", name)))
}

func failpointError(err error, name string) *apiError {
	switch {
	case errors.Is(err, daemon.ErrUnknownFailpoint):
		return &apiError{status: http.StatusNotFound, code: CodeNotFound, err: err, msg: err.Error()}
	case errors.Is(err, daemon.ErrInvalidFailpoint):
		return &apiError{status: http.StatusBadRequest, code: CodeInvalid, field: "action", err: err, msg: err.Error()}
	}
	return &apiError{status: http.StatusInternalServerError, code: CodeInternal, err: err,
		msg: fmt.Sprintf("failpoint %q: %v", name, err)}
}

func failpointAction(in FailpointRequest) daemon.FailpointAction {
	var action daemon.FailpointAction
	switch in.Action {
	case FailpointError:
		var err error
		if in.Message != "" {
			err = errors.New(in.Message)
		}
		action = daemon.ReturnError(err)
	case FailpointPanic:
		var value any
		if in.Message != "" {
			value = in.Message
		}
		action = daemon.PanicWith(value)
	case FailpointSleep:
		action = daemon.SleepFor(time.Duration(in.Duration))
	case FailpointCorrupt:
		action = daemon.CorruptRecord()
	}
	action.Times = in.Times
	return action
}

func failpointStatus(st daemon.FailpointStatus) FailpointStatus {
	out := FailpointStatus{Name: st.Name, Enabled: st.Enabled, Fired: st.Fired}
	if !st.Enabled {
		return out
	}
	out.Action = string(st.Action.Kind)
	out.Duration = Duration(st.Action.Delay)
	out.Times = st.Action.Times
	switch {
	case st.Action.Err != nil:
		out.Message = st.Action.Err.Error()
	case st.Action.Value != nil:
		out.Message = fmt.Sprint(st.Action.Value)
	}
	return out
}
