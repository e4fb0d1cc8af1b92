package daemon

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/goleak"
)

// fakeSource is a leadership source driven by the test.
type fakeSource chan LeadershipChange

func (s fakeSource) Leadership() <-chan LeadershipChange { return s }

// announce sends change through src and waits until the daemon applied it.
func announce(t *testing.T, src fakeSource, sub *Subscription, change LeadershipChange) Event {
	t.Helper()
	src <- change
	ev := nextEvent(t, sub, EventLeadershipChanged)
	if ev.Term != change.Term || ev.LeaderID != change.LeaderID {
		t.Fatalf("leadership event %+v, want term %d leader %q", ev, change.Term, change.LeaderID)
	}
	return ev
}

func TestLeaderFailover(t *testing.T) {
	d := newTestDaemon(t)
	sub := d.Subscribe(64)
	src := make(fakeSource)
	if err := d.Follow(context.Background(), src); err != nil {
		t.Fatalf("Follow: %v", err)
	}
	mustSchedule(t, d, Operation{ID: "leader-op", Handler: Succeed("leader work"), Scope: ScopeLeader})
	mustSchedule(t, d, Operation{ID: "local-op", Handler: Succeed("local work")})

	// node-1 is elected: leader work runs here.
	if ev := announce(t, src, sub, LeadershipChange{Term: 1, LeaderID: "node-1"}); !ev.IsLeader {
		t.Errorf("event %+v, want IsLeader", ev)
	}
	if h := d.Health(); !h.IsLeader || h.LeaderID != "node-1" || h.Term != 1 {
		t.Errorf("Health = %+v, want leader node-1 in term 1", h)
	}
	if got, err := d.Execute(context.Background(), "leader-op"); err != nil || got != "leader work" {
		t.Errorf("leader-op as leader = %v, %v", got, err)
	}

	// Leadership is lost: leader work stops, local work goes on.
	announce(t, src, sub, LeadershipChange{Term: 2})
	if h := d.Health(); h.IsLeader || h.LeaderID != "" {
		t.Errorf("Health = %+v, want no leader", h)
	}
	if _, err := d.Execute(context.Background(), "leader-op"); !errors.Is(err, ErrNoLeader) {
		t.Errorf("leader-op with no leader: %v, want ErrNoLeader", err)
	}
	if got, err := d.Execute(context.Background(), "local-op"); err != nil || got != "local work" {
		t.Errorf("local-op with no leader = %v, %v", got, err)
	}

	// node-2 is elected.
	announce(t, src, sub, LeadershipChange{Term: 2, LeaderID: "node-2"})
	h := d.Health()
	if h.IsLeader {
		t.Error("IsLeader after node-2 was elected")
	}
	if h.LeaderID != "node-2" {
		t.Errorf("LeaderID = %q, want node-2", h.LeaderID)
	}
	if _, err := d.Execute(context.Background(), "leader-op"); !errors.Is(err, ErrNotLeader) {
		t.Errorf("leader-op on a follower: %v, want ErrNotLeader", err)
	}
	if !h.Running {
		t.Error("daemon not running after failover")
	}
}

func TestLeadershipByTerm(t *testing.T) {
	type step struct {
		term   uint64
		leader string // empty: LeadershipLost
	}
	cases := []struct {
		name       string
		steps      []step
		wantTerm   uint64
		wantLeader string
	}{
		{"split brain resolves to the newest term", []step{{5, "node-1"}, {6, "node-2"}, {5, "node-1"}}, 6, "node-2"},
		{"split brain in either order", []step{{6, "node-2"}, {5, "node-1"}}, 6, "node-2"},
		{"second leader in one term is ignored", []step{{3, "node-2"}, {3, "node-3"}}, 3, "node-2"},
		{"older loss is ignored", []step{{4, "node-1"}, {3, ""}}, 4, "node-1"},
		{"same-term leader after loss", []step{{4, "node-1"}, {5, ""}, {5, "node-3"}}, 5, "node-3"},
		{"loss in the current term", []step{{4, "node-1"}, {4, ""}}, 4, ""},
		{"newer loss", []step{{4, "node-1"}, {7, ""}}, 7, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDaemon(t)
			var sink LeadershipSink = d
			for _, s := range tc.steps {
				if s.leader == "" {
					sink.LeadershipLost(s.term)
				} else {
					sink.SetLeadership(s.term, s.leader)
				}
			}

			h := d.Health()
			if h.Term != tc.wantTerm || h.LeaderID != tc.wantLeader {
				t.Errorf("term %d leader %q, want term %d leader %q", h.Term, h.LeaderID, tc.wantTerm, tc.wantLeader)
			}
			if want := tc.wantLeader == "node-1"; h.IsLeader != want {
				t.Errorf("IsLeader = %v, want %v", h.IsLeader, want)
			}
		})
	}
}

func TestLeadershipLossCancelsLeaderRuns(t *testing.T) {
	d := newTestDaemon(t)
	d.SetLeadership(1, "node-1")
	g := newGate(2)
	mustSchedule(t, d, Operation{ID: "leader-op", Handler: g.handler("leader-op"), Scope: ScopeLeader})
	mustSchedule(t, d, Operation{ID: "local-op", Handler: g.handler("local-op")})
	errs := make(chan error, 2)
	for _, id := range []string{"leader-op", "local-op"} {
		go func() {
			_, err := d.Execute(context.Background(), id)
			errs <- err
		}()
	}
	g.awaitStarts(t, 2)

	d.SetLeadership(2, "node-2")

	err := <-errs
	if !errors.Is(err, ErrCancelled) || !errors.Is(err, ErrNotLeader) {
		t.Errorf("leader-op after losing leadership: %v, want ErrCancelled and ErrNotLeader", err)
	}
	close(g.release)
	if err := <-errs; err != nil {
		t.Errorf("local-op after losing leadership: %v, want success", err)
	}
}

func TestFollowEndsWithSourceAndStop(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	d, err := New(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	closed := make(fakeSource)
	if err := d.Follow(context.Background(), closed); err != nil {
		t.Fatal(err)
	}
	close(closed)
	ctx, cancel := context.WithCancel(context.Background())
	if err := d.Follow(ctx, make(fakeSource)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := d.Follow(context.Background(), make(fakeSource)); err != nil {
		t.Fatal(err)
	}

	if _, err := d.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := d.Follow(context.Background(), make(fakeSource)); !errors.Is(err, ErrStopped) {
		t.Errorf("Follow after Stop: %v, want ErrStopped", err)
	}
	goleak.VerifyNone(t, ignore)
}
