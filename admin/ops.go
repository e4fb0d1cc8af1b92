package admin

import (
	"context"
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/faultline-dev/faultline/daemon"
)

// pageSize is the stride at which an allocate operation writes to its
// buffer, so that the kernel backs every page with memory.
const pageSize = 4096

// operation builds the daemon operation for a validated request. The kind
// and params are kept in the metadata, so GET /v1/ops can return them.
func (s *Server) operation(op OpRequest) daemon.Operation {
	return daemon.Operation{
		ID:       op.ID,
		Name:     op.Name,
		Handler:  s.handler(op),
		Metadata: map[string]any{"kind": op.Kind, "params": op.Params},
		Timeout:  time.Duration(op.Timeout),
		Scope:    daemon.Scope(op.Scope),
	}
}

func (s *Server) handler(op OpRequest) daemon.Handler {
	var failure error
	if op.Params.Message != "" {
		failure = errors.New(op.Params.Message)
	}
	switch op.Kind {
	case OpSleep:
		return daemon.Slow(time.Duration(op.Params.Duration), nil)
	case OpFail:
		return daemon.FailSync(failure)
	case OpRandomFail:
		return daemon.FailRandomly(s.opRand(op.ID), op.Params.Rate, failure, nil)
	case OpAllocate:
		return allocate(op.Params.Bytes, time.Duration(op.Params.Duration))
	default:
		return daemon.Succeed(nil)
	}
}

// opRand returns the generator of one random-fail operation. Its seed mixes
// the node's seed with the operation ID, so the same seed and ID give the
// same sequence of failures.
func (s *Server) opRand(id string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(id))
	return rand.New(rand.NewPCG(uint64(s.cfg.Seed), h.Sum64()))
}

// allocate returns a handler that allocates n bytes, writes to every page,
// holds the buffer for hold, and then lets it go. The memory returns to the
// Go heap at the next garbage collection, not to the kernel at once.
func allocate(n int64, hold time.Duration) daemon.Handler {
	return func(ctx context.Context) (any, error) {
		buf := make([]byte, n)
		for i := 0; i < len(buf); i += pageSize {
			buf[i] = 1
		}
		if hold > 0 {
			timer := time.NewTimer(hold)
			defer timer.Stop()
			select {
			case <-timer.C:
			case <-ctx.Done():
				return nil, context.Cause(ctx)
			}
		}
		runtime.KeepAlive(buf)
		return map[string]any{"bytes": n}, nil
	}
}

// opInfo converts a daemon operation back to its API form.
func opInfo(info daemon.OperationInfo) OpInfo {
	out := OpInfo{
		ID: info.ID, Name: info.Name, Scope: string(info.Scope), Timeout: Duration(info.Timeout),
		ScheduledAt: info.ScheduledAt, Runs: info.Runs, Active: info.Active,
	}
	if kind, ok := info.Metadata["kind"].(string); ok {
		out.Kind = kind
	}
	if params, ok := info.Metadata["params"].(OpParams); ok {
		out.Params = params
	}
	return out
}

// runStatus classifies the error of a run that started.
func runStatus(err error) string {
	switch {
	case err == nil:
		return StatusSucceeded
	case errors.Is(err, daemon.ErrTimeout):
		return StatusTimedOut
	case errors.Is(err, daemon.ErrCancelled):
		return StatusCancelled
	}
	return StatusFailed
}

// chaosKinds are the operation kinds that the chaos kill switch disables.
var chaosKinds = map[string]bool{OpFail: true, OpRandomFail: true, OpAllocate: true}
