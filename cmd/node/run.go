package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/admin"
	"github.com/faultline-dev/faultline/cluster"
	"github.com/faultline-dev/faultline/daemon"
	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
)

// Bounds of the graceful shutdown steps.
const (
	leaveTimeout       = 2 * time.Second
	daemonStopTimeout  = 5 * time.Second
	httpStopTimeout    = 5 * time.Second
	readHeaderTimeout  = 10 * time.Second
	reconcileFastEvery = 500 * time.Millisecond
	reconcileEvery     = 2 * time.Second
)

// node is one running process: fault table, daemon, raft member, member
// list, reconciler and admin API.
type node struct {
	cfg        nodeConfig
	log        *slog.Logger
	base       *slog.Logger
	table      *netchaos.Table
	daemon     *daemon.Daemon
	raft       *raftint.Node
	members    *cluster.Membership
	reconciler *reconciler
	http       *http.Server
	serveErr   chan error
	serveWG    sync.WaitGroup
}

// startNode starts every part in order. On failure it stops what it started.
// The parts that add a node_id to their logs get base; the rest get a child
// of base with the node_id.
func startNode(cfg nodeConfig, base *slog.Logger) (_ *node, err error) {
	log := base.With("node_id", cfg.ID)
	// n is not the named result: "return nil, err" must not clear it
	// before the deferred undo steps use it.
	n := &node{cfg: cfg, log: log, base: base, serveErr: make(chan error, 1)}
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()

	n.table, err = netchaos.NewTable(netchaos.TableConfig{Seed: cfg.Seed, DefaultTTL: cfg.FaultTTL, Logger: log})
	if err != nil {
		return nil, err
	}
	if err = n.startDaemon(); err != nil {
		return nil, err
	}
	undo = append(undo, func() { n.daemon.Stop(context.Background()) })

	if err = n.openRaft(); err != nil {
		return nil, err
	}
	undo = append(undo, func() { n.raft.Shutdown() })

	n.members, err = cluster.StartMembership(cluster.MembershipConfig{
		NodeID: cfg.ID, BindAddr: cfg.GossipAddr, AdvertiseAddr: cfg.GossipAdvertise, Join: cfg.Join,
		Meta:  cluster.NodeMeta{RaftAddr: cfg.RaftAdvertise, HTTPAddr: cfg.HTTPAdvertise},
		Table: n.table, Profile: cfg.Profile, Logger: base,
	})
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { n.members.Shutdown() })

	if err = n.serveHTTP(); err != nil {
		return nil, err
	}

	interval := reconcileEvery
	if cfg.Profile == raftint.ProfileFast {
		interval = reconcileFastEvery
	}
	n.reconciler = &reconciler{
		id: cfg.ID, raft: n.raft.Raft(), members: n.members, expect: cfg.BootstrapExpect,
		removeAfter: cfg.RemoveFailedAfter, interval: interval, log: log,
	}
	n.reconciler.start()
	log.Info("node started", "raft_addr", cfg.RaftAdvertise, "gossip_addr", n.members.LocalAddr(),
		"http_addr", cfg.HTTPAdvertise, "profile", cfg.Profile, "chaos", cfg.Chaos,
		"bootstrap_expect", cfg.BootstrapExpect, "join", cfg.Join, "seed", cfg.Seed)
	return n, nil
}

func (n *node) startDaemon() error {
	dcfg := daemon.DefaultConfig()
	dcfg.NodeID, dcfg.Name, dcfg.Logger = n.cfg.ID, "faultline-node", n.base
	d, err := daemon.New(dcfg)
	if err != nil {
		return err
	}
	if err := d.Start(context.Background()); err != nil {
		return err
	}
	n.daemon = d
	return nil
}

// openRaft binds the raft transport, wraps it in the fault table and opens
// the member. A node with raft state in its data directory recovers from it.
func (n *node) openRaft() error {
	advertise, err := net.ResolveTCPAddr("tcp", n.cfg.RaftAdvertise)
	if err != nil {
		return fmt.Errorf("resolve --raft-advertise %q: %w", n.cfg.RaftAdvertise, err)
	}
	timing := n.cfg.Profile.Timing()
	inner, err := raft.NewTCPTransportWithConfig(n.cfg.RaftAddr, advertise, &raft.NetworkTransportConfig{
		MaxPool: 3, Timeout: timing.RPCTimeout, Logger: raftint.NewHCLogger(n.log, "transport"),
	})
	if err != nil {
		return fmt.Errorf("listen for raft on %s: %w", n.cfg.RaftAddr, err)
	}
	wrapped, err := netchaos.NewRaftTransport(inner, netchaos.RaftTransportConfig{
		Local: n.cfg.ID, Table: n.table, RPCTimeout: timing.RPCTimeout, Logger: n.log,
	})
	if err != nil {
		inner.Close()
		return err
	}
	rcfg := raftint.DefaultConfig()
	rcfg.ID, rcfg.DataDir, rcfg.Transport = n.cfg.ID, n.cfg.DataDir, wrapped
	rcfg.Profile, rcfg.Logger, rcfg.Leadership = n.cfg.Profile, n.base, n.daemon
	n.raft, err = raftint.Open(rcfg)
	if err != nil {
		wrapped.Close()
		return err
	}
	return nil
}

func (n *node) serveHTTP() error {
	acfg := admin.DefaultConfig()
	acfg.NodeID, acfg.ListenAddr, acfg.Token = n.cfg.ID, n.cfg.HTTPAddr, n.cfg.AdminToken
	acfg.ChaosEnabled, acfg.Seed, acfg.Logger = n.cfg.Chaos, n.cfg.Seed, n.base
	server, err := admin.NewServer(acfg, admin.Backend{
		Raft: admin.NodeAdapter(n.raft), Timeline: n.raft.Timeline(), Faults: n.table,
		Members: memberSource{n.members}, Daemon: n.daemon,
	})
	if err != nil {
		return err
	}
	listener, err := net.Listen("tcp", n.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen for the admin API on %s: %w", n.cfg.HTTPAddr, err)
	}
	n.http = &http.Server{
		Handler: server, ReadHeaderTimeout: readHeaderTimeout,
		ErrorLog: slog.NewLogLogger(n.log.Handler(), slog.LevelWarn),
	}
	n.serveWG.Add(1)
	go func() {
		defer n.serveWG.Done()
		if err := n.http.Serve(listener); !errors.Is(err, http.ErrServerClosed) {
			n.serveErr <- fmt.Errorf("admin API on %s stopped: %w", n.cfg.HTTPAddr, err)
		}
	}()
	return nil
}

// shutdown leaves the member list, hands leadership over, stops the daemon
// and the admin API, and shuts raft down, logging each step. It returns the
// errors of every step.
func (n *node) shutdown() error {
	var errs []error
	step := func(name string, f func() error) {
		start := time.Now()
		err := f()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			n.log.Warn("shutdown step failed", "step", name, "error", err, "duration", time.Since(start))
			return
		}
		n.log.Info("shutdown step done", "step", name, "duration", time.Since(start))
	}

	step("stop reconciler", func() error { n.reconciler.stop(); return nil })
	// When every peer shuts down too, no member may acknowledge the leave
	// broadcast. The others then see this node fail instead of leave, which
	// is no error of this node's shutdown.
	step("leave member list", func() error {
		if err := n.members.Leave(leaveTimeout); err != nil {
			n.log.Warn("leave broadcast not acknowledged: the other members will mark this node failed", "error", err)
		}
		return nil
	})
	step("stop member list", n.members.Shutdown)
	// A failed transfer costs the others one election, so it is no error.
	step("transfer leadership", func() error {
		if err := n.transferLeadership(); err != nil {
			n.log.Warn("leadership transfer failed: the followers elect a leader after their heartbeat timeout", "error", err)
		}
		return nil
	})
	step("stop daemon", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), daemonStopTimeout)
		defer cancel()
		_, err := n.daemon.Stop(ctx)
		return err
	})
	step("stop admin API", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), httpStopTimeout)
		defer cancel()
		err := n.http.Shutdown(ctx)
		n.serveWG.Wait()
		return err
	})
	step("shut down raft", n.raft.Shutdown)
	return errors.Join(errs...)
}

// transferLeadership hands leadership to another voter when this node
// leads. raft v1.7.2 gives up after its election timeout, which bounds the
// wait.
func (n *node) transferLeadership() error {
	r := n.raft.Raft()
	if r.State() != raft.Leader {
		return nil
	}
	servers, err := admin.NodeAdapter(n.raft).Configuration()
	if err != nil || len(servers) < 2 {
		return err
	}
	return r.LeadershipTransfer().Error()
}

// memberSource converts the member list for the admin API.
type memberSource struct{ m *cluster.Membership }

func (s memberSource) Members() []admin.Member {
	members := s.m.Members()
	out := make([]admin.Member, len(members))
	for i, m := range members {
		out[i] = admin.Member{Name: m.Name, Addr: m.Addr, RaftAddr: m.Meta.RaftAddr, HTTPAddr: m.Meta.HTTPAddr, State: string(m.State)}
	}
	return out
}
