package raftint

import "errors"

// Sentinel errors returned by this package. Functions wrap them with %w and
// add the offending value, so test them with errors.Is. Errors that come from
// raft itself, such as raft.ErrNotLeader, are wrapped unchanged.
var (
	// ErrInvalidConfig is returned by Config.Validate and Open when a field
	// is missing or out of range.
	ErrInvalidConfig = errors.New("invalid raftint config")

	// ErrUnknownProfile is returned by ParseProfile for a name that is not a
	// timing profile.
	ErrUnknownProfile = errors.New("unknown timing profile")

	// ErrMalformedCommand is returned when bytes in a log entry do not decode
	// to a Command. The state machine returns it as the apply result, so a bad
	// entry is consumed without changing the map.
	ErrMalformedCommand = errors.New("malformed command")

	// ErrMalformedSnapshot is returned by KV.Restore when the snapshot stream
	// does not decode.
	ErrMalformedSnapshot = errors.New("malformed snapshot")

	// ErrUnexpectedResult is returned when raft hands back an apply response
	// of a type the state machine never produces.
	ErrUnexpectedResult = errors.New("unexpected apply result")
)
