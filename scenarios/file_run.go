package scenarios

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/raftint"
)

// fileRecheck bounds the wait between two checks of a condition when no
// timeline event arrives; index catch-up and writes on other nodes produce
// none.
const fileRecheck = 5 * time.Millisecond

// fileRun is the state of one repetition of a FileScenario.
type fileRun struct {
	f   *FileScenario
	env Env
	t   *trial
	// roles maps leader, old_leader and follower to node IDs.
	roles   map[string]string
	faults  []runFault      // active faults, in the order they were added
	crashed map[string]bool // node IDs a step crashed and none restarted
	marks   map[string]time.Time
	acks    []ack // writes of write steps
	pending []pendingWrite
	absent  []string // keys of judged no_commit_on writes, checked after the heal
	probes  int      // writes_commit probes so far, for unique keys
	// failed is set when the cluster did not recover: a wait timed out, a
	// write or restart failed, or the cluster did not converge. The
	// remaining steps are skipped.
	failed bool
}

// runFault is a fault step whose rules are in force.
type runFault struct {
	label  string
	index  int
	ids    []string
	cutOff []string // node IDs separated from the majority
}

// pendingWrite is the write of a no_commit_on check, not judged yet.
type pendingWrite struct {
	node, key string
	result    <-chan error
}

func newFileRun(f *FileScenario, env Env, t *trial) *fileRun {
	r := &fileRun{
		f: f, env: env, t: t,
		roles:   map[string]string{roleLeader: t.stable.Leader, roleOldLeader: t.stable.Leader},
		crashed: map[string]bool{},
		marks:   map[string]time.Time{},
	}
	if followers := t.followers(); f.usesFollower && len(followers) > 0 {
		r.roles[roleFollower] = followers[env.Rand.IntN(len(followers))]
	}
	return r
}

// at locates a step for messages: FILE:LINE: steps[N].
func (r *fileRun) at(s step) string {
	return fmt.Sprintf("%s:%d: %s", r.f.file, s.line, s.field())
}

// fail marks the repetition as not recovered because of step s.
func (r *fileRun) fail(s step, format string, args ...any) {
	r.failed = true
	r.t.rep.Recovered = false
	r.t.rep.Error = r.at(s) + ": " + fmt.Sprintf(format, args...)
	r.env.Log.Warn("scenario file step failed", "step", s.index, "line", s.line, "error", r.t.rep.Error)
}

// violatef records a failed check of step s.
func (r *fileRun) violatef(s step, key, format string, args ...any) {
	r.violate(fmt.Sprintf("%s.%s: %s", r.at(s), key, fmt.Sprintf(format, args...)))
}

func (r *fileRun) violate(v ...string) {
	r.t.rep.Violations = append(r.t.rep.Violations, v...)
}

// resolve returns the node ID that a step's name stands for.
func (r *fileRun) resolve(name string) (string, error) {
	if id, ok := r.roles[name]; ok {
		return id, nil
	}
	nodes := r.t.c.Nodes()
	if slices.Contains(nodes, name) {
		return name, nil
	}
	if name == roleFollower {
		return "", errors.New("follower: the cluster has no follower to choose")
	}
	return "", fmt.Errorf("%s is not in this %d-node cluster", name, len(nodes))
}

// allowed returns the nodes the writers may write through: those neither
// crashed nor cut off from the majority, as a client on the majority side
// would see them. The result does not change with later steps.
func (r *fileRun) allowed() func(string) bool {
	blocked := map[string]bool{}
	for id := range r.crashed {
		blocked[id] = true
	}
	for _, f := range r.faults {
		for _, id := range f.cutOff {
			blocked[id] = true
		}
	}
	return func(id string) bool { return !blocked[id] }
}

// ensureWriter starts the background writer of the trial, which measures
// the RTO, unless it runs already.
func (r *fileRun) ensureWriter() {
	if r.t.w == nil {
		r.t.startWriter(r.allowed())
	}
}

// updateAllowed passes the nodes the writer may write through to a running
// writer.
func (r *fileRun) updateAllowed() {
	if r.t.w != nil {
		r.t.w.setAllowed(r.allowed())
	}
}

// waitUntil checks cond after every timeline event, and at least every
// fileRecheck, until it returns true or ctx ends.
func (r *fileRun) waitUntil(ctx context.Context, cond func() bool) error {
	tl := r.t.tl
	for {
		seq := tl.LastSeq()
		if cond() {
			return nil
		}
		wctx, cancel := context.WithTimeout(ctx, fileRecheck)
		_, _ = tl.Wait(wctx, seq, func(raftint.Event) bool { return true })
		cancel()
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// leaderAmong returns the allowed running node that is leader in the
// highest term, or "".
func (r *fileRun) leaderAmong(allowed func(string) bool) string {
	best, bestTerm := "", uint64(0)
	for _, id := range r.t.c.Nodes() {
		if !allowed(id) {
			continue
		}
		if s, err := r.t.c.Status(id); err == nil && s.State == "Leader" && (best == "" || s.Term > bestTerm) {
			best, bestTerm = id, s.Term
		}
	}
	return best
}

// stableTimeout bounds waits for the steady state: Env.StableTimeout, or
// one minute, the default of Config.StableTimeout, in an Env built outside
// Run that leaves it zero.
func (r *fileRun) stableTimeout() time.Duration {
	if r.env.StableTimeout > 0 {
		return r.env.StableTimeout
	}
	return time.Minute
}

// stepTimeout returns a step's timeout, or the objective's maximum.
func (r *fileRun) stepTimeout(d time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return r.env.Target.Max
}

// runSteps runs every step in order. It stops early when the cluster did
// not recover (r.failed) and returns an error when a step could not run at
// all.
func (r *fileRun) runSteps(ctx context.Context) error {
	for _, s := range r.f.steps {
		r.env.Log.Info("scenario file step", "step", s.index, "kind", s.kind, "line", s.line)
		if err := r.runStep(ctx, s); err != nil {
			err = fmt.Errorf("%s: %w", r.at(s), err)
			r.t.rep.Error = err.Error()
			return err
		}
		if r.failed {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

func (r *fileRun) runStep(ctx context.Context, s step) error {
	switch s.kind {
	case stepFault:
		return r.runFault(s)
	case stepWait:
		return r.runWait(ctx, s)
	case stepHeal:
		return r.runHeal(ctx, s)
	case stepCrash:
		return r.runCrash(s)
	case stepRestart:
		return r.runRestart(ctx, s)
	case stepWrite:
		r.runWrite(ctx, s)
		return nil
	case stepAssert:
		return r.runAssert(ctx, s)
	case stepMeasure:
		return r.runMeasure(ctx, s)
	case stepMark:
		r.runMark(s)
		return nil
	}
	return fmt.Errorf("unknown step kind %q", s.kind)
}

// conclude judges pending writes, heals what the steps left, restarts the
// nodes they left down, runs the checks every network and node scenario
// shares, and checks the steady state again.
func (r *fileRun) conclude(ctx context.Context, stepErr error) (Repetition, error) {
	t := r.t
	if ctx.Err() == nil {
		r.collectPending(ctx)
	}
	if ctx.Err() == nil && stepErr == nil && !r.failed && len(t.rules) > 0 {
		if err := t.heal(ctx); err != nil {
			r.failed = true
		}
		r.faults = nil
	}
	if ctx.Err() == nil {
		r.restartCrashed(ctx)
	}
	if r.f.leaderLost && !t.faultAt.IsZero() {
		t.measureLeaderLoss(t.stable.Leader)
		if !r.f.leaderCutOff {
			delete(t.rep.Durations, PhaseStepDown)
		}
	}
	_, finishErr := t.finish(ctx)
	if ctx.Err() == nil && stepErr == nil && !r.failed {
		r.checkAfter(ctx)
	}
	t.rep.Violations = dedupe(t.rep.Violations)
	if stepErr != nil {
		return t.rep, stepErr
	}
	return t.rep, finishErr
}

// checkAfter checks the writes of write steps and of no_commit_on once the
// cluster has settled, then the steady state.
func (r *fileRun) checkAfter(ctx context.Context) {
	if len(r.acks) > 0 || len(r.absent) > 0 {
		sctx, cancel := context.WithTimeout(ctx, r.stableTimeout())
		_, err := r.t.c.WaitStable(sctx)
		cancel()
		if err != nil {
			r.violate(fmt.Sprintf("the cluster did not settle to check the written keys: %v", err))
			return
		}
		r.violate(checkAcked(r.t.c, r.acks)...)
		for _, key := range r.absent {
			r.t.expectAbsent(key)
		}
	}
	if err := r.probe(ctx); err != nil {
		r.violate("steady state after the steps: " + err.Error())
	}
}

// collectPending judges every no_commit_on write started so far.
func (r *fileRun) collectPending(ctx context.Context) {
	for _, p := range r.pending {
		r.t.expectNoCommit(ctx, p.node, p.key, p.result)
		r.absent = append(r.absent, p.key)
	}
	r.pending = nil
}

// restartCrashed restarts every node the steps left down, so the next
// repetition starts from the whole cluster.
func (r *fileRun) restartCrashed(ctx context.Context) {
	for _, id := range r.t.c.Nodes() {
		if !r.crashed[id] {
			continue
		}
		r.env.Log.Info("restarting a node the steps left down", "node_id", id)
		if err := r.t.c.Restart(ctx, id); err != nil && !errors.Is(err, cluster.ErrNodeUp) {
			r.violate(fmt.Sprintf("%s, left down by the steps, did not restart: %v", id, err))
			continue
		}
		delete(r.crashed, id)
	}
	r.updateAllowed()
}

// dedupe drops repeated violations, such as an election-safety failure
// that both an assert step and the final checks found, keeping the order.
func dedupe(list []string) []string {
	seen := make(map[string]bool, len(list))
	out := list[:0]
	for _, v := range list {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
