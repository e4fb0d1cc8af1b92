package safety

import (
	"errors"
	"sync"
	"testing"
)

func TestHistoryRecordsCallAndReturn(t *testing.T) {
	h := NewHistory()
	p := h.Begin(Op{Client: 2, Kind: OpPut, Key: "k", Value: "v", Node: "node-1", Outcome: OutcomeOK, Return: 99})
	if !p.End(OutcomeOK, Output{Index: 7}, nil) {
		t.Fatal("first End was not recorded")
	}
	if p.End(OutcomeFailed, Output{}, errors.New("late")) {
		t.Fatal("second End was recorded")
	}

	ops := h.Ops()
	if len(ops) != 1 {
		t.Fatalf("got %d ops, want 1", len(ops))
	}
	op := ops[0]
	if op.Outcome != OutcomeOK {
		t.Errorf("outcome %q, want ok", op.Outcome)
	}
	if op.Output.Index != 7 {
		t.Errorf("index %d, want 7", op.Output.Index)
	}
	if op.Error != "" {
		t.Errorf("error %q, want none", op.Error)
	}
	if op.Return < op.Call {
		t.Errorf("return %v before call %v", op.Return, op.Call)
	}
	if op.Client != 2 || op.Key != "k" || op.Value != "v" || op.Node != "node-1" {
		t.Errorf("call fields changed: %+v", op)
	}
}

func TestHistoryOutputOnlyWhenOK(t *testing.T) {
	h := NewHistory()
	h.Begin(Op{Kind: OpGet, Key: "k"}).End(OutcomeUnknown, Output{Value: "x", Found: true}, errors.New("timed out"))

	op := h.Ops()[0]
	if op.Output != (Output{}) {
		t.Errorf("unknown op kept output %+v", op.Output)
	}
	if op.Error != "timed out" {
		t.Errorf("error %q, want %q", op.Error, "timed out")
	}
}

func TestHistoryPendingOpIsUnknown(t *testing.T) {
	h := NewHistory()
	h.Begin(Op{Kind: OpPut, Key: "k", Value: "v"})

	op := h.Ops()[0]
	if op.Outcome != OutcomeUnknown {
		t.Errorf("outcome %q, want unknown", op.Outcome)
	}
	if op.Error != errNoReturn {
		t.Errorf("error %q, want %q", op.Error, errNoReturn)
	}
	if op.Return < op.Call {
		t.Errorf("return %v before call %v", op.Return, op.Call)
	}
}

func TestHistoryOpsCopiesExpected(t *testing.T) {
	h := NewHistory()
	h.Begin(Op{Kind: OpCAS, Key: "k", Expected: ptr("a"), Value: "b"}).End(OutcomeOK, Output{OK: true}, nil)

	first := h.Ops()
	*first[0].Expected = "changed"
	if got := *h.Ops()[0].Expected; got != "a" {
		t.Errorf("expected value %q after a caller changed a copy, want a", got)
	}
}

func TestHistoryConcurrentRecording(t *testing.T) {
	const clients, perClient = 8, 200
	h := NewHistory()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perClient {
				h.Begin(Op{Client: c, Kind: OpGet, Key: "k"}).End(OutcomeOK, Output{}, nil)
			}
		}()
	}
	wg.Wait()

	ops := h.Ops()
	if len(ops) != clients*perClient {
		t.Fatalf("got %d ops, want %d", len(ops), clients*perClient)
	}
	for i, op := range ops {
		if op.ID != i {
			t.Fatalf("op %d has ID %d", i, op.ID)
		}
		if op.Outcome != OutcomeOK {
			t.Fatalf("op %d has outcome %q", i, op.Outcome)
		}
	}
}

func TestSummarize(t *testing.T) {
	ops := []Op{
		{Kind: OpPut, Outcome: OutcomeOK},
		{Kind: OpPut, Outcome: OutcomeUnknown},
		{Kind: OpGet, Outcome: OutcomeFailed},
		{Kind: OpCAS, Outcome: OutcomeOK},
	}
	s := Summarize(ops)
	if s.Ops != 4 || s.OK != 2 || s.Failed != 1 || s.Unknown != 1 {
		t.Errorf("summary %+v, want 4 ops: 2 ok, 1 failed, 1 unknown", s)
	}
	if got := s.ByKind[OpPut][OutcomeUnknown]; got != 1 {
		t.Errorf("unknown puts %d, want 1", got)
	}
}
