package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/raftint"
)

// Observation is the polling observer's record of one fault or crash.
type Observation struct {
	// FaultAt is the At of the fault or crash event, the same instant the
	// timeline measurement starts from.
	FaultAt time.Time `json:"-"`

	// Old is the leader when the fault began; Leader the first other node
	// the observer saw leading.
	Old    string `json:"old_leader"`
	Leader string `json:"new_leader,omitempty"`

	// Seen is the time from the fault to the first poll that showed Leader.
	Seen time.Duration `json:"seen_ns"`

	// RTO is the time from the fault until a write of the observer's own
	// committed through Leader.
	RTO       time.Duration `json:"rto_ns"`
	Recovered bool          `json:"recovered"`
}

// pollObserver measures recovery as an outside client would, without the
// timeline's leadership events. It polls every running node's Status at a
// fixed interval and, after each fault or crash, writes through the first
// new leader a poll finds until a write commits. It reads the timeline only to
// learn when each fault began. Start it with startObserver and stop it with
// Stop.
type pollObserver struct {
	c            cluster.Cluster
	interval     time.Duration
	writeTimeout time.Duration

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once

	mu           sync.Mutex
	observations []Observation
}

// startObserver starts polling c every interval. writeTimeout bounds each
// probe write.
func startObserver(c cluster.Cluster, interval, writeTimeout time.Duration) *pollObserver {
	o := &pollObserver{
		c:            c,
		interval:     interval,
		writeTimeout: writeTimeout,
		stop:         make(chan struct{}),
		done:         make(chan struct{}),
	}

	// Take the starting point before returning, so a fault injected right
	// after the start is still seen, with the leader it removed.
	seq := c.Timeline().LastSeq()
	leader, _, _ := cluster.Leader(c)
	go o.run(seq, leader)
	return o
}

// run polls until Stop. seq is the last timeline event before the start
// and lastLeader the leader at the start, if any.
func (o *pollObserver) run(seq uint64, lastLeader string) {
	defer close(o.done)
	tl := o.c.Timeline()
	ticker := time.NewTicker(o.interval)
	defer ticker.Stop()

	var current *Observation
	probes := 0
	for {
		select {
		case <-o.stop:
			if current != nil {
				o.record(*current)
			}
			return
		case <-ticker.C:
		}

		// A new fault ends the observation of the previous one, recovered
		// or not.
		for _, e := range tl.Since(seq) {
			seq = e.Seq
			if e.Kind != raftint.EventFault && e.Kind != raftint.EventCrash {
				continue
			}
			if current != nil {
				o.record(*current)
			}
			old := lastLeader
			if e.Kind == raftint.EventCrash {
				old = e.Node
			}
			current = &Observation{FaultAt: e.At, Old: old}
		}

		leader, _, err := cluster.Leader(o.c)
		if err != nil {
			continue
		}
		if current == nil {
			lastLeader = leader
			continue
		}
		if leader == current.Old {
			continue
		}
		if current.Leader == "" {
			current.Leader = leader
			current.Seen = time.Since(current.FaultAt)
		}
		probes++
		if o.probe(leader, probes) {
			current.RTO = time.Since(current.FaultAt)
			current.Recovered = true
			o.record(*current)
			current = nil
			lastLeader = leader
		}
	}
}

// probe writes one key through leader and reports whether it committed.
func (o *pollObserver) probe(leader string, n int) bool {
	ctx, cancel := context.WithTimeout(context.Background(), o.writeTimeout)
	defer cancel()
	_, err := o.c.Put(ctx, leader, fmt.Sprintf("observer-probe-%d", n), "probe")
	return err == nil
}

func (o *pollObserver) record(obs Observation) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.observations = append(o.observations, obs)
}

// Stop ends polling and waits for the goroutine. It is idempotent.
func (o *pollObserver) Stop() {
	o.stopOnce.Do(func() { close(o.stop) })
	<-o.done
}

// Observations returns a copy of every observation made so far.
func (o *pollObserver) Observations() []Observation {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Observation(nil), o.observations...)
}

// find returns the observation of the fault that began at faultAt.
func findObservation(observations []Observation, faultAt time.Time) (Observation, bool) {
	for _, obs := range observations {
		if obs.FaultAt.Equal(faultAt) {
			return obs, true
		}
	}
	return Observation{}, false
}
