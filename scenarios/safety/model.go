package safety

import (
	"fmt"
	"hash/fnv"

	"github.com/anishathalye/porcupine"
)

// kvInput is the porcupine input of one operation.
type kvInput struct {
	Kind        OpKind
	Key         string
	Value       string
	HasExpected bool
	Expected    string
}

// kvOutput is the porcupine output of one operation. Unknown marks an
// operation whose outcome is unknown: the model accepts it whatever the
// state, and applies its write when it is linearized.
type kvOutput struct {
	Value   string
	Found   bool
	OK      bool
	Unknown bool
}

// kvState is the state of one key, because the model is partitioned by key.
type kvState struct {
	Value string
	Found bool
}

// kvModel is a key-value register per key. A history is linearizable if and
// only if the history of every key is, so the model partitions by key and
// porcupine checks each key on its own.
//
// An operation with an unknown outcome returns at the end of the history,
// after every other operation. Linearizing it last is the same as it never
// having taken effect, so one deterministic step that applies it covers
// both cases.
var kvModel = porcupine.Model{
	Partition:      partitionByKey,
	PartitionEvent: partitionEventsByKey,
	Init:           func() any { return kvState{} },
	Step: func(state, input, output any) (bool, any) {
		return stepKV(state.(kvState), input.(kvInput), output.(kvOutput))
	},
	Hash: func(state any) uint64 {
		s := state.(kvState)
		h := fnv.New64a()
		h.Write([]byte(s.Value))
		if s.Found {
			h.Write([]byte{1})
		}
		return h.Sum64()
	},
	DescribeOperation: describeKVOperation,
	DescribeState: func(state any) string {
		s := state.(kvState)
		if !s.Found {
			return "absent"
		}
		return fmt.Sprintf("%q", s.Value)
	},
}

func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	byKey := make(map[string][]porcupine.Operation)
	var order []string
	for _, op := range history {
		key := op.Input.(kvInput).Key
		if _, seen := byKey[key]; !seen {
			order = append(order, key)
		}
		byKey[key] = append(byKey[key], op)
	}
	out := make([][]porcupine.Operation, len(order))
	for i, key := range order {
		out[i] = byKey[key]
	}
	return out
}

// partitionEventsByKey groups events by key. A return event carries the
// output, not the key, so it goes to the key of the call with the same Id,
// which porcupine requires to come first.
func partitionEventsByKey(events []porcupine.Event) [][]porcupine.Event {
	byKey := make(map[string][]porcupine.Event)
	keyOfID := make(map[int]string)
	var order []string
	for _, e := range events {
		if e.Kind == porcupine.CallEvent {
			keyOfID[e.Id] = e.Value.(kvInput).Key
		}
		key := keyOfID[e.Id]
		if _, seen := byKey[key]; !seen {
			order = append(order, key)
		}
		byKey[key] = append(byKey[key], e)
	}
	out := make([][]porcupine.Event, len(order))
	for i, key := range order {
		out[i] = byKey[key]
	}
	return out
}

// stepKV applies one operation to the state of its key and reports whether
// the output is possible in that state.
func stepKV(s kvState, in kvInput, out kvOutput) (bool, kvState) {
	switch in.Kind {
	case OpGet:
		if out.Unknown {
			return true, s
		}
		return out.Found == s.Found && (!s.Found || out.Value == s.Value), s
	case OpPut:
		return true, kvState{Value: in.Value, Found: true}
	case OpCAS:
		matches := s.Found == in.HasExpected && (!in.HasExpected || s.Value == in.Expected)
		if !out.Unknown && out.OK != matches {
			return false, s
		}
		if matches {
			return true, kvState{Value: in.Value, Found: true}
		}
		return true, s
	default:
		return false, s
	}
}

func describeKVOperation(input, output any) string {
	in, out := input.(kvInput), output.(kvOutput)
	var result string
	switch {
	case out.Unknown:
		result = "unknown"
	case in.Kind == OpGet && !out.Found:
		result = "absent"
	case in.Kind == OpGet:
		result = fmt.Sprintf("%q", out.Value)
	case in.Kind == OpCAS:
		result = fmt.Sprintf("%t", out.OK)
	default:
		result = "ok"
	}

	switch in.Kind {
	case OpGet:
		return fmt.Sprintf("get(%s) -> %s", in.Key, result)
	case OpCAS:
		expected := "absent"
		if in.HasExpected {
			expected = fmt.Sprintf("%q", in.Expected)
		}
		return fmt.Sprintf("cas(%s, %s -> %q) -> %s", in.Key, expected, in.Value, result)
	default:
		return fmt.Sprintf("put(%s, %q) -> %s", in.Key, in.Value, result)
	}
}
