package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// maxKeyBytes bounds a key of the key-value store.
const maxKeyBytes = 1024

// readBody reads the whole request body, at most limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *apiError) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, &apiError{status: http.StatusRequestEntityTooLarge, code: CodeInvalid, err: err,
			msg: fmt.Sprintf("body exceeds %d bytes: send a smaller request", limit)}
	case err != nil:
		return nil, &apiError{status: http.StatusBadRequest, code: CodeInvalid, err: err,
			msg: "reading the body failed: " + err.Error()}
	}
	return data, nil
}

// decodeStrict decodes data, which must hold exactly one JSON value, into
// v. It rejects fields that v does not have. prefix is the path of v in the
// request, such as "params.", so that errors name the whole field path.
func decodeStrict(data []byte, v any, prefix string) *apiError {
	if len(bytes.TrimSpace(data)) == 0 {
		what := "body"
		if prefix != "" {
			what = strings.TrimSuffix(prefix, ".")
		}
		return invalid(strings.TrimSuffix(prefix, "."), what+" is empty: send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, prefix)
	}
	if err := dec.Decode(&json.RawMessage{}); !errors.Is(err, io.EOF) {
		return invalid(strings.TrimSuffix(prefix, "."), "data follows the JSON object: send exactly one object")
	}
	return nil
}

// decodeError names the field of a decoding error where encoding/json
// reports one.
func decodeError(err error, prefix string) *apiError {
	var syntax *json.SyntaxError
	var mismatch *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return invalid("", fmt.Sprintf("body is not valid JSON: %v at byte offset %d", syntax, syntax.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("", "body is not valid JSON: it ends early")
	case errors.As(err, &mismatch):
		if mismatch.Field == "" {
			what := "body"
			if prefix != "" {
				what = strings.TrimSuffix(prefix, ".")
			}
			return invalid(strings.TrimSuffix(prefix, "."), fmt.Sprintf("%s is a JSON %s: send a JSON object", what, mismatch.Value))
		}
		field := prefix + mismatch.Field
		return invalid(field, fmt.Sprintf("field %q is a JSON %s: send a %s", field, mismatch.Value, jsonTypeName(mismatch.Type.String())))
	}
	// encoding/json v1 has no error type for unknown fields, only this text.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		field := prefix + strings.Trim(name, `"`)
		return invalid(field, fmt.Sprintf("unknown field %q: remove it or check its spelling", field))
	}
	return invalid(strings.TrimSuffix(prefix, "."), "body is invalid: "+err.Error())
}

func jsonTypeName(goType string) string {
	switch {
	case goType == "string":
		return "string"
	case goType == "bool":
		return "boolean"
	case strings.HasPrefix(goType, "[]"):
		return "JSON array"
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"):
		return "number"
	}
	return "JSON object"
}

// validateKey checks a key of the key-value store taken from the path.
func validateKey(key string) *apiError {
	switch {
	case key == "":
		return invalid("key", "key is empty: put the key in the path, as in /v1/kv/{key}")
	case len(key) > maxKeyBytes:
		return invalid("key", fmt.Sprintf("key is %d bytes long, above the maximum of %d", len(key), maxKeyBytes))
	case !utf8.ValidString(key):
		return invalid("key", "key is not valid UTF-8")
	}
	return nil
}

// putWire is PutRequest with presence: a missing value is an error, not an
// empty string.
type putWire struct {
	Value *string `json:"value"`
}

// decodePut decodes and checks the body of PUT /v1/kv/{key}.
func decodePut(data []byte) (PutRequest, *apiError) {
	var in putWire
	if e := decodeStrict(data, &in, ""); e != nil {
		return PutRequest{}, e
	}
	if in.Value == nil {
		return PutRequest{}, invalid("value", `field "value" is missing: send {"value": "..."}`)
	}
	return PutRequest{Value: *in.Value}, nil
}

// casWire keeps expected raw, to tell a missing field from null.
type casWire struct {
	Expected json.RawMessage `json:"expected"`
	Value    *string         `json:"value"`
}

// decodeCAS decodes and checks the body of POST /v1/kv/{key}/cas.
func decodeCAS(data []byte) (CASRequest, *apiError) {
	var in casWire
	if e := decodeStrict(data, &in, ""); e != nil {
		return CASRequest{}, e
	}
	if in.Expected == nil {
		return CASRequest{}, invalid("expected",
			`field "expected" is missing: send the current value, or null to require that the key is absent`)
	}
	if in.Value == nil {
		return CASRequest{}, invalid("value", `field "value" is missing: send the new value`)
	}
	out := CASRequest{Value: *in.Value}
	if string(bytes.TrimSpace(in.Expected)) != "null" {
		var expected string
		if err := json.Unmarshal(in.Expected, &expected); err != nil {
			return CASRequest{}, invalid("expected", `field "expected" must be a string or null`)
		}
		out.Expected = &expected
	}
	return out, nil
}
