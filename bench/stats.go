package bench

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Median returns the median of values: the middle value of an odd count, the
// mean of the two middle values of an even count, and 0 for no values.
func Median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	mid := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[mid]
	}
	return (sorted[mid-1] + sorted[mid]) / 2
}

// Percentile returns the nearest-rank p-th percentile of values, for p in
// (0, 100]: the smallest value that at least p percent of values do not
// exceed. It returns 0 for no values. p at or below 0 returns the minimum,
// and p above 100 the maximum.
func Percentile[T cmp.Ordered](values []T, p float64) T {
	if len(values) == 0 {
		var zero T
		return zero
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// Ratio returns measured divided by baseline, or NaN when baseline is 0,
// because a ratio against nothing has no meaning and must not print as a
// pass.
func Ratio(measured, baseline float64) float64 {
	if baseline == 0 {
		return math.NaN()
	}
	return measured / baseline
}

// Seconds converts durations to seconds for the statistics above.
func Seconds(durations []time.Duration) []float64 {
	out := make([]float64, len(durations))
	for i, d := range durations {
		out[i] = d.Seconds()
	}
	return out
}

// Distribution summarises a set of durations with nearest-rank percentiles.
type Distribution struct {
	N   int           `json:"n"`
	Min time.Duration `json:"min_ns"`
	P50 time.Duration `json:"p50_ns"`
	P95 time.Duration `json:"p95_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
}

// Summarize returns the distribution of durations; the zero Distribution
// when there are none.
func Summarize(durations []time.Duration) Distribution {
	if len(durations) == 0 {
		return Distribution{}
	}
	return Distribution{
		N:   len(durations),
		Min: slices.Min(durations),
		P50: Percentile(durations, 50),
		P95: Percentile(durations, 95),
		P99: Percentile(durations, 99),
		Max: slices.Max(durations),
	}
}
