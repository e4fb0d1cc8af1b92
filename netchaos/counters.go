package netchaos

import (
	"cmp"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// LinkCounters counts the messages on one directed link by outcome.
type LinkCounters struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Passed   uint64 `json:"passed"`
	Delayed  uint64 `json:"delayed"`
	Dropped  uint64 `json:"dropped"`
	Rejected uint64 `json:"rejected"`
	Held     uint64 `json:"held"`
}

func (t *Table) countLocked(from, to string, d Decision) {
	key := linkKey{from, to}
	c, ok := t.links[key]
	if !ok {
		c = &LinkCounters{From: from, To: to}
		t.links[key] = c
	}
	switch d.Action {
	case ActionPass:
		c.Passed++
	case ActionDelay:
		c.Delayed++
	case ActionDrop:
		c.Dropped++
	case ActionReject:
		c.Rejected++
	case ActionHold:
		c.Held++
	}
	if d.RuleID != "" {
		t.hits[d.RuleID]++
	}
}

// Counters returns a copy of every link's counters, sorted by link.
func (t *Table) Counters() []LinkCounters {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]LinkCounters, 0, len(t.links))
	for _, c := range t.links {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b LinkCounters) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	return out
}

// RuleHits returns how many messages each rule decided, by rule ID. Hits of
// rules that are gone stay counted.
func (t *Table) RuleHits() map[string]uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]uint64, len(t.hits))
	for id, n := range t.hits {
		out[id] = n
	}
	return out
}

// Collector exports a table's counters as Prometheus metrics. Register it on
// a registry of your own; the package registers nothing globally.
type Collector struct {
	table    *Table
	messages *prometheus.Desc
	rules    *prometheus.Desc
	version  *prometheus.Desc
}

// NewCollector returns a collector for table.
func NewCollector(table *Table) *Collector {
	return &Collector{
		table: table,
		messages: prometheus.NewDesc("faultline_netchaos_messages_total",
			"Messages seen on a directed link, by outcome.", []string{"from", "to", "outcome"}, nil),
		rules: prometheus.NewDesc("faultline_netchaos_rules",
			"Active fault rules.", nil, nil),
		version: prometheus.NewDesc("faultline_netchaos_table_version",
			"Version of the fault table.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.messages
	ch <- c.rules
	ch <- c.version
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, l := range c.table.Counters() {
		for _, o := range []struct {
			name string
			n    uint64
		}{{"passed", l.Passed}, {"delayed", l.Delayed}, {"dropped", l.Dropped}, {"rejected", l.Rejected}, {"held", l.Held}} {
			ch <- prometheus.MustNewConstMetric(c.messages, prometheus.CounterValue, float64(o.n), l.From, l.To, o.name)
		}
	}
	ch <- prometheus.MustNewConstMetric(c.rules, prometheus.GaugeValue, float64(len(c.table.Rules())))
	ch <- prometheus.MustNewConstMetric(c.version, prometheus.GaugeValue, float64(c.table.Version()))
}
