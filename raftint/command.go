package raftint

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Op is the kind of a state machine command.
type Op uint8

// Operations of the key-value state machine. The numbers are stored in the
// raft log, so never renumber them.
const (
	OpPut    Op = 1 // set Key to Value
	OpDelete Op = 2 // remove Key
	OpCAS    Op = 3 // set Key to Value if its current value equals Expected
)

// String returns the lowercase name of op, used in logs and errors.
func (op Op) String() string {
	switch op {
	case OpPut:
		return "put"
	case OpDelete:
		return "delete"
	case OpCAS:
		return "cas"
	default:
		return fmt.Sprintf("op(%d)", uint8(op))
	}
}

// Command is one state machine operation, as stored in a raft log entry.
type Command struct {
	Op    Op
	Key   string
	Value string // new value for OpPut and OpCAS

	// Expected is the value OpCAS requires before it writes. Nil requires
	// the key to be absent.
	Expected *string
}

// Result is the outcome of an applied Command.
type Result struct {
	// OK is true when the command took effect: always for OpPut and
	// OpDelete, and for OpCAS when the expected value matched.
	OK bool

	// Existed and Prev describe the key before the command.
	Existed bool
	Prev    string
}

// CAS flag bytes. casAbsent means the command requires the key to be absent.
const (
	casAbsent  byte = 0
	casPresent byte = 1
)

// MarshalBinary encodes c as the op byte followed by uvarint-length-prefixed
// strings: the key, then for OpCAS a flag byte and the expected value when
// the flag is casPresent, then for OpPut and OpCAS the new value.
func (c Command) MarshalBinary() ([]byte, error) {
	size := 1 + binary.MaxVarintLen64 + len(c.Key)
	switch c.Op {
	case OpPut:
		size += binary.MaxVarintLen64 + len(c.Value)
	case OpDelete:
	case OpCAS:
		size += 1 + binary.MaxVarintLen64*2 + len(c.Value)
		if c.Expected != nil {
			size += len(*c.Expected)
		}
	default:
		return nil, fmt.Errorf("%w: cannot encode %s", ErrMalformedCommand, c.Op)
	}

	buf := make([]byte, 0, size)
	buf = append(buf, byte(c.Op))
	buf = appendString(buf, c.Key)
	if c.Op == OpCAS {
		if c.Expected == nil {
			buf = append(buf, casAbsent)
		} else {
			buf = append(buf, casPresent)
			buf = appendString(buf, *c.Expected)
		}
	}
	if c.Op == OpPut || c.Op == OpCAS {
		buf = appendString(buf, c.Value)
	}
	return buf, nil
}

// UnmarshalBinary decodes data written by MarshalBinary. It rejects unknown
// ops, truncated input and trailing bytes with ErrMalformedCommand.
func (c *Command) UnmarshalBinary(data []byte) error {
	if len(data) == 0 {
		return fmt.Errorf("%w: empty entry", ErrMalformedCommand)
	}
	d := decoder{buf: data[1:]}
	cmd := Command{Op: Op(data[0]), Key: d.string()}

	switch cmd.Op {
	case OpPut:
		cmd.Value = d.string()
	case OpDelete:
	case OpCAS:
		switch flag := d.byte(); flag {
		case casAbsent:
		case casPresent:
			expected := d.string()
			cmd.Expected = &expected
		default:
			if d.err == nil {
				d.err = fmt.Errorf("invalid cas flag %d", flag)
			}
		}
		cmd.Value = d.string()
	default:
		return fmt.Errorf("%w: unknown %s", ErrMalformedCommand, cmd.Op)
	}

	if d.err == nil && len(d.buf) > 0 {
		d.err = fmt.Errorf("%d trailing bytes", len(d.buf))
	}
	if d.err != nil {
		return fmt.Errorf("%w: %s: %w", ErrMalformedCommand, cmd.Op, d.err)
	}
	*c = cmd
	return nil
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// decoder reads the fields of an encoded command or snapshot. After the
// first error every read returns a zero value, so callers check err once.
type decoder struct {
	buf []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.err = errors.New("invalid length prefix")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.buf)) {
		d.err = fmt.Errorf("string of %d bytes exceeds the %d bytes left", n, len(d.buf))
		return ""
	}
	s := string(d.buf[:n])
	d.buf = d.buf[n:]
	return s
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.buf) == 0 {
		d.err = errors.New("truncated")
		return 0
	}
	b := d.buf[0]
	d.buf = d.buf[1:]
	return b
}
