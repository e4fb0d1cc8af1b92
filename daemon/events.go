package daemon

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// EventType names what happened.
type EventType string

// Event types. Every run sends started and then exactly one of succeeded,
// failed, timed_out, cancelled or record_corrupted.
const (
	EventEnqueued          EventType = "enqueued"
	EventUnscheduled       EventType = "unscheduled"
	EventStarted           EventType = "started"
	EventSucceeded         EventType = "succeeded"
	EventFailed            EventType = "failed"
	EventTimedOut          EventType = "timed_out"
	EventCancelled         EventType = "cancelled"
	EventRecordCorrupted   EventType = "record_corrupted"
	EventLeadershipChanged EventType = "leadership_changed"
)

var outcomeEvent = map[Outcome]EventType{
	OutcomeSucceeded: EventSucceeded,
	OutcomeFailed:    EventFailed,
	OutcomeTimedOut:  EventTimedOut,
	OutcomeCancelled: EventCancelled,
}

// Event reports a change to subscribers. Fields that do not apply to the
// type are zero.
type Event struct {
	// Seq numbers the events sent to subscribers from 1, in the order they
	// were created. Events created at the same time on different goroutines
	// may arrive out of Seq order.
	Seq    uint64
	Type   EventType
	Time   time.Time
	NodeID string

	OpID   string
	OpName string
	Run    uint64
	// Duration is the run's duration, for outcome events.
	Duration time.Duration
	// Err is the error Execute returned, for failed, timed_out, cancelled
	// and record_corrupted.
	Err error

	// Term, LeaderID and IsLeader describe leadership_changed.
	Term     uint64
	LeaderID string
	IsLeader bool
}

// Subscription delivers events on C until Close or Stop closes it. Sending
// never blocks the daemon: when C's buffer is full the event is dropped and
// counted in Dropped.
type Subscription struct {
	// C receives the events.
	C <-chan Event

	ch        chan Event
	owner     *subscribers
	delivered atomic.Uint64
	dropped   atomic.Uint64
	panics    atomic.Uint64
	closed    bool // guarded by owner.mu
}

// Delivered returns the number of events put in C's buffer.
func (s *Subscription) Delivered() uint64 { return s.delivered.Load() }

// Dropped returns the number of events dropped because C's buffer was full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Panics returns the number of panics recovered from the callback of a
// subscription made with SubscribeFunc.
func (s *Subscription) Panics() uint64 { return s.panics.Load() }

// Close stops delivery and closes C. It is idempotent.
func (s *Subscription) Close() {
	s.owner.remove(s)
}

// DefaultEventBuffer is the buffer size used when Subscribe is given zero
// or less.
const DefaultEventBuffer = 256

// Subscribe returns a subscription whose channel buffers up to buffer
// events. After Stop it returns a subscription that is already closed.
func (d *Daemon) Subscribe(buffer int) *Subscription {
	if buffer <= 0 {
		buffer = DefaultEventBuffer
	}
	return d.subs.add(buffer)
}

// SubscribeFunc calls fn for every event, one at a time, on a goroutine owned
// by the daemon, until the subscription is closed. Events are buffered as in
// Subscribe, so a slow fn loses events instead of stalling the daemon. A
// panic in fn is recovered, logged and counted in Panics.
func (d *Daemon) SubscribeFunc(buffer int, fn func(Event)) *Subscription {
	s := d.Subscribe(buffer)
	d.goOwned(func() {
		for ev := range s.C {
			d.callSubscriber(s, fn, ev)
		}
	})
	return s
}

func (d *Daemon) callSubscriber(s *Subscription, fn func(Event), ev Event) {
	defer func() {
		if p := recover(); p != nil {
			n := s.panics.Add(1)
			d.log.Warn("event callback panicked", "event", string(ev.Type), "op_id", ev.OpID,
				"panic", fmt.Sprint(p), "panics", n)
		}
	}()
	fn(ev)
}

// subscribers is the set of subscriptions.
type subscribers struct {
	mu     sync.RWMutex
	list   []*Subscription
	closed bool
	count  atomic.Int32
	seq    atomic.Uint64
	// dropped counts drops over all subscriptions, closed ones included.
	dropped atomic.Uint64
	nodeID  string
	log     *slog.Logger
}

func (s *subscribers) add(buffer int) *Subscription {
	ch := make(chan Event, buffer)
	sub := &Subscription{C: ch, ch: ch, owner: s}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		sub.closed = true
		close(ch)
		return sub
	}
	s.list = append(s.list, sub)
	s.count.Add(1)
	return sub
}

func (s *subscribers) remove(sub *Subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub.closed {
		return
	}
	for i, other := range s.list {
		if other == sub {
			s.list = append(s.list[:i], s.list[i+1:]...)
			break
		}
	}
	sub.closed = true
	close(sub.ch)
	s.count.Add(-1)
}

// closeAll closes every subscription; later ones are born closed.
func (s *subscribers) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sub := range s.list {
		sub.closed = true
		close(sub.ch)
	}
	s.list = nil
	s.closed = true
	s.count.Store(0)
}

// emit sends ev to every subscription without blocking. It is small enough
// to inline, so a daemon without subscribers pays one atomic load per event.
func (s *subscribers) emit(ev Event) {
	if s.count.Load() != 0 {
		s.send(ev)
	}
}

func (s *subscribers) send(ev Event) {
	ev.Seq = s.seq.Add(1)
	ev.Time = time.Now()
	ev.NodeID = s.nodeID

	// Holding the read lock while sending keeps Close from closing a
	// channel in the middle of a send.
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, sub := range s.list {
		select {
		case sub.ch <- ev:
			sub.delivered.Add(1)
		default:
			if sub.dropped.Add(1) == 1 {
				s.log.Warn("event subscriber is full: dropping events", "event", string(ev.Type), "buffer", cap(sub.ch))
			}
			s.dropped.Add(1)
		}
	}
}
