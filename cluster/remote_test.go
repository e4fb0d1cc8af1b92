package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/partition/partitiontest"
	"github.com/faultline-dev/faultline/raftint"
)

// fakeRemote is a remote harness over fake nodes, which serve the admin
// API's raft, timeline and fault endpoints.
type fakeRemote struct {
	*remote
	nodes []*partitiontest.Node
}

func startFakeRemote(t *testing.T, size int) *fakeRemote {
	t.Helper()
	var ids []string
	for i := range size {
		ids = append(ids, fmt.Sprintf("node-%d", i+1))
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fr := &fakeRemote{remote: newRemote(ids, raftint.ProfileFast, "s3cret", log)}
	for _, id := range ids {
		n := partitiontest.NewNode(partitiontest.Config{ID: id, Token: "s3cret"})
		fr.nodes = append(fr.nodes, n)
		fr.setUp(id, n.URL())
	}
	fr.startPolling(time.Millisecond)
	t.Cleanup(func() {
		fr.stopRemote()
		for _, n := range fr.nodes {
			n.Close()
		}
	})
	return fr
}

// waitEvents waits until the harness timeline holds count events.
func waitEvents(t *testing.T, tl *raftint.Timeline, count int) []raftint.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, err := tl.Wait(ctx, uint64(count-1), func(raftint.Event) bool { return true }); err != nil {
		t.Fatalf("timeline has %d events, want %d: %v", tl.LastSeq(), count, err)
	}
	return tl.Events()
}

func TestRemoteTimelineMergesNodes(t *testing.T) {
	fr := startFakeRemote(t, 2)
	base := time.Now()
	// The second node's event happened first; the fault event is the
	// harness's to record, so the copy leaves it out.
	fr.nodes[0].Timeline().Record(raftint.Event{At: base.Add(2 * time.Millisecond), Node: "node-1", Kind: raftint.EventState, State: "Leader", Term: 2})
	fr.nodes[0].Timeline().Record(raftint.Event{At: base.Add(3 * time.Millisecond), Node: "node-1", Kind: raftint.EventFault})
	fr.nodes[1].Timeline().Record(raftint.Event{At: base.Add(time.Millisecond), Kind: raftint.EventLeader, Leader: "node-1", Term: 2})

	events := waitEvents(t, fr.Timeline(), 2)
	if len(events) != 2 {
		t.Fatalf("events %v, want 2", events)
	}
	if e := events[0]; e.Node != "node-2" || e.Kind != raftint.EventLeader {
		t.Errorf("first event %v, want node-2's leader event, which has no node and the earlier time", e)
	}
	if e := events[1]; e.Node != "node-1" || e.State != "Leader" || e.Term != 2 {
		t.Errorf("second event %v, want node-1 becoming leader in term 2", e)
	}
	if got, want := events[1].At.UnixNano(), base.Add(2*time.Millisecond).UnixNano(); got != want {
		t.Errorf("event time %d, want the node's own time %d", got, want)
	}
}

func TestRemoteTimelineRestartReadsFromStart(t *testing.T) {
	fr := startFakeRemote(t, 1)
	fr.nodes[0].Timeline().Record(raftint.Event{Node: "node-1", Kind: raftint.EventState, State: "Follower"})
	waitEvents(t, fr.Timeline(), 1)

	// A restarted node is a new process whose timeline starts at Seq 1.
	restarted := partitiontest.NewNode(partitiontest.Config{ID: "node-1", Token: "s3cret"})
	defer restarted.Close()
	restarted.Timeline().Record(raftint.Event{Node: "node-1", Kind: raftint.EventState, State: "Candidate"})
	fr.setDown("node-1")
	fr.setUp("node-1", restarted.URL())

	events := waitEvents(t, fr.Timeline(), 2)
	if e := events[1]; e.State != "Candidate" {
		t.Errorf("event after restart %v, want the new process's first event", e)
	}
}

func TestRemoteFaultsOneTableEverywhere(t *testing.T) {
	fr := startFakeRemote(t, 3)
	// node-3's table is ahead, as after an expiry.
	if err := fr.nodes[2].Table().Install(5, nil); err != nil {
		t.Fatal(err)
	}

	added, err := fr.AddFaults(netchaos.Isolate("node-1", netchaos.KindPartition)...)
	if err != nil {
		t.Fatalf("AddFaults: %v", err)
	}
	if len(added) != 2 || added[0].ID != "f1" || added[1].ID != "f2" || added[0].ExpiresAt.IsZero() {
		t.Fatalf("added %+v, want f1 and f2 with expiry times", added)
	}
	delay, err := fr.AddFaults(netchaos.Rule{From: "node-2", To: "node-3", Kind: netchaos.KindDelay, Delay: time.Millisecond, TTL: time.Minute})
	if err != nil {
		t.Fatalf("AddFaults delay: %v", err)
	}
	version := fr.nodes[0].Table().Version()
	for i, n := range fr.nodes {
		if v := n.Table().Version(); v != version {
			t.Errorf("node-%d at version %d, node-1 at %d", i+1, v, version)
		}
		if ids := ruleIDs(n.Table().Rules()); !slices.Equal(ids, []string{"f1", "f2", "f3"}) {
			t.Errorf("node-%d rule IDs %q, want f1 f2 f3", i+1, ids)
		}
	}
	if got := ruleIDs(fr.Faults()); !slices.Equal(got, []string{"f1", "f2", "f3"}) {
		t.Errorf("Faults IDs %q, want f1 f2 f3", got)
	}

	if err := fr.RemoveFaults("f1", "f2"); err != nil {
		t.Fatalf("RemoveFaults: %v", err)
	}
	for i, n := range fr.nodes {
		rules := n.Table().Rules()
		if ids := ruleIDs(rules); !slices.Equal(ids, []string{"f3"}) {
			t.Errorf("node-%d rule IDs %q after remove, want f3", i+1, ids)
		}
		// Installing f3 again keeps its remaining time to live, so its
		// expiry moves only by the time the install took.
		if shift := rules[0].ExpiresAt.Sub(delay[0].ExpiresAt); shift < 0 || shift > time.Second {
			t.Errorf("node-%d: f3 expiry moved by %v, want it kept", i+1, shift)
		}
	}

	if err := fr.ClearFaults(); err != nil {
		t.Fatalf("ClearFaults: %v", err)
	}
	for i, n := range fr.nodes {
		if rules := n.Table().Rules(); len(rules) != 0 {
			t.Errorf("node-%d keeps %d rules after clear", i+1, len(rules))
		}
	}
	kinds := eventKinds(fr.Timeline().Events())
	if want := []raftint.EventKind{raftint.EventFault, raftint.EventFault, raftint.EventHeal, raftint.EventHeal}; !slices.Equal(kinds, want) {
		t.Errorf("timeline kinds %q, want %q", kinds, want)
	}
}

func TestRemoteFaultsReinstalledOnRestart(t *testing.T) {
	fr := startFakeRemote(t, 2)
	if _, err := fr.AddFaults(netchaos.Isolate("node-1", netchaos.KindReject)...); err != nil {
		t.Fatalf("AddFaults: %v", err)
	}
	restarted := partitiontest.NewNode(partitiontest.Config{ID: "node-2", Token: "s3cret"})
	defer restarted.Close()
	fr.setDown("node-2")
	fr.setUp("node-2", restarted.URL())

	if err := fr.reinstallOn("node-2"); err != nil {
		t.Fatalf("reinstallOn: %v", err)
	}
	if got, want := restarted.Table().Version(), fr.nodes[0].Table().Version(); got != want {
		t.Errorf("restarted node at version %d, want %d", got, want)
	}
	if ids := ruleIDs(restarted.Table().Rules()); !slices.Equal(ids, []string{"f1", "f2"}) {
		t.Errorf("restarted node rule IDs %q, want f1 f2", ids)
	}
}

func TestRemoteStatusAndStable(t *testing.T) {
	fr := startFakeRemote(t, 3)
	for _, n := range fr.nodes {
		n.SetRaft("Follower", 4, "node-2")
		n.SetIndexes(9, 9)
	}
	fr.nodes[1].SetRaft("Leader", 4, "node-2")

	s, err := fr.Status("node-2")
	if err != nil || s.State != "Leader" || s.Term != 4 || s.AppliedIndex != 9 {
		t.Fatalf("Status = %+v, %v; want the leader in term 4 at index 9", s, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	st, err := fr.WaitStable(ctx)
	if err != nil || st.Leader != "node-2" || st.CommitIndex != 9 {
		t.Fatalf("WaitStable = %+v, %v; want node-2 at commit index 9", st, err)
	}

	fr.setDown("node-3")
	if _, err := fr.Status("node-3"); !errors.Is(err, ErrNodeDown) {
		t.Errorf("Status of a down node: %v, want ErrNodeDown", err)
	}
	if _, err := fr.Status("node-9"); !errors.Is(err, ErrUnknownNode) {
		t.Errorf("Status of node-9: %v, want ErrUnknownNode", err)
	}
	if _, _, err := fr.StateHash("node-1"); err != nil {
		t.Errorf("StateHash: %v", err)
	}
	if _, _, err := fr.StateHash("node-3"); !errors.Is(err, ErrNodeDown) {
		t.Errorf("StateHash of a down node: %v, want ErrNodeDown", err)
	}
}

func TestFaultStateKeptRules(t *testing.T) {
	now := time.Now()
	f := faultState{rules: []netchaos.Rule{
		{ID: "f1", From: "a", To: "b", Kind: netchaos.KindPartition, TTL: time.Minute, ExpiresAt: now.Add(30 * time.Second)},
		{ID: "f2", From: "b", To: "a", Kind: netchaos.KindPartition, TTL: time.Minute, ExpiresAt: now},
	}}
	kept := f.keptRules(now)
	if len(kept) != 1 || kept[0].ID != "f1" {
		t.Fatalf("kept %+v, want f1 only: f2 expires now", kept)
	}
	if kept[0].TTL != 30*time.Second || !kept[0].ExpiresAt.IsZero() {
		t.Errorf("f1 TTL %v, expiry %v; want the remaining 30s and no expiry", kept[0].TTL, kept[0].ExpiresAt)
	}
}

func ruleIDs(rules []netchaos.Rule) []string {
	ids := make([]string, len(rules))
	for i, r := range rules {
		ids[i] = r.ID
	}
	return ids
}

func eventKinds(events []raftint.Event) []raftint.EventKind {
	kinds := make([]raftint.EventKind, len(events))
	for i, e := range events {
		kinds[i] = e.Kind
	}
	return kinds
}
