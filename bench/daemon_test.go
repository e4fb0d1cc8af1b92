package bench

import (
	"errors"
	"testing"
)

// benchOutput is go test -bench output in the shape the daemon package
// prints, with a second run of BenchmarkSchedule as -count 2 gives.
const benchOutput = `goos: linux
goarch: amd64
pkg: github.com/faultline-dev/faultline/daemon
cpu: AMD EPYC
BenchmarkSchedule-2                    	  447649	       637.0 ns/op	   1569929 schedules/s	     188 B/op	       1 allocs/op
BenchmarkSchedule-2                    	  447649	       700.0 ns/op	   1429929 schedules/s	     190 B/op	       1 allocs/op
BenchmarkExecute-2                     	   69549	      1849 ns/op	    540721 executions/s	      1264 p50-ns	      7872 p99-ns	     544 B/op	       7 allocs/op
BenchmarkRetainedBytesPerOperation/bare-2         	       2	  70755891 ns/op	       164.5 retained-B/op	19948364 B/op	  300445 allocs/op
PASS
ok  	github.com/faultline-dev/faultline/daemon	1.462s
`

func TestParseBenchmarks(t *testing.T) {
	runs, err := ParseBenchmarks(benchOutput)
	if err != nil {
		t.Fatalf("ParseBenchmarks: %v", err)
	}
	if len(runs) != 4 {
		t.Fatalf("got %d runs, want 4: %+v", len(runs), runs)
	}
	tests := []struct {
		name       string
		run        int
		benchmark  string
		iterations int64
		metric     string
		value      float64
	}{
		{"suffix removed", 0, "BenchmarkSchedule", 447649, "schedules/s", 1569929},
		{"standard metric", 0, "BenchmarkSchedule", 447649, "ns/op", 637},
		{"custom metric", 2, "BenchmarkExecute", 69549, "p99-ns", 7872},
		{"sub-benchmark", 3, "BenchmarkRetainedBytesPerOperation/bare", 2, "retained-B/op", 164.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := runs[tt.run]
			if run.Name != tt.benchmark {
				t.Errorf("name = %q, want %q", run.Name, tt.benchmark)
			}
			if run.Iterations != tt.iterations {
				t.Errorf("iterations = %d, want %d", run.Iterations, tt.iterations)
			}
			if got := run.Metrics[tt.metric]; got != tt.value {
				t.Errorf("%s = %v, want %v", tt.metric, got, tt.value)
			}
		})
	}
}

func TestParseBenchmarksBadValue(t *testing.T) {
	_, err := ParseBenchmarks("BenchmarkX-2 10 abc ns/op\n")
	if !errors.Is(err, ErrDaemonBenchmarks) {
		t.Errorf("ParseBenchmarks with a bad value: error %v, want one wrapping ErrDaemonBenchmarks", err)
	}
}

func TestCompareDaemon(t *testing.T) {
	runs, err := ParseBenchmarks(benchOutput)
	if err != nil {
		t.Fatalf("ParseBenchmarks: %v", err)
	}
	refs := []Reference{
		{Figure: "schedules", Value: 1_000_000, Benchmark: "BenchmarkSchedule", Metric: "schedules/s", HigherIsBetter: true},
		{Figure: "absent", Value: 1, Benchmark: "BenchmarkNothing", Metric: "x"},
	}
	rows := compareDaemon(runs, refs)
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	if want := 1499929.0; rows[0].Faultline != want {
		t.Errorf("faultline = %v, want the median of both runs, %v", rows[0].Faultline, want)
	}
	if want := RatioValue(1.499929); rows[0].Ratio != want {
		t.Errorf("ratio = %v, want %v", rows[0].Ratio, want)
	}
	if !rows[1].Missing {
		t.Errorf("row for a benchmark that did not run: Missing = false, want true")
	}
}
