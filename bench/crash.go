package bench

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/raftint"
)

// stableTimeout bounds each wait for a stable cluster between repetitions.
const stableTimeout = time.Minute

// runCrash crashes the leader of an in-process cluster cfg.Reps times,
// measures the RTO from the timeline and from the polling observer, and
// restarts the crashed node after each repetition.
func runCrash(ctx context.Context, cfg RTOConfig, profile raftint.Profile, env runEnv) (RTORun, error) {
	timing := profile.Timing()
	run := RTORun{Scenario: ScenarioCrash, Profile: profile, Floor: timing.Floor()}

	dir, err := makeDataDir(env.dataDir, "faultline-bench-crash-")
	if err != nil {
		return run, err
	}
	defer os.RemoveAll(dir)
	lc := cluster.DefaultLocalConfig()
	lc.Size = cfg.Nodes
	lc.Profile = profile
	lc.Seed = cfg.Seed
	lc.DataDir = dir
	lc.Logger = env.log
	startCtx, cancel := context.WithTimeout(ctx, stableTimeout)
	c, err := cluster.StartLocal(startCtx, lc)
	cancel()
	if err != nil {
		return run, err
	}
	defer c.Close()

	observer := startObserver(c, cfg.PollInterval, 2*timing.HeartbeatTimeout)
	defer observer.Stop()
	var faults []time.Time
	for i := 1; i <= cfg.Reps; i++ {
		rep, crashAt, err := crashOnce(ctx, c, i, timing)
		run.Reps = append(run.Reps, rep)
		faults = append(faults, crashAt)
		env.printf("[%s %d/%d] %s", ScenarioCrash, i, cfg.Reps, describeRep(rep))
		if err != nil {
			run.attach(observer, faults)
			return run, err
		}
		if err := pause(ctx, timing.HeartbeatTimeout); err != nil {
			run.attach(observer, faults)
			return run, err
		}
	}
	run.attach(observer, faults)
	return run, nil
}

// attach stops the observer and pairs its observations with the
// repetitions by crash time.
func (r *RTORun) attach(observer *pollObserver, faults []time.Time) {
	observer.Stop()
	observations := observer.Observations()
	for i := range r.Reps {
		if i < len(faults) {
			r.Reps[i].Observer, _ = findObservation(observations, faults[i])
		}
	}
}

// crashOnce crashes the leader, waits for the first write committed through
// a new leader, restarts the crashed node and waits until the cluster is
// stable again. It returns the repetition and the crash event's time.
func crashOnce(ctx context.Context, c *cluster.Local, index int, timing raftint.Timing) (RTORep, time.Time, error) {
	rep := RTORep{Index: index}
	stableCtx, cancel := context.WithTimeout(ctx, stableTimeout)
	defer cancel()
	stable, err := c.WaitStable(stableCtx)
	if err != nil {
		rep.Error = err.Error()
		return rep, time.Time{}, fmt.Errorf("%w before repetition %d: %w", ErrNoLeader, index, err)
	}
	old := stable.Leader
	tl := c.Timeline()
	seq := tl.LastSeq()

	w := startFirstWriter(c, old, fmt.Sprintf("crash%d", index), 2*timing.HeartbeatTimeout)
	defer w.Stop()
	if err := c.Crash(old); err != nil {
		rep.Error = err.Error()
		return rep, time.Time{}, err
	}
	crash, _ := firstEventAfter(tl, seq, func(e raftint.Event) bool { return e.Kind == raftint.EventCrash && e.Node == old })

	// Recover: the first write committed through a leader other than old.
	limit := recoveryLimitFactor * timing.HeartbeatTimeout
	recoverCtx, cancelRecover := context.WithDeadline(ctx, crash.At.Add(limit))
	defer cancelRecover()
	write, err := tl.Wait(recoverCtx, seq, func(e raftint.Event) bool { return e.Kind == raftint.EventWrite && e.Node != old })
	if err == nil {
		rep.Recovered = true
		rep.Timeline = write.At.Sub(crash.At)
		rep.Leader = write.Node
	} else {
		rep.Error = fmt.Sprintf("no write through a new leader within %v", limit)
	}
	w.Stop()
	if ctx.Err() != nil {
		return rep, crash.At, ctx.Err()
	}

	// Restart the crashed node and let it catch up before the next
	// repetition.
	if err := c.Restart(ctx, old); err != nil {
		return rep, crash.At, fmt.Errorf("restart %s: %w", old, err)
	}
	afterCtx, cancelAfter := context.WithTimeout(ctx, stableTimeout)
	defer cancelAfter()
	if _, err := c.WaitStable(afterCtx); err != nil {
		return rep, crash.At, fmt.Errorf("%w after restarting %s: %w", ErrNoLeader, old, err)
	}
	if !rep.Recovered {
		return rep, crash.At, fmt.Errorf("%w: repetition %d: %s", ErrNotRecovered, index, rep.Error)
	}
	return rep, crash.At, nil
}

func firstEventAfter(tl *raftint.Timeline, seq uint64, match func(raftint.Event) bool) (raftint.Event, bool) {
	for _, e := range tl.Since(seq) {
		if match(e) {
			return e, true
		}
	}
	return raftint.Event{}, false
}

// pause waits for d or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func describeRep(rep RTORep) string {
	if !rep.Recovered {
		return "NOT RECOVERED " + rep.Error
	}
	return fmt.Sprintf("recovered rto=%dms", rep.Timeline.Milliseconds())
}
