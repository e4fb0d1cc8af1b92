package daemon

import (
	"context"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Run with: go test -run '^$' -bench . -benchmem ./daemon/
// BENCHMARKS.md records the results and the machine.

func benchDaemon(b *testing.B, mutate func(*Config)) *Daemon {
	b.Helper()
	cfg := DefaultConfig()
	cfg.NodeID = "node-1"
	cfg.Logger = slog.New(slog.DiscardHandler)
	if mutate != nil {
		mutate(&cfg)
	}
	d, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if _, err := d.Stop(context.Background()); err != nil {
			b.Errorf("Stop: %v", err)
		}
	})
	return d
}

func opIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "op-" + strconv.Itoa(i)
	}
	return ids
}

func reportRate(b *testing.B, unit string) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, unit)
	}
}

func reportQuantiles(b *testing.B, h *histogram) {
	b.ReportMetric(float64(h.quantile(0.50).Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(h.quantile(0.99).Nanoseconds()), "p99-ns")
}

// BenchmarkSchedule measures one Schedule call: ns/op is its latency and
// schedules/s the throughput of one caller.
func BenchmarkSchedule(b *testing.B) {
	d := benchDaemon(b, func(c *Config) { c.MaxQueued = b.N + 1 })
	ids := opIDs(b.N)
	handler := Succeed(nil)
	b.ResetTimer()

	for i := range b.N {
		if err := d.Schedule(Operation{ID: ids[i], Handler: handler}); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, "schedules/s")
}

// BenchmarkScheduleParallel measures Schedule throughput from GOMAXPROCS
// callers at once.
func BenchmarkScheduleParallel(b *testing.B) {
	d := benchDaemon(b, func(c *Config) { c.MaxQueued = b.N + 1 })
	ids := opIDs(b.N)
	handler := Succeed(nil)
	var next sync.Mutex
	n := 0
	b.ResetTimer()

	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			next.Lock()
			id := ids[n]
			n++
			next.Unlock()
			if err := d.Schedule(Operation{ID: id, Handler: handler}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b, "schedules/s")
}

// BenchmarkExecute measures one Execute call of a handler that returns at
// once, from a single caller: ns/op and the p50/p99 of the caller's wall
// time are the daemon's own overhead per run.
func BenchmarkExecute(b *testing.B) {
	d := benchDaemon(b, nil)
	if err := d.Schedule(Operation{ID: "op", Handler: Succeed(nil)}); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var lat histogram
	b.ResetTimer()

	for range b.N {
		start := time.Now()
		if _, err := d.Execute(ctx, "op"); err != nil {
			b.Fatal(err)
		}
		lat.record(time.Since(start))
	}
	reportRate(b, "executions/s")
	reportQuantiles(b, &lat)
}

// BenchmarkExecuteParallel measures Execute throughput and caller latency
// with 2 callers per core and a concurrency limit of 16.
func BenchmarkExecuteParallel(b *testing.B) {
	d := benchDaemon(b, func(c *Config) { c.Concurrency = 16 })
	if err := d.Schedule(Operation{ID: "op", Handler: Succeed(nil)}); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var mu sync.Mutex
	var lat histogram
	b.SetParallelism(2)
	b.ResetTimer()

	b.RunParallel(func(pb *testing.PB) {
		var local histogram
		for pb.Next() {
			start := time.Now()
			if _, err := d.Execute(ctx, "op"); err != nil {
				b.Error(err)
				return
			}
			local.record(time.Since(start))
		}
		mu.Lock()
		mergeHistogram(&lat, &local)
		mu.Unlock()
	})
	reportRate(b, "executions/s")
	reportQuantiles(b, &lat)
}

// BenchmarkRetainedBytesPerOperation schedules 100,000 operations into a
// new daemon and reports the heap they keep alive after a full GC, per
// operation. Each iteration does all 100,000, so ns/op is per batch.
func BenchmarkRetainedBytesPerOperation(b *testing.B) {
	const n = 100_000
	cases := []struct {
		name string
		op   func(id string, h Handler) Operation
	}{
		{"bare", func(id string, h Handler) Operation { return Operation{ID: id, Handler: h} }},
		{"with-name-and-metadata", func(id string, h Handler) Operation {
			return Operation{ID: id, Name: "sync-config", Handler: h,
				Metadata: map[string]any{"owner": "team-a", "attempt": 1}}
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			handler := Succeed(nil)
			var retained float64
			for range b.N {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)

				cfg := DefaultConfig()
				cfg.NodeID = "node-1"
				cfg.MaxQueued = n
				d, err := New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				for i := range n {
					if err := d.Schedule(tc.op("op-"+strconv.Itoa(i), handler)); err != nil {
						b.Fatal(err)
					}
				}

				runtime.GC()
				runtime.ReadMemStats(&after)
				retained += float64(after.HeapAlloc) - float64(before.HeapAlloc)
				if _, err := d.Stop(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(retained/float64(b.N)/n, "retained-B/op")
		})
	}
}

func mergeHistogram(dst, src *histogram) {
	if src.count == 0 {
		return
	}
	for i, c := range src.counts {
		dst.counts[i] += c
	}
	if dst.count == 0 || src.min < dst.min {
		dst.min = src.min
	}
	dst.max = max(dst.max, src.max)
	dst.count += src.count
	dst.sum += src.sum
}
