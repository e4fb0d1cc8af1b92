package admin

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
)

// Duration is a time.Duration that travels in JSON as a Go duration string
// such as "100ms" or "5m".
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON implements json.Unmarshaler. It accepts only strings, so a
// bare number is rejected rather than read as nanoseconds.
func (d *Duration) UnmarshalJSON(data []byte) error {
	var text string
	if err := json.Unmarshal(data, &text); err != nil {
		return fmt.Errorf("%s is not a duration string such as \"100ms\"", data)
	}
	parsed, err := time.ParseDuration(text)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"100ms\" or \"5m\"", text)
	}
	*d = Duration(parsed)
	return nil
}

// ErrorBody is the body of every 4xx and 5xx response.
type ErrorBody struct {
	// Error describes what failed, on which value, and what to do next.
	Error string `json:"error"`
	// Code classifies the error for clients with one of the Code constants.
	Code string `json:"code,omitempty"`
	// Field names the request field at fault, for a 400.
	Field string `json:"field,omitempty"`
	// Version is the node's current fault table version, for a 409.
	Version uint64 `json:"version,omitempty"`
	// LeaderID and LeaderHTTP point at the leader, for a 421.
	LeaderID   string `json:"leader_id,omitempty"`
	LeaderHTTP string `json:"leader_http,omitempty"`
}

// Error codes of ErrorBody.Code.
const (
	CodeInvalid         = "invalid"
	CodeUnauthorized    = "unauthorized"
	CodeForbidden       = "forbidden"
	CodeChaosDisabled   = "chaos_disabled"
	CodeNotFound        = "not_found"
	CodeMethod          = "method_not_allowed"
	CodeVersionConflict = "version_conflict"
	CodeConflict        = "conflict"
	CodeNotLeader       = "not_leader"
	CodeUnavailable     = "unavailable"
	CodeTimeout         = "timeout"
	CodeInternal        = "internal"
)

// Health is the body of GET /healthz.
type Health struct {
	Status string `json:"status"`
	NodeID string `json:"node_id"`
}

// Ready is the body of GET /readyz, with status 200 when Ready is true and
// 503 when it is false.
type Ready struct {
	Ready  bool   `json:"ready"`
	NodeID string `json:"node_id"`
	// Reason explains why the node is not ready. It is empty when it is ready.
	Reason   string `json:"reason,omitempty"`
	State    string `json:"state,omitempty"`
	LeaderID string `json:"leader_id,omitempty"`
	Term     uint64 `json:"term,omitempty"`
}

// RaftServer is one entry of the raft configuration.
type RaftServer struct {
	ID      string `json:"id"`
	Address string `json:"address"`
	// Suffrage is Voter, Nonvoter or Staging, as hashicorp/raft names them.
	Suffrage string `json:"suffrage"`
}

// RaftStatus is the body of GET /v1/raft.
type RaftStatus struct {
	NodeID       string `json:"node_id"`
	State        string `json:"state"`
	Term         uint64 `json:"term"`
	LeaderID     string `json:"leader_id"`
	LeaderAddr   string `json:"leader_addr"`
	LastIndex    uint64 `json:"last_index"`
	CommitIndex  uint64 `json:"commit_index"`
	AppliedIndex uint64 `json:"applied_index"`
	// LastContact is the last contact with a leader. It is absent if there
	// was none, and not meaningful on the leader.
	LastContact   time.Time    `json:"last_contact,omitzero"`
	Configuration []RaftServer `json:"configuration"`
	// StateIndex and StateHash identify the state machine's contents: two
	// nodes with the same index and different hashes have diverged.
	StateIndex uint64 `json:"state_index"`
	StateHash  string `json:"state_hash"`
}

// Member states in the memberlist view.
const (
	MemberAlive   = "alive"
	MemberSuspect = "suspect"
	MemberDead    = "dead"
	MemberLeft    = "left"
)

// Member is one node of the memberlist view.
type Member struct {
	// Name is the memberlist node name, which is the raft node ID.
	Name string `json:"name"`
	// Addr is the gossip address, host:port.
	Addr     string `json:"addr"`
	RaftAddr string `json:"raft_addr"`
	// HTTPAddr is the admin API address, host:port.
	HTTPAddr string `json:"http_addr"`
	// State is MemberAlive, MemberSuspect, MemberDead or MemberLeft.
	State string `json:"state"`
}

// Members is the body of GET /v1/members.
type Members struct {
	Members []Member `json:"members"`
}

// Event is a raftint.Event in JSON. At is the node's wall clock time;
// AtUnixNano is the same instant in nanoseconds since the Unix epoch, so
// intervals between events of one node can be computed to the nanosecond.
type Event struct {
	Seq        uint64    `json:"seq"`
	At         time.Time `json:"at"`
	AtUnixNano int64     `json:"at_unix_nano"`
	Node       string    `json:"node"`
	Kind       string    `json:"kind"`
	Term       uint64    `json:"term,omitempty"`
	State      string    `json:"state,omitempty"`
	Leader     string    `json:"leader,omitempty"`
	Peer       string    `json:"peer,omitempty"`
	Index      uint64    `json:"index,omitempty"`
	Detail     string    `json:"detail,omitempty"`
}

// EventFromRaft converts a timeline event to its JSON form.
func EventFromRaft(e raftint.Event) Event {
	return Event{
		Seq: e.Seq, At: e.At.UTC(), AtUnixNano: e.At.UnixNano(), Node: e.Node, Kind: string(e.Kind),
		Term: e.Term, State: e.State, Leader: e.Leader, Peer: e.Peer, Index: e.Index, Detail: e.Detail,
	}
}

// Raft converts e back to a timeline event. At carries no monotonic clock
// reading, so intervals between events come from wall clock time.
func (e Event) Raft() raftint.Event {
	return raftint.Event{
		Seq: e.Seq, At: time.Unix(0, e.AtUnixNano), Node: e.Node, Kind: raftint.EventKind(e.Kind),
		Term: e.Term, State: e.State, Leader: e.Leader, Peer: e.Peer, Index: e.Index, Detail: e.Detail,
	}
}

// Timeline is the body of GET /v1/timeline.
type Timeline struct {
	Events []Event `json:"events"`
	// LastSeq is the Seq of the node's newest event. Pass it as after in
	// the next call to read only newer events.
	LastSeq uint64 `json:"last_seq"`
}

// FaultTable is the body of GET /v1/faults, of the PUT /v1/faults response
// (without counters) and of the DELETE /v1/faults response (version only).
type FaultTable struct {
	Version  uint64                  `json:"version"`
	Rules    []netchaos.Rule         `json:"rules"`
	Counters []netchaos.LinkCounters `json:"counters,omitempty"`
}

// InstallFaults is the body of PUT /v1/faults: the node installs exactly
// Version, which must be above its current version.
type InstallFaults struct {
	Version uint64          `json:"version"`
	Rules   []netchaos.Rule `json:"rules"`
}

// KVValue is the body of GET /v1/kv/{key}.
type KVValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	Found bool   `json:"found"`
}

// PutRequest is the body of PUT /v1/kv/{key}.
type PutRequest struct {
	Value string `json:"value"`
}

// WriteResult is the body of a successful PUT /v1/kv/{key}.
type WriteResult struct {
	// Index is the raft log index of the committed write.
	Index uint64 `json:"index"`
}

// CASRequest is the body of POST /v1/kv/{key}/cas. A nil Expected (JSON
// null) means the key must be absent.
type CASRequest struct {
	Expected *string `json:"expected"`
	Value    string  `json:"value"`
}

// CASResult is the body of a successful POST /v1/kv/{key}/cas.
type CASResult struct {
	OK    bool   `json:"ok"`
	Index uint64 `json:"index"`
}

// Operation kinds of OpRequest.Kind.
const (
	OpNoop       = "noop"
	OpSleep      = "sleep"
	OpFail       = "fail"
	OpRandomFail = "random-fail"
	OpAllocate   = "allocate"
)

// MaxAllocateBytes caps the params.bytes of an allocate operation.
const MaxAllocateBytes = 256 << 20

// OpParams holds the parameters of a built-in operation kind. Each kind
// accepts only its own fields.
type OpParams struct {
	// Duration is how long a sleep operation sleeps, and how long an
	// allocate operation holds its memory (zero releases it at once).
	Duration Duration `json:"duration,omitempty"`
	// Rate is the failure probability of a random-fail operation, in (0, 1].
	Rate float64 `json:"rate,omitempty"`
	// Bytes is how much an allocate operation allocates, at most
	// MaxAllocateBytes.
	Bytes int64 `json:"bytes,omitempty"`
	// Message is the error message of a fail or random-fail operation.
	Message string `json:"message,omitempty"`
}

// OpRequest is the body of POST /v1/ops.
type OpRequest struct {
	ID     string   `json:"id"`
	Name   string   `json:"name,omitempty"`
	Kind   string   `json:"kind"`
	Params OpParams `json:"params,omitzero"`
	// Scope is "local" (default) or "leader".
	Scope string `json:"scope,omitempty"`
	// Timeout bounds each run. Zero means the daemon's default.
	Timeout Duration `json:"timeout,omitempty"`
}

// OpInfo describes a scheduled operation: the body of POST /v1/ops and an
// entry of GET /v1/ops.
type OpInfo struct {
	ID          string    `json:"id"`
	Name        string    `json:"name,omitempty"`
	Kind        string    `json:"kind"`
	Params      OpParams  `json:"params,omitzero"`
	Scope       string    `json:"scope"`
	Timeout     Duration  `json:"timeout"`
	ScheduledAt time.Time `json:"scheduled_at"`
	// Runs counts the runs started so far and Active those in progress.
	Runs   uint64 `json:"runs"`
	Active int    `json:"active"`
}

// Ops is the body of GET /v1/ops.
type Ops struct {
	Ops []OpInfo `json:"ops"`
}

// Run statuses of ExecuteResult.Status.
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusTimedOut  = "timed_out"
	StatusCancelled = "cancelled"
)

// ExecuteResult is the body of POST /v1/ops/{id}/execute. A run that
// failed, timed out or was cancelled is still a 200: Status and Error
// report it.
type ExecuteResult struct {
	ID     string          `json:"id"`
	Status string          `json:"status"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
	// DurationMS is the run's duration in milliseconds, as measured by the
	// node.
	DurationMS float64 `json:"duration_ms"`
}

// DaemonHealth is daemon.Health in JSON.
type DaemonHealth struct {
	NodeID      string  `json:"node_id"`
	Name        string  `json:"name"`
	Running     bool    `json:"running"`
	IsLeader    bool    `json:"is_leader"`
	LeaderID    string  `json:"leader_id"`
	Term        uint64  `json:"term"`
	UptimeMS    float64 `json:"uptime_ms"`
	Active      int     `json:"active"`
	Waiting     int     `json:"waiting"`
	Scheduled   int     `json:"scheduled"`
	Queued      int     `json:"queued"`
	Completed   uint64  `json:"completed"`
	Concurrency int     `json:"concurrency"`
	Abandoned   int     `json:"abandoned"`
}

// DaemonMetrics is daemon.Metrics in JSON, with durations in milliseconds.
type DaemonMetrics struct {
	Executed       uint64  `json:"executed"`
	Succeeded      uint64  `json:"succeeded"`
	Failed         uint64  `json:"failed"`
	TimedOut       uint64  `json:"timed_out"`
	Cancelled      uint64  `json:"cancelled"`
	Panics         uint64  `json:"panics"`
	Rejected       uint64  `json:"rejected"`
	Abandoned      uint64  `json:"abandoned"`
	CorruptRecords uint64  `json:"corrupt_records"`
	DroppedEvents  uint64  `json:"dropped_events"`
	SuccessRate    float64 `json:"success_rate"`
	MeanMS         float64 `json:"mean_ms"`
	P50MS          float64 `json:"p50_ms"`
	P95MS          float64 `json:"p95_ms"`
	P99MS          float64 `json:"p99_ms"`
	MaxMS          float64 `json:"max_ms"`
}

// DaemonStatus is the body of GET /v1/health/daemon.
type DaemonStatus struct {
	Health  DaemonHealth  `json:"health"`
	Metrics DaemonMetrics `json:"metrics"`
}

// Failpoint actions of FailpointRequest.Action.
const (
	FailpointError   = "error"
	FailpointPanic   = "panic"
	FailpointSleep   = "sleep"
	FailpointCorrupt = "corrupt"
)

// FailpointRequest is the body of PUT /v1/failpoints/{name}.
type FailpointRequest struct {
	// Action is "error", "panic", "sleep", or "corrupt" (record-result only).
	Action string `json:"action"`
	// Duration is how long a sleep action sleeps.
	Duration Duration `json:"duration,omitempty"`
	// Message is the error message of an error action or the panic value of
	// a panic action.
	Message string `json:"message,omitempty"`
	// Times is how many times the failpoint fires before it disables
	// itself. Zero means until it is deleted.
	Times int `json:"times,omitempty"`
}

// FailpointStatus describes one failpoint.
type FailpointStatus struct {
	Name     string   `json:"name"`
	Enabled  bool     `json:"enabled"`
	Action   string   `json:"action,omitempty"`
	Duration Duration `json:"duration,omitempty"`
	Message  string   `json:"message,omitempty"`
	Times    int      `json:"times,omitempty"`
	// Fired counts every time the failpoint fired since the node started.
	Fired uint64 `json:"fired"`
}

// Failpoints is the body of GET /v1/failpoints, keyed by failpoint name.
type Failpoints struct {
	Failpoints map[string]FailpointStatus `json:"failpoints"`
}
