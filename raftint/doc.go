// Package raftint runs one member of a hashicorp/raft cluster for faultline.
//
// A Node combines raft v1.7.2 with a raft-boltdb/v2 log and stable store
// (DataDir/raft.db), a raft.FileSnapshotStore (DataDir/snapshots) and KV, a
// replicated key-value state machine with put, delete and compare-and-set.
// The caller supplies the raft.Transport, so a fault-injecting wrapper can
// sit between raft and the network; the Node closes it on Shutdown or Crash.
//
// A raft observer on every node feeds a Timeline shared by the cluster. Each
// Event carries the monotonic time and term of the moment raft made the
// observation, so recovery times are measured from the timeline rather than
// by polling. Leadership changes also go to an optional LeadershipSink.
//
// Timing comes from a Profile. ProfileDefault keeps the raft defaults and
// ProfileFast shortens them for tests. Timing.Floor is the shortest failover
// the profile allows.
//
// Typical use:
//
//	cfg := raftint.DefaultConfig()
//	cfg.ID, cfg.DataDir, cfg.Transport = "n1", dir, transport
//	node, err := raftint.Open(cfg)
//	if err != nil {
//		return err
//	}
//	defer node.Shutdown()
//	if err := node.Bootstrap(servers); err != nil {
//		return err
//	}
//
// Crash stops a node the way a killed process would leave its data
// directory, and Open on the same directory with a transport on the same
// address restarts it. Bootstrap on a restarted node is a no-op.
//
// hashicorp libraries log through hclog. NewHCLogger adapts an slog.Logger
// for them.
package raftint
