package admin

import (
	"errors"
	"fmt"
)

// Sentinel errors of the client. Every error the Client returns for a 4xx or
// 5xx response is an *Error (or a *NotLeaderError) that wraps one of them,
// so test with errors.Is and read the details with errors.As.
var (
	// ErrInvalid reports a request the node rejected as invalid (400, 413).
	// Error.Body.Field names the field at fault.
	ErrInvalid = errors.New("admin: invalid request")
	// ErrUnauthorized reports a mutating call without the bearer token (401)
	// or with a wrong one (403).
	ErrUnauthorized = errors.New("admin: unauthorized")
	// ErrChaosDisabled reports a fault, failpoint or chaos operation sent to
	// a node that runs with chaos off (403).
	ErrChaosDisabled = errors.New("admin: chaos is disabled on this node")
	// ErrNotFound reports an unknown path, operation or failpoint (404).
	ErrNotFound = errors.New("admin: not found")
	// ErrVersionConflict reports a fault table version that is not above the
	// node's current version (409). Error.Body.Version is the current one.
	ErrVersionConflict = errors.New("admin: fault table version conflict")
	// ErrConflict reports any other conflict, such as a duplicate operation
	// ID (409).
	ErrConflict = errors.New("admin: conflict")
	// ErrNotLeader reports a write or linearizable read sent to a follower
	// (421). errors.As with *NotLeaderError gives the leader.
	ErrNotLeader = errors.New("admin: not the leader")
	// ErrUnavailable reports a node that cannot serve the request now (503),
	// for example while no leader is known.
	ErrUnavailable = errors.New("admin: unavailable")
	// ErrTimeout reports a write whose outcome is unknown (504): it may
	// still commit.
	ErrTimeout = errors.New("admin: timed out, outcome unknown")
	// ErrServer reports any other failure of the node (5xx).
	ErrServer = errors.New("admin: server error")
	// ErrUnreachable reports a request that got no response: the node is
	// down, or the network or the context ended the request.
	ErrUnreachable = errors.New("admin: node unreachable")
)

// Error is a 4xx or 5xx response of the admin API.
type Error struct {
	// Method and URL identify the request.
	Method string
	URL    string
	// StatusCode is the HTTP status.
	StatusCode int
	// Body is the decoded response body. When the body was not JSON,
	// Body.Error holds its first bytes.
	Body ErrorBody
	// Err is the sentinel that classifies the error.
	Err error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s %s: %d: %s", e.Method, e.URL, e.StatusCode, e.Body.Error)
	if e.Body.Field != "" {
		msg += " (field " + e.Body.Field + ")"
	}
	return msg
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

// NotLeaderError is a 421 response from a follower. LeaderID and
// LeaderHTTP name the leader the follower last observed, and are empty when
// it observed none.
type NotLeaderError struct {
	// Response is the whole response, which wraps ErrNotLeader.
	Response *Error
	LeaderID string
	// LeaderHTTP is the leader's admin API base URL, such as
	// "http://127.0.0.1:8081".
	LeaderHTTP string
}

func (e *NotLeaderError) Error() string {
	if e.LeaderID == "" {
		return e.Response.Error() + " (no leader known)"
	}
	return fmt.Sprintf("%s (leader %s at %s)", e.Response.Error(), e.LeaderID, e.LeaderHTTP)
}

// Unwrap returns the response error, which wraps ErrNotLeader.
func (e *NotLeaderError) Unwrap() error { return e.Response }

// sentinelFor classifies a response by its code and, when the code is
// missing or unknown, by its status.
func sentinelFor(status int, code string) error {
	switch code {
	case CodeInvalid:
		return ErrInvalid
	case CodeUnauthorized, CodeForbidden:
		return ErrUnauthorized
	case CodeChaosDisabled:
		return ErrChaosDisabled
	case CodeNotFound:
		return ErrNotFound
	case CodeVersionConflict:
		return ErrVersionConflict
	case CodeConflict:
		return ErrConflict
	case CodeNotLeader:
		return ErrNotLeader
	case CodeUnavailable:
		return ErrUnavailable
	case CodeTimeout:
		return ErrTimeout
	}
	switch {
	case status == 400 || status == 413:
		return ErrInvalid
	case status == 401 || status == 403:
		return ErrUnauthorized
	case status == 404:
		return ErrNotFound
	case status == 409:
		return ErrConflict
	case status == 421:
		return ErrNotLeader
	case status == 503:
		return ErrUnavailable
	case status == 504:
		return ErrTimeout
	}
	return ErrServer
}
