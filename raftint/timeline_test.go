package raftint

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestTimelineRecord(t *testing.T) {
	timeline := NewTimeline()
	if timeline.LastSeq() != 0 {
		t.Fatalf("LastSeq of an empty timeline = %d, want 0", timeline.LastSeq())
	}

	first := timeline.Record(Event{Node: "n1", Kind: EventFault, Detail: "partition n1"})
	fixed := timeline.Start().Add(time.Second)
	second := timeline.Record(Event{Node: "n2", Kind: EventHeal, At: fixed})

	if first.Seq != 1 || second.Seq != 2 {
		t.Errorf("Seq = %d, %d, want 1, 2", first.Seq, second.Seq)
	}
	if first.At.Before(timeline.Start()) {
		t.Errorf("recorded At %v is before the timeline start %v", first.At, timeline.Start())
	}
	if !second.At.Equal(fixed) {
		t.Errorf("Record replaced a set At: got %v, want %v", second.At, fixed)
	}
	if timeline.LastSeq() != 2 {
		t.Errorf("LastSeq = %d, want 2", timeline.LastSeq())
	}

	events := timeline.Events()
	if len(events) != 2 || events[0] != first || events[1] != second {
		t.Errorf("Events() = %v, want [%v %v]", events, first, second)
	}
	events[0].Node = "modified"
	if timeline.Events()[0].Node != "n1" {
		t.Error("Events returned the timeline's own slice")
	}
}

func TestTimelineSince(t *testing.T) {
	timeline := NewTimeline()
	for range 5 {
		timeline.Record(Event{Kind: EventWrite})
	}

	tests := []struct {
		seq     uint64
		wantLen int
	}{
		{0, 5},
		{3, 2},
		{5, 0},
		{99, 0},
	}
	for _, tt := range tests {
		events := timeline.Since(tt.seq)
		if len(events) != tt.wantLen {
			t.Errorf("Since(%d) returned %d events, want %d", tt.seq, len(events), tt.wantLen)
			continue
		}
		if tt.wantLen > 0 && events[0].Seq != tt.seq+1 {
			t.Errorf("Since(%d) starts at Seq %d, want %d", tt.seq, events[0].Seq, tt.seq+1)
		}
	}
}

func TestTimelineWaitForLaterEvent(t *testing.T) {
	timeline := NewTimeline()
	timeline.Record(Event{Node: "n1", Kind: EventCrash})
	after := timeline.Record(Event{Node: "n1", Kind: EventWrite}).Seq
	timeline.Record(Event{Node: "n2", Kind: EventWrite})

	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()

	// Wait calls match on the write at Seq 3 after it has taken its wakeup
	// channel, so the crash recorded from then on can only be found by
	// waking up.
	matchCalled := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-matchCalled
		timeline.Record(Event{Node: "n1", Kind: EventCrash})
	}()

	got, err := timeline.Wait(ctx, after, func(e Event) bool {
		once.Do(func() { close(matchCalled) })
		return e.Kind == EventCrash
	})
	wg.Wait()

	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if got.Seq != 4 {
		t.Errorf("Wait returned %v, want the crash at Seq 4, not the one before after", got)
	}
}

func TestTimelineWaitContextEnds(t *testing.T) {
	timeline := NewTimeline()
	timeline.Record(Event{Kind: EventFault})

	tests := []struct {
		name    string
		ctx     func() (context.Context, context.CancelFunc)
		wantErr error
	}{
		{
			name: "deadline",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 20*time.Millisecond)
			},
			wantErr: context.DeadlineExceeded,
		},
		{
			name: "canceled",
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, cancel
			},
			wantErr: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()

			_, err := timeline.Wait(ctx, 0, func(e Event) bool { return e.Kind == EventHeal })
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Wait error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestTimelineDropped(t *testing.T) {
	timeline := NewTimeline()
	var first, second uint64 = 3, 4
	a := timeline.attachDrops(func() uint64 { return first })
	timeline.attachDrops(func() uint64 { return second })

	if got := timeline.Dropped(); got != 7 {
		t.Errorf("Dropped = %d, want 7", got)
	}

	timeline.detachDrops(a)
	timeline.detachDrops(a)
	first = 100
	if got := timeline.Dropped(); got != 7 {
		t.Errorf("Dropped after detach = %d, want 7 (detached count kept once)", got)
	}
}
