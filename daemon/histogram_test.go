package daemon

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramQuantilePrecision(t *testing.T) {
	distributions := []struct {
		name string
		draw func(r *rand.Rand) time.Duration
	}{
		{"uniform µs", func(r *rand.Rand) time.Duration { return time.Duration(r.Int64N(int64(time.Millisecond))) }},
		{"exponential ms", func(r *rand.Rand) time.Duration { return time.Duration(r.ExpFloat64() * float64(time.Millisecond)) }},
		{"log-uniform ns to s", func(r *rand.Rand) time.Duration { return time.Duration(math.Pow(10, r.Float64()*9)) }},
	}
	for _, dist := range distributions {
		t.Run(dist.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(testSeed, 4))
			var h histogram
			values := make([]time.Duration, 20000)
			var sum time.Duration
			for i := range values {
				values[i] = dist.draw(r)
				h.record(values[i])
				sum += values[i]
			}
			slices.Sort(values)

			for _, q := range []float64{0.01, 0.5, 0.95, 0.99, 0.999, 1} {
				rank := max(int(math.Ceil(q*float64(len(values)))), 1)
				exact := values[rank-1]
				got := h.quantile(q)
				if diff := math.Abs(float64(got - exact)); diff > HistogramRelativeError*float64(exact) {
					t.Errorf("q%.3f = %v, exact %v: off by %.2f%%, bound %.2f%%", q, got, exact,
						100*diff/float64(exact), 100*HistogramRelativeError)
				}
			}
			if got, want := h.mean(), sum/time.Duration(len(values)); got != want {
				t.Errorf("mean = %v, want exactly %v", got, want)
			}
		})
	}
}

func TestHistogramEdges(t *testing.T) {
	var h histogram
	if h.quantile(0.5) != 0 || h.mean() != 0 {
		t.Error("empty histogram reports non-zero values")
	}
	h.record(-time.Second)
	h.record(time.Duration(math.MaxInt64))
	if got := h.quantile(0); got != 0 {
		t.Errorf("q0 = %v, want 0 for a negative duration", got)
	}
	if got := h.quantile(1); got != time.Duration(math.MaxInt64) {
		t.Errorf("q1 = %v, want the maximum duration", got)
	}
	for v := range uint64(histogramSubBuckets * 4) {
		if i := bucketOf(v); v < histogramSubBuckets && bucketMidpoint(i) != v {
			t.Errorf("small value %d maps to midpoint %d, want exact", v, bucketMidpoint(i))
		}
	}
	if last := bucketOf(math.MaxInt64); last >= histogramBuckets {
		t.Errorf("bucket of MaxInt64 = %d, beyond %d buckets", last, histogramBuckets)
	}
}

func TestRingKeepsNewest(t *testing.T) {
	r := newRing(3)
	for i := 1; i <= 5; i++ {
		r.add(Record{OpID: "op", Run: uint64(i)})
	}
	r.add(Record{OpID: "other", Run: 1})

	var runs []uint64
	for _, rec := range r.records() {
		runs = append(runs, rec.Run)
	}
	if want := []uint64{4, 5, 1}; !slices.Equal(runs, want) {
		t.Errorf("records runs %v, want %v", runs, want)
	}
	if rec, ok := r.latest("op"); !ok || rec.Run != 5 {
		t.Errorf("latest(op) = %+v, %v; want run 5", rec, ok)
	}
	if _, ok := r.latest("gone"); ok {
		t.Error("latest found an operation never recorded")
	}
}

func TestHistoryIsBounded(t *testing.T) {
	cfg := testConfig(t)
	cfg.HistorySize = 10
	d := startDaemon(t, cfg)
	mustSchedule(t, d, Operation{ID: "op", Handler: Succeed(nil)})

	for range 25 {
		if _, err := d.Execute(t.Context(), "op"); err != nil {
			t.Fatal(err)
		}
	}

	history := d.History()
	if len(history) != 10 || history[0].Run != 16 || history[9].Run != 25 {
		t.Errorf("history has %d records, runs %d…%d; want 10, runs 16…25", len(history), history[0].Run, history[len(history)-1].Run)
	}
	if m := d.Metrics(); m.Executed != 25 {
		t.Errorf("Executed = %d, want 25 whatever the history size", m.Executed)
	}
}
