package admin

import (
	"encoding/json"
	"log/slog"
	"net/http"
)

// apiError is a failed request: the status, the ErrorBody fields and the
// underlying error for the log.
type apiError struct {
	status     int
	code       string
	msg        string
	field      string
	version    uint64
	leaderID   string
	leaderHTTP string
	err        error
}

func invalid(field, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: CodeInvalid, field: field, msg: msg}
}

func notFound(msg string) *apiError {
	return &apiError{status: http.StatusNotFound, code: CodeNotFound, msg: msg}
}

func chaosDisabled(what string) *apiError {
	return &apiError{status: http.StatusForbidden, code: CodeChaosDisabled,
		msg: "chaos is disabled on this node: " + what + " rejected; restart the node with --chaos on to allow it"}
}

// writeJSON writes v with status. An encoding failure after the header is
// sent can only be logged.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	if err := enc.Encode(v); err != nil {
		s.log.Warn("admin response not written", "method", r.Method, "path", r.URL.Path, "status", status, "error", err)
	}
}

// fail logs e and writes it as an ErrorBody. Server-side failures log at
// warn, rejected requests at debug, except auth failures at warn.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, e *apiError) {
	level := slog.LevelDebug
	if e.status >= 500 || e.status == http.StatusUnauthorized || e.status == http.StatusForbidden {
		level = slog.LevelWarn
	}
	attrs := []any{"method", r.Method, "path", r.URL.Path, "status", e.status, "code", e.code, "reason", e.msg}
	if e.err != nil {
		attrs = append(attrs, "error", e.err)
	}
	s.log.Log(r.Context(), level, "admin request failed", attrs...)

	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="faultline"`)
	}
	s.writeJSON(w, r, e.status, ErrorBody{
		Error: e.msg, Code: e.code, Field: e.field, Version: e.version,
		LeaderID: e.leaderID, LeaderHTTP: e.leaderHTTP,
	})
}
