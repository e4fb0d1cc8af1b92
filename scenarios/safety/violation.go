package safety

import (
	"fmt"
	"strings"
)

// CheckName names a safety check.
type CheckName string

// The safety checks, as they appear in reports.
const (
	Linearizability CheckName = "linearizability"
	Durability      CheckName = "durability"
	Convergence     CheckName = "convergence"
	ElectionSafety  CheckName = "election_safety"
)

// Violation is one failed safety check.
type Violation struct {
	Check   CheckName `json:"check"`
	Message string    `json:"message"`

	// Keys and Nodes name what the violation concerns, sorted.
	Keys  []string `json:"keys,omitempty"`
	Nodes []string `json:"nodes,omitempty"`

	// Term is the raft term of an election safety violation.
	Term uint64 `json:"term,omitempty"`
}

// String formats v as "check: message", the form that reports list.
func (v Violation) String() string {
	return fmt.Sprintf("%s: %s", v.Check, v.Message)
}

// Strings formats each violation with Violation.String.
func Strings(violations []Violation) []string {
	out := make([]string, len(violations))
	for i, v := range violations {
		out[i] = v.String()
	}
	return out
}

// joinNames lists names for a message, such as "node-1, node-2".
func joinNames(names []string) string {
	return strings.Join(names, ", ")
}
