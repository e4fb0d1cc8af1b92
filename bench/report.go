package bench

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"
	"time"
)

// RatioValue is a ratio that encodes as JSON null when it is NaN or
// infinite, which encoding/json cannot encode as a number.
type RatioValue float64

// MarshalJSON implements json.Marshaler.
func (r RatioValue) MarshalJSON() ([]byte, error) {
	f := float64(r)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// String formats r with three decimals, or "n/a".
func (r RatioValue) String() string {
	f := float64(r)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "n/a"
	}
	return strconv.FormatFloat(f, 'f', 3, 64)
}

// WriteTable prints one table per section that ran, with the ratios and
// whether each goal was met.
func (r *Results) WriteTable(out io.Writer) error {
	fmt.Fprintf(out, "\nfaultline benchmarks: %s, run took %v\n", r.Machine, r.Duration.Round(time.Second))
	if r.Config.Smoke {
		fmt.Fprintln(out, "smoke run: one iteration of each measurement, so the figures carry no weight")
	}
	sections := []func(io.Writer) error{r.writeProxy, r.writeRTO, r.writeScale, r.writeDaemon}
	for _, write := range sections {
		if err := write(out); err != nil {
			return err
		}
	}
	fmt.Fprintln(out)
	for _, l := range r.Load {
		fmt.Fprintf(out, "load average (1, 5, 15 min) around %s: %s before, %s after\n", l.Section, l.Before, l.After)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(out, "\nFAILED %s\n", e)
	}
	return nil
}

func newTable(out io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
}

// verdict returns "ok" when a goal is met and "MISSED" otherwise.
func verdict(met bool) string {
	if met {
		return "ok"
	}
	return "MISSED"
}

func (r *Results) writeProxy(out io.Writer) error {
	p := r.Proxy
	if p == nil {
		return nil
	}
	fmt.Fprintf(out, "\nproxy overhead: 3 nodes, profile %s, rounds: %d; medians over rounds, and ratios of netchaos to plain\n",
		p.Config.Profile, len(p.Rounds))
	fmt.Fprintln(out, "(ratio of the medians, then the median of the per-round ratios, which the goal is judged on)")

	tw := newTable(out)
	fmt.Fprintln(tw, "figure\tplain\tnetchaos\tratio of medians\tpaired ratio\tgoal\t")
	fmt.Fprintf(tw, "throughput, %d writers (writes/s)\t%.0f\t%.0f\t%s\t%s\t>= %.2f %s\t\n", p.Config.Writers,
		p.Plain.Throughput, p.Netchaos.Throughput, p.Throughput.OfMedians, p.Throughput.Paired,
		GoalThroughputRatio, verdict(float64(p.Throughput.Paired) >= GoalThroughputRatio))
	fmt.Fprintf(tw, "commit latency p50, 1 writer\t%v\t%v\t%s\t%s\t\t\n", us(p.Plain.P50), us(p.Netchaos.P50),
		p.P50.OfMedians, p.P50.Paired)
	fmt.Fprintf(tw, "commit latency p99, 1 writer\t%v\t%v\t%s\t%s\t<= %.2f %s\t\n", us(p.Plain.P99), us(p.Netchaos.P99),
		p.P99.OfMedians, p.P99.Paired, GoalP99Ratio, verdict(float64(p.P99.Paired) <= GoalP99Ratio))
	if ratio := p.NoPipelineThroughput; ratio != nil {
		plain, netchaos := p.Medians[TransportPlainNoPipeline], p.Medians[TransportNetchaosNoPipeline]
		fmt.Fprintf(tw, "throughput without the append pipeline\t%.0f\t%.0f\t%s\t%s\t(diagnosis)\t\n",
			plain.Throughput, netchaos.Throughput, ratio.OfMedians, ratio.Paired)
	}

	rpc := p.RPC
	fmt.Fprintf(tw, "one AppendEntries RPC, loopback\t%v\t%v\t\t%+v added\t<= %v %s\t\n", ns(rpc.Plain), ns(rpc.Netchaos),
		ns(rpc.Overhead), GoalRPCOverhead, verdict(rpc.Overhead <= GoalRPCOverhead))
	if err := tw.Flush(); err != nil {
		return err
	}

	if rpc.Skipped != "" {
		fmt.Fprintln(out, rpc.Skipped)
	} else {
		fmt.Fprintf(out, "through a Toxiproxy hop: %v per RPC, %+v over plain; netchaos adds %+v\n",
			ns(rpc.Toxiproxy), ns(rpc.ToxiproxyOverhead), ns(rpc.Overhead))
	}
	return nil
}

func (r *Results) writeRTO(out io.Writer) error {
	if r.RTO == nil {
		return nil
	}
	fmt.Fprintf(out, "\nRTO: %d nodes; timeline = first write through the new leader; observer = polling every %v\n",
		r.RTO.Config.Nodes, r.RTO.Config.PollInterval)
	tw := newTable(out)
	fmt.Fprintln(tw, "scenario\tprofile\tfloor\trecovered\tmin\tp50\tp95\tmax\tp50/floor\tobserver p50\t|diff| p50\t|diff| max\tbelow floor\t")
	for _, run := range r.RTO.Runs {
		t := run.Timeline
		fmt.Fprintf(tw, "%s\t%s\t%v\t%d/%d\t%v\t%v\t%v\t%v\t%s\t%v\t%v\t%v\t%d\t\n",
			run.Scenario, run.Profile, run.Floor, run.Recovered, len(run.Reps),
			ms(t.Min), ms(t.P50), ms(t.P95), ms(t.Max), RatioValue(Ratio(float64(t.P50), float64(run.Floor))),
			ms(run.Observer.P50), us(run.Difference.P50), us(run.Difference.Max), run.BelowFloor)
	}
	return tw.Flush()
}

func (r *Results) writeScale(out io.Writer) error {
	if r.Scale == nil {
		return nil
	}
	fmt.Fprintf(out, "\nscale: in-process clusters, profile %s, leader-isolation repetitions per size: %d\n",
		r.Scale.Config.Profile, r.Scale.Config.Reps)
	tw := newTable(out)
	fmt.Fprintln(tw, "nodes\tfirst leader\tstable\tcandidates\trto p50\trto max\tcpu per idle node\theap per node\tgoroutines per node\t")
	for _, row := range r.Scale.Rows {
		fmt.Fprintf(tw, "%d\t%v\t%v\t%d\t%v\t%v\t%.2f%% of a core\t%d KiB\t%.1f\t\n",
			row.Nodes, ms(row.FirstLeader), ms(row.Stable), row.Candidates, ms(row.RTO.P50), ms(row.RTO.Max),
			100*row.CPUPerNode, row.HeapPerNode/1024, row.GoroutinesPerNode)
	}
	return tw.Flush()
}

func (r *Results) writeDaemon(out io.Writer) error {
	if r.Daemon == nil {
		return nil
	}
	fmt.Fprintf(out, "\ndaemon: %s; ratio = faultline / JavaScript daemon\n", r.Daemon.Command)
	tw := newTable(out)
	fmt.Fprintln(tw, "figure\tfaultline\tJavaScript daemon\tratio\tbetter\t")
	for _, row := range r.Daemon.Rows {
		better := "lower"
		if row.Reference.HigherIsBetter {
			better = "higher"
		}
		if row.Missing {
			fmt.Fprintf(tw, "%s\tnot measured (%s)\t%s\t\t%s\t\n", row.Reference.Figure, row.Reference.Benchmark,
				formatMetric(row.Reference.Value, row.Reference.Unit), better)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", row.Reference.Figure, formatMetric(row.Faultline, row.Reference.Unit),
			formatMetric(row.Reference.Value, row.Reference.Unit), row.Ratio, better)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "NOTE: the JavaScript figures come without a published method or machine, so the ratios show orders of magnitude only")
	return nil
}

func formatMetric(v float64, unit string) string {
	if unit == "ns" {
		return us(time.Duration(v)).String()
	}
	return fmt.Sprintf("%.0f %s", v, unit)
}

// us rounds d to the microsecond and ns to 100 nanoseconds, for tables.
func us(d time.Duration) time.Duration { return d.Round(time.Microsecond) }
func ns(d time.Duration) time.Duration { return d.Round(100 * time.Nanosecond) }
