package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/faultline-dev/faultline/netchaos"
)

// maxResponseBytes bounds how much of a response the client reads. A
// timeline of a long run is the largest response and stays far below it.
const maxResponseBytes = 64 << 20

// defaultClientTimeout bounds a request when the caller passes no
// *http.Client. Writes wait for a raft commit, which takes at most a few
// election timeouts of the default profile.
const defaultClientTimeout = 30 * time.Second

// Client calls the admin API of one node. It is safe for concurrent use.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// NewClient returns a client for the node at baseURL, such as
// "http://127.0.0.1:8080". token is sent as a bearer token when not empty.
// A nil httpClient means a client of its own with a 30 s timeout.
func NewClient(baseURL, token string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: defaultClientTimeout}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, http: httpClient}
}

// BaseURL returns the node's base URL.
func (c *Client) BaseURL() string { return c.base }

// Health calls GET /healthz.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var out Health
	err := c.do(ctx, http.MethodGet, "/healthz", nil, &out, http.StatusOK)
	return out, err
}

// Ready calls GET /readyz. A node that is not ready (503) is not an error:
// the result has Ready false and a Reason.
func (c *Client) Ready(ctx context.Context) (Ready, error) {
	var out Ready
	err := c.do(ctx, http.MethodGet, "/readyz", nil, &out, http.StatusOK, http.StatusServiceUnavailable)
	return out, err
}

// Metrics calls GET /metrics and returns the Prometheus text exposition.
func (c *Client) Metrics(ctx context.Context) (string, error) {
	var out bytes.Buffer
	err := c.do(ctx, http.MethodGet, "/metrics", nil, &out, http.StatusOK)
	return out.String(), err
}

// Raft calls GET /v1/raft.
func (c *Client) Raft(ctx context.Context) (RaftStatus, error) {
	var out RaftStatus
	err := c.do(ctx, http.MethodGet, "/v1/raft", nil, &out, http.StatusOK)
	return out, err
}

// Members calls GET /v1/members and returns the node's memberlist view.
func (c *Client) Members(ctx context.Context) ([]Member, error) {
	var out Members
	err := c.do(ctx, http.MethodGet, "/v1/members", nil, &out, http.StatusOK)
	return out.Members, err
}

// Timeline calls GET /v1/timeline and returns the events with Seq above
// after.
func (c *Client) Timeline(ctx context.Context, after uint64) (Timeline, error) {
	var out Timeline
	path := "/v1/timeline?after=" + strconv.FormatUint(after, 10)
	err := c.do(ctx, http.MethodGet, path, nil, &out, http.StatusOK)
	return out, err
}

// Faults calls GET /v1/faults.
func (c *Client) Faults(ctx context.Context) (FaultTable, error) {
	var out FaultTable
	err := c.do(ctx, http.MethodGet, "/v1/faults", nil, &out, http.StatusOK)
	return out, err
}

// InstallFaults calls PUT /v1/faults: the node replaces its rules with rules
// and sets its table to version, which must be above its current version
// (else ErrVersionConflict, with the current version in Error.Version).
// Install the same version on every node to give them one table.
func (c *Client) InstallFaults(ctx context.Context, version uint64, rules []netchaos.Rule) (FaultTable, error) {
	if rules == nil {
		rules = []netchaos.Rule{}
	}
	var out FaultTable
	err := c.do(ctx, http.MethodPut, "/v1/faults", InstallFaults{Version: version, Rules: rules}, &out, http.StatusOK)
	return out, err
}

// ClearFaults calls DELETE /v1/faults, which removes every rule even on a
// node with chaos off, and returns the table's new version.
func (c *Client) ClearFaults(ctx context.Context) (uint64, error) {
	var out FaultTable
	err := c.do(ctx, http.MethodDelete, "/v1/faults", nil, &out, http.StatusOK)
	return out.Version, err
}

// Get calls GET /v1/kv/{key}. With consistent, the node does a
// linearizable read, which only the leader serves (else ErrNotLeader).
func (c *Client) Get(ctx context.Context, key string, consistent bool) (KVValue, error) {
	path := kvPath(key)
	if consistent {
		path += "?consistent=true"
	}
	var out KVValue
	err := c.do(ctx, http.MethodGet, path, nil, &out, http.StatusOK)
	return out, err
}

// Put calls PUT /v1/kv/{key} and returns the log index of the committed
// write. Only the leader accepts writes (else ErrNotLeader). ErrTimeout
// means the outcome is unknown: the write may still commit.
func (c *Client) Put(ctx context.Context, key, value string) (uint64, error) {
	var out WriteResult
	err := c.do(ctx, http.MethodPut, kvPath(key), PutRequest{Value: value}, &out, http.StatusOK)
	return out.Index, err
}

// CompareAndSet calls POST /v1/kv/{key}/cas: the node sets key to value if
// its current value is *expected, or if it is absent when expected is nil.
func (c *Client) CompareAndSet(ctx context.Context, key string, expected *string, value string) (CASResult, error) {
	var out CASResult
	err := c.do(ctx, http.MethodPost, kvPath(key)+"/cas", CASRequest{Expected: expected, Value: value}, &out, http.StatusOK)
	return out, err
}

// Ops calls GET /v1/ops and returns the scheduled operations.
func (c *Client) Ops(ctx context.Context) ([]OpInfo, error) {
	var out Ops
	err := c.do(ctx, http.MethodGet, "/v1/ops", nil, &out, http.StatusOK)
	return out.Ops, err
}

// ScheduleOp calls POST /v1/ops.
func (c *Client) ScheduleOp(ctx context.Context, op OpRequest) (OpInfo, error) {
	var out OpInfo
	err := c.do(ctx, http.MethodPost, "/v1/ops", op, &out, http.StatusCreated)
	return out, err
}

// ExecuteOp calls POST /v1/ops/{id}/execute and waits for the run. A run
// that fails or times out is reported in the result, not as an error.
func (c *Client) ExecuteOp(ctx context.Context, id string) (ExecuteResult, error) {
	var out ExecuteResult
	err := c.do(ctx, http.MethodPost, "/v1/ops/"+url.PathEscape(id)+"/execute", nil, &out, http.StatusOK)
	return out, err
}

// UnscheduleOp calls DELETE /v1/ops/{id}.
func (c *Client) UnscheduleOp(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/ops/"+url.PathEscape(id), nil, nil, http.StatusOK)
}

// DaemonStatus calls GET /v1/health/daemon.
func (c *Client) DaemonStatus(ctx context.Context) (DaemonStatus, error) {
	var out DaemonStatus
	err := c.do(ctx, http.MethodGet, "/v1/health/daemon", nil, &out, http.StatusOK)
	return out, err
}

// Failpoints calls GET /v1/failpoints and returns every failpoint by name.
func (c *Client) Failpoints(ctx context.Context) (map[string]FailpointStatus, error) {
	var out Failpoints
	err := c.do(ctx, http.MethodGet, "/v1/failpoints", nil, &out, http.StatusOK)
	return out.Failpoints, err
}

// EnableFailpoint calls PUT /v1/failpoints/{name}.
func (c *Client) EnableFailpoint(ctx context.Context, name string, req FailpointRequest) (FailpointStatus, error) {
	var out FailpointStatus
	err := c.do(ctx, http.MethodPut, "/v1/failpoints/"+url.PathEscape(name), req, &out, http.StatusOK)
	return out, err
}

// DisableFailpoint calls DELETE /v1/failpoints/{name}.
func (c *Client) DisableFailpoint(ctx context.Context, name string) (FailpointStatus, error) {
	var out FailpointStatus
	err := c.do(ctx, http.MethodDelete, "/v1/failpoints/"+url.PathEscape(name), nil, &out, http.StatusOK)
	return out, err
}

func kvPath(key string) string { return "/v1/kv/" + url.PathEscape(key) }

// do sends one request with body encoded as JSON (none when nil) and decodes
// a response whose status is one of ok into out: a *bytes.Buffer receives
// the raw body, anything else is decoded as JSON. Other statuses become an
// *Error or a *NotLeaderError.
func (c *Client) do(ctx context.Context, method, path string, body, out any, ok ...int) error {
	req, err := c.newRequest(ctx, method, path, body)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrUnreachable, method, req.URL, err)
	}
	defer resp.Body.Close()

	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("%w: %s %s: read response: %w", ErrUnreachable, method, req.URL, err)
	}
	for _, status := range ok {
		if resp.StatusCode == status {
			return decodeResponse(data, out, method, req.URL.String())
		}
	}
	return responseError(method, req.URL.String(), resp.StatusCode, data)
}

func (c *Client) newRequest(ctx context.Context, method, path string, body any) (*http.Request, error) {
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("admin: encode %s %s body: %w", method, path, err)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, reader)
	if err != nil {
		return nil, fmt.Errorf("admin: build request %s %s%s: %w", method, c.base, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, nil
}

func decodeResponse(data []byte, out any, method, url string) error {
	switch out := out.(type) {
	case nil:
		return nil
	case *bytes.Buffer:
		out.Write(data)
		return nil
	}
	// Unknown fields are accepted, so a newer node still works with this
	// client.
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%w: %s %s: response is not the expected JSON: %w", ErrServer, method, url, err)
	}
	return nil
}

func responseError(method, url string, status int, data []byte) error {
	var body ErrorBody
	if err := json.Unmarshal(data, &body); err != nil || body.Error == "" {
		text := strings.TrimSpace(string(data[:min(len(data), 200)]))
		if text == "" {
			text = http.StatusText(status)
		}
		body = ErrorBody{Error: text}
	}
	e := &Error{Method: method, URL: url, StatusCode: status, Body: body, Err: sentinelFor(status, body.Code)}
	if errors.Is(e.Err, ErrNotLeader) {
		return &NotLeaderError{Response: e, LeaderID: body.LeaderID, LeaderHTTP: body.LeaderHTTP}
	}
	return e
}
