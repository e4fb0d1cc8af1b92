package admin

import (
	"encoding/json"
	"net/http"
	"testing"
)

// The fuzz targets feed arbitrary bytes to the request decoders. Seed
// corpora live in testdata/fuzz. A decoder must never panic, must reject
// with a 4xx and a message, and what it accepts must be valid and survive
// a round trip through the client's JSON types.

func checkRejection(t *testing.T, e *apiError) {
	t.Helper()
	if e.status < 400 || e.status >= 500 || e.msg == "" || e.code == "" {
		t.Fatalf("rejection %+v lacks a 4xx status, a code or a message", e)
	}
}

func FuzzDecodeInstallFaults(f *testing.F) {
	f.Add([]byte(`{"version":3,"rules":[{"from":"node-1","to":"*","kind":"partition"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, e := decodeInstallFaults(data)
		if e != nil {
			checkRejection(t, e)
			return
		}
		if in.Version == 0 {
			t.Fatal("accepted version 0")
		}
		for i, r := range in.Rules {
			if err := r.Validate(); err != nil {
				t.Fatalf("accepted invalid rule %d %+v: %v", i, r, err)
			}
		}
		again, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("marshal accepted body: %v", err)
		}
		if _, e := decodeInstallFaults(again); e != nil {
			t.Fatalf("re-encoded body %s rejected: %s", again, e.msg)
		}
	})
}

func FuzzDecodeKV(f *testing.F) {
	f.Add([]byte(`{"value":"v"}`))
	f.Add([]byte(`{"expected":null,"value":"v"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		put, e := decodePut(data)
		if e != nil {
			checkRejection(t, e)
		} else if again, _ := json.Marshal(put); !roundTripPut(again, put) {
			t.Fatalf("put body %s does not survive a round trip", data)
		}

		cas, e := decodeCAS(data)
		if e != nil {
			checkRejection(t, e)
			return
		}
		again, err := json.Marshal(cas)
		if err != nil {
			t.Fatalf("marshal cas: %v", err)
		}
		back, e := decodeCAS(again)
		if e != nil || back.Value != cas.Value || (back.Expected == nil) != (cas.Expected == nil) {
			t.Fatalf("cas body %s does not survive a round trip", data)
		}
	})
}

func roundTripPut(data []byte, want PutRequest) bool {
	got, e := decodePut(data)
	return e == nil && got == want
}

func FuzzDecodeOp(f *testing.F) {
	f.Add([]byte(`{"id":"a","kind":"allocate","params":{"bytes":1024,"duration":"10ms"},"scope":"leader","timeout":"1s"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		op, e := decodeOp(data)
		if e != nil {
			checkRejection(t, e)
			return
		}
		if _, known := opKindParams[op.Kind]; !known || !opIDPattern.MatchString(op.ID) {
			t.Fatalf("accepted kind %q or id %q", op.Kind, op.ID)
		}
		if op.Params.Bytes > MaxAllocateBytes || op.Params.Bytes < 0 || op.Timeout < 0 || op.Params.Duration < 0 {
			t.Fatalf("accepted out-of-range params %+v", op)
		}
		again, err := json.Marshal(op)
		if err != nil {
			t.Fatalf("marshal op: %v", err)
		}
		back, e := decodeOp(again)
		if e != nil || back != op {
			t.Fatalf("op %s does not survive a round trip: %+v, %v", data, back, e)
		}
	})
}

func FuzzDecodeFailpoint(f *testing.F) {
	f.Add([]byte(`{"action":"sleep","duration":"5ms","times":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fp, e := decodeFailpoint(data)
		if e != nil {
			checkRejection(t, e)
			if e.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", e.status)
			}
			return
		}
		if fp.Times < 0 || (fp.Action == FailpointSleep && fp.Duration <= 0) {
			t.Fatalf("accepted %+v", fp)
		}
	})
}
