package raftint

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/hashicorp/raft"
)

func TestCommandRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		cmd  Command
	}{
		{name: "put", cmd: Command{Op: OpPut, Key: "k", Value: "v"}},
		{name: "put empty strings", cmd: Command{Op: OpPut}},
		{name: "put binary", cmd: Command{Op: OpPut, Key: "\x00\xff", Value: "ключ\n"}},
		{name: "delete", cmd: Command{Op: OpDelete, Key: "k"}},
		{name: "cas absent", cmd: Command{Op: OpCAS, Key: "k", Value: "v"}},
		{name: "cas expected", cmd: Command{Op: OpCAS, Key: "k", Value: "v2", Expected: ptr("v1")}},
		{name: "cas expected empty", cmd: Command{Op: OpCAS, Key: "k", Value: "v", Expected: ptr("")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := tt.cmd.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary: %v", err)
			}
			var got Command
			if err := got.UnmarshalBinary(data); err != nil {
				t.Fatalf("UnmarshalBinary(%x): %v", data, err)
			}
			if !reflect.DeepEqual(got, tt.cmd) {
				t.Errorf("round trip = %+v, want %+v", got, tt.cmd)
			}
		})
	}
}

func TestCommandMarshalUnknownOp(t *testing.T) {
	_, err := Command{Op: 9, Key: "k"}.MarshalBinary()
	if !errors.Is(err, ErrMalformedCommand) {
		t.Fatalf("MarshalBinary error = %v, want ErrMalformedCommand", err)
	}
}

func TestCommandUnmarshalMalformed(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{name: "empty", data: nil},
		{name: "unknown op", data: []byte{9, 1, 'k'}},
		{name: "zero op", data: []byte{0}},
		{name: "missing key", data: []byte{byte(OpDelete)}},
		{name: "truncated key", data: []byte{byte(OpDelete), 5, 'k'}},
		{name: "missing value", data: []byte{byte(OpPut), 1, 'k'}},
		{name: "trailing bytes", data: []byte{byte(OpDelete), 1, 'k', 0}},
		{name: "invalid cas flag", data: []byte{byte(OpCAS), 1, 'k', 7, 1, 'v'}},
		{name: "missing cas flag", data: []byte{byte(OpCAS), 1, 'k'}},
		{name: "overlong varint", data: []byte{byte(OpDelete), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{name: "huge length", data: []byte{byte(OpDelete), 0xff, 0xff, 0xff, 0xff, 0x0f}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := Command{Op: OpPut, Key: "unchanged"}
			err := cmd.UnmarshalBinary(tt.data)
			if !errors.Is(err, ErrMalformedCommand) {
				t.Fatalf("UnmarshalBinary(%x) error = %v, want ErrMalformedCommand", tt.data, err)
			}
			if cmd.Key != "unchanged" {
				t.Errorf("UnmarshalBinary modified the command on error: %+v", cmd)
			}
		})
	}
}

// TestKVApplyRandomBytes feeds seeded random entries to the state machine,
// which must return a Result or an error and never panic.
func TestKVApplyRandomBytes(t *testing.T) {
	const seed = 1
	rng := rand.New(rand.NewPCG(seed, seed))
	kv := NewKV()

	for i := range 5000 {
		data := make([]byte, rng.IntN(16))
		for j := range data {
			data[j] = byte(rng.UintN(256))
		}
		// Bias the first byte toward valid ops so decoding goes deep.
		if len(data) > 0 && rng.IntN(2) == 0 {
			data[0] = byte(OpPut + Op(rng.IntN(3)))
		}

		index := uint64(i + 1)
		switch result := kv.Apply(&raft.Log{Index: index, Data: data}).(type) {
		case Result:
		case error:
			if !errors.Is(result, ErrMalformedCommand) {
				t.Fatalf("seed %d, entry %x: error %v does not wrap ErrMalformedCommand", seed, data, result)
			}
		default:
			t.Fatalf("seed %d, entry %x: Apply returned %T", seed, data, result)
		}
		if got := kv.AppliedIndex(); got != index {
			t.Fatalf("seed %d, entry %x: AppliedIndex = %d, want %d", seed, data, got, index)
		}
	}
}

func FuzzCommandUnmarshalBinary(f *testing.F) {
	for _, cmd := range []Command{
		{Op: OpPut, Key: "k", Value: "v"},
		{Op: OpDelete, Key: "k"},
		{Op: OpCAS, Key: "k", Value: "v", Expected: ptr("old")},
	} {
		data, err := cmd.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		var cmd Command
		if err := cmd.UnmarshalBinary(data); err != nil {
			return
		}
		again, err := cmd.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded %+v from %x but cannot encode it: %v", cmd, data, err)
		}
		var decoded Command
		if err := decoded.UnmarshalBinary(again); err != nil {
			t.Fatalf("cannot decode re-encoded %x: %v", again, err)
		}
		if !reflect.DeepEqual(decoded, cmd) {
			t.Errorf("round trip of %x = %+v, want %+v", data, decoded, cmd)
		}
	})
}
