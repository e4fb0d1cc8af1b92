package main

import (
	"testing"

	"github.com/faultline-dev/faultline/cluster"
)

func TestCanRemoveVoter(t *testing.T) {
	tests := []struct {
		voters, healthy int
		want            bool
	}{
		{3, 2, false}, // 2 would remain: no spare node
		{3, 3, false},
		{4, 3, true}, // 3 remain, all healthy: one more failure keeps a quorum of 2
		{4, 2, false},
		{5, 4, true},  // 4 remain, quorum 3, one spare
		{5, 3, false}, // 4 remain with 3 healthy: one more failure loses the quorum
		{6, 4, true},  // 5 remain, quorum 3, one spare
		{7, 5, true},
		{7, 4, false},
		{1, 0, false},
	}
	for _, tc := range tests {
		if got := canRemoveVoter(tc.voters, tc.healthy); got != tc.want {
			t.Errorf("canRemoveVoter(%d voters, %d healthy) = %v, want %v", tc.voters, tc.healthy, got, tc.want)
		}
	}
}

func member(name string, state cluster.MemberState, raftAddr string) cluster.Member {
	return cluster.Member{Name: name, State: state, Meta: cluster.NodeMeta{RaftAddr: raftAddr}}
}

func TestBootstrapServers(t *testing.T) {
	three := []cluster.Member{
		member("node-2", cluster.MemberAlive, "h2:1"),
		member("node-1", cluster.MemberAlive, "h1:1"),
		member("node-3", cluster.MemberAlive, "h3:1"),
	}
	tests := []struct {
		name    string
		self    string
		expect  int
		members []cluster.Member
		want    string // servers, or "" for no bootstrap
	}{
		{"lowest id bootstraps", "node-1", 3, three, "node-1@h1:1,node-2@h2:1,node-3@h3:1"},
		{"others wait", "node-2", 3, three, ""},
		{"too few alive", "node-1", 3, three[:2], ""},
		{"dead member does not count", "node-1", 3, append(three[:2:2], member("node-3", cluster.MemberDead, "h3:1")), ""},
		{"member without raft address does not count", "node-1", 3, append(three[:2:2], member("node-3", cluster.MemberAlive, "")), ""},
		{"extra members wait for the leader", "node-1", 2, three, "node-1@h1:1,node-2@h2:1"},
		{"expect zero never bootstraps", "node-1", 0, three, ""},
		{"single node", "node-1", 1, three[1:2], "node-1@h1:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			servers, ok := bootstrapServers(tc.self, tc.expect, tc.members)
			got := ""
			if ok {
				got = describeServers(servers)
			}
			if got != tc.want {
				t.Errorf("servers = %q, want %q", got, tc.want)
			}
		})
	}
}
