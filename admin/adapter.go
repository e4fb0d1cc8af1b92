package admin

import (
	"github.com/faultline-dev/faultline/raftint"
)

// NodeAdapter adapts a *raftint.Node to RaftNode.
func NodeAdapter(n *raftint.Node) RaftNode { return nodeAdapter{n} }

type nodeAdapter struct{ *raftint.Node }

// Configuration returns the latest raft configuration, committed or not.
func (a nodeAdapter) Configuration() ([]RaftServer, error) {
	future := a.Raft().GetConfiguration()
	if err := future.Error(); err != nil {
		return nil, err
	}
	servers := future.Configuration().Servers
	out := make([]RaftServer, len(servers))
	for i, s := range servers {
		out[i] = RaftServer{ID: string(s.ID), Address: string(s.Address), Suffrage: s.Suffrage.String()}
	}
	return out, nil
}
