package netchaos

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// RaftTransportConfig configures a RaftTransport.
type RaftTransportConfig struct {
	// Local is the ID of the node that owns the transport.
	Local string
	// Table holds the rules to enforce.
	Table *Table
	// RPCTimeout bounds how long a held RPC waits before it fails, as the
	// wrapped transport's I/O timeout would. Match it to that timeout.
	RPCTimeout time.Duration
	// Logger receives a line per transport close; faults are logged by the
	// table.
	Logger *slog.Logger
}

// Validate checks the config.
func (c RaftTransportConfig) Validate() error {
	switch {
	case c.Local == "" || c.Local == Any:
		return fmt.Errorf("netchaos: local node ID %q is invalid: set the ID of the node that owns the transport", c.Local)
	case c.Table == nil:
		return errors.New("netchaos: table is missing: pass the table whose rules the transport enforces")
	case c.RPCTimeout <= 0:
		return fmt.Errorf("netchaos: rpc timeout %v must be above zero: held RPCs need a bound", c.RPCTimeout)
	}
	return nil
}

// innerTransport is the interface RaftTransport requires of the transport it
// wraps. raft turns pre-vote off for a transport without WithPreVote, and
// Close must reach the real transport.
type innerTransport interface {
	raft.Transport
	raft.WithPreVote
	raft.WithClose
}

// streamCloser is implemented by raft.NetworkTransport; without it, closed
// transports leave pooled connections open.
type streamCloser interface{ CloseStreams() }

// RaftTransport is a raft.Transport that enforces a Table on every RPC the
// local node sends: the request crosses local → peer and the response
// crosses peer → local. Inbound RPCs pass untouched, because their sender
// enforces them.
type RaftTransport struct {
	inner    innerTransport
	local    string
	table    *Table
	timeout  time.Duration
	log      *slog.Logger
	shutdown chan struct{}
	once     sync.Once
	wg       sync.WaitGroup
}

var (
	_ raft.Transport   = (*RaftTransport)(nil)
	_ raft.WithPreVote = (*RaftTransport)(nil)
	_ raft.WithClose   = (*RaftTransport)(nil)
)

// NewRaftTransport wraps inner, which must also implement raft.WithPreVote
// and raft.WithClose (raft.NetworkTransport does).
func NewRaftTransport(inner raft.Transport, cfg RaftTransportConfig) (*RaftTransport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	full, ok := inner.(innerTransport)
	if !ok {
		return nil, fmt.Errorf("netchaos: transport %T lacks RequestPreVote or Close: raft would silently turn pre-vote off", inner)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &RaftTransport{
		inner:    full,
		local:    cfg.Local,
		table:    cfg.Table,
		timeout:  cfg.RPCTimeout,
		log:      log,
		shutdown: make(chan struct{}),
	}, nil
}

// Consumer implements raft.Transport.
func (t *RaftTransport) Consumer() <-chan raft.RPC { return t.inner.Consumer() }

// LocalAddr implements raft.Transport.
func (t *RaftTransport) LocalAddr() raft.ServerAddress { return t.inner.LocalAddr() }

// EncodePeer implements raft.Transport.
func (t *RaftTransport) EncodePeer(id raft.ServerID, addr raft.ServerAddress) []byte {
	return t.inner.EncodePeer(id, addr)
}

// DecodePeer implements raft.Transport.
func (t *RaftTransport) DecodePeer(buf []byte) raft.ServerAddress { return t.inner.DecodePeer(buf) }

// SetHeartbeatHandler implements raft.Transport.
func (t *RaftTransport) SetHeartbeatHandler(cb func(rpc raft.RPC)) { t.inner.SetHeartbeatHandler(cb) }

// AppendEntries implements raft.Transport.
func (t *RaftTransport) AppendEntries(id raft.ServerID, target raft.ServerAddress, args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	return t.call(appendKind(args), id, func() error { return t.inner.AppendEntries(id, target, args, resp) })
}

// RequestVote implements raft.Transport.
func (t *RaftTransport) RequestVote(id raft.ServerID, target raft.ServerAddress, args *raft.RequestVoteRequest, resp *raft.RequestVoteResponse) error {
	return t.call(MsgRequestVote, id, func() error { return t.inner.RequestVote(id, target, args, resp) })
}

// RequestPreVote implements raft.WithPreVote.
func (t *RaftTransport) RequestPreVote(id raft.ServerID, target raft.ServerAddress, args *raft.RequestPreVoteRequest, resp *raft.RequestPreVoteResponse) error {
	return t.call(MsgPreVote, id, func() error { return t.inner.RequestPreVote(id, target, args, resp) })
}

// InstallSnapshot implements raft.Transport.
func (t *RaftTransport) InstallSnapshot(id raft.ServerID, target raft.ServerAddress, args *raft.InstallSnapshotRequest, resp *raft.InstallSnapshotResponse, data io.Reader) error {
	return t.call(MsgInstallSnapshot, id, func() error { return t.inner.InstallSnapshot(id, target, args, resp, data) })
}

// TimeoutNow implements raft.Transport.
func (t *RaftTransport) TimeoutNow(id raft.ServerID, target raft.ServerAddress, args *raft.TimeoutNowRequest, resp *raft.TimeoutNowResponse) error {
	return t.call(MsgTimeoutNow, id, func() error { return t.inner.TimeoutNow(id, target, args, resp) })
}

// AppendEntriesPipeline implements raft.Transport by wrapping the inner
// transport's pipeline, so pipelined appends cross the same rules.
func (t *RaftTransport) AppendEntriesPipeline(id raft.ServerID, target raft.ServerAddress) (raft.AppendPipeline, error) {
	inner, err := t.inner.AppendEntriesPipeline(id, target)
	if err != nil {
		return nil, err
	}
	return newPipeline(t, string(id), inner), nil
}

// Close implements raft.WithClose. It fails every held message, closes
// pooled streams and then the inner transport. It is idempotent.
func (t *RaftTransport) Close() error {
	var err error
	t.once.Do(func() {
		close(t.shutdown)
		if sc, ok := t.inner.(streamCloser); ok {
			sc.CloseStreams()
		}
		err = t.inner.Close()
		t.wg.Wait()
		t.log.Debug("netchaos transport closed", "node_id", t.local)
	})
	return err
}

// appendKind classifies an append as a heartbeat or a log append. raft's
// heartbeat loop sends no entries, no previous log position and no commit
// index.
func appendKind(args *raft.AppendEntriesRequest) MessageKind {
	if len(args.Entries) == 0 && args.PrevLogEntry == 0 && args.PrevLogTerm == 0 && args.LeaderCommitIndex == 0 {
		return MsgHeartbeat
	}
	return MsgAppendEntries
}

// call runs one RPC: the request crosses local → peer, then the response
// crosses peer → local. A lost response makes the RPC fail after the peer
// has acted on the request, as a one-way cut does.
func (t *RaftTransport) call(kind MessageKind, id raft.ServerID, rpc func() error) error {
	peer := string(id)
	deadline := time.Now().Add(t.timeout)
	if err := t.cross(t.table.Decide(t.local, peer, kind), t.local, peer, kind, deadline, t.shutdown); err != nil {
		return err
	}
	if err := rpc(); err != nil {
		return err
	}
	return t.cross(t.table.Decide(peer, t.local, kind), peer, t.local, kind, deadline, t.shutdown)
}

// cross carries out decision d for one message on from → to. Waits end
// early with ErrClosed when cancel closes.
func (t *RaftTransport) cross(d Decision, from, to string, kind MessageKind, deadline time.Time, cancel <-chan struct{}) error {
	switch d.Action {
	case ActionDelay:
		return sleepUntil(d.Release, cancel)
	case ActionDrop:
		return fmt.Errorf("%w: %s %s → %s by rule %s", ErrDropped, kind, from, to, d.RuleID)
	case ActionReject:
		return fmt.Errorf("%w: %s %s → %s by rule %s", ErrRejected, kind, from, to, d.RuleID)
	case ActionHold:
		return holdUntil(t.table, d, from, to, kind, deadline, fmt.Sprintf("the %v RPC timeout", t.timeout), cancel)
	}
	return nil
}

func sleepUntil(release time.Time, cancel <-chan struct{}) error {
	wait := time.Until(release)
	if wait <= 0 {
		return nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-cancel:
		return ErrClosed
	}
}
