package partition

import "errors"

// Errors of the partition package. Functions wrap them with %w and name the
// flag or node at fault, so test them with errors.Is.
var (
	// ErrInvalidSpec reports a malformed flag value or a set of flags that
	// do not go together. The command exits with the usage code for it.
	ErrInvalidSpec = errors.New("invalid fault spec")

	// ErrUnknownNode reports a node ID that is not a member of the cluster.
	ErrUnknownNode = errors.New("unknown node")

	// ErrNoLeader reports that no node reported a leader when the spec
	// isolates the leader.
	ErrNoLeader = errors.New("no leader known")

	// ErrUnreachable reports a node that sent no response to a read before
	// any change, so nothing was changed on any node.
	ErrUnreachable = errors.New("node unreachable")

	// ErrNotWritable reports a node that rejects fault tables from this
	// client, because the token is missing or wrong or chaos is off on it.
	// Nothing was changed on any node.
	ErrNotWritable = errors.New("node does not accept fault tables")

	// ErrPartial reports an install or heal that some nodes did not take.
	ErrPartial = errors.New("not every node took the change")
)

// nodeError is a failure of one node, classified by a sentinel of this
// package. Its message is the node's name and the underlying error, which
// already describes the failure.
type nodeError struct {
	sentinel error
	node     string
	err      error
}

func nodeErr(sentinel error, node string, err error) error {
	return &nodeError{sentinel: sentinel, node: node, err: err}
}

func (e *nodeError) Error() string { return e.node + ": " + e.err.Error() }

// Unwrap returns the sentinel and the underlying error, so errors.Is
// matches both.
func (e *nodeError) Unwrap() []error { return []error{e.sentinel, e.err} }
