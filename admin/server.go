package admin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/faultline-dev/faultline/daemon"
	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
)

// ErrInvalidConfig is returned by Config.Validate and NewServer.
var ErrInvalidConfig = errors.New("admin: invalid server config")

// DefaultMaxBodyBytes bounds a request body.
const DefaultMaxBodyBytes = 1 << 20

// RaftNode is the server's view of the local raft member. NodeAdapter
// adapts a *raftint.Node.
type RaftNode interface {
	Status() raftint.Status
	Configuration() ([]RaftServer, error)
	Put(key, value string, timeout time.Duration) (uint64, error)
	CompareAndSet(key string, expected *string, value string, timeout time.Duration) (bool, uint64, error)
	Get(key string) (string, bool)
	ReadLinearizable(key string, timeout time.Duration) (string, bool, error)
	// StateHash returns the state machine's applied index and a hash of its
	// contents taken at that index.
	StateHash() (uint64, string)
}

// TimelineSource is the node's event timeline; *raftint.Timeline is one.
type TimelineSource interface {
	Since(seq uint64) []raftint.Event
	LastSeq() uint64
}

// RuleTable is the node's copy of the fault table; *netchaos.Table is one.
type RuleTable interface {
	Version() uint64
	Rules() []netchaos.Rule
	Counters() []netchaos.LinkCounters
	Install(version uint64, rules []netchaos.Rule) error
	Clear()
}

// MemberSource returns the node's memberlist view.
type MemberSource interface {
	Members() []Member
}

// Daemon is the node's operation executor; *daemon.Daemon is one.
type Daemon interface {
	Schedule(op daemon.Operation) error
	Unschedule(id string) error
	List() []daemon.OperationInfo
	Execute(ctx context.Context, id string) (any, error)
	Health() daemon.Health
	Metrics() daemon.Metrics
	EnableFailpoint(name string, action daemon.FailpointAction) error
	DisableFailpoint(name string) error
	Failpoints() []daemon.FailpointStatus
}

// Backend holds the parts of the node that the server exposes. Members and
// Metrics are optional: without Members the member list is empty and a 421
// carries no leader URL, and without Metrics the server builds a registry
// with NewRegistry.
type Backend struct {
	Raft     RaftNode
	Timeline TimelineSource
	Faults   RuleTable
	Members  MemberSource
	Daemon   Daemon
	Metrics  prometheus.Gatherer
}

// Config configures a Server.
type Config struct {
	// NodeID is the raft server ID of the node.
	NodeID string
	// ListenAddr is the address the server is bound to. A server on any
	// address other than loopback must have a Token.
	ListenAddr string
	// Token is the bearer token that every mutating call must carry. Empty
	// allows mutating calls without one, on loopback only.
	Token string
	// ChaosEnabled is the kill switch: when false, the node rejects fault
	// tables, failpoints and the fail, random-fail and allocate operations
	// with 403. Clearing faults and removing failpoints stay allowed.
	ChaosEnabled bool
	// Seed feeds the random-fail operations: each gets its own generator
	// seeded from Seed and the operation ID.
	Seed int64
	// ApplyTimeout bounds the wait to enqueue a write or the barrier of a
	// linearizable read in raft.
	ApplyTimeout time.Duration
	// MaxBodyBytes bounds a request body; larger bodies get a 413.
	MaxBodyBytes int64
	// Logger receives one line per rejected or failed request. Nil discards.
	Logger *slog.Logger
}

// DefaultConfig returns a config with chaos on, seed 1, a 5 s apply timeout
// and a 1 MiB body limit. NodeID and ListenAddr are empty.
func DefaultConfig() Config {
	return Config{
		ChaosEnabled: true,
		Seed:         1,
		ApplyTimeout: 5 * time.Second,
		MaxBodyBytes: DefaultMaxBodyBytes,
	}
}

// Validate checks the config without changing it.
func (c Config) Validate() error {
	var errs []error
	if c.NodeID == "" {
		errs = append(errs, fmt.Errorf("%w: NodeID is empty: set the raft server ID", ErrInvalidConfig))
	}
	if c.ListenAddr == "" {
		errs = append(errs, fmt.Errorf("%w: ListenAddr is empty: set the address the server binds", ErrInvalidConfig))
	} else if !IsLoopback(c.ListenAddr) && c.Token == "" {
		errs = append(errs, fmt.Errorf("%w: ListenAddr %q is not a loopback address, so a token is required: set Token",
			ErrInvalidConfig, c.ListenAddr))
	}
	if c.ApplyTimeout <= 0 {
		errs = append(errs, fmt.Errorf("%w: ApplyTimeout %v must be above zero", ErrInvalidConfig, c.ApplyTimeout))
	}
	if c.MaxBodyBytes <= 0 {
		errs = append(errs, fmt.Errorf("%w: MaxBodyBytes %d must be above zero", ErrInvalidConfig, c.MaxBodyBytes))
	}
	return errors.Join(errs...)
}

// IsLoopback reports whether addr (host:port or host) names only loopback
// interfaces: localhost, 127.0.0.0/8 or ::1. An empty host, 0.0.0.0 and ::
// listen on every interface, so they are not loopback.
func IsLoopback(addr string) bool {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Server is the admin API of one node, an http.Handler.
type Server struct {
	cfg     Config
	b       Backend
	log     *slog.Logger
	mux     *http.ServeMux
	metrics prometheus.Gatherer
}

var _ http.Handler = (*Server)(nil)

// NewServer returns the handler of the admin API over b.
func NewServer(cfg Config, b Backend) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch {
	case b.Raft == nil:
		return nil, fmt.Errorf("%w: Backend.Raft is nil", ErrInvalidConfig)
	case b.Timeline == nil:
		return nil, fmt.Errorf("%w: Backend.Timeline is nil", ErrInvalidConfig)
	case b.Faults == nil:
		return nil, fmt.Errorf("%w: Backend.Faults is nil", ErrInvalidConfig)
	case b.Daemon == nil:
		return nil, fmt.Errorf("%w: Backend.Daemon is nil", ErrInvalidConfig)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, b: b, log: log.With("node_id", cfg.NodeID), mux: http.NewServeMux(), metrics: b.Metrics}
	if s.metrics == nil {
		s.metrics = NewRegistry(cfg.NodeID, b)
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.handleHealth)
	s.mux.HandleFunc("GET /readyz", s.handleReady)
	s.mux.HandleFunc("GET /metrics", s.handleMetrics)
	s.mux.HandleFunc("GET /v1/raft", s.handleRaft)
	s.mux.HandleFunc("GET /v1/members", s.handleMembers)
	s.mux.HandleFunc("GET /v1/timeline", s.handleTimeline)

	s.mux.HandleFunc("GET /v1/faults", s.handleGetFaults)
	s.mux.HandleFunc("PUT /v1/faults", s.handlePutFaults)
	s.mux.HandleFunc("DELETE /v1/faults", s.handleDeleteFaults)

	s.mux.HandleFunc("GET /v1/kv/{key}", s.handleGetKey)
	s.mux.HandleFunc("PUT /v1/kv/{key}", s.handlePutKey)
	s.mux.HandleFunc("POST /v1/kv/{key}/cas", s.handleCAS)

	s.mux.HandleFunc("GET /v1/ops", s.handleListOps)
	s.mux.HandleFunc("POST /v1/ops", s.handleScheduleOp)
	s.mux.HandleFunc("POST /v1/ops/{id}/execute", s.handleExecuteOp)
	s.mux.HandleFunc("DELETE /v1/ops/{id}", s.handleUnscheduleOp)

	s.mux.HandleFunc("GET /v1/health/daemon", s.handleDaemonHealth)
	s.mux.HandleFunc("GET /v1/failpoints", s.handleListFailpoints)
	s.mux.HandleFunc("PUT /v1/failpoints/{name}", s.handlePutFailpoint)
	s.mux.HandleFunc("DELETE /v1/failpoints/{name}", s.handleDeleteFailpoint)

	s.mux.HandleFunc("/", s.handleNotFound)
}

// ServeHTTP checks the bearer token of mutating calls and routes the
// request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isMutating(r.Method) && s.cfg.Token != "" {
		if apiErr := s.authorize(r); apiErr != nil {
			s.fail(w, r, apiErr)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

func isMutating(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// authorize compares the bearer token in constant time.
func (s *Server) authorize(r *http.Request) *apiError {
	header := r.Header.Get("Authorization")
	if header == "" {
		return &apiError{status: http.StatusUnauthorized, code: CodeUnauthorized,
			msg: "missing Authorization header: send \"Authorization: Bearer <token>\" with the node's admin token"}
	}
	token, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return &apiError{status: http.StatusUnauthorized, code: CodeUnauthorized,
			msg: "Authorization header is not a bearer token: send \"Authorization: Bearer <token>\""}
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.Token)) != 1 {
		return &apiError{status: http.StatusForbidden, code: CodeForbidden,
			msg: "invalid admin token: send the token the node was started with"}
	}
	return nil
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, &apiError{status: http.StatusNotFound, code: CodeNotFound,
		msg: fmt.Sprintf("no endpoint %s %s: see the admin API reference for the paths", r.Method, r.URL.Path)})
}

// leaderHint returns the leader's ID and admin base URL, when known.
func (s *Server) leaderHint() (id, httpURL string) {
	id = s.b.Raft.Status().LeaderID
	if id == "" || s.b.Members == nil {
		return id, ""
	}
	for _, m := range s.b.Members.Members() {
		if m.Name == id && m.HTTPAddr != "" {
			return id, "http://" + m.HTTPAddr
		}
	}
	return id, ""
}

// raftError maps an error of a raft write or read to a response. A write
// that raft accepted but did not commit has an unknown outcome, so it gets a
// 504; a read in the same case is safe to retry, so it gets a 503.
func (s *Server) raftError(err error, what string, write bool) *apiError {
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		id, url := s.leaderHint()
		if id == "" {
			return &apiError{status: http.StatusServiceUnavailable, code: CodeUnavailable, err: err,
				msg: what + " failed: no leader is known, retry after the election"}
		}
		return &apiError{status: http.StatusMisdirectedRequest, code: CodeNotLeader, err: err,
			msg: "not the leader: send the request to " + id, leaderID: id, leaderHTTP: url}
	case errors.Is(err, raft.ErrEnqueueTimeout), errors.Is(err, raft.ErrRaftShutdown),
		errors.Is(err, raft.ErrLeadershipTransferInProgress), !write:
		return &apiError{status: http.StatusServiceUnavailable, code: CodeUnavailable, err: err,
			msg: what + " failed and changed nothing: " + err.Error() + ": retry"}
	default:
		return &apiError{status: http.StatusGatewayTimeout, code: CodeTimeout, err: err,
			msg: what + " timed out and its outcome is unknown, it may still commit: " + err.Error()}
	}
}
