package netchaos

import (
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func appendRequest(index uint64) *raft.AppendEntriesRequest {
	return &raft.AppendEntriesRequest{
		Term:              2,
		PrevLogEntry:      index,
		PrevLogTerm:       2,
		LeaderCommitIndex: index,
		Entries:           []*raft.Log{{Index: index + 1, Term: 2, Type: raft.LogCommand, Data: []byte("x")}},
	}
}

func openPipeline(t *testing.T, client *RaftTransport, p *peer) raft.AppendPipeline {
	t.Helper()
	pipe, err := client.AppendEntriesPipeline("b", p.trans.LocalAddr())
	if err != nil {
		t.Fatalf("AppendEntriesPipeline: %v", err)
	}
	t.Cleanup(func() { pipe.Close() })
	return pipe
}

func nextFuture(t *testing.T, pipe raft.AppendPipeline) raft.AppendFuture {
	t.Helper()
	select {
	case f := <-pipe.Consumer():
		return f
	case <-time.After(10 * time.Second):
		t.Fatal("no pipelined response within 10s")
		return nil
	}
}

func TestPipelineKeepsOrderUnderDelay(t *testing.T) {
	table := newTestTable(t, 3)
	p := startPeer(t)
	client := newClient(t, table, time.Minute)
	if _, err := table.Add(Rule{From: "a", To: "b", Kind: KindDelay, Delay: 5 * time.Millisecond, Jitter: 20 * time.Millisecond}); err != nil {
		t.Fatalf("Add: %v", err)
	}
	pipe := openPipeline(t, client, p)

	const n = 30
	for i := range uint64(n) {
		if _, err := pipe.AppendEntries(appendRequest(i), new(raft.AppendEntriesResponse)); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	for i := range uint64(n) {
		f := nextFuture(t, pipe)
		if err := f.Error(); err != nil {
			t.Fatalf("future %d: %v", i, err)
		}
		if got := f.Request().PrevLogEntry; got != i {
			t.Fatalf("future %d carries request %d: order lost", i, got)
		}
		if !f.Response().Success {
			t.Fatalf("future %d: response not successful", i)
		}
	}
	for i := range uint64(n) {
		got := (<-p.received).(*raft.AppendEntriesRequest).PrevLogEntry
		if got != i {
			t.Fatalf("peer received request %d in position %d", got, i)
		}
	}
	if c := table.Counters(); c[0].Delayed != n {
		t.Fatalf("a → b delayed %d appends, want %d", c[0].Delayed, n)
	}
}

func TestPipelinePartitionBreaksPipeline(t *testing.T) {
	table := newTestTable(t, 1)
	p := startPeer(t)
	client := newClient(t, table, time.Minute)
	pipe := openPipeline(t, client, p)
	if _, err := table.Add(Isolate("b", KindPartition)...); err != nil {
		t.Fatalf("Add: %v", err)
	}
	resp := &raft.AppendEntriesResponse{Success: true}
	if _, err := pipe.AppendEntries(appendRequest(0), resp); err != nil {
		t.Fatalf("append: %v", err)
	}
	waitFor(t, 5*time.Second, "the append to be held", func() bool {
		c := table.Counters()
		return len(c) == 1 && c[0].Held == 1
	})
	select {
	case f := <-pipe.Consumer():
		t.Fatalf("held append completed before heal: %v", f.Error())
	default:
	}

	table.Clear()
	f := nextFuture(t, pipe)
	if err := f.Error(); !errors.Is(err, ErrPartitioned) {
		t.Fatalf("future error %v, want ErrPartitioned", err)
	}
	if f.Response().Success || f.Response().Term != 0 {
		t.Fatalf("failed future has response %+v, want a zero response", *f.Response())
	}
	if _, err := pipe.AppendEntries(appendRequest(1), new(raft.AppendEntriesResponse)); !errors.Is(err, ErrPipelineBroken) {
		t.Fatalf("append after a fault: error %v, want ErrPipelineBroken", err)
	}
	if n := p.receivedCount(); n != 0 {
		t.Fatalf("peer received %d appends through a partition", n)
	}
}

func TestPipelineOneWayCutLosesResponse(t *testing.T) {
	table := newTestTable(t, 1)
	p := startPeer(t)
	client := newClient(t, table, time.Minute)
	pipe := openPipeline(t, client, p)
	if _, err := table.Add(Cut("b", "a", KindReject)); err != nil {
		t.Fatalf("Add: %v", err)
	}
	if _, err := pipe.AppendEntries(appendRequest(4), new(raft.AppendEntriesResponse)); err != nil {
		t.Fatalf("append: %v", err)
	}
	f := nextFuture(t, pipe)
	if err := f.Error(); !errors.Is(err, ErrRejected) {
		t.Fatalf("future error %v, want ErrRejected", err)
	}
	if f.Response().Success {
		t.Fatal("a lost response still reads as successful")
	}
	select {
	case got := <-p.received:
		if idx := got.(*raft.AppendEntriesRequest).PrevLogEntry; idx != 4 {
			t.Fatalf("peer received append %d, want 4", idx)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("peer did not receive the request of a one-way cut")
	}
}

func TestCloseFailsHeldPipelineAppends(t *testing.T) {
	table := newTestTable(t, 1)
	p := startPeer(t)
	client := newClient(t, table, time.Hour)
	pipe := openPipeline(t, client, p)
	if _, err := table.Add(Cut("a", "b", KindPartition)); err != nil {
		t.Fatalf("Add: %v", err)
	}
	if _, err := pipe.AppendEntries(appendRequest(0), new(raft.AppendEntriesResponse)); err != nil {
		t.Fatalf("append: %v", err)
	}
	waitFor(t, 5*time.Second, "the append to be held", func() bool { return table.Counters()[0].Held == 1 })
	closed := make(chan error, 1)
	go func() { closed <- client.Close() }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited on a held append with an hour-long timeout")
	}
}
