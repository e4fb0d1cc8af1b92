// Package safety checks that a raft cluster kept its guarantees through a
// fault, so a recovery time is reported only alongside proof that nothing
// was lost or reordered to reach it.
//
// A Workload runs concurrent clients that put, read (linearizable reads
// through the leader) and compare-and-set a small set of keys, and records
// every call and return in a History. Each operation ends with one of
// three outcomes: ok, failed (it definitely did not take effect) or unknown
// (it timed out or the leader was deposed after the entry was submitted, so
// it may or may not have taken effect). Unknown outcomes are never guessed.
//
// Four checks read the history, the cluster and the leadership timeline:
//
//   - CheckLinearizable: the history is linearizable under a key-value model
//     partitioned by key, checked with porcupine.
//   - CheckDurability: every acknowledged write is present on every running
//     node, unless a later write to the same key superseded it.
//   - CheckConvergence: every running node's state machine hash matches the
//     others' at the same applied index.
//   - CheckElectionSafety: at most one node became leader in any term.
//
// Each check returns Violations, which name the check, the keys or nodes and
// what went wrong, and encode to JSON for reports.
package safety
