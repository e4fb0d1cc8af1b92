package bench

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
)

// rpcTimeout is the I/O deadline of the RPC benchmark's transports. Loopback
// RPCs take microseconds, so it only matters when something hangs.
const rpcTimeout = 10 * time.Second

// RPCPair is two raft.NetworkTransports on 127.0.0.1: a receiver that
// responds to every AppendEntries at once, and a sender that calls it either
// directly or through netchaos.RaftTransport with an empty rule table. It
// measures the cost of one RPC, request and response, through each path.
type RPCPair struct {
	receiver *raft.NetworkTransport
	sender   *raft.NetworkTransport
	proxy    *netchaos.RaftTransport
	stop     chan struct{}
	done     chan struct{}
	closed   bool

	// request is sent by every call. It carries one 100-byte log entry, the
	// shape of a single replicated write.
	request raft.AppendEntriesRequest
}

// NewRPCPair starts the receiver and the sender. Close stops both.
func NewRPCPair(log *slog.Logger) (*RPCPair, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	receiver, err := newTransport(log.With("node_id", "receiver"))
	if err != nil {
		return nil, err
	}
	sender, err := newTransport(log.With("node_id", "sender"))
	if err != nil {
		receiver.Close()
		return nil, err
	}
	table, err := netchaos.NewTable(netchaos.DefaultTableConfig())
	if err != nil {
		sender.Close()
		receiver.Close()
		return nil, err
	}
	proxy, err := netchaos.NewRaftTransport(sender, netchaos.RaftTransportConfig{
		Local: "sender", Table: table, RPCTimeout: rpcTimeout, Logger: log,
	})
	if err != nil {
		sender.Close()
		receiver.Close()
		return nil, err
	}

	p := &RPCPair{
		receiver: receiver,
		sender:   sender,
		proxy:    proxy,
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		request: raft.AppendEntriesRequest{
			RPCHeader:         raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("sender"), Addr: []byte(sender.LocalAddr())},
			Term:              1,
			PrevLogEntry:      1,
			PrevLogTerm:       1,
			LeaderCommitIndex: 1,
			Entries:           []*raft.Log{{Index: 2, Term: 1, Type: raft.LogCommand, Data: []byte(writeValue)}},
		},
	}
	go p.serve()
	return p, nil
}

func newTransport(log *slog.Logger) (*raft.NetworkTransport, error) {
	t, err := raft.NewTCPTransportWithConfig("127.0.0.1:0", nil, &raft.NetworkTransportConfig{
		MaxPool: networkMaxPool,
		Timeout: rpcTimeout,
		Logger:  raftint.NewHCLogger(log, "transport"),
	})
	if err != nil {
		return nil, fmt.Errorf("listen on 127.0.0.1: %w", err)
	}
	return t, nil
}

// serve responds to the receiver's RPCs until Close.
func (p *RPCPair) serve() {
	defer close(p.done)
	for {
		select {
		case rpc := <-p.receiver.Consumer():
			req, ok := rpc.Command.(*raft.AppendEntriesRequest)
			if !ok {
				rpc.Respond(nil, fmt.Errorf("rpc benchmark receiver: unexpected %T", rpc.Command))
				continue
			}
			rpc.Respond(&raft.AppendEntriesResponse{Term: req.Term, LastLog: req.PrevLogEntry + 1, Success: true}, nil)
		case <-p.stop:
			return
		}
	}
}

// ReceiverAddr returns the receiver's raft address.
func (p *RPCPair) ReceiverAddr() raft.ServerAddress { return p.receiver.LocalAddr() }

// CallPlain sends one AppendEntries from the sender to target on the plain
// transport. target is the receiver's address or a proxy in front of it.
func (p *RPCPair) CallPlain(target raft.ServerAddress) error {
	var resp raft.AppendEntriesResponse
	if err := p.sender.AppendEntries("receiver", target, &p.request, &resp); err != nil {
		return err
	}
	return checkResponse(&resp)
}

// CallNetchaos sends one AppendEntries from the sender to the receiver
// through netchaos.RaftTransport.
func (p *RPCPair) CallNetchaos() error {
	var resp raft.AppendEntriesResponse
	if err := p.proxy.AppendEntries("receiver", p.receiver.LocalAddr(), &p.request, &resp); err != nil {
		return err
	}
	return checkResponse(&resp)
}

var errRejectedAppend = errors.New("rpc benchmark receiver did not accept the append")

func checkResponse(resp *raft.AppendEntriesResponse) error {
	if !resp.Success {
		return errRejectedAppend
	}
	return nil
}

// Close stops the receiver's goroutine, closes both transports and their
// pooled connections, and waits. It is idempotent but not safe for
// concurrent use.
func (p *RPCPair) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	close(p.stop)
	<-p.done

	// Closing the wrapper closes the sender and its pooled connections, which
	// ends the receiver's connection handlers.
	errs := []error{p.proxy.Close()}
	p.receiver.CloseStreams()
	errs = append(errs, p.receiver.Close())
	return errors.Join(errs...)
}

// timeCalls runs call n times and returns the mean time per call.
func timeCalls(n int, call func() error) (time.Duration, error) {
	start := time.Now()
	for i := range n {
		if err := call(); err != nil {
			return 0, fmt.Errorf("rpc %d of %d: %w", i+1, n, err)
		}
	}
	return time.Since(start) / time.Duration(n), nil
}
