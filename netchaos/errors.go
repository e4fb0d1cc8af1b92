package netchaos

import "errors"

// Errors returned for messages that a rule stopped. Callers test them with
// errors.Is; the wrapping error names the link, the message kind and the rule.
var (
	// ErrPartitioned reports a message that was held by a partition rule and
	// failed when the rule went away or the caller's timeout passed.
	ErrPartitioned = errors.New("netchaos: message lost in a partition")
	// ErrRejected reports a message refused at once by a reject rule.
	ErrRejected = errors.New("netchaos: message rejected")
	// ErrDropped reports a message lost by a drop rule.
	ErrDropped = errors.New("netchaos: message dropped")
	// ErrClosed reports a message that was waiting when the transport closed.
	ErrClosed = errors.New("netchaos: transport closed")
	// ErrInvalidRule reports a rule that fails validation.
	ErrInvalidRule = errors.New("netchaos: invalid rule")
	// ErrVersionMismatch reports a conditional replace whose expected table
	// version is not the current one.
	ErrVersionMismatch = errors.New("netchaos: table version mismatch")
	// ErrPipelineBroken reports a pipeline that stopped after a fault; raft
	// then falls back to single AppendEntries calls.
	ErrPipelineBroken = errors.New("netchaos: append pipeline broken by a fault")
)
