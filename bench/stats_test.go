package bench

import (
	"math"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
		want   float64
	}{
		{"empty", nil, 0},
		{"one", []float64{7}, 7},
		{"odd count unsorted", []float64{9, 1, 5}, 5},
		{"even count takes the mean of the middle two", []float64{4, 1, 3, 2}, 2.5},
		{"duplicates", []float64{2, 2, 2, 9}, 2},
		{"negative values", []float64{-3, -1, -2}, -2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Median(tt.values); got != tt.want {
				t.Errorf("Median(%v) = %v, want %v", tt.values, got, tt.want)
			}
		})
	}
}

func TestMedianLeavesInputUnsorted(t *testing.T) {
	values := []float64{3, 1, 2}
	Median(values)
	if values[0] != 3 || values[1] != 1 || values[2] != 2 {
		t.Errorf("Median reordered its input to %v", values)
	}
}

func TestPercentile(t *testing.T) {
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(100 - i) // 100 down to 1
	}
	tests := []struct {
		name   string
		values []float64
		p      float64
		want   float64
	}{
		{"empty", nil, 50, 0},
		{"single value at p1", []float64{4}, 1, 4},
		{"single value at p99", []float64{4}, 99, 4},
		{"p50 of 1..100", hundred, 50, 50},
		{"p95 of 1..100", hundred, 95, 95},
		{"p99 of 1..100", hundred, 99, 99},
		{"p100 is the maximum", hundred, 100, 100},
		{"p0 is the minimum", hundred, 0, 1},
		{"above 100 is the maximum", hundred, 150, 100},
		{"nearest rank rounds up", []float64{10, 20, 30, 40}, 60, 30},
		{"p99 of 20 values is the maximum", seq(20), 99, 20},
		{"p95 of 20 values is the 19th", seq(20), 95, 19},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.values, tt.p); got != tt.want {
				t.Errorf("Percentile(%d values, %v) = %v, want %v", len(tt.values), tt.p, got, tt.want)
			}
		})
	}
}

func seq(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(i + 1)
	}
	return out
}

func TestPercentileOfDurations(t *testing.T) {
	values := []time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond}
	if got := Percentile(values, 50); got != 2*time.Millisecond {
		t.Errorf("Percentile(durations, 50) = %v, want 2ms", got)
	}
}

func TestRatio(t *testing.T) {
	tests := []struct {
		name               string
		measured, baseline float64
		want               float64
	}{
		{"equal", 5, 5, 1},
		{"faster", 97, 100, 0.97},
		{"slower", 105, 100, 1.05},
		{"zero measured", 0, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Ratio(tt.measured, tt.baseline); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("Ratio(%v, %v) = %v, want %v", tt.measured, tt.baseline, got, tt.want)
			}
		})
	}
}

func TestRatioZeroBaselineIsNaN(t *testing.T) {
	if got := Ratio(1, 0); !math.IsNaN(got) {
		t.Errorf("Ratio(1, 0) = %v, want NaN", got)
	}
}

func TestRatioValueJSON(t *testing.T) {
	tests := []struct {
		name string
		r    RatioValue
		want string
	}{
		{"number", 0.97, "0.97"},
		{"NaN", RatioValue(math.NaN()), "null"},
		{"infinity", RatioValue(math.Inf(1)), "null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.r.MarshalJSON()
			if err != nil {
				t.Fatalf("MarshalJSON: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("MarshalJSON(%v) = %s, want %s", float64(tt.r), got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	var values []time.Duration
	for i := 20; i >= 1; i-- {
		values = append(values, time.Duration(i)*time.Millisecond)
	}
	got := Summarize(values)
	want := Distribution{
		N:   20,
		Min: time.Millisecond,
		P50: 10 * time.Millisecond,
		P95: 19 * time.Millisecond,
		P99: 20 * time.Millisecond,
		Max: 20 * time.Millisecond,
	}
	if got != want {
		t.Errorf("Summarize(1..20ms) = %+v, want %+v", got, want)
	}
}

func TestSummarizeEmpty(t *testing.T) {
	if got := Summarize(nil); got != (Distribution{}) {
		t.Errorf("Summarize(nil) = %+v, want the zero Distribution", got)
	}
}
