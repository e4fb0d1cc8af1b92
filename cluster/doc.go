// Package cluster runs faultline's raft clusters and hides where they run.
//
// Cluster is the interface that scenarios drive: wait for a stable leader,
// write and read keys, apply and heal faults, crash and restart nodes, and
// read the shared leadership timeline. Local is the in-process harness: every
// node is a real raftint.Node with its own bbolt files in its own data
// directory and its own TCP listener on 127.0.0.1, and all traffic between
// nodes crosses a netchaos.RaftTransport that enforces one shared fault table.
package cluster
