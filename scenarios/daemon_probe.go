package scenarios

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/faultline-dev/faultline/daemon"
)

// leaderProbe runs a leader-scoped operation on the daemons of the allowed
// nodes every few milliseconds and records the results, to measure the
// window in which no daemon would run leader-scoped work.
type leaderProbe struct {
	mu        sync.Mutex
	noLeader  int
	notLeader int
	firstOK   time.Time
	stop      chan struct{}
	done      chan struct{}
}

func startLeaderProbe(env Env, allowed func(string) bool) *leaderProbe {
	p := &leaderProbe{stop: make(chan struct{}), done: make(chan struct{})}
	ds, ok := env.Cluster.(Daemons)
	if !ok {
		close(p.done)
		return p
	}
	go p.run(env, ds, allowed)
	return p
}

func (p *leaderProbe) run(env Env, ds Daemons, allowed func(string) bool) {
	defer close(p.done)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	op := daemon.Operation{ID: fmt.Sprintf("probe-%s-%d", env.Name, env.Index), Handler: daemon.Succeed(true), Scope: daemon.ScopeLeader, Timeout: time.Second}
	for {
		for _, id := range env.Cluster.Nodes() {
			if !allowed(id) {
				continue
			}
			d, err := ds.Daemon(id)
			if err != nil {
				continue
			}
			_, err = runOp(context.Background(), d, op)
			p.record(err)
		}
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
	}
}

func (p *leaderProbe) record(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case err == nil:
		if p.firstOK.IsZero() {
			p.firstOK = time.Now()
		}
	case errors.Is(err, daemon.ErrNoLeader):
		p.noLeader++
	case errors.Is(err, daemon.ErrNotLeader):
		p.notLeader++
	}
}

// Stop ends the probe and writes its findings into rep: the leader-scoped
// unavailability since faultAt and the refusals by reason.
func (p *leaderProbe) Stop(rep *Repetition, faultAt time.Time) {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	rep.Counts["leader_ops_no_leader"] = int64(p.noLeader)
	rep.Counts["leader_ops_not_leader"] = int64(p.notLeader)
	if !p.firstOK.IsZero() && p.firstOK.After(faultAt) {
		rep.Durations["leader_ops_unavailable"] = p.firstOK.Sub(faultAt)
	}
}
