package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/memberlist"

	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
)

// ErrInvalidMembership reports an invalid MembershipConfig.
var ErrInvalidMembership = errors.New("cluster: invalid membership config")

// MemberState is a node's state in the local memberlist view.
type MemberState string

// Member states.
const (
	MemberAlive   MemberState = "alive"
	MemberSuspect MemberState = "suspect"
	MemberDead    MemberState = "dead"
	MemberLeft    MemberState = "left"
)

// NodeMeta is the metadata every node gossips about itself, encoded as JSON
// in memberlist's node metadata, which holds at most memberlist.MetaMaxSize
// (512) bytes.
type NodeMeta struct {
	RaftAddr string `json:"raft_addr"`
	HTTPAddr string `json:"http_addr,omitempty"`
	// Leaving is set just before a graceful leave, so that the others can
	// tell it from a failure: memberlist v0.5.4 reports both the same way.
	Leaving bool `json:"leaving,omitempty"`
}

// Member is one node in the local memberlist view. Name is the raft node ID.
type Member struct {
	Name  string
	Addr  string
	Meta  NodeMeta
	State MemberState
}

// MembershipConfig configures a Membership.
type MembershipConfig struct {
	// NodeID is the memberlist node name and the raft node ID.
	NodeID string
	// BindAddr is the gossip address, host:port, for TCP and UDP. Keep the
	// port fixed across restarts, since the others find the node by it.
	BindAddr string
	// AdvertiseAddr is the address the others use; empty means BindAddr
	// (or a private address of the machine when BindAddr has no host). A
	// host name is resolved once at start.
	AdvertiseAddr string
	// Join lists gossip addresses of other nodes to join at start and to
	// retry while any known node is down.
	Join []string
	// Meta is gossiped to the others.
	Meta NodeMeta
	// Table, when set, applies its rules to outbound gossip.
	Table *netchaos.Table
	// Profile scales the gossip timings. With ProfileFast a silent node is
	// suspected within about 0.5 s and declared dead within a few seconds.
	Profile raftint.Profile
	// RejoinInterval is how often the node joins again the nodes its view
	// marks dead. Zero takes the profile's: 1 s for fast, 5 s for default.
	RejoinInterval time.Duration
	// Logger receives membership changes and memberlist's own log.
	Logger *slog.Logger
}

// Validate checks the config without changing it.
func (c MembershipConfig) Validate() error {
	var errs []error
	if c.NodeID == "" {
		errs = append(errs, fmt.Errorf("%w: NodeID is empty", ErrInvalidMembership))
	}
	if _, _, err := splitHostPort(c.BindAddr); err != nil {
		errs = append(errs, fmt.Errorf("%w: BindAddr: %w", ErrInvalidMembership, err))
	}
	if c.AdvertiseAddr != "" {
		if _, _, err := splitHostPort(c.AdvertiseAddr); err != nil {
			errs = append(errs, fmt.Errorf("%w: AdvertiseAddr: %w", ErrInvalidMembership, err))
		}
	}
	if meta, err := json.Marshal(c.Meta); err != nil || len(meta) > memberlist.MetaMaxSize {
		errs = append(errs, fmt.Errorf("%w: Meta encodes to %d bytes, above memberlist's limit of %d",
			ErrInvalidMembership, len(meta), memberlist.MetaMaxSize))
	}
	if _, err := raftint.ParseProfile(string(c.Profile)); err != nil {
		errs = append(errs, fmt.Errorf("%w: %w", ErrInvalidMembership, err))
	}
	if c.RejoinInterval < 0 {
		errs = append(errs, fmt.Errorf("%w: RejoinInterval %v is negative", ErrInvalidMembership, c.RejoinInterval))
	}
	return errors.Join(errs...)
}

func splitHostPort(addr string) (string, int, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("%q has an invalid port", addr)
	}
	return host, port, nil
}

// gossipConfig returns memberlist's LAN-on-one-host timings, shortened for
// the fast profile so that a failure is suspected within about 0.5 s and
// declared dead within a few seconds on loopback.
func gossipConfig(profile raftint.Profile) (*memberlist.Config, time.Duration) {
	conf := memberlist.DefaultLocalConfig()
	rejoin := 5 * time.Second
	if profile == raftint.ProfileFast {
		conf.ProbeInterval = 200 * time.Millisecond
		conf.ProbeTimeout = 100 * time.Millisecond
		conf.GossipInterval = 50 * time.Millisecond
		conf.PushPullInterval = 5 * time.Second
		conf.TCPTimeout = 500 * time.Millisecond
		rejoin = time.Second
	}
	return conf, rejoin
}

// Membership runs one memberlist node with a periodic re-join: memberlist
// never probes a node it declared dead again, so after a partition heals
// the view stays split until someone calls Join.
type Membership struct {
	cfg    MembershipConfig
	log    *slog.Logger
	list   *memberlist.Memberlist
	rejoin time.Duration
	probe  time.Duration

	mu      sync.Mutex
	members map[string]*memberRecord
	changed chan struct{}
	meta    NodeMeta

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	shutMu   sync.Mutex
	shut     bool
}

type memberRecord struct {
	member   Member
	lastSeen time.Time // last direct probe ack, or the join
}

// StartMembership starts the memberlist node, tries the join addresses once
// and starts the re-join loop. Failing to reach every join address is not
// an error: the loop keeps trying.
func StartMembership(cfg MembershipConfig) (*Membership, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base := cfg.Logger
	if base == nil {
		base = slog.New(slog.DiscardHandler)
	}
	m := &Membership{
		cfg: cfg, log: base.With("node_id", cfg.NodeID), meta: cfg.Meta,
		members: make(map[string]*memberRecord), changed: make(chan struct{}), stop: make(chan struct{}),
	}
	conf, err := m.memberlistConfig()
	if err != nil {
		return nil, err
	}
	if m.list, err = memberlist.Create(conf); err != nil {
		conf.Transport.Shutdown()
		return nil, fmt.Errorf("cluster: start memberlist on %s: %w", cfg.BindAddr, err)
	}
	m.log.Info("membership started", "bind_addr", cfg.BindAddr, "advertise_addr", m.list.LocalNode().Address(),
		"join", cfg.Join, "rejoin_interval", m.rejoin)

	if join := m.otherJoinAddrs(); len(join) > 0 {
		if n, err := m.list.Join(join); err != nil {
			m.log.Info("initial join reached no node: retrying in the background", "join", join, "error", err)
		} else {
			m.log.Info("joined", "contacted", n)
		}
	}
	m.wg.Add(1)
	go m.rejoinLoop()
	return m, nil
}

func (m *Membership) memberlistConfig() (*memberlist.Config, error) {
	conf, rejoin := gossipConfig(m.cfg.Profile)
	if m.cfg.RejoinInterval > 0 {
		rejoin = m.cfg.RejoinInterval
	}
	m.rejoin, m.probe = rejoin, conf.ProbeInterval

	bindHost, bindPort, _ := splitHostPort(m.cfg.BindAddr)
	conf.Name = m.cfg.NodeID
	conf.BindAddr, conf.BindPort = bindHost, bindPort
	if bindHost == "" {
		conf.BindAddr = "0.0.0.0"
	}
	conf.AdvertiseAddr, conf.AdvertisePort = "", bindPort
	if bindHost != "" && bindHost != "0.0.0.0" && bindHost != "::" {
		conf.AdvertiseAddr = bindHost
	}
	if m.cfg.AdvertiseAddr != "" {
		host, port, _ := splitHostPort(m.cfg.AdvertiseAddr)
		ip, err := resolveIP(host)
		if err != nil {
			return nil, fmt.Errorf("cluster: advertise address %q: %w", m.cfg.AdvertiseAddr, err)
		}
		conf.AdvertiseAddr, conf.AdvertisePort = ip, port
	}
	conf.Logger = raftint.NewHCLogger(m.log, "memberlist").StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true})
	conf.Delegate = delegate{m}
	conf.Events = events{m}
	conf.Ping = pings{m}

	inner, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
		BindAddrs: []string{conf.BindAddr}, BindPort: bindPort, Logger: conf.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: listen for gossip on %s: %w", m.cfg.BindAddr, err)
	}
	if bindPort == 0 {
		conf.BindPort, conf.AdvertisePort = inner.GetAutoBindPort(), inner.GetAutoBindPort()
	}
	conf.Transport = inner
	if m.cfg.Table != nil {
		wrapped, err := netchaos.NewMemberlistTransport(inner, netchaos.MemberlistTransportConfig{
			Local: m.cfg.NodeID, Table: m.cfg.Table, Resolve: m.resolve, Logger: m.log,
		})
		if err != nil {
			inner.Shutdown()
			return nil, err
		}
		conf.Transport = wrapped
	}
	return conf, nil
}

func resolveIP(host string) (string, error) {
	if ip := net.ParseIP(host); ip != nil {
		return host, nil
	}
	ips, err := net.LookupIP(host)
	if err != nil || len(ips) == 0 {
		return "", fmt.Errorf("resolve %q: %w", host, err)
	}
	for _, ip := range ips {
		if ip.To4() != nil {
			return ip.String(), nil
		}
	}
	return ips[0].String(), nil
}

// resolve maps a gossip address to the name of the member seen there.
func (m *Membership) resolve(addr string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, r := range m.members {
		if r.member.Addr == addr {
			return name, true
		}
	}
	return "", false
}

// LocalAddr returns the advertised gossip address, host:port.
func (m *Membership) LocalAddr() string { return m.list.LocalNode().Address() }

// Members returns every node seen since start, this one included, sorted by
// name. A member is suspect while memberlist still lists it but no direct
// probe of this node reached it for two probe rounds.
//
// NOTE: memberlist v0.5.4 does not expose its own suspect state, so this
// one is computed from probe acks and may differ from memberlist's for a
// node that only indirect probes reach.
func (m *Membership) Members() []Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	alive := 0
	for _, r := range m.members {
		if r.member.State == MemberAlive {
			alive++
		}
	}
	suspectAfter := 2 * time.Duration(max(alive, 2)) * m.probe
	out := make([]Member, 0, len(m.members))
	for name, r := range m.members {
		member := r.member
		if member.State == MemberAlive && name != m.cfg.NodeID && time.Since(r.lastSeen) > suspectAfter {
			member.State = MemberSuspect
		}
		out = append(out, member)
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Changed returns a channel that is closed at the next change of the view.
func (m *Membership) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

// record applies a memberlist event. memberlist holds its node lock while
// it calls the event delegate, so record must not call back into it.
func (m *Membership) record(n *memberlist.Node, state MemberState) {
	var meta NodeMeta
	if len(n.Meta) > 0 {
		if err := json.Unmarshal(n.Meta, &meta); err != nil {
			m.log.Warn("member metadata is not valid", "member", n.Name, "error", err)
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	r, known := m.members[n.Name]
	if !known {
		r = &memberRecord{}
		m.members[n.Name] = r
	}
	if len(n.Meta) == 0 {
		meta = r.member.Meta
	}
	if state == MemberDead && (meta.Leaving || r.member.Meta.Leaving) {
		state = MemberLeft
	}
	before := r.member.State
	r.member = Member{Name: n.Name, Addr: n.Address(), Meta: meta, State: state}
	if state == MemberAlive {
		r.lastSeen = time.Now()
	}
	close(m.changed)
	m.changed = make(chan struct{})
	if before != state {
		m.log.Info("member "+string(state), "member", n.Name, "addr", r.member.Addr, "raft_addr", meta.RaftAddr)
	}
}

// rejoinLoop joins again, every rejoin interval, the nodes the view marks
// dead, and the join addresses while any node is dead or none is alive.
// Nodes that left gracefully are not joined again: they rejoin when they
// restart.
func (m *Membership) rejoinLoop() {
	defer m.wg.Done()
	ticker := time.NewTicker(m.rejoin)
	defer ticker.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-ticker.C:
		}
		targets := m.rejoinTargets()
		if len(targets) == 0 {
			continue
		}
		n, err := m.list.Join(targets)
		if err != nil {
			m.log.Debug("rejoin reached no node", "targets", targets, "error", err)
			continue
		}
		m.log.Debug("rejoined", "targets", targets, "contacted", n)
	}
}

func (m *Membership) rejoinTargets() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var targets []string
	alive := 0
	for name, r := range m.members {
		switch {
		case name == m.cfg.NodeID:
		case r.member.State == MemberDead:
			targets = append(targets, r.member.Addr)
		case r.member.State == MemberAlive:
			alive++
		}
	}
	if len(targets) > 0 || alive == 0 {
		for _, addr := range m.otherJoinAddrs() {
			if !slices.Contains(targets, addr) {
				targets = append(targets, addr)
			}
		}
	}
	return targets
}

// otherJoinAddrs returns the join addresses without this node's own, so
// that every node can be given the same list.
func (m *Membership) otherJoinAddrs() []string {
	own := []string{m.cfg.BindAddr, m.cfg.AdvertiseAddr}
	if m.list != nil {
		own = append(own, m.list.LocalNode().Address())
	}
	var out []string
	for _, addr := range m.cfg.Join {
		if !slices.Contains(own, addr) {
			out = append(out, addr)
		}
	}
	return out
}

// Leave announces to the others that this node leaves on purpose, waits up to
// timeout for the news to go out and stops the re-join loop. Call Shutdown
// afterwards.
func (m *Membership) Leave(timeout time.Duration) error {
	m.stopLoop()
	m.shutMu.Lock()
	defer m.shutMu.Unlock()
	if m.shut {
		return nil
	}
	m.mu.Lock()
	m.meta.Leaving = true
	m.mu.Unlock()
	if err := m.list.UpdateNode(timeout); err != nil {
		m.log.Warn("announcing the leave failed", "error", err)
	}
	if err := m.list.Leave(timeout); err != nil {
		return fmt.Errorf("cluster: leave member list: %w", err)
	}
	m.log.Info("left the member list")
	return nil
}

// Shutdown stops the re-join loop and memberlist. It is idempotent.
func (m *Membership) Shutdown() error {
	m.shutMu.Lock()
	if m.shut {
		m.shutMu.Unlock()
		return nil
	}
	m.shut = true
	m.shutMu.Unlock()

	// memberlist's shutdown fails a Join in progress, so the loop stops
	// without waiting out a dial timeout.
	m.stopOnce.Do(func() { close(m.stop) })
	err := m.list.Shutdown()
	m.wg.Wait()
	m.log.Info("membership stopped")
	return err
}

// stopLoop stops the re-join loop and waits for it.
func (m *Membership) stopLoop() {
	m.stopOnce.Do(func() { close(m.stop) })
	m.wg.Wait()
}

// delegate serves the node's metadata; the others' state needs no merge.
type delegate struct{ m *Membership }

func (d delegate) NodeMeta(limit int) []byte {
	d.m.mu.Lock()
	data, _ := json.Marshal(d.m.meta)
	d.m.mu.Unlock()
	if len(data) > limit {
		d.m.log.Error("node metadata exceeds memberlist's limit", "bytes", len(data), "limit", limit)
		return nil
	}
	return data
}

func (delegate) NotifyMsg([]byte)                {}
func (delegate) GetBroadcasts(int, int) [][]byte { return nil }
func (delegate) LocalState(bool) []byte          { return nil }
func (delegate) MergeRemoteState([]byte, bool)   {}

// events feeds memberlist's join, update and leave events into the view.
type events struct{ m *Membership }

func (e events) NotifyJoin(n *memberlist.Node)   { e.m.record(n, MemberAlive) }
func (e events) NotifyUpdate(n *memberlist.Node) { e.m.record(n, MemberAlive) }
func (e events) NotifyLeave(n *memberlist.Node)  { e.m.record(n, MemberDead) }

// pings notes each direct probe ack, from which Members computes suspects.
type pings struct{ m *Membership }

func (pings) AckPayload() []byte { return nil }

func (p pings) NotifyPingComplete(other *memberlist.Node, _ time.Duration, _ []byte) {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	if r, ok := p.m.members[other.Name]; ok {
		r.lastSeen = time.Now()
	}
}
