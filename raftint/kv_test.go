package raftint

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"testing"

	"github.com/hashicorp/raft"
)

// applyCommand encodes cmd and applies it to kv at index.
func applyCommand(t *testing.T, kv *KV, index uint64, cmd Command) any {
	t.Helper()
	data, err := cmd.MarshalBinary()
	if err != nil {
		t.Fatalf("encode %+v: %v", cmd, err)
	}
	return kv.Apply(&raft.Log{Index: index, Type: raft.LogCommand, Data: data})
}

func TestKVApply(t *testing.T) {
	tests := []struct {
		name     string
		initial  map[string]string
		cmd      Command
		want     Result
		wantData map[string]string
	}{
		{
			name:     "put new key",
			cmd:      Command{Op: OpPut, Key: "a", Value: "1"},
			want:     Result{OK: true},
			wantData: map[string]string{"a": "1"},
		},
		{
			name:     "put existing key",
			initial:  map[string]string{"a": "1"},
			cmd:      Command{Op: OpPut, Key: "a", Value: "2"},
			want:     Result{OK: true, Existed: true, Prev: "1"},
			wantData: map[string]string{"a": "2"},
		},
		{
			name:     "delete existing key",
			initial:  map[string]string{"a": "1", "b": "2"},
			cmd:      Command{Op: OpDelete, Key: "a"},
			want:     Result{OK: true, Existed: true, Prev: "1"},
			wantData: map[string]string{"b": "2"},
		},
		{
			name:     "delete absent key",
			initial:  map[string]string{"b": "2"},
			cmd:      Command{Op: OpDelete, Key: "a"},
			want:     Result{OK: true},
			wantData: map[string]string{"b": "2"},
		},
		{
			name:     "cas absent succeeds",
			cmd:      Command{Op: OpCAS, Key: "a", Value: "1"},
			want:     Result{OK: true},
			wantData: map[string]string{"a": "1"},
		},
		{
			name:     "cas absent fails on present key",
			initial:  map[string]string{"a": "1"},
			cmd:      Command{Op: OpCAS, Key: "a", Value: "2"},
			want:     Result{OK: false, Existed: true, Prev: "1"},
			wantData: map[string]string{"a": "1"},
		},
		{
			name:     "cas expected matches",
			initial:  map[string]string{"a": "1"},
			cmd:      Command{Op: OpCAS, Key: "a", Value: "2", Expected: ptr("1")},
			want:     Result{OK: true, Existed: true, Prev: "1"},
			wantData: map[string]string{"a": "2"},
		},
		{
			name:     "cas expected differs",
			initial:  map[string]string{"a": "1"},
			cmd:      Command{Op: OpCAS, Key: "a", Value: "2", Expected: ptr("0")},
			want:     Result{OK: false, Existed: true, Prev: "1"},
			wantData: map[string]string{"a": "1"},
		},
		{
			name:     "cas expected on absent key",
			cmd:      Command{Op: OpCAS, Key: "a", Value: "2", Expected: ptr("")},
			want:     Result{OK: false},
			wantData: map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := NewKV()
			var index uint64
			for key, value := range tt.initial {
				index++
				applyCommand(t, kv, index, Command{Op: OpPut, Key: key, Value: value})
			}

			index++
			got := applyCommand(t, kv, index, tt.cmd)
			if got != tt.want {
				t.Errorf("Apply(%+v) = %+v, want %+v", tt.cmd, got, tt.want)
			}
			if data := kv.Copy(); !maps.Equal(data, tt.wantData) {
				t.Errorf("map after Apply = %v, want %v", data, tt.wantData)
			}
			if kv.AppliedIndex() != index {
				t.Errorf("AppliedIndex = %d, want %d", kv.AppliedIndex(), index)
			}
		})
	}
}

func TestKVApplyMalformed(t *testing.T) {
	kv := NewKV()
	applyCommand(t, kv, 1, Command{Op: OpPut, Key: "a", Value: "1"})

	got := kv.Apply(&raft.Log{Index: 2, Type: raft.LogCommand, Data: []byte{0xee, 0x01}})
	err, ok := got.(error)
	if !ok {
		t.Fatalf("Apply(malformed) = %#v, want an error", got)
	}
	if !errors.Is(err, ErrMalformedCommand) {
		t.Errorf("Apply(malformed) error = %v, want ErrMalformedCommand", err)
	}
	if kv.AppliedIndex() != 2 {
		t.Errorf("AppliedIndex = %d, want 2", kv.AppliedIndex())
	}
	if data := kv.Copy(); !maps.Equal(data, map[string]string{"a": "1"}) {
		t.Errorf("map changed by a malformed entry: %v", data)
	}
}

func TestKVApplyHookSkips(t *testing.T) {
	kv := NewKV()
	var seen []uint64
	kv.SetApplyHook(func(index uint64, cmd Command) bool {
		seen = append(seen, index)
		return cmd.Key == "skipped"
	})

	applyCommand(t, kv, 1, Command{Op: OpPut, Key: "kept", Value: "1"})
	got := applyCommand(t, kv, 2, Command{Op: OpPut, Key: "skipped", Value: "2"})

	if got != (Result{OK: true}) {
		t.Errorf("skipped entry result = %+v, want a plain success", got)
	}
	if data := kv.Copy(); !maps.Equal(data, map[string]string{"kept": "1"}) {
		t.Errorf("map = %v, want only the kept key", data)
	}
	if kv.AppliedIndex() != 2 {
		t.Errorf("AppliedIndex = %d, want 2", kv.AppliedIndex())
	}
	if len(seen) != 2 {
		t.Errorf("hook saw indexes %v, want [1 2]", seen)
	}

	kv.SetApplyHook(nil)
	applyCommand(t, kv, 3, Command{Op: OpPut, Key: "skipped", Value: "3"})
	if _, ok := kv.Get("skipped"); !ok {
		t.Error("entry skipped after the hook was removed")
	}
}

func TestKVStateHash(t *testing.T) {
	build := func(cmds ...Command) *KV {
		kv := NewKV()
		for i, cmd := range cmds {
			applyCommand(t, kv, uint64(i+1), cmd)
		}
		return kv
	}
	put := func(key, value string) Command { return Command{Op: OpPut, Key: key, Value: value} }

	tests := []struct {
		name      string
		a, b      *KV
		wantEqual bool
	}{
		{name: "same map different order", a: build(put("x", "1"), put("y", "2")), b: build(put("y", "2"), put("x", "1")), wantEqual: true},
		{name: "empty maps", a: NewKV(), b: NewKV(), wantEqual: true},
		{name: "different value", a: build(put("x", "1")), b: build(put("x", "2"))},
		{name: "missing key", a: build(put("x", "1"), put("y", "2")), b: build(put("x", "1"), put("z", "2"))},
		{name: "boundary shift", a: build(put("a", "bc")), b: build(put("ab", "c"))},
		{name: "empty value differs from absent", a: build(put("x", "")), b: NewKV()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, hashA := tt.a.StateHash()
			_, hashB := tt.b.StateHash()
			if (hashA == hashB) != tt.wantEqual {
				t.Errorf("hashes %s and %s: equal = %v, want %v", hashA, hashB, hashA == hashB, tt.wantEqual)
			}
		})
	}

	index, _ := build(put("x", "1"), put("y", "2")).StateHash()
	if index != 2 {
		t.Errorf("StateHash index = %d, want 2", index)
	}
}

func TestKVSnapshotRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		data map[string]string
	}{
		{name: "empty", data: map[string]string{}},
		{name: "one key", data: map[string]string{"a": "1"}},
		{name: "many keys", data: map[string]string{"a": "1", "b": "", "\x00": "binary\xff", "long": string(bytes.Repeat([]byte("x"), 5000))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source := NewKV()
			var index uint64
			for key, value := range tt.data {
				index++
				applyCommand(t, source, index, Command{Op: OpPut, Key: key, Value: value})
			}
			index += 10
			applyCommand(t, source, index, Command{Op: OpDelete, Key: "never-set"})

			restored := NewKV()
			applyCommand(t, restored, 1, Command{Op: OpPut, Key: "stale", Value: "gone after restore"})
			persistAndRestore(t, source, restored)

			if got := restored.Copy(); !maps.Equal(got, tt.data) {
				t.Errorf("restored map = %v, want %v", got, tt.data)
			}
			if restored.AppliedIndex() != index {
				t.Errorf("restored AppliedIndex = %d, want %d", restored.AppliedIndex(), index)
			}
			_, wantHash := source.StateHash()
			if _, gotHash := restored.StateHash(); gotHash != wantHash {
				t.Errorf("restored hash %s, want %s", gotHash, wantHash)
			}
		})
	}
}

// persistAndRestore writes a snapshot of source into a real file snapshot
// store and restores it into target.
func persistAndRestore(t *testing.T, source, target *KV) {
	t.Helper()
	store, err := raft.NewFileSnapshotStoreWithLogger(t.TempDir(), 1, NewHCLogger(newTestLogger(t), "snapshot"))
	if err != nil {
		t.Fatalf("create snapshot store: %v", err)
	}

	snapshot, err := source.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	defer snapshot.Release()
	sink, err := store.Create(raft.SnapshotVersionMax, source.AppliedIndex(), 1, raft.Configuration{}, 1, nil)
	if err != nil {
		t.Fatalf("create snapshot sink: %v", err)
	}
	if err := snapshot.Persist(sink); err != nil {
		t.Fatalf("Persist: %v", err)
	}

	_, reader, err := store.Open(sink.ID())
	if err != nil {
		t.Fatalf("open snapshot %s: %v", sink.ID(), err)
	}
	if err := target.Restore(reader); err != nil {
		t.Fatalf("Restore: %v", err)
	}
}

func TestKVRestoreMalformed(t *testing.T) {
	valid, err := encodeSnapshot(t, map[string]string{"a": "1"}, 7)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		data []byte
	}{
		{name: "empty", data: nil},
		{name: "wrong magic", data: []byte("JSON{}")},
		{name: "future version", data: append([]byte("FLKV\x02"), valid[len(snapshotMagic):]...)},
		{name: "truncated", data: valid[:len(valid)-1]},
		{name: "trailing bytes", data: append(append([]byte(nil), valid...), 0)},
		{name: "count too large", data: append(append([]byte(nil), snapshotMagic...), 7, 0xff, 0xff, 0x03, 1, 'a', 1, '1')},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := NewKV()
			applyCommand(t, kv, 3, Command{Op: OpPut, Key: "keep", Value: "me"})

			err := kv.Restore(io.NopCloser(bytes.NewReader(tt.data)))
			if !errors.Is(err, ErrMalformedSnapshot) {
				t.Fatalf("Restore error = %v, want ErrMalformedSnapshot", err)
			}
			if got := kv.Copy(); !maps.Equal(got, map[string]string{"keep": "me"}) {
				t.Errorf("map changed by a failed restore: %v", got)
			}
			if kv.AppliedIndex() != 3 {
				t.Errorf("AppliedIndex changed by a failed restore: %d", kv.AppliedIndex())
			}
		})
	}
}

func encodeSnapshot(t *testing.T, data map[string]string, applied uint64) ([]byte, error) {
	t.Helper()
	var buf bytes.Buffer
	err := (&kvSnapshot{data: data, applied: applied}).write(&buf)
	return buf.Bytes(), err
}
