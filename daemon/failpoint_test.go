package daemon

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestFailpointActions(t *testing.T) {
	injected := errors.New("disk on fire")
	cases := []struct {
		name      string
		failpoint string
		action    FailpointAction
		timeout   time.Duration
		check     func(t *testing.T, value any, err error, handlerCalled bool)
	}{
		{"error before execute", FailpointBeforeExecute, ReturnError(injected), 0,
			func(t *testing.T, _ any, err error, called bool) {
				var fe *FailpointError
				if !errors.As(err, &fe) || fe.Failpoint != FailpointBeforeExecute || !errors.Is(err, injected) || !errors.Is(err, ErrFailpoint) {
					t.Errorf("error %v, want a *FailpointError of before-execute wrapping the injected error", err)
				}
				if called {
					t.Error("handler called although before-execute failed")
				}
			}},
		{"default error", FailpointBeforeExecute, FailpointAction{Kind: ActionError}, 0,
			func(t *testing.T, _ any, err error, _ bool) {
				if !errors.Is(err, ErrFailpoint) {
					t.Errorf("error %v, want ErrFailpoint", err)
				}
			}},
		{"panic before execute", FailpointBeforeExecute, PanicWith("failpoint panic"), 0,
			func(t *testing.T, _ any, err error, called bool) {
				var pe *PanicError
				if !errors.As(err, &pe) || pe.Value != "failpoint panic" {
					t.Errorf("error %v, want a *PanicError with the failpoint's value", err)
				}
				if called {
					t.Error("handler called although before-execute panicked")
				}
			}},
		{"sleep before execute hits the timeout", FailpointBeforeExecute, SleepFor(time.Hour), 5 * time.Millisecond,
			func(t *testing.T, _ any, err error, called bool) {
				if !errors.Is(err, ErrTimeout) {
					t.Errorf("error %v, want ErrTimeout", err)
				}
				if called {
					t.Error("handler called although the sleep outlasted the timeout")
				}
			}},
		{"sleep before execute within the timeout", FailpointBeforeExecute, SleepFor(time.Millisecond), 0,
			func(t *testing.T, value any, err error, called bool) {
				if err != nil || value != "value" || !called {
					t.Errorf("Execute = %v, %v (handler called %v); want the handler's value", value, err, called)
				}
			}},
		{"error after execute replaces success", FailpointAfterExecute, ReturnError(injected), 0,
			func(t *testing.T, value any, err error, called bool) {
				if !errors.Is(err, injected) || value != nil || !called {
					t.Errorf("Execute = %v, %v (handler called %v); want the injected error after the handler ran", value, err, called)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDaemon(t)
			called := false
			mustSchedule(t, d, Operation{ID: "op", Timeout: tc.timeout, Handler: func(context.Context) (any, error) {
				called = true
				return "value", nil
			}})
			if err := d.EnableFailpoint(tc.failpoint, tc.action); err != nil {
				t.Fatalf("EnableFailpoint: %v", err)
			}

			value, err := d.Execute(context.Background(), "op")

			tc.check(t, value, err, called)
			if err := d.DisableFailpoint(tc.failpoint); err != nil {
				t.Fatalf("DisableFailpoint: %v", err)
			}
			if got, err := d.Execute(context.Background(), "op"); err != nil || got != "value" {
				t.Errorf("Execute after DisableFailpoint = %v, %v", got, err)
			}
		})
	}
}

func TestCorruptedRecordIsDetected(t *testing.T) {
	cases := []struct {
		name   string
		action FailpointAction
	}{
		{"corrupt", CorruptRecord()},
		{"error", ReturnError(errors.New("write failed"))},
		{"panic", PanicWith("record panic")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDaemon(t)
			sub := d.Subscribe(64)
			mustSchedule(t, d, Operation{ID: "op", Handler: Succeed("value")})
			if _, err := d.Execute(context.Background(), "op"); err != nil {
				t.Fatal(err)
			}
			before := d.Metrics()
			tc.action.Times = 1
			if err := d.EnableFailpoint(FailpointRecordResult, tc.action); err != nil {
				t.Fatalf("EnableFailpoint: %v", err)
			}

			value, err := d.Execute(context.Background(), "op")

			var cre *CorruptRecordError
			if !errors.As(err, &cre) || !errors.Is(err, ErrCorruptRecord) || cre.OpID != "op" || cre.Reason == "" {
				t.Fatalf("Execute = %v, %v; want a *CorruptRecordError for op with a reason", value, err)
			}
			if ev := nextEvent(t, sub, EventRecordCorrupted); ev.OpID != "op" || ev.Run != 2 {
				t.Errorf("record_corrupted event %+v, want op run 2", ev)
			}
			after := d.Metrics()
			if after.CorruptRecords != 1 {
				t.Errorf("CorruptRecords = %d, want 1", after.CorruptRecords)
			}
			after.CorruptRecords = before.CorruptRecords
			after.DroppedEvents = before.DroppedEvents
			if after != before {
				t.Errorf("metrics changed by a corrupt record:\n got %+v\nwant %+v", after, before)
			}
			if len(d.History()) != 1 {
				t.Errorf("history has %d records, want only the valid one", len(d.History()))
			}

			// Times was 1: the failpoint is off again and runs count normally.
			if got, err := d.Execute(context.Background(), "op"); err != nil || got != "value" {
				t.Errorf("Execute after the corrupt record = %v, %v", got, err)
			}
			if m := d.Metrics(); m.Executed != 2 || m.Succeeded != 2 {
				t.Errorf("Metrics = %+v, want 2 executed and 2 succeeded", m)
			}
		})
	}
}

func TestRecordValidation(t *testing.T) {
	valid := Record{OpID: "op", Run: 1, Outcome: OutcomeSucceeded, Start: time.Now(), Duration: time.Millisecond}
	cases := []struct {
		name   string
		mutate func(*Record)
	}{
		{"empty ID", func(r *Record) { r.OpID = "" }},
		{"zero run", func(r *Record) { r.Run = 0 }},
		{"zero start", func(r *Record) { r.Start = time.Time{} }},
		{"negative duration", func(r *Record) { r.Duration = -1 }},
		{"unknown outcome", func(r *Record) { r.Outcome = "INVALID_STATE" }},
		{"success with error", func(r *Record) { r.Err = errors.New("x") }},
		{"failure without error", func(r *Record) { r.Outcome = OutcomeFailed }},
	}
	if reason := valid.validate(); reason != "" {
		t.Fatalf("valid record rejected: %s", reason)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := valid
			tc.mutate(&rec)
			if rec.validate() == "" {
				t.Errorf("record %+v accepted, want rejected", rec)
			}
		})
	}
}

func TestFailpointRegistry(t *testing.T) {
	d := newTestDaemon(t)

	if err := d.EnableFailpoint("during-execute", ReturnError(nil)); !errors.Is(err, ErrUnknownFailpoint) {
		t.Errorf("EnableFailpoint of an unknown name: %v, want ErrUnknownFailpoint", err)
	}
	if err := d.DisableFailpoint("during-execute"); !errors.Is(err, ErrUnknownFailpoint) {
		t.Errorf("DisableFailpoint of an unknown name: %v, want ErrUnknownFailpoint", err)
	}
	invalid := []struct {
		name   string
		point  string
		action FailpointAction
	}{
		{"corrupt outside record-result", FailpointBeforeExecute, CorruptRecord()},
		{"zero sleep", FailpointAfterExecute, SleepFor(0)},
		{"unknown kind", FailpointAfterExecute, FailpointAction{Kind: "explode"}},
		{"negative times", FailpointAfterExecute, FailpointAction{Kind: ActionError, Times: -1}},
	}
	for _, tc := range invalid {
		if err := d.EnableFailpoint(tc.point, tc.action); !errors.Is(err, ErrInvalidFailpoint) {
			t.Errorf("%s: %v, want ErrInvalidFailpoint", tc.name, err)
		}
	}

	if err := d.EnableFailpoint(FailpointAfterExecute, FailpointAction{Kind: ActionError, Times: 2}); err != nil {
		t.Fatal(err)
	}
	mustSchedule(t, d, Operation{ID: "op", Handler: Succeed(nil)})
	var failures int
	for range 4 {
		if _, err := d.Execute(context.Background(), "op"); err != nil {
			failures++
		}
	}
	if failures != 2 {
		t.Errorf("%d failures from a failpoint with Times 2, want 2", failures)
	}

	if err := d.EnableFailpoint(FailpointBeforeExecute, SleepFor(time.Second)); err != nil {
		t.Fatal(err)
	}
	got := d.Failpoints()
	if len(got) != 3 {
		t.Fatalf("Failpoints = %+v, want 3", got)
	}
	wantNames := []string{FailpointBeforeExecute, FailpointAfterExecute, FailpointRecordResult}
	wantEnabled := []bool{true, false, false}
	wantFired := []uint64{0, 2, 0}
	for i, st := range got {
		if st.Name != wantNames[i] || st.Enabled != wantEnabled[i] || st.Fired != wantFired[i] {
			t.Errorf("Failpoints[%d] = %+v, want %s enabled=%v fired=%d", i, st, wantNames[i], wantEnabled[i], wantFired[i])
		}
	}
	if got[0].Action.Delay != time.Second {
		t.Errorf("before-execute action %+v, want a 1s sleep", got[0].Action)
	}
	if err := d.DisableFailpoint(FailpointBeforeExecute); err != nil {
		t.Fatal(err)
	}
	if err := d.DisableFailpoint(FailpointBeforeExecute); err != nil {
		t.Errorf("disabling a disabled failpoint: %v, want nil", err)
	}
}
