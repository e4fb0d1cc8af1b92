package netchaos

import (
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// peer is a real raft.NetworkTransport on 127.0.0.1 that grants every RPC
// and records the requests it received.
type peer struct {
	trans    *raft.NetworkTransport
	received chan any
	stop     chan struct{}
	done     chan struct{}
}

func newNetworkTransport(t *testing.T) *raft.NetworkTransport {
	t.Helper()
	trans, err := raft.NewTCPTransportWithConfig("127.0.0.1:0", nil, &raft.NetworkTransportConfig{
		MaxPool: 2,
		Timeout: 5 * time.Second,
		Logger:  hclog.NewNullLogger(),
	})
	if err != nil {
		t.Fatalf("NewTCPTransport: %v", err)
	}
	return trans
}

func startPeer(t *testing.T) *peer {
	t.Helper()
	p := &peer{
		trans:    newNetworkTransport(t),
		received: make(chan any, 1024),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go p.serve()
	t.Cleanup(func() {
		close(p.stop)
		<-p.done
		p.trans.CloseStreams()
		p.trans.Close()
	})
	return p
}

func (p *peer) serve() {
	defer close(p.done)
	for {
		select {
		case rpc := <-p.trans.Consumer():
			p.received <- rpc.Command
			switch cmd := rpc.Command.(type) {
			case *raft.AppendEntriesRequest:
				rpc.Respond(&raft.AppendEntriesResponse{Term: cmd.Term, Success: true, LastLog: cmd.PrevLogEntry + uint64(len(cmd.Entries))}, nil)
			case *raft.RequestVoteRequest:
				rpc.Respond(&raft.RequestVoteResponse{Term: cmd.Term, Granted: true}, nil)
			case *raft.RequestPreVoteRequest:
				rpc.Respond(&raft.RequestPreVoteResponse{Term: cmd.Term, Granted: true}, nil)
			case *raft.TimeoutNowRequest:
				rpc.Respond(&raft.TimeoutNowResponse{}, nil)
			default:
				rpc.Respond(nil, errors.New("unexpected command"))
			}
		case <-p.stop:
			return
		}
	}
}

// receivedCount drains the record of received requests.
func (p *peer) receivedCount() int {
	n := 0
	for {
		select {
		case <-p.received:
			n++
		default:
			return n
		}
	}
}

// newClient wraps a fresh transport of node "a" that talks to node "b".
func newClient(t *testing.T, table *Table, timeout time.Duration) *RaftTransport {
	t.Helper()
	wrapped, err := NewRaftTransport(newNetworkTransport(t), RaftTransportConfig{Local: "a", Table: table, RPCTimeout: timeout})
	if err != nil {
		t.Fatalf("NewRaftTransport: %v", err)
	}
	t.Cleanup(func() { wrapped.Close() })
	return wrapped
}

func vote(tr *RaftTransport, p *peer) error {
	var resp raft.RequestVoteResponse
	return tr.RequestVote("b", p.trans.LocalAddr(), &raft.RequestVoteRequest{Term: 3}, &resp)
}

func TestPartitionHoldsUntilHeal(t *testing.T) {
	table := newTestTable(t, 1)
	p := startPeer(t)
	client := newClient(t, table, time.Minute)
	if _, err := table.Add(Isolate("b", KindPartition)...); err != nil {
		t.Fatalf("Add: %v", err)
	}

	result := make(chan error, 1)
	go func() { result <- vote(client, p) }()
	waitFor(t, 5*time.Second, "the vote to be held", func() bool {
		c := table.Counters()
		return len(c) == 1 && c[0].Held == 1
	})
	select {
	case err := <-result:
		t.Fatalf("held RPC returned before heal: %v", err)
	default:
	}

	table.Clear()
	select {
	case err := <-result:
		if !errors.Is(err, ErrPartitioned) {
			t.Fatalf("held RPC after heal: error %v, want ErrPartitioned", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("held RPC did not fail within 10s of the heal")
	}
	if n := p.receivedCount(); n != 0 {
		t.Fatalf("peer received %d requests through a partition, want 0", n)
	}
	if err := vote(client, p); err != nil {
		t.Fatalf("vote after heal: %v", err)
	}
}

func TestPartitionHoldsUntilTimeout(t *testing.T) {
	const timeout = 150 * time.Millisecond
	table := newTestTable(t, 1)
	p := startPeer(t)
	client := newClient(t, table, timeout)
	if _, err := table.Add(Cut("a", "b", KindPartition)); err != nil {
		t.Fatalf("Add: %v", err)
	}
	start := time.Now()
	err := vote(client, p)
	if !errors.Is(err, ErrPartitioned) {
		t.Fatalf("error %v, want ErrPartitioned", err)
	}
	if held := time.Since(start); held < timeout {
		t.Fatalf("RPC failed after %v, before the %v timeout", held, timeout)
	}
}

func TestPartitionEndsAtRuleTTL(t *testing.T) {
	table := newTestTable(t, 1)
	p := startPeer(t)
	client := newClient(t, table, time.Minute)
	if _, err := table.Add(Rule{From: "a", To: "b", Kind: KindPartition, TTL: 100 * time.Millisecond}); err != nil {
		t.Fatalf("Add: %v", err)
	}
	start := time.Now()
	err := vote(client, p)
	if !errors.Is(err, ErrPartitioned) {
		t.Fatalf("error %v, want ErrPartitioned", err)
	}
	if held := time.Since(start); held > 30*time.Second {
		t.Fatalf("RPC was held %v, far past the rule's 100ms TTL", held)
	}
	if err := vote(client, p); err != nil {
		t.Fatalf("vote after the TTL: %v", err)
	}
}

func TestRejectFailsAtOnce(t *testing.T) {
	table := newTestTable(t, 1)
	p := startPeer(t)
	client := newClient(t, table, time.Minute)
	if _, err := table.Add(Cut("a", "b", KindReject)); err != nil {
		t.Fatalf("Add: %v", err)
	}
	start := time.Now()
	if err := vote(client, p); !errors.Is(err, ErrRejected) {
		t.Fatalf("error %v, want ErrRejected", err)
	}
	// A held RPC would wait for the one-minute timeout; a few seconds is a
	// generous bound for a loaded machine.
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("rejected RPC took %v", took)
	}
	if n := p.receivedCount(); n != 0 {
		t.Fatalf("peer received %d rejected requests, want 0", n)
	}
}

func TestOneWayCutLosesResponses(t *testing.T) {
	for _, kind := range []Kind{KindReject, KindPartition} {
		t.Run(string(kind), func(t *testing.T) {
			table := newTestTable(t, 1)
			p := startPeer(t)
			client := newClient(t, table, 200*time.Millisecond)
			// a → b is open, b → a is cut: requests arrive, responses do not.
			if _, err := table.Add(Cut("b", "a", kind)); err != nil {
				t.Fatalf("Add: %v", err)
			}
			for i := range 3 {
				err := vote(client, p)
				if err == nil {
					t.Fatalf("vote %d succeeded through a cut response path", i)
				}
			}
			if n := p.receivedCount(); n != 3 {
				t.Fatalf("peer received %d requests, want 3", n)
			}
		})
	}
}

func TestDropThroughTransportMatchesCounters(t *testing.T) {
	table := newTestTable(t, 5)
	p := startPeer(t)
	client := newClient(t, table, time.Minute)
	if _, err := table.Add(Rule{From: "a", To: "b", Kind: KindDrop, Probability: 0.25}); err != nil {
		t.Fatalf("Add: %v", err)
	}
	failed := 0
	const n = 200
	for range n {
		if err := vote(client, p); err != nil {
			if !errors.Is(err, ErrDropped) {
				t.Fatalf("error %v, want ErrDropped", err)
			}
			failed++
		}
	}
	c := table.Counters()
	if len(c) != 2 {
		t.Fatalf("counters for %d links, want 2 (a → b and b → a)", len(c))
	}
	out := c[0]
	if out.From != "a" || int(out.Dropped) != failed || int(out.Passed) != n-failed {
		t.Fatalf("a → b counters %+v, want %d dropped and %d passed", out, failed, n-failed)
	}
	if got := p.receivedCount(); got != n-failed {
		t.Fatalf("peer received %d, want %d", got, n-failed)
	}
}

func TestDelayAppliesPerRPC(t *testing.T) {
	const delay = 40 * time.Millisecond
	table := newTestTable(t, 1)
	p := startPeer(t)
	client := newClient(t, table, time.Minute)
	if _, err := table.Add(Rule{From: "a", To: "b", Kind: KindDelay, Delay: delay}); err != nil {
		t.Fatalf("Add: %v", err)
	}
	for i := range 3 {
		start := time.Now()
		if err := vote(client, p); err != nil {
			t.Fatalf("vote %d: %v", i, err)
		}
		if took := time.Since(start); took < delay {
			t.Fatalf("vote %d took %v, less than the %v delay", i, took, delay)
		}
	}
}

func TestTimeoutNowAndPreVoteCrossRules(t *testing.T) {
	table := newTestTable(t, 1)
	p := startPeer(t)
	client := newClient(t, table, time.Minute)
	if _, err := table.Add(Rule{From: "a", To: "b", Kind: KindReject, Messages: []MessageKind{MsgPreVote, MsgTimeoutNow}}); err != nil {
		t.Fatalf("Add: %v", err)
	}
	var pre raft.RequestPreVoteResponse
	if err := client.RequestPreVote("b", p.trans.LocalAddr(), &raft.RequestPreVoteRequest{Term: 2}, &pre); !errors.Is(err, ErrRejected) {
		t.Fatalf("pre-vote: error %v, want ErrRejected", err)
	}
	var tn raft.TimeoutNowResponse
	if err := client.TimeoutNow("b", p.trans.LocalAddr(), &raft.TimeoutNowRequest{}, &tn); !errors.Is(err, ErrRejected) {
		t.Fatalf("timeout-now: error %v, want ErrRejected", err)
	}
	if err := vote(client, p); err != nil {
		t.Fatalf("a request-vote is not named by the rule but failed: %v", err)
	}
}

func TestNewRaftTransportValidates(t *testing.T) {
	table := newTestTable(t, 1)
	inner := newNetworkTransport(t)
	defer inner.Close()
	cases := []struct {
		name string
		cfg  RaftTransportConfig
	}{
		{"no local", RaftTransportConfig{Table: table, RPCTimeout: time.Second}},
		{"wildcard local", RaftTransportConfig{Local: Any, Table: table, RPCTimeout: time.Second}},
		{"no table", RaftTransportConfig{Local: "a", RPCTimeout: time.Second}},
		{"no timeout", RaftTransportConfig{Local: "a", Table: table}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewRaftTransport(inner, tc.cfg); err == nil {
				t.Fatal("NewRaftTransport accepted an invalid config")
			}
		})
	}
}
