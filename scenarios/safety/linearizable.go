package safety

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/anishathalye/porcupine"
)

// LinearizabilityResult is the outcome of CheckLinearizable.
type LinearizabilityResult struct {
	// OK is true when porcupine proved the history linearizable.
	OK bool `json:"ok"`
	// Unknown is true when porcupine reached the timeout before it decided.
	// No violation was found then, but none was ruled out either.
	Unknown bool `json:"unknown"`
	// Operations is the number of operations checked: every operation
	// except failed ones and gets with an unknown outcome, which cannot
	// have changed the state.
	Operations int `json:"operations"`
	// ViolatingKeys lists, sorted, the keys whose history is not
	// linearizable. It can be incomplete when the timeout ran out while
	// the keys were checked one by one, and then KeysIncomplete is true.
	ViolatingKeys  []string `json:"violating_keys,omitempty"`
	KeysIncomplete bool     `json:"keys_incomplete,omitempty"`
	// Duration is how long checking took.
	Duration time.Duration `json:"duration_ns"`
	// VisualizationPath is porcupine's HTML rendering of the violating
	// keys' histories, written only on a violation and when a directory
	// was given. VisualizationError is why writing it failed.
	VisualizationPath  string `json:"visualization_path,omitempty"`
	VisualizationError string `json:"visualization_error,omitempty"`
}

// Violations returns the violation that r describes, or none when the
// history is linearizable or the check timed out.
func (r LinearizabilityResult) Violations() []Violation {
	if r.OK || r.Unknown {
		return nil
	}
	msg := fmt.Sprintf("history of %d operations is not linearizable", r.Operations)
	switch {
	case len(r.ViolatingKeys) > 0 && r.KeysIncomplete:
		msg += fmt.Sprintf(" on keys %s and possibly others not checked before the timeout", joinNames(r.ViolatingKeys))
	case len(r.ViolatingKeys) > 0:
		msg += fmt.Sprintf(" on keys %s", joinNames(r.ViolatingKeys))
	default:
		msg += "; the timeout ran out before the violating keys were identified"
	}
	if r.VisualizationPath != "" {
		msg += fmt.Sprintf("; visualization: %s", r.VisualizationPath)
	}
	return []Violation{{Check: Linearizability, Message: msg, Keys: r.ViolatingKeys}}
}

// CheckLinearizable checks h against a key-value register per key with
// porcupine. timeout bounds the whole check, 0 means no limit. On a
// violation, when vizDir is not empty, it creates vizDir if needed and
// writes porcupine's HTML visualization of the violating keys there.
func CheckLinearizable(h *History, timeout time.Duration, vizDir string) LinearizabilityResult {
	begin := time.Now()
	budget := newBudget(begin, timeout)
	ops := porcupineOps(h.Ops())
	result := LinearizabilityResult{Operations: len(ops)}

	remaining, _ := budget.remaining()
	switch porcupine.CheckOperationsTimeout(kvModel, ops, remaining) {
	case porcupine.Ok:
		result.OK = true
	case porcupine.Unknown:
		result.Unknown = true
	case porcupine.Illegal:
		violating := findViolatingKeys(ops, budget, &result)
		if vizDir != "" {
			result.VisualizationPath, result.VisualizationError = visualize(violating, budget, vizDir)
		}
	}
	result.Duration = time.Since(begin)
	return result
}

// porcupineOps converts ops for porcupine. Failed operations did not take
// effect and unknown gets changed nothing, so both are left out. Unknown
// writes return after every other operation.
func porcupineOps(ops []Op) []porcupine.Operation {
	var end time.Duration
	for _, op := range ops {
		end = max(end, op.Call, op.Return)
	}
	end++

	out := make([]porcupine.Operation, 0, len(ops))
	for _, op := range ops {
		if op.Outcome == OutcomeFailed || (op.Outcome != OutcomeOK && op.Kind == OpGet) {
			continue
		}
		in := kvInput{Kind: op.Kind, Key: op.Key, Value: op.Value}
		if op.Expected != nil {
			in.HasExpected, in.Expected = true, *op.Expected
		}
		output := kvOutput{Value: op.Output.Value, Found: op.Output.Found, OK: op.Output.OK}
		ret := op.Return
		if op.Outcome != OutcomeOK {
			output = kvOutput{Unknown: true}
			ret = end
		}
		out = append(out, porcupine.Operation{
			ClientId: op.Client,
			Input:    in,
			Call:     int64(op.Call),
			Output:   output,
			Return:   int64(ret),
			Metadata: op.Node,
		})
	}
	return out
}

// findViolatingKeys checks each key on its own and records in result the
// keys that are not linearizable. It returns their operations.
func findViolatingKeys(ops []porcupine.Operation, budget budget, result *LinearizabilityResult) []porcupine.Operation {
	var violating []porcupine.Operation
	for _, part := range sortedPartitions(ops) {
		remaining, ok := budget.remaining()
		if !ok {
			result.KeysIncomplete = true
			break
		}
		switch porcupine.CheckOperationsTimeout(kvModel, part, remaining) {
		case porcupine.Illegal:
			result.ViolatingKeys = append(result.ViolatingKeys, part[0].Input.(kvInput).Key)
			violating = append(violating, part...)
		case porcupine.Unknown:
			result.KeysIncomplete = true
		}
	}
	if len(violating) == 0 {
		return ops
	}
	return violating
}

func sortedPartitions(ops []porcupine.Operation) [][]porcupine.Operation {
	parts := partitionByKey(ops)
	slices.SortFunc(parts, func(a, b []porcupine.Operation) int {
		return cmp.Compare(a[0].Input.(kvInput).Key, b[0].Input.(kvInput).Key)
	})
	return parts
}

// visualize writes porcupine's visualization of ops to a new file in dir and
// returns its path, or the reason it could not.
func visualize(ops []porcupine.Operation, budget budget, dir string) (path, failure string) {
	remaining, ok := budget.remaining()
	if !ok {
		return "", "timed out before the visualization was computed"
	}
	_, info := porcupine.CheckOperationsVerbose(kvModel, ops, remaining)

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Sprintf("create visualization directory: %v", err)
	}
	f, err := os.CreateTemp(dir, "linearizability-*.html")
	if err != nil {
		return "", fmt.Sprintf("create visualization file: %v", err)
	}
	writeErr := porcupine.Visualize(kvModel, info, f)
	closeErr := f.Close()
	if writeErr != nil || closeErr != nil {
		return f.Name(), fmt.Sprintf("write visualization %s: %v", f.Name(), firstError(writeErr, closeErr))
	}
	return f.Name(), ""
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// budget is the time left of a check's timeout. A zero timeout never runs
// out.
type budget struct {
	deadline time.Time
	limited  bool
}

func newBudget(begin time.Time, timeout time.Duration) budget {
	return budget{deadline: begin.Add(timeout), limited: timeout > 0}
}

// remaining returns the timeout to pass to porcupine, where 0 means no
// limit, and false when the budget has run out.
func (b budget) remaining() (time.Duration, bool) {
	if !b.limited {
		return 0, true
	}
	left := time.Until(b.deadline)
	return left, left > 0
}
