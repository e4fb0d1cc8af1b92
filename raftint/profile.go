package raftint

import (
	"fmt"
	"time"
)

// Profile names a set of raft timeouts.
type Profile string

// Timing profiles. Every profile keeps LeaderLeaseTimeout at or below
// HeartbeatTimeout and ElectionTimeout at or above it, as raft.ValidateConfig
// requires.
const (
	// ProfileDefault uses the hashicorp/raft v1.7.2 defaults: 1s heartbeat and
	// election timeouts, 500ms leader lease and 50ms commit timeout. It suits
	// clusters on a real network and is the baseline that users of the library
	// run in production.
	ProfileDefault Profile = "default"

	// ProfileFast shortens every timeout so elections finish in well under a
	// second, for tests and CI on loopback.
	ProfileFast Profile = "fast"
)

// profiles lists every valid profile in the order error messages print them.
var profiles = []Profile{ProfileDefault, ProfileFast}

// ParseProfile returns the profile named s.
func ParseProfile(s string) (Profile, error) {
	for _, p := range profiles {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w %q: use one of %q", ErrUnknownProfile, s, profiles)
}

// Timing holds the raft timeouts of a profile and the I/O timeout of the
// network transport that goes with it.
type Timing struct {
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration

	// RPCTimeout is the I/O deadline for raft.NetworkTransportConfig.Timeout.
	RPCTimeout time.Duration
}

// Timing returns the timeouts of p. An unknown profile gets the default
// timing, so check names with ParseProfile first.
func (p Profile) Timing() Timing {
	switch p {
	case ProfileFast:
		return Timing{
			// A follower waits a random time in [150ms, 300ms) without
			// contact before it starts an election. Leaders send heartbeats
			// every HeartbeatTimeout/10 (15ms), so a scheduler stall of a
			// goroutine under -race on 2 cores must exceed ten heartbeats
			// before it causes a spurious election.
			HeartbeatTimeout: 150 * time.Millisecond,

			// A candidate waits a random time in [150ms, 300ms) for votes.
			// Equal to HeartbeatTimeout, the minimum raft accepts, so a split
			// vote retries quickly.
			ElectionTimeout: 150 * time.Millisecond,

			// A leader steps down after 100ms without contact from a quorum.
			// It must stay below HeartbeatTimeout so the old leader has
			// stopped serving before the other side can elect a new one.
			LeaderLeaseTimeout: 100 * time.Millisecond,

			// The leader flushes pending entries at least every 10ms, which
			// keeps a single write's commit latency low without busy loops.
			CommitTimeout: 10 * time.Millisecond,

			// Loopback RPCs finish in microseconds. 2s still lets an
			// InstallSnapshot of a test-sized state machine through on a
			// loaded machine, and a blackholed RPC fails within one scenario
			// step.
			RPCTimeout: 2 * time.Second,
		}
	default:
		return Timing{
			HeartbeatTimeout:   time.Second,
			ElectionTimeout:    time.Second,
			LeaderLeaseTimeout: 500 * time.Millisecond,
			CommitTimeout:      50 * time.Millisecond,

			// 10s is the timeout the hashicorp/raft examples pass to
			// NewTCPTransport, long enough for large snapshot transfers.
			RPCTimeout: 10 * time.Second,
		}
	}
}

// Floor returns the smallest failover time that the timing allows. raft
// v1.7.2 draws a follower's heartbeat timer from [HeartbeatTimeout,
// 2*HeartbeatTimeout), so after a leader goes silent no follower starts an
// election sooner than HeartbeatTimeout. A measured recovery time below the
// floor means the clock or the measurement is wrong, not that raft was fast.
func (t Timing) Floor() time.Duration {
	return t.HeartbeatTimeout
}
