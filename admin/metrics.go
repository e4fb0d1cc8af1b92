package admin

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/faultline-dev/faultline/netchaos"
)

// NewRegistry returns a registry of the node's own: raft state, daemon
// counters, the fault table's counters when b.Faults is a *netchaos.Table,
// and the Go runtime and process metrics. Nothing is registered globally.
func NewRegistry(nodeID string, b Backend) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	labels := prometheus.Labels{"node_id": nodeID}
	if b.Raft != nil {
		reg.MustRegister(newRaftCollector(b.Raft, labels))
	}
	if b.Daemon != nil {
		reg.MustRegister(newDaemonCollector(b.Daemon, labels))
	}
	if table, ok := b.Faults.(*netchaos.Table); ok {
		reg.MustRegister(netchaos.NewCollector(table))
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// raftStates lists the states of raft.RaftState.String, each exported as
// one series of faultline_raft_state.
var raftStates = []string{"Follower", "Candidate", "Leader", "Shutdown"}

type raftCollector struct {
	node                            RaftNode
	term, state, isLeader           *prometheus.Desc
	lastIndex, commitIndex, applied *prometheus.Desc
}

func newRaftCollector(node RaftNode, labels prometheus.Labels) *raftCollector {
	desc := func(name, help string, variable ...string) *prometheus.Desc {
		return prometheus.NewDesc("faultline_raft_"+name, help, variable, labels)
	}
	return &raftCollector{
		node:        node,
		term:        desc("term", "Current raft term of the node."),
		state:       desc("state", "1 for the node's current raft state, 0 for the others.", "state"),
		isLeader:    desc("is_leader", "1 while the node is the raft leader."),
		lastIndex:   desc("last_index", "Index of the last entry in the node's raft log."),
		commitIndex: desc("commit_index", "Highest log index the node knows to be committed."),
		applied:     desc("applied_index", "Highest log index whose effect the node's state machine reflects."),
	}
}

func (c *raftCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.term, c.state, c.isLeader, c.lastIndex, c.commitIndex, c.applied} {
		ch <- d
	}
}

func (c *raftCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.node.Status()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(c.term, float64(st.Term))
	for _, state := range raftStates {
		gauge(c.state, boolFloat(st.State == state), state)
	}
	gauge(c.isLeader, boolFloat(st.State == "Leader"))
	gauge(c.lastIndex, float64(st.LastIndex))
	gauge(c.commitIndex, float64(st.CommitIndex))
	gauge(c.applied, float64(st.AppliedIndex))
}

type daemonCollector struct {
	daemon                    Daemon
	runs, rejected, abandoned *prometheus.Desc
	panics, corrupt           *prometheus.Desc
	active, waiting, queued   *prometheus.Desc
	duration                  *prometheus.Desc
}

func newDaemonCollector(d Daemon, labels prometheus.Labels) *daemonCollector {
	desc := func(name, help string, variable ...string) *prometheus.Desc {
		return prometheus.NewDesc("faultline_daemon_"+name, help, variable, labels)
	}
	return &daemonCollector{
		daemon:    d,
		runs:      desc("runs_total", "Operation runs that ended, by outcome.", "outcome"),
		rejected:  desc("rejected_total", "Execute calls that never started a run."),
		abandoned: desc("abandoned_total", "Handlers abandoned after their run timed out or was cancelled."),
		panics:    desc("panics_total", "Handlers that panicked."),
		corrupt:   desc("corrupt_records_total", "Result records that failed validation."),
		active:    desc("active_runs", "Runs in progress."),
		waiting:   desc("waiting_calls", "Execute calls waiting for a concurrency slot."),
		queued:    desc("scheduled_operations", "Scheduled operations."),
		duration: desc("run_duration_seconds",
			"Run duration quantiles over every counted run, from the daemon's histogram.", "quantile"),
	}
}

func (c *daemonCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.runs, c.rejected, c.abandoned, c.panics, c.corrupt, c.active, c.waiting, c.queued, c.duration} {
		ch <- d
	}
}

func (c *daemonCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.daemon.Metrics()
	h := c.daemon.Health()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter(c.runs, m.Succeeded, StatusSucceeded)
	counter(c.runs, m.Failed, StatusFailed)
	counter(c.runs, m.TimedOut, StatusTimedOut)
	counter(c.runs, m.Cancelled, StatusCancelled)
	counter(c.rejected, m.Rejected)
	counter(c.abandoned, m.Abandoned)
	counter(c.panics, m.Panics)
	counter(c.corrupt, m.CorruptRecords)
	gauge(c.active, float64(h.Active))
	gauge(c.waiting, float64(h.Waiting))
	gauge(c.queued, float64(h.Scheduled))
	gauge(c.duration, m.P50.Seconds(), "0.5")
	gauge(c.duration, m.P95.Seconds(), "0.95")
	gauge(c.duration, m.P99.Seconds(), "0.99")
	gauge(c.duration, m.Max.Seconds(), "1")
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// slogPrinter logs promhttp's errors.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) {
	p.log.Warn("metrics exposition failed", "error", fmt.Sprint(v...))
}
