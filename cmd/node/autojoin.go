package main

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/faultline-dev/faultline/cluster"
)

// configChangeTimeout bounds the enqueue wait of AddVoter and RemoveServer.
const configChangeTimeout = 5 * time.Second

// memberView is the reconciler's view of the member list.
type memberView interface {
	Members() []cluster.Member
	Changed() <-chan struct{}
}

// reconciler turns the memberlist view into raft configuration changes:
// the bootstrap of a new cluster, then, on the leader, the addition of every
// node that joins and, when enabled, the removal of failed ones. Its
// goroutine runs from start to stop.
type reconciler struct {
	id          string
	raft        *raft.Raft
	members     memberView
	expect      int
	removeAfter time.Duration
	interval    time.Duration
	log         *slog.Logger

	// failedSince and keptReported belong to the loop goroutine.
	failedSince  map[string]time.Time
	keptReported map[string]bool
	stopCh       chan struct{}
	stopOnce     sync.Once
	wg           sync.WaitGroup
}

func (r *reconciler) start() {
	r.failedSince = make(map[string]time.Time)
	r.keptReported = make(map[string]bool)
	r.stopCh = make(chan struct{})
	r.wg.Add(1)
	go r.loop()
}

// stop ends the loop and waits for it. It is idempotent.
func (r *reconciler) stop() {
	r.stopOnce.Do(func() { close(r.stopCh) })
	r.wg.Wait()
}

// loop reconciles at every membership change and every interval, since
// raft leadership changes and failure timers do not show in the view.
func (r *reconciler) loop() {
	defer r.wg.Done()
	ticker := time.NewTicker(r.interval)
	defer ticker.Stop()
	for {
		changed := r.members.Changed()
		r.step()
		select {
		case <-r.stopCh:
			return
		case <-changed:
		case <-ticker.C:
		}
	}
}

func (r *reconciler) step() {
	if !r.hasRaftState() {
		if r.expect > 0 {
			r.tryBootstrap()
		}
		return
	}
	if r.raft.State() != raft.Leader {
		clear(r.failedSince)
		clear(r.keptReported)
		return
	}
	servers, ok := r.configuration()
	if !ok {
		return
	}
	members := r.members.Members()
	r.addJoined(servers, members)
	if r.removeAfter > 0 {
		r.removeFailed(servers, members)
	}
}

// hasRaftState reports whether this node was bootstrapped or contacted by a
// leader, after which it must never bootstrap again.
func (r *reconciler) hasRaftState() bool {
	if r.raft.LastIndex() > 0 {
		return true
	}
	servers, ok := r.configuration()
	return ok && len(servers) > 0
}

func (r *reconciler) configuration() ([]raft.Server, bool) {
	future := r.raft.GetConfiguration()
	if err := future.Error(); err != nil {
		r.log.Warn("reading the raft configuration failed", "error", err)
		return nil, false
	}
	return future.Configuration().Servers, true
}

func (r *reconciler) tryBootstrap() {
	servers, ok := bootstrapServers(r.id, r.expect, r.members.Members())
	if !ok {
		return
	}
	r.log.Info("bootstrapping raft", "expect", r.expect, "servers", describeServers(servers))
	err := r.raft.BootstrapCluster(raft.Configuration{Servers: servers}).Error()
	switch {
	case errors.Is(err, raft.ErrCantBootstrap):
		r.log.Info("bootstrap skipped: raft state appeared meanwhile")
	case err != nil:
		r.log.Error("bootstrap failed", "error", err)
	}
}

// bootstrapServers returns the voters of a new cluster when at least expect
// members are alive with a raft address and self has the lowest ID among
// the expect lowest: the others wait for its leader to contact them.
func bootstrapServers(self string, expect int, members []cluster.Member) ([]raft.Server, bool) {
	var ready []cluster.Member
	for _, m := range members {
		if m.State == cluster.MemberAlive && m.Meta.RaftAddr != "" && !m.Meta.Leaving {
			ready = append(ready, m)
		}
	}
	if expect <= 0 || len(ready) < expect {
		return nil, false
	}
	slices.SortFunc(ready, func(a, b cluster.Member) int { return strings.Compare(a.Name, b.Name) })
	ready = ready[:expect]
	if ready[0].Name != self {
		return nil, false
	}
	servers := make([]raft.Server, len(ready))
	for i, m := range ready {
		servers[i] = raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(m.Name), Address: raft.ServerAddress(m.Meta.RaftAddr)}
	}
	return servers, true
}

// addJoined adds, as a voter, every alive member that the configuration
// lacks or lists at another address.
func (r *reconciler) addJoined(servers []raft.Server, members []cluster.Member) {
	for _, m := range members {
		if m.State != cluster.MemberAlive || m.Meta.RaftAddr == "" || m.Meta.Leaving {
			continue
		}
		i := slices.IndexFunc(servers, func(s raft.Server) bool { return string(s.ID) == m.Name })
		if i >= 0 && string(servers[i].Address) == m.Meta.RaftAddr {
			continue
		}
		r.log.Info("adding voter", "member", m.Name, "raft_addr", m.Meta.RaftAddr)
		if err := r.raft.AddVoter(raft.ServerID(m.Name), raft.ServerAddress(m.Meta.RaftAddr), 0, configChangeTimeout).Error(); err != nil {
			r.log.Warn("adding voter failed: retrying at the next step", "member", m.Name, "error", err)
			return
		}
	}
}

// removeFailed removes at most one voter that has been dead, left or absent
// from the view for removeAfter, when canRemoveVoter allows it.
func (r *reconciler) removeFailed(servers []raft.Server, members []cluster.Member) {
	state := make(map[string]cluster.MemberState, len(members))
	for _, m := range members {
		state[m.Name] = m.State
	}
	voters, healthy := 0, 0
	var failed []string
	for _, s := range servers {
		if s.Suffrage != raft.Voter {
			continue
		}
		voters++
		id := string(s.ID)
		switch state[id] {
		case cluster.MemberAlive:
			healthy++
			delete(r.failedSince, id)
			delete(r.keptReported, id)
		case cluster.MemberSuspect:
			delete(r.failedSince, id)
			delete(r.keptReported, id)
		default:
			if _, ok := r.failedSince[id]; !ok {
				r.failedSince[id] = time.Now()
			}
			failed = append(failed, id)
		}
	}
	for _, id := range failed {
		if time.Since(r.failedSince[id]) < r.removeAfter {
			continue
		}
		if !canRemoveVoter(voters, healthy) {
			if !r.keptReported[id] {
				r.keptReported[id] = true
				r.log.Info("failed voter kept: removing it would leave no spare node", "member", id,
					"voters", voters, "healthy", healthy)
			}
			return
		}
		r.log.Warn("removing failed voter", "member", id, "failed_for", time.Since(r.failedSince[id]))
		if err := r.raft.RemoveServer(raft.ServerID(id), 0, configChangeTimeout).Error(); err != nil {
			r.log.Warn("removing failed voter failed: retrying at the next step", "member", id, "error", err)
			return
		}
		delete(r.failedSince, id)
		delete(r.keptReported, id)
		return
	}
}

// canRemoveVoter reports whether one failed voter may be removed from a
// configuration of voters voters, healthy of which are alive. The rule: the
// configuration that remains must still survive one more failure, so at
// least 3 voters remain and the healthy ones number at least a quorum of
// the remaining configuration plus one. A 3-voter cluster never shrinks.
func canRemoveVoter(voters, healthy int) bool {
	remaining := voters - 1
	quorum := remaining/2 + 1
	return remaining >= 3 && healthy >= quorum+1
}

func describeServers(servers []raft.Server) string {
	parts := make([]string, len(servers))
	for i, s := range servers {
		parts[i] = string(s.ID) + "@" + string(s.Address)
	}
	return strings.Join(parts, ",")
}
