package daemon

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestEventsOfARun(t *testing.T) {
	d := newTestDaemon(t)
	sub := d.Subscribe(16)
	failure := &customError{Code: 3}
	mustSchedule(t, d, Operation{ID: "ok", Name: "good", Handler: Succeed(nil)})
	mustSchedule(t, d, Operation{ID: "bad", Handler: FailSync(failure)})
	mustSchedule(t, d, Operation{ID: "slow", Handler: Hang(), Timeout: time.Millisecond})

	_, _ = d.Execute(context.Background(), "ok")
	_, _ = d.Execute(context.Background(), "bad")
	_, _ = d.Execute(context.Background(), "slow")
	sub.Close()

	var got []EventType
	var events []Event
	for ev := range sub.C {
		got = append(got, ev.Type)
		events = append(events, ev)
	}
	want := []EventType{
		EventEnqueued, EventEnqueued, EventEnqueued,
		EventStarted, EventSucceeded,
		EventStarted, EventFailed,
		EventStarted, EventTimedOut,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i, ev := range events {
		if ev.Seq != uint64(i+1) || ev.NodeID != "node-1" || ev.Time.IsZero() {
			t.Errorf("event %d = %+v, want Seq %d, node-1 and a time", i, ev, i+1)
		}
	}
	if ev := events[4]; ev.OpID != "ok" || ev.OpName != "good" || ev.Run != 1 || ev.Duration <= 0 {
		t.Errorf("succeeded event %+v, want op ok, name good, run 1, a duration", ev)
	}
	var custom *customError
	if ev := events[6]; !errors.As(ev.Err, &custom) || custom.Code != 3 {
		t.Errorf("failed event error %v, want the handler's *customError", ev.Err)
	}
	if ev := events[8]; !errors.Is(ev.Err, ErrTimeout) {
		t.Errorf("timed_out event error %v, want ErrTimeout", ev.Err)
	}
	if sub.Delivered() != uint64(len(want)) || sub.Dropped() != 0 {
		t.Errorf("Delivered %d, Dropped %d; want %d and 0", sub.Delivered(), sub.Dropped(), len(want))
	}
}

func TestErrorContextInHistory(t *testing.T) {
	d := newTestDaemon(t)
	failure := &customError{Code: 9}
	mustSchedule(t, d, Operation{ID: "bad", Name: "failing op", Handler: FailAsync(time.Millisecond, failure), Scope: ScopeLocal})

	_, err := d.Execute(context.Background(), "bad")

	rec, ok := d.Result("bad")
	if !ok {
		t.Fatal("no record for bad")
	}
	if rec.Err != err || rec.Outcome != OutcomeFailed || rec.Name != "failing op" || rec.Scope != ScopeLocal || rec.Run != 1 {
		t.Errorf("record %+v, want the returned error and the operation's details", rec)
	}
	var custom *customError
	if !errors.As(rec.Err, &custom) || custom.Code != 9 {
		t.Errorf("record error %v, want *customError with code 9", rec.Err)
	}
	if rec.Start.IsZero() || rec.Duration < time.Millisecond {
		t.Errorf("record start %v, duration %v; want a start and at least 1ms", rec.Start, rec.Duration)
	}
}

func TestBlockedSubscriberDoesNotStall(t *testing.T) {
	d := newTestDaemon(t)
	blocked := d.Subscribe(1) // never read
	mustSchedule(t, d, Operation{ID: "a", Handler: Succeed(nil)})

	for range 100 {
		if _, err := d.Execute(context.Background(), "a"); err != nil {
			t.Fatal(err)
		}
	}

	// 1 enqueued + 100 × (started + succeeded) events, 1 buffered.
	const total = 201
	if blocked.Delivered() != 1 || blocked.Dropped() != total-1 {
		t.Errorf("Delivered %d, Dropped %d; want 1 and %d", blocked.Delivered(), blocked.Dropped(), total-1)
	}
	if m := d.Metrics(); m.DroppedEvents != total-1 || m.Succeeded != 100 {
		t.Errorf("Metrics = %+v, want %d dropped events and 100 successes", m, total-1)
	}
}

func TestCallbackSubscriberPanicIsRecovered(t *testing.T) {
	d := newTestDaemon(t)
	seen := make(chan EventType, 8)
	sub := d.SubscribeFunc(8, func(ev Event) {
		seen <- ev.Type
		if ev.Type == EventEnqueued {
			panic("callback failure")
		}
	})
	mustSchedule(t, d, Operation{ID: "a", Handler: Succeed(nil)})
	if _, err := d.Execute(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}

	for _, want := range []EventType{EventEnqueued, EventStarted, EventSucceeded} {
		select {
		case got := <-seen:
			if got != want {
				t.Errorf("callback saw %s, want %s", got, want)
			}
		case <-time.After(testTimeout):
			t.Fatalf("callback did not see %s", want)
		}
	}
	if sub.Panics() != 1 {
		t.Errorf("Panics = %d, want 1", sub.Panics())
	}
	if !d.Health().Running {
		t.Error("daemon stopped after a callback panic")
	}
}

func TestStopClosesSubscriptions(t *testing.T) {
	d, err := New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	sub := d.Subscribe(1)
	sub.Close()
	sub.Close() // idempotent
	open := d.Subscribe(1)

	if _, err := d.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}

	if _, ok := <-open.C; ok {
		t.Error("subscription still open after Stop")
	}
	late := d.Subscribe(1)
	if _, ok := <-late.C; ok {
		t.Error("subscription made after Stop is open")
	}
	open.Close()
}
