package raftint

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// ApplyHook is called by KV.Apply before it changes the map. Returning true
// makes the state machine skip the entry: the applied index advances but the
// map stays as it was, and the caller still gets a successful Result. It
// exists so tests can plant a divergent replica and check that a convergence
// checker notices it.
type ApplyHook func(index uint64, cmd Command) (skip bool)

// KV is the replicated key-value state machine. It implements raft.FSM and
// raft.ConfigurationStore, and its read methods are safe to call while raft
// applies entries.
type KV struct {
	mu   sync.RWMutex
	data map[string]string

	// applied is the index of the last command or configuration entry
	// consumed, including malformed and skipped commands.
	applied uint64

	hook atomic.Pointer[ApplyHook]
}

var _ raft.ConfigurationStore = (*KV)(nil)

// NewKV returns an empty state machine.
func NewKV() *KV {
	return &KV{data: make(map[string]string)}
}

// SetApplyHook installs hook, or removes it when hook is nil. Without a hook
// Apply pays one atomic load.
func (k *KV) SetApplyHook(hook ApplyHook) {
	if hook == nil {
		k.hook.Store(nil)
		return
	}
	k.hook.Store(&hook)
}

// Apply decodes the command in entry and applies it. It returns a Result, or
// an error wrapping ErrMalformedCommand when the entry does not decode, and
// it does not panic on any entry contents (the tests feed it random bytes).
func (k *KV) Apply(entry *raft.Log) any {
	var cmd Command
	if err := cmd.UnmarshalBinary(entry.Data); err != nil {
		k.advance(entry.Index)
		return err
	}

	if hook := k.hook.Load(); hook != nil && (*hook)(entry.Index, cmd) {
		k.advance(entry.Index)
		return Result{OK: true}
	}

	k.mu.Lock()
	defer k.mu.Unlock()

	prev, existed := k.data[cmd.Key]
	result := Result{OK: true, Existed: existed, Prev: prev}
	switch cmd.Op {
	case OpPut:
		k.data[cmd.Key] = cmd.Value
	case OpDelete:
		delete(k.data, cmd.Key)
	case OpCAS:
		result.OK = casMatches(cmd.Expected, prev, existed)
		if result.OK {
			k.data[cmd.Key] = cmd.Value
		}
	}
	k.applied = entry.Index
	return result
}

func casMatches(expected *string, current string, existed bool) bool {
	if expected == nil {
		return !existed
	}
	return existed && *expected == current
}

// StoreConfiguration advances the applied index past a committed
// configuration entry, so AppliedIndex covers every entry raft hands to the
// state machine. The configuration itself is not kept because raft tracks
// it.
func (k *KV) StoreConfiguration(index uint64, _ raft.Configuration) {
	k.advance(index)
}

func (k *KV) advance(index uint64) {
	k.mu.Lock()
	k.applied = index
	k.mu.Unlock()
}

// Get returns the value of key and whether it is present.
func (k *KV) Get(key string) (string, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	v, ok := k.data[key]
	return v, ok
}

// AppliedIndex returns the index of the last command or configuration entry
// the state machine consumed. It can trail raft.Raft.AppliedIndex, which
// also counts no-op and barrier entries that never reach the state machine,
// and which raft advances when it queues entries for the state machine,
// before they are applied.
func (k *KV) AppliedIndex() uint64 {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.applied
}

// Copy returns a copy of the map.
func (k *KV) Copy() map[string]string {
	data, _ := k.copyWithIndex()
	return data
}

func (k *KV) copyWithIndex() (map[string]string, uint64) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return maps.Clone(k.data), k.applied
}

// StateHash returns the applied index and a SHA-256 hash of the map, taken
// from the same state. Replicas with the same index must return the same
// hash. The hash covers the keys in sorted order, each key and value
// prefixed with its length, so no two different maps share an input.
func (k *KV) StateHash() (appliedIndex uint64, hash string) {
	data, applied := k.copyWithIndex()

	h := sha256.New()
	var prefix []byte
	for _, key := range slices.Sorted(maps.Keys(data)) {
		prefix = binary.AppendUvarint(prefix[:0], uint64(len(key)))
		h.Write(prefix)
		h.Write([]byte(key))

		value := data[key]
		prefix = binary.AppendUvarint(prefix[:0], uint64(len(value)))
		h.Write(prefix)
		h.Write([]byte(value))
	}
	return applied, hex.EncodeToString(h.Sum(nil))
}
