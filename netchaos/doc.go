// Package netchaos holds faultline's fault model and the transports that
// enforce it.
//
// A Rule acts on a directed link "from → to" between node IDs, with "*"
// standing for any node. Its kind sets what happens to a message that crosses
// the link:
//
//   - KindPartition is a blackhole: the message is held and then fails, when
//     the rule goes away or the caller's timeout passes, as a silent network
//     behaves. A held message is never delivered late.
//   - KindReject fails the message at once, as a refused connection does.
//   - KindDrop loses each message with probability p. The sender learns of the
//     loss at once, as after a connection reset; a silent loss is a partition.
//   - KindDelay holds each message for a fixed delay plus uniform jitter and
//     keeps the order of messages on the link.
//
// A rule may be limited to some message kinds (raft append entries,
// heartbeats, votes, pre-votes, snapshots, timeout-now, or gossip). Every rule
// has a time to live and disappears when it expires, so a forgotten fault
// heals itself. A symmetric fault is two rules; Isolate, Split and Cut build
// the common shapes.
//
// The Table keeps the rules, a version that increases on every change, the
// per-link counters and the random source. Drop decisions come from a
// generator per rule and link, seeded from the table's seed, so the same seed
// and the same messages on a link give the same decisions.
//
// RaftTransport wraps a raft.Transport. The node that sends a request enforces
// the link from itself to the target, and the link back for the response, so
// a one-way cut "A → B" delivers B's requests to A and loses A's responses.
// AppendEntries pipelines are wrapped too, never disabled: faults act on whole
// RPCs in pipeline order.
package netchaos
