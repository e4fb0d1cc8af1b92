package netchaos

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// DefaultPacketQueue is the number of delayed gossip packets a
// MemberlistTransport keeps per target node before it drops new ones.
const DefaultPacketQueue = 1024

// MemberlistTransportConfig configures a MemberlistTransport.
type MemberlistTransportConfig struct {
	// Local is the ID of the node that owns the transport. It must equal
	// the memberlist node name, because memberlist names targets by it.
	Local string
	// Table holds the rules to enforce.
	Table *Table
	// Resolve maps a gossip address ("host:port") to a node ID. The
	// transport calls it only when memberlist does not name the target, as
	// for the addresses given to Join. Traffic to an address it cannot
	// resolve passes untouched. Nil resolves nothing.
	Resolve func(addr string) (nodeID string, ok bool)
	// PacketQueue bounds the delayed packets kept per target node. Packets
	// beyond it are dropped, as an overflowing router queue would drop them.
	// Zero means DefaultPacketQueue.
	PacketQueue int
	// Logger receives a line per dropped delayed packet and per close.
	Logger *slog.Logger
}

// Validate checks the config.
func (c MemberlistTransportConfig) Validate() error {
	switch {
	case c.Local == "" || c.Local == Any:
		return fmt.Errorf("netchaos: local node ID %q is invalid: set the memberlist node name of the owner", c.Local)
	case c.Table == nil:
		return errors.New("netchaos: table is missing: pass the table whose rules the transport enforces")
	case c.PacketQueue < 0:
		return fmt.Errorf("netchaos: packet queue %d is negative: use zero for the default", c.PacketQueue)
	}
	return nil
}

// MemberlistTransport is a memberlist.NodeAwareTransport that enforces a
// Table on the gossip the local node sends, with message kind MsgGossip.
//
// Packets (UDP) cross local → target. A partition or drop loses them
// silently, because UDP reports no loss. A reject fails the write. A delay
// sends them later, in order per target, without blocking the caller.
// Streams (TCP) are checked once, at dial time, on local → target. A
// partition holds the dial until the rule goes away or the dial timeout
// passes, and then fails it. A reject or drop fails it at once, and a delay
// delays it. An open stream is never cut, and a one-way cut target → local
// does not stop streams the local node dials. Inbound packets and streams
// pass, because their sender enforces them.
type MemberlistTransport struct {
	inner   memberlist.NodeAwareTransport
	local   string
	table   *Table
	resolve func(string) (string, bool)
	log     *slog.Logger
	queue   int

	shutdown chan struct{}
	once     sync.Once
	wg       sync.WaitGroup
	mu       sync.Mutex
	closed   bool
	queues   map[string]chan delayedPacket
	overflow atomic.Uint64
}

var _ memberlist.NodeAwareTransport = (*MemberlistTransport)(nil)

type delayedPacket struct {
	buf     []byte
	addr    memberlist.Address
	release time.Time
}

// NewMemberlistTransport wraps inner. A transport without the node-aware
// methods gets them through WriteTo and DialTimeout.
func NewMemberlistTransport(inner memberlist.Transport, cfg MemberlistTransportConfig) (*MemberlistTransport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	queue := cfg.PacketQueue
	if queue == 0 {
		queue = DefaultPacketQueue
	}
	aware, ok := inner.(memberlist.NodeAwareTransport)
	if !ok {
		aware = plainTransport{inner}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &MemberlistTransport{
		inner: aware, local: cfg.Local, table: cfg.Table, resolve: cfg.Resolve, log: log, queue: queue,
		shutdown: make(chan struct{}), queues: make(map[string]chan delayedPacket),
	}, nil
}

// FinalAdvertiseAddr implements memberlist.Transport.
func (t *MemberlistTransport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	return t.inner.FinalAdvertiseAddr(ip, port)
}

// PacketCh implements memberlist.Transport.
func (t *MemberlistTransport) PacketCh() <-chan *memberlist.Packet { return t.inner.PacketCh() }

// StreamCh implements memberlist.Transport.
func (t *MemberlistTransport) StreamCh() <-chan net.Conn { return t.inner.StreamCh() }

// WriteTo implements memberlist.Transport.
func (t *MemberlistTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

// WriteToAddress implements memberlist.NodeAwareTransport.
func (t *MemberlistTransport) WriteToAddress(b []byte, addr memberlist.Address) (time.Time, error) {
	peer, ok := t.peer(addr)
	if !ok {
		return t.inner.WriteToAddress(b, addr)
	}
	d := t.table.Decide(t.local, peer, MsgGossip)
	switch d.Action {
	case ActionHold, ActionDrop:
		return time.Now(), nil
	case ActionReject:
		return time.Time{}, fmt.Errorf("%w: gossip packet %s → %s by rule %s", ErrRejected, t.local, peer, d.RuleID)
	case ActionDelay:
		// memberlist may reuse b once the write returns.
		p := delayedPacket{buf: append([]byte(nil), b...), addr: addr, release: d.Release}
		return time.Now(), t.sendLater(peer, p)
	}
	return t.inner.WriteToAddress(b, addr)
}

// DialTimeout implements memberlist.Transport.
func (t *MemberlistTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

// DialAddressTimeout implements memberlist.NodeAwareTransport.
func (t *MemberlistTransport) DialAddressTimeout(addr memberlist.Address, timeout time.Duration) (net.Conn, error) {
	peer, ok := t.peer(addr)
	if !ok {
		return t.inner.DialAddressTimeout(addr, timeout)
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	d := t.table.Decide(t.local, peer, MsgGossip)
	switch d.Action {
	case ActionReject:
		return nil, fmt.Errorf("%w: gossip stream %s → %s by rule %s", ErrRejected, t.local, peer, d.RuleID)
	case ActionDrop:
		return nil, fmt.Errorf("%w: gossip stream %s → %s by rule %s", ErrDropped, t.local, peer, d.RuleID)
	case ActionHold:
		return nil, holdUntil(t.table, d, t.local, peer, MsgGossip, deadline, "the dial timeout", t.shutdown)
	case ActionDelay:
		release := d.Release
		if !deadline.IsZero() && deadline.Before(release) {
			release = deadline
		}
		if err := sleepUntil(release, t.shutdown); err != nil {
			return nil, err
		}
		if !deadline.IsZero() {
			timeout = time.Until(deadline)
			if timeout <= 0 {
				return nil, fmt.Errorf("netchaos: gossip stream %s → %s delayed by rule %s past the dial timeout", t.local, peer, d.RuleID)
			}
		}
	}
	return t.inner.DialAddressTimeout(addr, timeout)
}

// Shutdown implements memberlist.Transport. It fails held dials, drops the
// delayed packets, waits for its goroutines and shuts the inner transport
// down. It is idempotent.
func (t *MemberlistTransport) Shutdown() error {
	var err error
	t.once.Do(func() {
		t.mu.Lock()
		t.closed = true
		close(t.shutdown)
		t.mu.Unlock()
		t.wg.Wait()
		err = t.inner.Shutdown()
		t.log.Debug("netchaos gossip transport closed", "node_id", t.local, "overflowed_packets", t.overflow.Load())
	})
	return err
}

// peer returns the node ID of the target, preferring the name memberlist
// gives. It reports false for traffic the transport lets pass.
func (t *MemberlistTransport) peer(addr memberlist.Address) (string, bool) {
	peer := addr.Name
	if peer == "" && t.resolve != nil {
		if id, ok := t.resolve(addr.Addr); ok {
			peer = id
		}
	}
	return peer, peer != "" && peer != t.local
}

// sendLater queues p on the target's delay line, started on first use.
func (t *MemberlistTransport) sendLater(peer string, p delayedPacket) error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return ErrClosed
	}
	line, ok := t.queues[peer]
	if !ok {
		line = make(chan delayedPacket, t.queue)
		t.queues[peer] = line
		t.wg.Add(1)
		go t.deliver(peer, line)
	}
	t.mu.Unlock()

	select {
	case line <- p:
	default:
		if n := t.overflow.Add(1); n == 1 || n%1000 == 0 {
			t.log.Warn("delayed gossip packets dropped: queue full", "node_id", t.local, "peer", peer,
				"queue", t.queue, "dropped_total", n)
		}
	}
	return nil
}

// deliver sends the packets of one delay line at their release times,
// until Shutdown.
func (t *MemberlistTransport) deliver(peer string, line <-chan delayedPacket) {
	defer t.wg.Done()
	for {
		select {
		case p := <-line:
			if sleepUntil(p.release, t.shutdown) != nil {
				return
			}
			if _, err := t.inner.WriteToAddress(p.buf, p.addr); err != nil {
				t.log.Debug("delayed gossip packet failed", "node_id", t.local, "peer", peer, "error", err)
			}
		case <-t.shutdown:
			return
		}
	}
}

// plainTransport gives a transport without node awareness the methods of
// memberlist.NodeAwareTransport.
type plainTransport struct{ memberlist.Transport }

func (p plainTransport) WriteToAddress(b []byte, addr memberlist.Address) (time.Time, error) {
	return p.WriteTo(b, addr.Addr)
}

func (p plainTransport) DialAddressTimeout(addr memberlist.Address, timeout time.Duration) (net.Conn, error) {
	return p.DialTimeout(addr.Addr, timeout)
}
