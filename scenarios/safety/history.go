package safety

import (
	"sync"
	"time"
)

// OpKind is the kind of a client operation.
type OpKind string

// Client operations.
const (
	OpPut OpKind = "put" // set Key to Value
	OpGet OpKind = "get" // linearizable read of Key through the leader
	OpCAS OpKind = "cas" // set Key to Value if it holds Expected
)

// Outcome classifies how an operation ended, as far as its client can tell.
type Outcome string

// Operation outcomes.
const (
	// OutcomeOK: the operation took effect, and Op.Output holds its result.
	OutcomeOK Outcome = "ok"
	// OutcomeFailed: the operation definitely did not take effect, for
	// example because the node was not the leader when it was submitted.
	OutcomeFailed Outcome = "failed"
	// OutcomeUnknown: the client gave up waiting, or the leader was deposed
	// after the entry was submitted, so it may or may not have taken effect.
	OutcomeUnknown Outcome = "unknown"
)

// Output is the result of an operation whose outcome is ok.
type Output struct {
	// Value and Found are what a get read.
	Value string `json:"value,omitempty"`
	Found bool   `json:"found,omitempty"`
	// OK reports whether a cas wrote, that is whether Expected matched.
	OK bool `json:"ok,omitempty"`
	// Index is the raft log index of a put's or cas's entry.
	Index uint64 `json:"index,omitempty"`
}

// Op is one client operation: its call, and its outcome once it returned.
type Op struct {
	// ID numbers operations in call order, from 0.
	ID     int    `json:"id"`
	Client int    `json:"client"`
	Kind   OpKind `json:"kind"`
	Key    string `json:"key"`
	// Value is the value that a put or cas writes.
	Value string `json:"value,omitempty"`
	// Expected is the value that a cas requires. Nil requires the key to be
	// absent.
	Expected *string `json:"expected,omitempty"`
	// Node is the node the operation was sent to.
	Node string `json:"node"`

	Outcome Outcome `json:"outcome"`
	Output  Output  `json:"output"`
	// Error is the error text of a failed or unknown operation.
	Error string `json:"error,omitempty"`

	// Call and Return are monotonic clock offsets from the history's start.
	// For an unknown outcome Return is when the client gave up, not when
	// the operation ended.
	Call   time.Duration `json:"call_ns"`
	Return time.Duration `json:"return_ns"`
}

// History records client operations. It is safe for concurrent use.
type History struct {
	start time.Time

	mu    sync.Mutex
	ops   []Op
	ended []bool
}

// NewHistory returns an empty history that starts now.
func NewHistory() *History {
	return &History{start: time.Now()}
}

// Start returns the time the history began. Op.Call and Op.Return are
// offsets from it.
func (h *History) Start() time.Time {
	return h.start
}

// PendingOp is an operation whose call is recorded and whose return is not.
type PendingOp struct {
	h  *History
	id int
}

// Begin records the call of op now and returns the handle that records its
// return. Begin sets op.ID and op.Call and ignores op's outcome fields.
func (h *History) Begin(op Op) *PendingOp {
	h.mu.Lock()
	defer h.mu.Unlock()

	op.ID = len(h.ops)
	op.Call = time.Since(h.start)
	op.Outcome, op.Output, op.Error, op.Return = "", Output{}, "", 0
	h.ops = append(h.ops, op)
	h.ended = append(h.ended, false)
	return &PendingOp{h: h, id: op.ID}
}

// End records the operation's return now, with its outcome, its output when
// the outcome is ok, and the error of a failed or unknown operation. Only
// the first End of an operation counts, and End reports whether it was.
func (p *PendingOp) End(outcome Outcome, out Output, err error) bool {
	ret := time.Since(p.h.start)

	p.h.mu.Lock()
	defer p.h.mu.Unlock()

	if p.h.ended[p.id] {
		return false
	}
	op := &p.h.ops[p.id]
	op.Outcome, op.Return = outcome, ret
	if outcome == OutcomeOK {
		op.Output = out
	}
	if err != nil {
		op.Error = err.Error()
	}
	p.h.ended[p.id] = true
	return true
}

// errNoReturn is the Op.Error of an operation that has not returned yet.
const errNoReturn = "no return recorded"

// Ops returns a copy of every operation in call order. An operation that
// has not returned yet is reported with an unknown outcome and a return
// time of now.
func (h *History) Ops() []Op {
	now := time.Since(h.start)

	h.mu.Lock()
	defer h.mu.Unlock()

	ops := make([]Op, len(h.ops))
	for i, op := range h.ops {
		if op.Expected != nil {
			expected := *op.Expected
			op.Expected = &expected
		}
		if !h.ended[i] {
			op.Outcome, op.Return, op.Error = OutcomeUnknown, max(now, op.Call), errNoReturn
		}
		ops[i] = op
	}
	return ops
}

// Len returns the number of operations begun.
func (h *History) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.ops)
}

// Summary counts operations by kind and outcome.
type Summary struct {
	Ops     int                        `json:"ops"`
	ByKind  map[OpKind]map[Outcome]int `json:"by_kind"`
	OK      int                        `json:"ok"`
	Failed  int                        `json:"failed"`
	Unknown int                        `json:"unknown"`
}

// Summarize counts ops by kind and outcome.
func Summarize(ops []Op) Summary {
	s := Summary{Ops: len(ops), ByKind: make(map[OpKind]map[Outcome]int)}
	for _, op := range ops {
		if s.ByKind[op.Kind] == nil {
			s.ByKind[op.Kind] = make(map[Outcome]int)
		}
		s.ByKind[op.Kind][op.Outcome]++
		switch op.Outcome {
		case OutcomeOK:
			s.OK++
		case OutcomeFailed:
			s.Failed++
		default:
			s.Unknown++
		}
	}
	return s
}
