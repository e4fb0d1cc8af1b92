package daemon

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestScheduleRejectsInvalidOperations(t *testing.T) {
	d := newTestDaemon(t)
	mustSchedule(t, d, Operation{ID: "taken", Handler: Succeed(nil)})

	cases := []struct {
		name     string
		op       Operation
		field    string
		sentinel error
	}{
		{"empty ID", Operation{Handler: Succeed(nil)}, "ID", ErrInvalidOperation},
		{"nil handler", Operation{ID: "a"}, "Handler", ErrInvalidOperation},
		{"duplicate ID", Operation{ID: "taken", Handler: Succeed(nil)}, "ID", ErrDuplicateID},
		{"unknown scope", Operation{ID: "a", Handler: Succeed(nil), Scope: "cluster"}, "Scope", ErrInvalidOperation},
		{"negative timeout", Operation{ID: "a", Handler: Succeed(nil), Timeout: -time.Second}, "Timeout", ErrInvalidOperation},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := d.Schedule(tc.op)

			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Schedule: %v, want a *ValidationError", err)
			}
			if verr.Field != tc.field {
				t.Errorf("Field = %q, want %q", verr.Field, tc.field)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("Schedule: %v, want errors.Is %v", err, tc.sentinel)
			}
			if !errors.Is(err, ErrInvalidOperation) {
				t.Errorf("Schedule: %v, want errors.Is ErrInvalidOperation", err)
			}
		})
	}
	if got := len(d.List()); got != 1 {
		t.Errorf("List has %d operations after rejected ones, want 1", got)
	}
}

func TestScheduleDefaults(t *testing.T) {
	cfg := testConfig(t)
	cfg.DefaultTimeout = 7 * time.Second
	d := startDaemon(t, cfg)
	meta := map[string]any{"k": "v"}
	mustSchedule(t, d, Operation{ID: "a", Name: "alpha", Handler: Succeed(nil), Metadata: meta})
	mustSchedule(t, d, Operation{ID: "b", Handler: Succeed(nil), Timeout: time.Second, Scope: ScopeLeader})

	meta["k"] = "changed after Schedule"
	ops := d.List()

	if len(ops) != 2 || ops[0].ID != "a" || ops[1].ID != "b" {
		t.Fatalf("List = %+v, want a and b in ID order", ops)
	}
	if ops[0].Scope != ScopeLocal || ops[0].Timeout != 7*time.Second || ops[0].Name != "alpha" {
		t.Errorf("a = %+v, want local scope, the default timeout and name alpha", ops[0])
	}
	if ops[0].Metadata["k"] != "v" {
		t.Errorf("a's metadata = %v, want the value at Schedule time", ops[0].Metadata)
	}
	if ops[1].Scope != ScopeLeader || ops[1].Timeout != time.Second {
		t.Errorf("b = %+v, want leader scope and a 1s timeout", ops[1])
	}
}

func TestQueueFull(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxQueued = 5
	d := startDaemon(t, cfg)

	ids, err := Flood(d, "flood", 8, Succeed(nil))

	if !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Flood past MaxQueued: %v, want ErrQueueFull", err)
	}
	if len(ids) != 5 {
		t.Errorf("Flood scheduled %d operations, want 5", len(ids))
	}
	if h := d.Health(); h.Scheduled != 5 || !h.Running {
		t.Errorf("Health = %+v, want 5 scheduled and running", h)
	}

	// The daemon still works, and unscheduling makes room again.
	if _, err := d.Execute(context.Background(), ids[0]); err != nil {
		t.Errorf("Execute with a full queue: %v", err)
	}
	if err := d.Unschedule(ids[0]); err != nil {
		t.Fatalf("Unschedule: %v", err)
	}
	mustSchedule(t, d, Operation{ID: "after", Handler: Succeed(nil)})
}

func TestUnschedule(t *testing.T) {
	d := newTestDaemon(t)
	mustSchedule(t, d, Operation{ID: "a", Handler: Succeed(nil)})

	if err := d.Unschedule("a"); err != nil {
		t.Fatalf("Unschedule: %v", err)
	}
	if err := d.Unschedule("a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Unschedule: %v, want ErrNotFound", err)
	}
	if _, err := d.Execute(context.Background(), "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Execute after Unschedule: %v, want ErrNotFound", err)
	}
	if got := d.Metrics().Rejected; got != 1 {
		t.Errorf("Rejected = %d, want 1", got)
	}
}

func TestUnscheduleDuringRun(t *testing.T) {
	d := newTestDaemon(t)
	g := newGate(1)
	mustSchedule(t, d, Operation{ID: "a", Handler: g.handler("a")})
	errc := make(chan error, 1)
	go func() {
		_, err := d.Execute(context.Background(), "a")
		errc <- err
	}()
	g.awaitStarts(t, 1)

	if err := d.Unschedule("a"); err != nil {
		t.Fatalf("Unschedule during a run: %v", err)
	}
	mustSchedule(t, d, Operation{ID: "a", Handler: Succeed(nil)})
	close(g.release)

	if err := <-errc; err != nil {
		t.Fatalf("Execute of the unscheduled run: %v", err)
	}
	if h := d.Health(); h.Queued != 1 || h.Active != 0 {
		t.Errorf("Health = %+v, want 1 queued and none active", h)
	}
}

func TestRepeatedExecute(t *testing.T) {
	d := newTestDaemon(t)
	var calls int
	mustSchedule(t, d, Operation{ID: "a", Handler: func(context.Context) (any, error) {
		calls++
		return calls, nil
	}})

	for want := 1; want <= 3; want++ {
		got, err := d.Execute(context.Background(), "a")
		if err != nil || got != want {
			t.Fatalf("Execute #%d = %v, %v; want %d, nil", want, got, err, want)
		}
	}

	ops := d.List()
	if len(ops) != 1 || ops[0].Runs != 3 {
		t.Errorf("List = %+v, want a still scheduled with 3 runs", ops)
	}
	rec, ok := d.Result("a")
	if !ok || rec.Run != 3 || rec.Value != 3 {
		t.Errorf("Result = %+v, %v; want run 3 with value 3", rec, ok)
	}
}

func TestScheduleBeforeStartExecuteAfter(t *testing.T) {
	d, err := New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	mustSchedule(t, d, Operation{ID: "a", Handler: Succeed("ok")})

	if _, err := d.Execute(context.Background(), "a"); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Execute before Start: %v, want ErrNotRunning", err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, err := d.Execute(context.Background(), "a"); err != nil || got != "ok" {
		t.Errorf("Execute after Start = %v, %v; want ok", got, err)
	}
	if _, err := d.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}
