package scenarios

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/faultline-dev/faultline/raftint"
)

// Verdict is the outcome of a run.
type Verdict string

// Verdicts.
const (
	VerdictPass Verdict = "pass"
	VerdictWarn Verdict = "warn"
	VerdictFail Verdict = "fail"
)

// Stat summarises one phase over the repetitions that measured it.
type Stat struct {
	N   int           `json:"n"`
	P50 time.Duration `json:"p50_ns"`
	P95 time.Duration `json:"p95_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
}

// Report is the result of running one scenario.
type Report struct {
	Scenario    string            `json:"scenario"`
	Description string            `json:"description"`
	BlastRadius BlastRadius       `json:"blast_radius"`
	Profile     raftint.Profile   `json:"profile"`
	Timing      raftint.Timing    `json:"timing"`
	Floor       time.Duration     `json:"floor_ns"`
	Seed        int64             `json:"seed"`
	Nodes       int               `json:"nodes"`
	Reps        int               `json:"reps"`
	Target      Target            `json:"rto_objective"`
	Phases      []string          `json:"phases"`
	Repetitions []Repetition      `json:"repetitions"`
	Summary     map[string]Stat   `json:"summary"`
	SuccessRate float64           `json:"success_rate"`
	Verdict     Verdict           `json:"verdict"`
	Aborted     bool              `json:"aborted,omitempty"`
	Reasons     []string          `json:"reasons,omitempty"`
	GoVersion   string            `json:"go_version"`
	Libraries   map[string]string `json:"libraries"`
	StartedAt   time.Time         `json:"started_at"`
	Duration    time.Duration     `json:"duration_ns"`
}

func newReport(s Scenario, cfg Config, target Target) *Report {
	timing := cfg.Profile.Timing()
	return &Report{
		Scenario:    s.Name(),
		Description: s.Description(),
		BlastRadius: s.BlastRadius(),
		Profile:     cfg.Profile,
		Timing:      timing,
		Floor:       timing.Floor(),
		Seed:        cfg.Seed,
		Nodes:       cfg.Nodes,
		Reps:        cfg.Reps,
		Target:      target,
		Phases:      s.Phases(),
		Summary:     map[string]Stat{},
		GoVersion:   runtime.Version(),
		Libraries:   libraryVersions(),
		StartedAt:   time.Now().UTC(),
	}
}

func (r *Report) add(rep Repetition) { r.Repetitions = append(r.Repetitions, rep) }

// finish computes the summary and the verdict.
func (r *Report) finish(elapsed time.Duration) {
	r.Duration = elapsed
	for _, phase := range r.Phases {
		var values []time.Duration
		for _, rep := range r.Repetitions {
			if d, ok := rep.Durations[phase]; ok {
				values = append(values, d)
			}
		}
		if len(values) > 0 {
			r.Summary[phase] = summarize(values)
		}
	}
	r.Verdict, r.Reasons = judge(r.Repetitions, r.Reps, r.Target)
	for _, rep := range r.Repetitions {
		if rep.Guard != nil && rep.Guard.Aborted {
			r.Aborted = true
		}
	}
	recovered := 0
	for _, rep := range r.Repetitions {
		if rep.Recovered {
			recovered++
		}
	}
	// The rate counts the repetitions that ran, so an interrupted run does
	// not report the ones it never started as failures.
	if n := len(r.Repetitions); n > 0 {
		r.SuccessRate = float64(recovered) / float64(n)
	}
}

// summarize returns nearest-rank percentiles of values.
func summarize(values []time.Duration) Stat {
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	return Stat{
		N:   len(sorted),
		P50: percentile(sorted, 50),
		P95: percentile(sorted, 95),
		P99: percentile(sorted, 99),
		Max: sorted[len(sorted)-1],
	}
}

// percentile returns the nearest-rank p-th percentile of sorted values.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

// judge applies the pass rule: every planned repetition ran and recovered,
// no safety check failed, and the p95 RTO is within the target. Between
// target and maximum the run warns; past the maximum it fails.
func judge(reps []Repetition, planned int, target Target) (Verdict, []string) {
	var reasons []string
	var rtos []time.Duration
	for _, rep := range reps {
		if !rep.Recovered {
			reasons = append(reasons, fmt.Sprintf("repetition %d did not recover: %s", rep.Index, rep.Error))
		}
		for _, v := range rep.Violations {
			reasons = append(reasons, fmt.Sprintf("repetition %d: %s", rep.Index, v))
		}
		if rep.Recovered {
			rtos = append(rtos, rep.RTO)
		}
	}
	if len(reps) < planned {
		reasons = append(reasons, fmt.Sprintf("only %d of %d repetitions ran", len(reps), planned))
	}
	if len(reasons) > 0 {
		return VerdictFail, reasons
	}
	p95 := summarize(rtos).P95
	switch {
	case p95 > target.Max:
		return VerdictFail, []string{fmt.Sprintf("p95 RTO %s is above the maximum %s", ms(p95), ms(target.Max))}
	case p95 > target.Target:
		return VerdictWarn, []string{fmt.Sprintf("p95 RTO %s is above the target %s, within the maximum %s", ms(p95), ms(target.Target), ms(target.Max))}
	}
	return VerdictPass, nil
}

// libraryVersions reads the versions of the raft stack from the build info.
func libraryVersions() map[string]string {
	out := map[string]string{}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return out
	}
	for _, dep := range info.Deps {
		switch dep.Path {
		case "github.com/hashicorp/raft", "github.com/hashicorp/raft-boltdb/v2", "go.etcd.io/bbolt",
			"github.com/hashicorp/memberlist", "github.com/anishathalye/porcupine":
			out[dep.Path] = dep.Version
		}
	}
	return out
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%d ms", d.Milliseconds())
}

func formatProgress(s Scenario, total int, rep Repetition) string {
	status := "recovered"
	if !rep.Recovered {
		status = "NOT RECOVERED"
	}
	var parts []string
	for _, phase := range s.Phases() {
		if d, ok := rep.Durations[phase]; ok {
			parts = append(parts, fmt.Sprintf("%s=%dms", phase, d.Milliseconds()))
		}
	}
	line := fmt.Sprintf("[%s %d/%d] %s %s", s.Name(), rep.Index, total, status, strings.Join(parts, " "))
	if len(rep.Violations) > 0 {
		line += fmt.Sprintf(" violations=%d", len(rep.Violations))
	}
	if rep.Error != "" {
		line += " error=" + firstLine(rep.Error)
	}
	return line
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// WriteTable prints the per-repetition table, the summary rows and the
// verdict.
func (r *Report) WriteTable(out io.Writer) error {
	fmt.Fprintf(out, "\n%s: %s\n", r.Scenario, r.Description)
	reps := fmt.Sprintf("%d repetitions", r.Reps)
	if r.Reps == 1 {
		reps = "1 repetition"
	}
	fmt.Fprintf(out, "profile %s (heartbeat %v, election %v, lease %v; floor %v), seed %d, %d nodes, %s, %v\n\n",
		r.Profile, r.Timing.HeartbeatTimeout, r.Timing.ElectionTimeout, r.Timing.LeaderLeaseTimeout, r.Floor,
		r.Seed, r.Nodes, reps, r.Duration.Round(time.Millisecond))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "rep\t%s\t\n", strings.Join(r.Phases, "\t"))
	for _, rep := range r.Repetitions {
		fmt.Fprintf(tw, "%d\t%s\t\n", rep.Index, r.row(func(p string) (time.Duration, bool) { d, ok := rep.Durations[p]; return d, ok }))
	}
	for _, q := range []struct {
		name string
		get  func(Stat) time.Duration
	}{{"p50", func(s Stat) time.Duration { return s.P50 }}, {"p95", func(s Stat) time.Duration { return s.P95 }}, {"max", func(s Stat) time.Duration { return s.Max }}} {
		fmt.Fprintf(tw, "%s\t%s\t\n", q.name, r.row(func(p string) (time.Duration, bool) {
			st, ok := r.Summary[p]
			return q.get(st), ok
		}))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "(times in ms; most phases count from the fault, %s from the heal)\n", PhaseHeal)
	for _, rep := range r.Repetitions {
		if len(rep.Counts) > 0 {
			fmt.Fprintf(out, "rep %d: %s\n", rep.Index, formatCounts(rep.Counts))
		}
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "RTO objective: target %s, maximum %s; success rate %.0f%%\n", ms(r.Target.Target), ms(r.Target.Max), 100*r.SuccessRate)
	fmt.Fprintf(out, "verdict: %s\n", strings.ToUpper(string(r.Verdict)))
	for _, reason := range r.Reasons {
		fmt.Fprintf(out, "  - %s\n", firstLine(reason))
	}
	return nil
}

// formatCounts lists counts as key=value in key order.
func formatCounts(counts map[string]int64) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, counts[k])
	}
	return strings.Join(parts, " ")
}

func (r *Report) row(get func(string) (time.Duration, bool)) string {
	cells := make([]string, len(r.Phases))
	for i, p := range r.Phases {
		if d, ok := get(p); ok {
			cells[i] = fmt.Sprint(d.Milliseconds())
		} else {
			cells[i] = "-"
		}
	}
	return strings.Join(cells, "\t")
}

// WriteJSON writes the report, every raw timing included, to path.
func (r *Report) WriteJSON(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("scenarios: write report: %w", err)
	}
	return nil
}

// WriteJSONAll writes several reports as one JSON array to path.
func WriteJSONAll(path string, reports []*Report) error {
	data, err := json.MarshalIndent(reports, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("scenarios: write report: %w", err)
	}
	return nil
}
