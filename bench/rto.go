package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/raftint"
	"github.com/faultline-dev/faultline/scenarios"
)

// RTOConfig sets the recovery-time measurement.
type RTOConfig struct {
	// Reps is the number of repetitions of each scenario and profile.
	Reps int `json:"reps"`

	// Profiles lists the timing profiles to measure.
	Profiles []raftint.Profile `json:"profiles"`

	// Nodes is the cluster size.
	Nodes int `json:"nodes"`

	// Seed feeds the fault tables and the scenario runner.
	Seed int64 `json:"seed"`

	// PollInterval is how often the independent observer polls every
	// node's Status.
	PollInterval time.Duration `json:"poll_interval_ns"`
}

// Scenario names of the RTO measurement.
const (
	ScenarioIsolation = "leader-isolation"
	ScenarioCrash     = "leader-crash"
)

// RTORep is one repetition: the RTO from the timeline (first write
// committed through a new leader, from the writer that the scenario runs)
// and from the polling observer.
type RTORep struct {
	Index     int           `json:"index"`
	Recovered bool          `json:"recovered"`
	Timeline  time.Duration `json:"timeline_rto_ns"`

	// Leader is the node that committed the first write on the timeline.
	Leader   string      `json:"timeline_leader,omitempty"`
	Observer Observation `json:"observer"`
	Error    string      `json:"error,omitempty"`
}

// RTORun is every repetition of one scenario with one profile.
type RTORun struct {
	Scenario string          `json:"scenario"`
	Profile  raftint.Profile `json:"profile"`

	// Floor is the smallest RTO the profile allows; see raftint.Timing.Floor.
	Floor time.Duration `json:"floor_ns"`
	Reps  []RTORep      `json:"repetitions"`

	// Timeline and Observer summarise the two RTO measurements over the
	// repetitions that both recovered.
	Timeline Distribution `json:"timeline"`
	Observer Distribution `json:"observer"`

	// Difference summarises |timeline RTO − observer RTO| per repetition,
	// and MedianSignedDifference the median of timeline − observer: how far
	// the timeline measurement is from an outside client's view.
	Difference             Distribution  `json:"difference"`
	MedianSignedDifference time.Duration `json:"median_signed_difference_ns"`

	// BelowFloor counts repetitions whose timeline RTO is under Floor,
	// which would mean the measurement is wrong.
	BelowFloor int `json:"below_floor"`
	Recovered  int `json:"recovered"`
}

// RTOResult holds one run per scenario and profile.
type RTOResult struct {
	Config RTOConfig `json:"config"`
	Runs   []RTORun  `json:"runs"`
}

// recoveryLimitFactor bounds the wait for recovery in one crash repetition,
// in heartbeat timeouts: 30 s with the default profile.
const recoveryLimitFactor = 30

func runRTO(ctx context.Context, cfg RTOConfig, env runEnv) (*RTOResult, error) {
	res := &RTOResult{Config: cfg}
	measures := []struct {
		name string
		run  func(context.Context, RTOConfig, raftint.Profile, runEnv) (RTORun, error)
	}{
		{ScenarioIsolation, runIsolation},
		{ScenarioCrash, runCrash},
	}
	for _, profile := range cfg.Profiles {
		for _, m := range measures {
			env.printf("rto: %s, profile %s, %d nodes, repetitions: %d", m.name, profile, cfg.Nodes, cfg.Reps)
			run, err := m.run(ctx, cfg, profile, env)
			run.finish()
			res.Runs = append(res.Runs, run)
			if err != nil {
				return res, fmt.Errorf("%s with the %s profile: %w", m.name, profile, err)
			}
			env.printf("rto: %s %s: %d/%d recovered, timeline p50 %v max %v, observer p50 %v, |difference| p50 %v max %v, floor %v",
				m.name, profile, run.Recovered, len(run.Reps), ms(run.Timeline.P50), ms(run.Timeline.Max),
				ms(run.Observer.P50), run.Difference.P50, run.Difference.Max, run.Floor)
		}
	}
	return res, nil
}

// runIsolation runs the LeaderIsolation scenario with the polling observer
// attached to its cluster.
func runIsolation(ctx context.Context, cfg RTOConfig, profile raftint.Profile, env runEnv) (RTORun, error) {
	timing := profile.Timing()
	run := RTORun{Scenario: ScenarioIsolation, Profile: profile, Floor: timing.Floor()}

	var observer *pollObserver
	local := scenarios.LocalFactory(env.log)
	scfg := scenarios.DefaultConfig()
	scfg.Nodes = cfg.Nodes
	scfg.Reps = cfg.Reps
	scfg.Profile = profile
	scfg.Seed = cfg.Seed
	scfg.Cooldown = timing.HeartbeatTimeout
	scfg.Progress = env.progress
	scfg.Logger = env.log
	scfg.Factory = func(ctx context.Context, size int, profile raftint.Profile, seed int64) (cluster.Cluster, error) {
		c, err := local(ctx, size, profile, seed)
		if err != nil {
			return nil, err
		}
		observer = startObserver(c, cfg.PollInterval, 2*timing.HeartbeatTimeout)
		return observedCluster{Cluster: c, observer: observer}, nil
	}

	report, err := scenarios.Run(ctx, scenarios.LeaderIsolation{}, scfg)
	if report == nil {
		return run, err
	}
	var observations []Observation
	if observer != nil {
		observations = observer.Observations()
	}
	for _, rep := range report.Repetitions {
		r := RTORep{Index: rep.Index, Recovered: rep.Recovered, Timeline: rep.RTO, Error: rep.Error}
		if fault, ok := firstEvent(rep.Events, raftint.EventFault, ""); ok {
			r.Observer, _ = findObservation(observations, fault.At)
		}
		if write, ok := firstEvent(rep.Events, raftint.EventWrite, ""); ok {
			r.Leader = write.Node
		}
		run.Reps = append(run.Reps, r)
	}
	return run, err
}

// observedCluster stops its observer before it closes the cluster, so the
// observer never polls a closed cluster.
type observedCluster struct {
	cluster.Cluster
	observer *pollObserver
}

// Close implements cluster.Cluster.
func (c observedCluster) Close() error {
	c.observer.Stop()
	return c.Cluster.Close()
}

// firstEvent returns the first event of kind in events, from a node other
// than exclude when exclude is set.
func firstEvent(events []raftint.Event, kind raftint.EventKind, exclude string) (raftint.Event, bool) {
	for _, e := range events {
		if e.Kind == kind && (exclude == "" || e.Node != exclude) {
			return e, true
		}
	}
	return raftint.Event{}, false
}

// finish computes the summaries from the repetitions.
func (r *RTORun) finish() {
	var timeline, observer, diffs []time.Duration
	var signed []float64
	r.Recovered, r.BelowFloor = 0, 0
	for _, rep := range r.Reps {
		if !rep.Recovered {
			continue
		}
		r.Recovered++
		if rep.Timeline < r.Floor {
			r.BelowFloor++
		}
		timeline = append(timeline, rep.Timeline)
		if !rep.Observer.Recovered {
			continue
		}
		observer = append(observer, rep.Observer.RTO)
		d := rep.Timeline - rep.Observer.RTO
		signed = append(signed, float64(d))
		diffs = append(diffs, max(d, -d))
	}
	r.Timeline = Summarize(timeline)
	r.Observer = Summarize(observer)
	r.Difference = Summarize(diffs)
	r.MedianSignedDifference = time.Duration(Median(signed))
}

// ms rounds d to the millisecond for progress lines.
func ms(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
