// Package admin is the admin HTTP API of a faultline node: the server that
// each node process runs, and the Go client that harnesses and command line
// tools use to reach it.
//
// Every response is JSON except GET /metrics. A 4xx or 5xx response carries
// an ErrorBody whose message names the field or value at fault and the fix.
// A request that fails changes nothing. When a token is configured, every
// mutating call (PUT, POST, DELETE) needs "Authorization: Bearer <token>":
// 401 when it is missing, 403 when it is wrong. A server bound to an address
// other than loopback must have a token.
//
// The Client has one method per endpoint and returns typed results. Errors
// wrap the sentinels of this package, such as ErrNotLeader or
// ErrVersionConflict; errors.As with *Error gives the status and body, and
// with *NotLeaderError the leader's ID and admin URL.
package admin
