package admin

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"time"
)

// opIDPattern keeps operation IDs safe to put in a URL path unescaped.
var opIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// maxOpNameBytes bounds OpRequest.Name.
const maxOpNameBytes = 256

// opWire is OpRequest with raw params and durations as text, so that every
// error names its field.
type opWire struct {
	ID      string          `json:"id"`
	Name    string          `json:"name"`
	Kind    string          `json:"kind"`
	Params  json.RawMessage `json:"params"`
	Scope   string          `json:"scope"`
	Timeout string          `json:"timeout"`
}

// paramsWire records which params are present, since each kind accepts
// only its own.
type paramsWire struct {
	Duration *string  `json:"duration"`
	Rate     *float64 `json:"rate"`
	Bytes    *int64   `json:"bytes"`
	Message  *string  `json:"message"`
}

// opKindParams lists the params each operation kind accepts.
var opKindParams = map[string][]string{
	OpNoop:       nil,
	OpSleep:      {"duration"},
	OpFail:       {"message"},
	OpRandomFail: {"rate", "message"},
	OpAllocate:   {"bytes", "duration"},
}

// decodeOp decodes and validates the body of POST /v1/ops.
func decodeOp(data []byte) (OpRequest, *apiError) {
	var in opWire
	if e := decodeStrict(data, &in, ""); e != nil {
		return OpRequest{}, e
	}
	switch {
	case in.ID == "":
		return OpRequest{}, invalid("id", `field "id" is missing: give the operation a unique ID`)
	case !opIDPattern.MatchString(in.ID):
		return OpRequest{}, invalid("id", fmt.Sprintf("id %q is invalid: use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit", in.ID))
	case len(in.Name) > maxOpNameBytes:
		return OpRequest{}, invalid("name", fmt.Sprintf("name is %d bytes long, above the maximum of %d", len(in.Name), maxOpNameBytes))
	case in.Kind == "":
		return OpRequest{}, invalid("kind", `field "kind" is missing: use noop, sleep, fail, random-fail or allocate`)
	}
	allowed, known := opKindParams[in.Kind]
	if !known {
		return OpRequest{}, invalid("kind", fmt.Sprintf("kind %q is unknown: use noop, sleep, fail, random-fail or allocate", in.Kind))
	}
	if in.Scope != "" && in.Scope != "local" && in.Scope != "leader" {
		return OpRequest{}, invalid("scope", fmt.Sprintf(`scope %q is invalid: use "local" or "leader"`, in.Scope))
	}
	timeout, e := parseDuration("timeout", in.Timeout, false)
	if e != nil {
		return OpRequest{}, e
	}

	out := OpRequest{ID: in.ID, Name: in.Name, Kind: in.Kind, Scope: in.Scope, Timeout: Duration(timeout)}
	params, e := decodeParams(in.Kind, in.Params, allowed)
	if e != nil {
		return OpRequest{}, e
	}
	out.Params = params
	return out, nil
}

func decodeParams(kind string, raw json.RawMessage, allowed []string) (OpParams, *apiError) {
	var in paramsWire
	if len(raw) > 0 && string(raw) != "null" {
		if e := decodeStrict(raw, &in, "params."); e != nil {
			return OpParams{}, e
		}
	}
	present := map[string]bool{
		"duration": in.Duration != nil, "rate": in.Rate != nil, "bytes": in.Bytes != nil, "message": in.Message != nil,
	}
	for _, name := range []string{"duration", "rate", "bytes", "message"} {
		if present[name] && !slices.Contains(allowed, name) {
			return OpParams{}, invalid("params."+name, fmt.Sprintf("params.%s is not a parameter of kind %s, which takes %v", name, kind, allowed))
		}
	}

	var out OpParams
	if in.Message != nil {
		out.Message = *in.Message
	}
	if in.Duration != nil {
		d, e := parseDuration("params.duration", *in.Duration, kind == OpSleep)
		if e != nil {
			return OpParams{}, e
		}
		out.Duration = Duration(d)
	}
	switch kind {
	case OpSleep:
		if in.Duration == nil {
			return OpParams{}, invalid("params.duration", `params.duration is missing: set how long to sleep, such as "100ms"`)
		}
	case OpRandomFail:
		if in.Rate == nil || !(*in.Rate > 0 && *in.Rate <= 1) {
			return OpParams{}, invalid("params.rate", "params.rate must be a number in (0, 1]: the probability that a run fails")
		}
		out.Rate = *in.Rate
	case OpAllocate:
		if in.Bytes == nil || *in.Bytes <= 0 {
			return OpParams{}, invalid("params.bytes", "params.bytes must be a positive number of bytes to allocate")
		}
		if *in.Bytes > MaxAllocateBytes {
			return OpParams{}, invalid("params.bytes", fmt.Sprintf("params.bytes %d is above the maximum of %d (256 MiB)", *in.Bytes, MaxAllocateBytes))
		}
		out.Bytes = *in.Bytes
	}
	return out, nil
}

// parseDuration parses a duration field. Empty text is zero unless
// required; negative durations are invalid, and so is zero when required.
func parseDuration(field, text string, required bool) (time.Duration, *apiError) {
	if text == "" {
		if required {
			return 0, invalid(field, fmt.Sprintf(`%s is missing: set a duration such as "100ms"`, field))
		}
		return 0, nil
	}
	d, err := time.ParseDuration(text)
	switch {
	case err != nil:
		return 0, invalid(field, fmt.Sprintf(`%s %q is not a duration such as "100ms" or "5m"`, field, text))
	case d < 0:
		return 0, invalid(field, fmt.Sprintf("%s %q is negative", field, text))
	case d == 0 && required:
		return 0, invalid(field, fmt.Sprintf("%s must be above zero", field))
	}
	return d, nil
}

// failpointWire is FailpointRequest with the duration as text.
type failpointWire struct {
	Action   string  `json:"action"`
	Duration string  `json:"duration"`
	Message  *string `json:"message"`
	Times    int     `json:"times"`
}

// decodeFailpoint decodes and validates the body of PUT
// /v1/failpoints/{name}. Whether the action fits the named failpoint is
// checked by the daemon.
func decodeFailpoint(data []byte) (FailpointRequest, *apiError) {
	var in failpointWire
	if e := decodeStrict(data, &in, ""); e != nil {
		return FailpointRequest{}, e
	}
	switch in.Action {
	case FailpointError, FailpointPanic, FailpointSleep, FailpointCorrupt:
	case "":
		return FailpointRequest{}, invalid("action", `field "action" is missing: use error, panic, sleep or corrupt`)
	default:
		return FailpointRequest{}, invalid("action", fmt.Sprintf("action %q is unknown: use error, panic, sleep or corrupt", in.Action))
	}
	d, e := parseDuration("duration", in.Duration, in.Action == FailpointSleep)
	if e != nil {
		return FailpointRequest{}, e
	}
	if in.Action != FailpointSleep && d != 0 {
		return FailpointRequest{}, invalid("duration", "duration applies only to the sleep action")
	}
	if in.Message != nil && in.Action != FailpointError && in.Action != FailpointPanic {
		return FailpointRequest{}, invalid("message", "message applies only to the error and panic actions")
	}
	if in.Times < 0 {
		return FailpointRequest{}, invalid("times", fmt.Sprintf("times %d is negative: use 0 (every time) or a positive count", in.Times))
	}
	out := FailpointRequest{Action: in.Action, Duration: Duration(d), Times: in.Times}
	if in.Message != nil {
		out.Message = *in.Message
	}
	return out, nil
}
