package safety

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// generatedOp is an operation of a generated history with the moment it
// took effect.
type generatedOp struct {
	op      Op
	applied time.Duration
	effect  bool // false for an unknown operation that never took effect
}

// generateHistory builds a linearizable history: clients run perClient
// operations each, one after another, on keys keys, and every operation
// takes effect at a random moment between its call and return, in which
// order a sequential register computes the outputs. A share unknownRate of
// operations ends with an unknown outcome. Half of those take effect,
// possibly after the client gave up, and the rest never do.
func generateHistory(rng *rand.Rand, clients, perClient, keys int, unknownRate float64) []Op {
	written := make(map[string][]string)
	var gen []generatedOp
	for c := range clients {
		cursor := time.Duration(rng.IntN(5000)) * time.Microsecond
		for i := range perClient {
			g := generateOp(rng, c, i, keys, cursor, written, unknownRate)
			cursor = g.op.Return
			gen = append(gen, g)
		}
	}

	slices.SortStableFunc(gen, func(a, b generatedOp) int { return cmp.Compare(a.applied, b.applied) })
	state := make(map[string]string)
	for i := range gen {
		applyGenerated(&gen[i], state)
	}

	ops := make([]Op, len(gen))
	for i, g := range gen {
		ops[i] = g.op
	}
	slices.SortStableFunc(ops, func(a, b Op) int { return cmp.Compare(a.Call, b.Call) })
	return ops
}

func generateOp(rng *rand.Rand, client, seq, keys int, cursor time.Duration, written map[string][]string, unknownRate float64) generatedOp {
	call := cursor + time.Duration(rng.IntN(100))*time.Microsecond
	applied := call + time.Duration(1+rng.IntN(500))*time.Microsecond
	ret := applied + time.Duration(1+rng.IntN(500))*time.Microsecond
	key := fmt.Sprintf("k%d", rng.IntN(keys))
	op := Op{Client: client, Key: key, Outcome: OutcomeOK, Call: call, Return: ret}

	switch pick := rng.IntN(5); {
	case pick < 2:
		op.Kind = OpPut
	case pick < 4:
		op.Kind = OpGet
	default:
		op.Kind = OpCAS
		if prior := written[key]; len(prior) > 0 && rng.IntN(4) != 0 {
			op.Expected = ptr(prior[rng.IntN(len(prior))])
		}
	}
	if op.Kind != OpGet {
		op.Value = fmt.Sprintf("c%d-%d", client, seq)
		written[key] = append(written[key], op.Value)
	}

	g := generatedOp{op: op, applied: applied, effect: true}
	if rng.Float64() < unknownRate {
		g.op.Outcome = OutcomeUnknown
		g.effect = rng.IntN(2) == 0
		g.applied = ret + time.Duration(rng.IntN(2000))*time.Microsecond
	}
	return g
}

// applyGenerated applies g to state and sets its output.
func applyGenerated(g *generatedOp, state map[string]string) {
	if !g.effect {
		return
	}
	op := &g.op
	current, found := state[op.Key]
	switch op.Kind {
	case OpGet:
		op.Output = Output{Value: current, Found: found}
	case OpPut:
		state[op.Key] = op.Value
	case OpCAS:
		matches := found == (op.Expected != nil) && (!found || current == *op.Expected)
		op.Output = Output{OK: matches}
		if matches {
			state[op.Key] = op.Value
		}
	}
	if op.Outcome != OutcomeOK {
		op.Output = Output{}
	}
}

// appendStaleRead returns ops with a read, after every other operation, of
// a value that a later completed put overwrote. Values are unique, so no
// linearization can return it.
func appendStaleRead(t *testing.T, ops []Op) []Op {
	t.Helper()
	var end time.Duration
	for _, op := range ops {
		end = max(end, op.Return)
	}
	for _, old := range ops {
		if old.Kind != OpPut || old.Outcome != OutcomeOK {
			continue
		}
		for _, newer := range ops {
			if newer.Kind == OpPut && newer.Outcome == OutcomeOK && newer.Key == old.Key && newer.Call > old.Return {
				stale := get(0, old.Key, old.Value, true, 0, 0)
				stale.Call, stale.Return = end+time.Millisecond, end+2*time.Millisecond
				return append(slices.Clone(ops), stale)
			}
		}
	}
	t.Fatal("generated history has no key with two sequential puts")
	return nil
}
