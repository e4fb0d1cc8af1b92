package daemon

import (
	"math"
	"math/bits"
	"time"
)

// The latency histogram is log-linear: every power of two is split into
// histogramSubBuckets buckets of equal width, and values below
// histogramSubBuckets nanoseconds get a bucket each. A quantile is reported as
// the midpoint of its bucket, clamped to the exact minimum and maximum, so it
// is within 1/(2*histogramSubBuckets) = 1/64 (about 1.6 %) of a recorded
// value at that rank. The lowest and highest ranks are the exact minimum and
// maximum. The histogram covers every positive int64 duration in a
// fixed 1,888 counters (about 15 KiB), however many values it records.
const (
	histogramSubBits    = 5
	histogramSubBuckets = 1 << histogramSubBits
	histogramBuckets    = (64 - histogramSubBits) * histogramSubBuckets

	// HistogramRelativeError is the largest relative error of the duration
	// quantiles in Metrics.
	HistogramRelativeError = 1.0 / (2 * histogramSubBuckets)
)

// histogram counts durations in fixed memory. It is not safe for concurrent
// use; the daemon guards it with its stats mutex.
type histogram struct {
	counts [histogramBuckets]uint64
	count  uint64
	sum    uint64 // nanoseconds; overflows only after 584 years in total
	min    uint64
	max    uint64
}

// record adds d. Negative durations count as zero.
func (h *histogram) record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	if h.count == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.count++
	h.sum += v
}

// mean returns the exact arithmetic mean, or zero when empty.
func (h *histogram) mean() time.Duration {
	if h.count == 0 {
		return 0
	}
	return time.Duration(h.sum / h.count)
}

// quantile returns the value at quantile q in [0, 1], within
// HistogramRelativeError of a recorded value of that rank, or zero when
// empty.
func (h *histogram) quantile(q float64) time.Duration {
	if h.count == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.count)))
	rank = min(max(rank, 1), h.count)
	switch rank {
	case 1:
		return time.Duration(h.min)
	case h.count:
		return time.Duration(h.max)
	}

	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			mid := bucketMidpoint(i)
			return time.Duration(min(max(mid, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}

// bucketOf returns the index of the bucket that holds v.
func bucketOf(v uint64) int {
	if v < histogramSubBuckets {
		return int(v)
	}
	shift := bits.Len64(v) - 1 - histogramSubBits
	sub := v >> uint(shift) // in [histogramSubBuckets, 2*histogramSubBuckets)
	return (shift+1)*histogramSubBuckets + int(sub-histogramSubBuckets)
}

// bucketMidpoint returns the middle of bucket i's range of values.
func bucketMidpoint(i int) uint64 {
	if i < histogramSubBuckets {
		return uint64(i)
	}
	shift := i/histogramSubBuckets - 1
	sub := uint64(i%histogramSubBuckets + histogramSubBuckets)
	lower := sub << uint(shift)
	width := uint64(1) << uint(shift)
	return lower + width/2
}
