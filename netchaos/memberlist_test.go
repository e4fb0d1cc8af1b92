package netchaos

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// fakeGossip is an inner memberlist transport that records what crosses it.
type fakeGossip struct {
	mu      sync.Mutex
	packets []string // payloads, in send order
	targets []memberlist.Address
	dials   []string
	sent    chan struct{}
	conns   []net.Conn
}

func newFakeGossip() *fakeGossip { return &fakeGossip{sent: make(chan struct{}, 64)} }

func (f *fakeGossip) FinalAdvertiseAddr(string, int) (net.IP, int, error) {
	return net.IPv4(127, 0, 0, 1), 7946, nil
}
func (f *fakeGossip) PacketCh() <-chan *memberlist.Packet { return nil }
func (f *fakeGossip) StreamCh() <-chan net.Conn           { return nil }
func (f *fakeGossip) Shutdown() error                     { return nil }

func (f *fakeGossip) WriteTo(b []byte, addr string) (time.Time, error) {
	return f.WriteToAddress(b, memberlist.Address{Addr: addr})
}

func (f *fakeGossip) WriteToAddress(b []byte, addr memberlist.Address) (time.Time, error) {
	f.mu.Lock()
	f.packets = append(f.packets, string(b))
	f.targets = append(f.targets, addr)
	f.mu.Unlock()
	f.sent <- struct{}{}
	return time.Now(), nil
}

func (f *fakeGossip) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return f.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

func (f *fakeGossip) DialAddressTimeout(addr memberlist.Address, _ time.Duration) (net.Conn, error) {
	local, remote := net.Pipe()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dials = append(f.dials, addr.Addr)
	f.conns = append(f.conns, local, remote)
	return local, nil
}

func (f *fakeGossip) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.Close()
	}
}

func (f *fakeGossip) sentPackets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.packets...)
}

func (f *fakeGossip) dialCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.dials)
}

// newGossipTransport wraps a fake transport for node "a", resolving
// 10.0.0.2:7946 to "b", and shuts it down at cleanup.
func newGossipTransport(t *testing.T, table *Table) (*MemberlistTransport, *fakeGossip) {
	t.Helper()
	inner := newFakeGossip()
	tr, err := NewMemberlistTransport(inner, MemberlistTransportConfig{
		Local: "a", Table: table,
		Resolve: func(addr string) (string, bool) { return "b", addr == "10.0.0.2:7946" },
	})
	if err != nil {
		t.Fatalf("NewMemberlistTransport: %v", err)
	}
	t.Cleanup(func() {
		tr.Shutdown()
		inner.close()
	})
	return tr, inner
}

func TestGossipPacketActions(t *testing.T) {
	tests := []struct {
		name      string
		rule      Rule
		wantSent  bool
		wantError error
	}{
		{"no rule", Rule{From: "x", To: "y", Kind: KindReject}, true, nil},
		{"partition drops silently", Cut("a", "b", KindPartition), false, nil},
		{"drop is silent", Rule{From: "a", To: "b", Kind: KindDrop, Probability: 1}, false, nil},
		{"reject fails", Cut("a", "b", KindReject), false, ErrRejected},
		{"raft-only rule passes", Rule{From: "a", To: "b", Kind: KindReject, Messages: RaftMessages()}, true, nil},
		{"other direction passes", Cut("b", "a", KindPartition), true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table := newTestTable(t, 1)
			if _, err := table.Add(tc.rule); err != nil {
				t.Fatalf("add: %v", err)
			}
			tr, inner := newGossipTransport(t, table)

			_, err := tr.WriteToAddress([]byte("ping"), memberlist.Address{Addr: "10.0.0.2:7946", Name: "b"})
			if !errors.Is(err, tc.wantError) || (tc.wantError == nil && err != nil) {
				t.Errorf("write error = %v, want %v", err, tc.wantError)
			}
			if sent := len(inner.sentPackets()) == 1; sent != tc.wantSent {
				t.Errorf("packet sent = %v, want %v", sent, tc.wantSent)
			}
		})
	}
}

func TestGossipTargetResolution(t *testing.T) {
	table := newTestTable(t, 1)
	if _, err := table.Add(Cut("a", "b", KindReject)); err != nil {
		t.Fatalf("add: %v", err)
	}
	tr, inner := newGossipTransport(t, table)

	if _, err := tr.WriteTo([]byte("p"), "10.0.0.2:7946"); !errors.Is(err, ErrRejected) {
		t.Errorf("write to the resolved address of b: %v, want ErrRejected", err)
	}
	if _, err := tr.WriteTo([]byte("p"), "10.0.0.9:7946"); err != nil {
		t.Errorf("write to an unknown address: %v, want it to pass", err)
	}
	if _, err := tr.WriteToAddress([]byte("p"), memberlist.Address{Addr: "10.0.0.9:7946", Name: "b"}); !errors.Is(err, ErrRejected) {
		t.Errorf("write to a node named b at another address: %v, want ErrRejected", err)
	}
	if got := inner.sentPackets(); len(got) != 1 {
		t.Errorf("sent %d packets, want only the one to the unknown address", len(got))
	}
}

func TestGossipDelayKeepsOrder(t *testing.T) {
	table := newTestTable(t, 1)
	if _, err := table.Add(Rule{From: "a", To: "b", Kind: KindDelay, Delay: 20 * time.Millisecond, Jitter: 10 * time.Millisecond}); err != nil {
		t.Fatalf("add: %v", err)
	}
	tr, inner := newGossipTransport(t, table)

	start := time.Now()
	var want []string
	for i := range 10 {
		payload := fmt.Sprintf("p%d", i)
		want = append(want, payload)
		if _, err := tr.WriteTo([]byte(payload), "10.0.0.2:7946"); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if elapsed := time.Since(start); elapsed >= 20*time.Millisecond {
		t.Errorf("writes blocked the caller for %v", elapsed)
	}
	for range want {
		select {
		case <-inner.sent:
		case <-time.After(5 * time.Second):
			t.Fatal("delayed packets were not delivered")
		}
	}
	if elapsed := time.Since(start); elapsed < 20*time.Millisecond {
		t.Errorf("packets arrived after %v, before the 20ms delay", elapsed)
	}
	if got := strings.Join(inner.sentPackets(), ","); got != strings.Join(want, ",") {
		t.Errorf("delivery order %s, want %s", got, strings.Join(want, ","))
	}
}

func TestGossipDialPartition(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		heal    bool
	}{
		{"held until heal", time.Minute, true},
		{"held until dial timeout", 50 * time.Millisecond, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table := newTestTable(t, 1)
			if _, err := table.Add(Cut("a", "b", KindPartition)); err != nil {
				t.Fatalf("add: %v", err)
			}
			tr, inner := newGossipTransport(t, table)

			done := make(chan error, 1)
			go func() {
				_, err := tr.DialAddressTimeout(memberlist.Address{Addr: "10.0.0.2:7946", Name: "b"}, tc.timeout)
				done <- err
			}()
			if tc.heal {
				waitHeld(t, table, "a", "b")
				table.Clear()
			}
			select {
			case err := <-done:
				if !errors.Is(err, ErrPartitioned) {
					t.Errorf("dial: %v, want ErrPartitioned", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("held dial never returned")
			}
			if inner.dialCount() != 0 {
				t.Error("a held dial reached the network")
			}
		})
	}
}

// waitHeld waits until the table has counted a held message on from → to.
func waitHeld(t *testing.T, table *Table, from, to string) {
	t.Helper()
	waitFor(t, 10*time.Second, fmt.Sprintf("a message held on %s → %s", from, to), func() bool {
		for _, c := range table.Counters() {
			if c.From == from && c.To == to && c.Held > 0 {
				return true
			}
		}
		return false
	})
}

func TestGossipDialRejectAndDelay(t *testing.T) {
	tests := []struct {
		name      string
		rule      Rule
		wantError error
		minWait   time.Duration
	}{
		{"reject", Cut("a", "b", KindReject), ErrRejected, 0},
		{"drop", Rule{From: "a", To: "b", Kind: KindDrop, Probability: 1}, ErrDropped, 0},
		{"delay", Rule{From: "a", To: "b", Kind: KindDelay, Delay: 30 * time.Millisecond}, nil, 30 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table := newTestTable(t, 1)
			if _, err := table.Add(tc.rule); err != nil {
				t.Fatalf("add: %v", err)
			}
			tr, inner := newGossipTransport(t, table)

			start := time.Now()
			conn, err := tr.DialTimeout("10.0.0.2:7946", time.Second)
			if !errors.Is(err, tc.wantError) || (tc.wantError == nil && err != nil) {
				t.Fatalf("dial: %v, want %v", err, tc.wantError)
			}
			if conn != nil {
				conn.Close()
			}
			if elapsed := time.Since(start); elapsed < tc.minWait {
				t.Errorf("dial returned after %v, before %v", elapsed, tc.minWait)
			}
			if wantDials := map[bool]int{true: 1, false: 0}[tc.wantError == nil]; inner.dialCount() != wantDials {
				t.Errorf("inner dials = %d, want %d", inner.dialCount(), wantDials)
			}
		})
	}
}

func TestGossipShutdownReleasesHeldDial(t *testing.T) {
	table := newTestTable(t, 1)
	if _, err := table.Add(Cut("a", "b", KindPartition)); err != nil {
		t.Fatalf("add: %v", err)
	}
	tr, _ := newGossipTransport(t, table)

	done := make(chan error, 1)
	go func() {
		_, err := tr.DialTimeout("10.0.0.2:7946", time.Minute)
		done <- err
	}()
	waitHeld(t, table, "a", "b")
	if err := tr.Shutdown(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Errorf("held dial after shutdown: %v, want ErrClosed", err)
	}
	if err := tr.Shutdown(); err != nil {
		t.Errorf("second shutdown: %v", err)
	}
}

func TestMemberlistTransportValidate(t *testing.T) {
	table := newTestTable(t, 1)
	tests := []struct {
		name string
		cfg  MemberlistTransportConfig
	}{
		{"no local", MemberlistTransportConfig{Table: table}},
		{"any as local", MemberlistTransportConfig{Local: Any, Table: table}},
		{"no table", MemberlistTransportConfig{Local: "a"}},
		{"negative queue", MemberlistTransportConfig{Local: "a", Table: table, PacketQueue: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewMemberlistTransport(newFakeGossip(), tc.cfg); err == nil {
				t.Error("NewMemberlistTransport accepted an invalid config")
			}
		})
	}
}

// testStdLogger returns a standard library logger into t.Log, as memberlist
// needs, that goes quiet when the test ends.
func testStdLogger(t *testing.T) *log.Logger {
	w := &tLogWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return log.New(w, "", log.Lmicroseconds)
}

type tLogWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *tLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

var _ io.Writer = (*tLogWriter)(nil)

// startGossip starts a memberlist node named name on 127.0.0.1 with a
// random port, behind a MemberlistTransport on table, with timings short
// enough that a failure is detected in about a second.
func startGossip(t *testing.T, name string, table *Table) *memberlist.Memberlist {
	t.Helper()
	logger := testStdLogger(t)
	inner, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{BindAddrs: []string{"127.0.0.1"}, Logger: logger})
	if err != nil {
		t.Fatalf("listen for %s: %v", name, err)
	}
	tr, err := NewMemberlistTransport(inner, MemberlistTransportConfig{Local: name, Table: table})
	if err != nil {
		inner.Shutdown()
		t.Fatalf("wrap transport of %s: %v", name, err)
	}

	conf := memberlist.DefaultLocalConfig()
	conf.Name = name
	conf.Transport = tr
	conf.AdvertiseAddr, conf.AdvertisePort = "127.0.0.1", inner.GetAutoBindPort()
	conf.BindAddr, conf.BindPort = "127.0.0.1", inner.GetAutoBindPort()
	conf.ProbeInterval = 100 * time.Millisecond
	conf.ProbeTimeout = 50 * time.Millisecond
	conf.GossipInterval = 20 * time.Millisecond
	conf.PushPullInterval = 0
	conf.TCPTimeout = 200 * time.Millisecond
	conf.Logger = logger
	m, err := memberlist.Create(conf)
	if err != nil {
		tr.Shutdown()
		t.Fatalf("create memberlist %s: %v", name, err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return m
}

func aliveNames(m *memberlist.Memberlist) string {
	var names []string
	for _, n := range m.Members() {
		names = append(names, n.Name)
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}

func TestGossipPartitionAndRejoin(t *testing.T) {
	table := newTestTable(t, 1)
	nodes := []*memberlist.Memberlist{startGossip(t, "n1", table), startGossip(t, "n2", table), startGossip(t, "n3", table)}
	seed := nodes[0].LocalNode().Address()
	for _, m := range nodes[1:] {
		if _, err := m.Join([]string{seed}); err != nil {
			t.Fatalf("join %s: %v", m.LocalNode().Name, err)
		}
	}
	allAlive := func() bool {
		for _, m := range nodes {
			if aliveNames(m) != "n1,n2,n3" {
				return false
			}
		}
		return true
	}
	waitFor(t, 20*time.Second, "every node to see n1, n2 and n3", allAlive)

	if _, err := table.Add(Isolate("n1", KindPartition)...); err != nil {
		t.Fatalf("isolate n1: %v", err)
	}
	waitFor(t, 20*time.Second, "n2 and n3 to lose n1, and n1 to lose both", func() bool {
		return aliveNames(nodes[0]) == "n1" && aliveNames(nodes[1]) == "n2,n3" && aliveNames(nodes[2]) == "n2,n3"
	})

	// memberlist never probes a dead node again, so the view stays split
	// after the heal until a node calls Join.
	table.Clear()
	if _, err := nodes[0].Join([]string{nodes[1].LocalNode().Address()}); err != nil {
		t.Fatalf("rejoin n1: %v", err)
	}
	waitFor(t, 20*time.Second, "every node to see n1, n2 and n3 after the rejoin", allAlive)
}
