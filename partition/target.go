package partition

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/faultline-dev/faultline/admin"
)

// Target is one node whose ID is known, with a client for its admin API.
type Target struct {
	ID     string
	Client *admin.Client
}

// IDs returns the node IDs of targets, in order.
func IDs(targets []Target) []string {
	ids := make([]string, len(targets))
	for i, t := range targets {
		ids[i] = t.ID
	}
	return ids
}

// Status is one node's raft status as read by Resolve.
type Status struct {
	Target Target
	Raft   admin.RaftStatus
}

// Resolve reads GET /v1/raft of every endpoint at once and returns the
// targets with their IDs, sorted by ID, and each node's status. An endpoint
// given without an ID takes the node's own ID. It fails, naming every node
// at fault, when a node does not respond, or when its ID is not the one the
// endpoint names, or when two endpoints reach the same node.
func Resolve(ctx context.Context, endpoints []Endpoint, token string, httpClient *http.Client) ([]Status, error) {
	statuses := make([]Status, len(endpoints))
	errs := make([]error, len(endpoints))
	var wg sync.WaitGroup
	for i, ep := range endpoints {
		wg.Go(func() {
			client := admin.NewClient(ep.URL, token, httpClient)
			raft, err := client.Raft(ctx)
			switch {
			case err != nil:
				errs[i] = nodeErr(ErrUnreachable, ep.Name(), err)
			case raft.NodeID == "":
				errs[i] = fmt.Errorf("%w: %s returned no node_id from /v1/raft", ErrUnreachable, ep.Name())
			case ep.ID != "" && raft.NodeID != ep.ID:
				errs[i] = fmt.Errorf("%w: %s is node %q, not %q: fix the ID in --nodes",
					ErrInvalidSpec, ep.URL, raft.NodeID, ep.ID)
			}
			statuses[i] = Status{Target: Target{ID: raft.NodeID, Client: client}, Raft: raft}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.SortFunc(statuses, func(a, b Status) int { return strings.Compare(a.Target.ID, b.Target.ID) })
	for i := 1; i < len(statuses); i++ {
		if a, b := statuses[i-1], statuses[i]; a.Target.ID == b.Target.ID {
			return nil, fmt.Errorf("%w: %s and %s both reach node %s: list each node once",
				ErrInvalidSpec, a.Target.Client.BaseURL(), b.Target.Client.BaseURL(), a.Target.ID)
		}
	}
	return statuses, nil
}

// Targets returns the targets of statuses, in order.
func Targets(statuses []Status) []Target {
	out := make([]Target, len(statuses))
	for i, s := range statuses {
		out[i] = s.Target
	}
	return out
}

// LeaderOf returns the current leader: the node in the Leader state with
// the highest term, or else the leader that the node with the highest term
// follows. It returns "" when no node reports a leader.
func LeaderOf(statuses []Status) string {
	leader, term := "", uint64(0)
	for _, s := range statuses {
		if s.Raft.State == "Leader" && (leader == "" || s.Raft.Term > term) {
			leader, term = s.Target.ID, s.Raft.Term
		}
	}
	if leader != "" {
		return leader
	}
	for _, s := range statuses {
		if s.Raft.LeaderID != "" && (leader == "" || s.Raft.Term > term) {
			leader, term = s.Raft.LeaderID, s.Raft.Term
		}
	}
	return leader
}

// Discover reads the member list of the node behind client and returns an
// endpoint for every member that is alive or suspect, with the members it
// left out. A member that is dead or has left holds no fault table worth
// changing: a node that starts again starts with an empty one.
func Discover(ctx context.Context, client *admin.Client) ([]Endpoint, []admin.Member, error) {
	members, err := client.Members(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: read the member list of %s: %w", ErrUnreachable, client.BaseURL(), err)
	}
	var endpoints []Endpoint
	var skipped []admin.Member
	for _, m := range members {
		if m.State != admin.MemberAlive && m.State != admin.MemberSuspect {
			skipped = append(skipped, m)
			continue
		}
		url, err := NormalizeURL(m.HTTPAddr)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: member %s of %s has no usable http_addr: %w",
				ErrInvalidSpec, m.Name, client.BaseURL(), err)
		}
		endpoints = append(endpoints, Endpoint{ID: m.Name, URL: url})
	}
	if len(endpoints) == 0 {
		return nil, skipped, fmt.Errorf("%w: %s lists no live member", ErrUnreachable, client.BaseURL())
	}
	return endpoints, skipped, nil
}
