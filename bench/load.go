package bench

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/faultline-dev/faultline/raftint"
)

// writeValue is the value of every benchmark write: 100 bytes, the size of
// a small configuration record.
var writeValue = strings.Repeat("v", 100)

// applyTimeout bounds the wait to enqueue one write, as in raft.Apply. A
// write that waits this long means the cluster lost its leader, which
// invalidates the round.
const applyTimeout = 5 * time.Second

// measureThroughput runs writers concurrent clients that write unique keys
// through leader until window has passed, and returns the committed writes
// per second. Any failed write fails the measurement, because a round with
// an election in it measures the election, not the transport.
func measureThroughput(ctx context.Context, leader *raftint.Node, writers int, window time.Duration, prefix string) (float64, error) {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		total    int
		firstErr error
	)
	start := time.Now()
	deadline := start.Add(window)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := writeUntil(ctx, leader, deadline, prefix+"-"+strconv.Itoa(w))
			mu.Lock()
			defer mu.Unlock()
			total += n
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(total) / elapsed.Seconds(), nil
}

// writeUntil writes keys prefix-0, prefix-1, ... until deadline or ctx ends,
// and returns how many committed.
func writeUntil(ctx context.Context, leader *raftint.Node, deadline time.Time, prefix string) (int, error) {
	n := 0
	for time.Now().Before(deadline) {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if _, err := leader.Put(prefix+"-"+strconv.Itoa(n), writeValue, applyTimeout); err != nil {
			return n, fmt.Errorf("write %d of %s through %s: %w", n, prefix, leader.ID(), err)
		}
		n++
	}
	return n, nil
}

// measureLatency writes count keys one after another through leader and
// returns each write's commit latency: from the call to raft.Apply until the
// leader has committed and applied it.
func measureLatency(ctx context.Context, leader *raftint.Node, count int, prefix string) ([]time.Duration, error) {
	latencies := make([]time.Duration, 0, count)
	for i := range count {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		key := prefix + "-" + strconv.Itoa(i)
		start := time.Now()
		if _, err := leader.Put(key, writeValue, applyTimeout); err != nil {
			return nil, fmt.Errorf("write %s through %s: %w", key, leader.ID(), err)
		}
		latencies = append(latencies, time.Since(start))
	}
	return latencies, nil
}
