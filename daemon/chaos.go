package daemon

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// The handlers below inject operation faults for scenarios and tests. Those
// that wait honour their context, except HangIgnoringContext, and return
// context.Cause(ctx) when it ends first. A nil next handler means one that
// returns (nil, nil). Handlers that draw random numbers guard their
// *rand.Rand with a mutex of their own, so give each such handler its own
// generator, seeded from the run's seed.

// Succeed returns a handler that returns value.
func Succeed(value any) Handler {
	return func(context.Context) (any, error) { return value, nil }
}

// FailSync returns a handler that returns err at once.
func FailSync(err error) Handler {
	err = orInjected(err)
	return func(context.Context) (any, error) { return nil, err }
}

// FailAsync returns a handler that returns err after delay.
func FailAsync(delay time.Duration, err error) Handler {
	err = orInjected(err)
	return func(ctx context.Context) (any, error) {
		if waitErr := wait(ctx, delay); waitErr != nil {
			return nil, waitErr
		}
		return nil, err
	}
}

// FailRandomly returns a handler that returns err with probability rate in
// [0, 1] and otherwise calls next. Draws come from r, so the same seed
// gives the same sequence of failures for the same sequence of calls.
func FailRandomly(r *rand.Rand, rate float64, err error, next Handler) Handler {
	err, next = orInjected(err), orSucceed(next)
	var mu sync.Mutex
	return func(ctx context.Context) (any, error) {
		mu.Lock()
		fail := r.Float64() < rate
		mu.Unlock()
		if fail {
			return nil, err
		}
		return next(ctx)
	}
}

// FailWhen returns a handler that returns err while cond returns true and
// otherwise calls next.
func FailWhen(cond func() bool, err error, next Handler) Handler {
	err, next = orInjected(err), orSucceed(next)
	return func(ctx context.Context) (any, error) {
		if cond() {
			return nil, err
		}
		return next(ctx)
	}
}

// PanicWithValue returns a handler that panics with value.
func PanicWithValue(value any) Handler {
	return func(context.Context) (any, error) { panic(value) }
}

// Hang returns a handler that never returns a result: it blocks until its
// context ends and returns the context's cause.
func Hang() Handler {
	return func(ctx context.Context) (any, error) {
		<-ctx.Done()
		return nil, context.Cause(ctx)
	}
}

// HangIgnoringContext returns a handler that ignores its context and returns
// only when release is closed, so a test can show that the daemon abandons
// it and then let it end.
func HangIgnoringContext(release <-chan struct{}) Handler {
	return func(context.Context) (any, error) {
		<-release
		return nil, ErrInjected
	}
}

// Slow returns a handler that waits delay and then calls next.
func Slow(delay time.Duration, next Handler) Handler {
	next = orSucceed(next)
	return func(ctx context.Context) (any, error) {
		if err := wait(ctx, delay); err != nil {
			return nil, err
		}
		return next(ctx)
	}
}

// Jittery returns a handler that waits a delay drawn uniformly from
// [minDelay, maxDelay) with r and then calls next.
func Jittery(r *rand.Rand, minDelay, maxDelay time.Duration, next Handler) Handler {
	next = orSucceed(next)
	span := int64(maxDelay - minDelay)
	var mu sync.Mutex
	return func(ctx context.Context) (any, error) {
		delay := minDelay
		if span > 0 {
			mu.Lock()
			delay += time.Duration(r.Int64N(span))
			mu.Unlock()
		}
		if err := wait(ctx, delay); err != nil {
			return nil, err
		}
		return next(ctx)
	}
}

// Degrading returns a handler whose n-th call (from zero) waits
// base × factor^n, capped at limit, and then calls next: a dependency that
// slows down exponentially.
func Degrading(base time.Duration, factor float64, limit time.Duration, next Handler) Handler {
	next = orSucceed(next)
	var calls atomic.Int64
	return func(ctx context.Context) (any, error) {
		n := calls.Add(1) - 1
		if err := wait(ctx, DegradedDelay(base, factor, limit, int(n))); err != nil {
			return nil, err
		}
		return next(ctx)
	}
}

// DegradedDelay returns the delay of call n of a Degrading handler:
// base × factor^n, capped at limit.
func DegradedDelay(base time.Duration, factor float64, limit time.Duration, n int) time.Duration {
	delay := float64(base) * math.Pow(factor, float64(n))
	if delay >= float64(limit) || math.IsInf(delay, 0) || math.IsNaN(delay) {
		return limit
	}
	return time.Duration(delay)
}

// wait sleeps for delay or until ctx ends, and returns ctx's cause then.
func wait(ctx context.Context, delay time.Duration) error {
	if delay <= 0 {
		return nil
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func orInjected(err error) error {
	if err == nil {
		return ErrInjected
	}
	return err
}

func orSucceed(next Handler) Handler {
	if next == nil {
		return Succeed(nil)
	}
	return next
}
