package raftint

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/hashicorp/raft"
)

// snapshotMagic starts every KV snapshot. The last byte is the format
// version.
var snapshotMagic = []byte("FLKV\x01")

// Snapshot captures the map and the applied index. raft calls it on the
// goroutine that applies entries, so it only copies the map and leaves the
// encoding to Persist, which runs concurrently with Apply.
func (k *KV) Snapshot() (raft.FSMSnapshot, error) {
	data, applied := k.copyWithIndex()
	return &kvSnapshot{data: data, applied: applied}, nil
}

// Restore replaces the map and the applied index with those in a snapshot
// written by Persist. On error the state machine is left unchanged.
func (k *KV) Restore(snapshot io.ReadCloser) error {
	defer snapshot.Close()

	raw, err := io.ReadAll(snapshot)
	if err != nil {
		return fmt.Errorf("read kv snapshot: %w", err)
	}
	data, applied, err := decodeSnapshot(raw)
	if err != nil {
		return err
	}

	k.mu.Lock()
	k.data = data
	k.applied = applied
	k.mu.Unlock()
	return nil
}

// kvSnapshot is a point-in-time copy of the map, owned by raft until
// Release.
type kvSnapshot struct {
	data    map[string]string
	applied uint64
}

// Persist writes the magic, the applied index, the number of keys and then
// each key and value, keys in sorted order so equal states give equal bytes.
// Integers are uvarints and strings are uvarint-length-prefixed.
func (s *kvSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := s.write(sink); err != nil {
		sink.Cancel()
		return fmt.Errorf("persist kv snapshot at index %d: %w", s.applied, err)
	}
	return sink.Close()
}

func (s *kvSnapshot) write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	var buf []byte

	buf = append(buf, snapshotMagic...)
	buf = binary.AppendUvarint(buf, s.applied)
	buf = binary.AppendUvarint(buf, uint64(len(s.data)))
	if _, err := bw.Write(buf); err != nil {
		return err
	}

	for _, key := range slices.Sorted(maps.Keys(s.data)) {
		buf = appendString(buf[:0], key)
		buf = appendString(buf, s.data[key])
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Release is a no-op because the snapshot holds only its own copy.
func (s *kvSnapshot) Release() {}

func decodeSnapshot(raw []byte) (map[string]string, uint64, error) {
	if !bytes.HasPrefix(raw, snapshotMagic) {
		return nil, 0, fmt.Errorf("%w: missing header %q", ErrMalformedSnapshot, snapshotMagic)
	}
	d := decoder{buf: raw[len(snapshotMagic):]}
	applied := d.uvarint()
	count := d.uvarint()

	// Every pair takes at least two bytes, which bounds the allocation for
	// a corrupt count.
	if d.err == nil && count > uint64(len(d.buf))/2 {
		return nil, 0, fmt.Errorf("%w: %d keys cannot fit in %d bytes", ErrMalformedSnapshot, count, len(d.buf))
	}

	data := make(map[string]string, count)
	for i := uint64(0); i < count && d.err == nil; i++ {
		key := d.string()
		data[key] = d.string()
	}
	if d.err == nil && len(d.buf) > 0 {
		d.err = fmt.Errorf("%d trailing bytes", len(d.buf))
	}
	if d.err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrMalformedSnapshot, d.err)
	}
	return data, applied, nil
}
