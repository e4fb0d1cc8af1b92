package scenarios

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/raftint"
)

// Errors of the runner and catalog.
var (
	// ErrUnknownScenario reports a name that is not in the catalog.
	ErrUnknownScenario = errors.New("scenarios: unknown scenario")
	// ErrInvalidConfig reports a runner config that fails validation.
	ErrInvalidConfig = errors.New("scenarios: invalid config")
	// ErrNotRecovered reports a repetition whose cluster did not recover
	// within the scenario's maximum RTO.
	ErrNotRecovered = errors.New("scenarios: cluster did not recover")
	// ErrUnstable reports a cluster that failed the steady-state check.
	ErrUnstable = errors.New("scenarios: cluster not in steady state")
)

// BlastRadius is how much of the system a scenario's faults can affect.
type BlastRadius string

// Blast radius levels, from one operation to the whole cluster.
const (
	RadiusOperation BlastRadius = "operation"
	RadiusInstance  BlastRadius = "instance"
	RadiusNode      BlastRadius = "node"
	RadiusCluster   BlastRadius = "cluster"
)

// Target is the recovery-time objective of a scenario: at most Target passes,
// up to Max warns, beyond Max fails.
type Target struct {
	Target time.Duration `json:"target"`
	Max    time.Duration `json:"max"`
}

// Recovery-time objectives by fault class.
var (
	TargetOperationFailure = Target{0, 0}
	TargetTimeout          = Target{5 * time.Second, 30 * time.Second}
	TargetMemoryPressure   = Target{30 * time.Second, 60 * time.Second}
	TargetNodeCrash        = Target{60 * time.Second, 300 * time.Second}
	TargetNetworkPartition = Target{120 * time.Second, 600 * time.Second}
	TargetClusterFailure   = Target{300 * time.Second, 1800 * time.Second}
)

// Validate checks that the maximum is not below the target.
func (t Target) Validate() error {
	if t.Target < 0 || t.Max < t.Target {
		return fmt.Errorf("%w: rto target %v and maximum %v: need 0 <= target <= maximum", ErrInvalidConfig, t.Target, t.Max)
	}
	return nil
}

// Env is what a repetition runs against.
type Env struct {
	Cluster cluster.Cluster
	// Rand is the run's seeded generator; scenarios draw every random
	// choice from it.
	Rand *rand.Rand
	Log  *slog.Logger
	// Target is the objective in force; a repetition gives up on recovery
	// once Target.Max has passed.
	Target Target
	// Timing is the cluster's raft timing profile.
	Timing raftint.Timing
	// Index is the repetition's number, from 1.
	Index int
	// Name is the scenario's name, for keys and logs.
	Name string
	// StableTimeout bounds waits for the steady state outside the measured
	// recovery.
	StableTimeout time.Duration
	// Duration is how long scenarios that run for a set time inject
	// faults; zero lets each choose.
	Duration time.Duration
	// Checks turns on the client workload and the safety checks of network
	// and node scenarios.
	Checks bool
	// ReportDir receives files that checks write, such as porcupine's
	// visualisation of a violation; empty writes none.
	ReportDir string
}

// stableWait returns StableTimeout, or one minute when it is unset.
func (e Env) stableWait() time.Duration {
	if e.StableTimeout > 0 {
		return e.StableTimeout
	}
	return time.Minute
}

// Repetition is the outcome of one run of a scenario.
type Repetition struct {
	Index     int  `json:"index"`
	Recovered bool `json:"recovered"`
	// RTO is the recovery time that the verdict judges.
	RTO time.Duration `json:"rto_ns"`
	// Durations holds every measured phase by name, RTO included.
	Durations map[string]time.Duration `json:"durations_ns"`
	// Counts holds measured counts, such as terms or writes.
	Counts map[string]int64 `json:"counts,omitempty"`
	// Violations lists failed safety checks.
	Violations []string `json:"violations,omitempty"`
	Error      string   `json:"error,omitempty"`
	// Start is when the repetition began, after its steady-state check.
	Start time.Time `json:"start"`
	// Events is the cluster's timeline during the repetition: raft state
	// and leader changes of every node, faults, heals, crashes, restarts and
	// acknowledged writes.
	Events []raftint.Event `json:"events,omitempty"`
	// Guard is what the safety guard saw during the repetition.
	Guard *GuardReport `json:"guard,omitempty"`
	// Phases records the phases of composite scenarios such as game-day.
	Phases []PhaseRecord `json:"phases,omitempty"`
	// Safety holds the safety checks' findings.
	Safety *SafetyReport `json:"safety,omitempty"`
	// Decisions lists the random choices of scenarios such as chaos-monkey,
	// in order, so a failure can be replayed with the same seed.
	Decisions []string `json:"decisions,omitempty"`
}

// Scenario is one entry of the catalog.
type Scenario interface {
	Name() string
	Description() string
	BlastRadius() BlastRadius
	// DefaultTarget is the RTO objective used unless the run overrides it.
	DefaultTarget() Target
	// MinNodes is the smallest cluster the scenario makes sense on.
	MinNodes() int
	// Phases names the durations of a repetition in report order.
	Phases() []string
	// Run runs one repetition. It may leave faults behind on error; the
	// runner removes them.
	Run(ctx context.Context, env Env) (Repetition, error)
}

// Catalog returns every built-in scenario, sorted by name.
func Catalog() []Scenario {
	all := []Scenario{
		LeaderIsolation{}, SplitBrain{}, DelayedElection{}, FlappingLeadership{}, FollowerIsolation{},
		OneWayPartition{}, LossyLinks{}, SlowLinks{}, NodeCrash{}, ClusterRestart{},
		LeaderFailover{}, ConflictingLeaders{}, GameDay{}, ChaosMonkey{},
	}
	all = append(all, daemonCatalog()...)
	slices.SortFunc(all, func(a, b Scenario) int { return strings.Compare(a.Name(), b.Name()) })
	return all
}

// Lookup returns the catalog entry called name.
func Lookup(name string) (Scenario, error) {
	var names []string
	for _, s := range Catalog() {
		if s.Name() == name {
			return s, nil
		}
		names = append(names, s.Name())
	}
	return nil, fmt.Errorf("%w: %q; known scenarios: %s", ErrUnknownScenario, name, strings.Join(names, ", "))
}
