package safety

import (
	"testing"

	"github.com/anishathalye/porcupine"
)

func TestModelCheckEvents(t *testing.T) {
	call := func(id int, in kvInput) porcupine.Event {
		return porcupine.Event{ClientId: id, Kind: porcupine.CallEvent, Value: in, Id: id}
	}
	ret := func(id int, out kvOutput) porcupine.Event {
		return porcupine.Event{ClientId: id, Kind: porcupine.ReturnEvent, Value: out, Id: id}
	}
	putX := kvInput{Kind: OpPut, Key: "x", Value: "1"}
	putY := kvInput{Kind: OpPut, Key: "y", Value: "1"}
	getX := kvInput{Kind: OpGet, Key: "x"}
	cases := []struct {
		name   string
		events []porcupine.Event
		want   bool
	}{
		{
			name: "read after put sees it",
			events: []porcupine.Event{
				call(0, putX), call(1, putY), ret(0, kvOutput{}), ret(1, kvOutput{}),
				call(2, getX), ret(2, kvOutput{Value: "1", Found: true}),
			},
			want: true,
		},
		{
			name: "read after put misses it",
			events: []porcupine.Event{
				call(0, putX), call(1, putY), ret(0, kvOutput{}), ret(1, kvOutput{}),
				call(2, getX), ret(2, kvOutput{}),
			},
			want: false,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := porcupine.CheckEvents(kvModel, tc.events); got != tc.want {
				t.Errorf("CheckEvents = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDescribeKVOperation(t *testing.T) {
	cases := []struct {
		in   kvInput
		out  kvOutput
		want string
	}{
		{kvInput{Kind: OpPut, Key: "x", Value: "1"}, kvOutput{}, `put(x, "1") -> ok`},
		{kvInput{Kind: OpGet, Key: "x"}, kvOutput{Value: "1", Found: true}, `get(x) -> "1"`},
		{kvInput{Kind: OpGet, Key: "x"}, kvOutput{}, `get(x) -> absent`},
		{kvInput{Kind: OpCAS, Key: "x", HasExpected: true, Expected: "1", Value: "2"}, kvOutput{OK: true}, `cas(x, "1" -> "2") -> true`},
		{kvInput{Kind: OpCAS, Key: "x", Value: "2"}, kvOutput{Unknown: true}, `cas(x, absent -> "2") -> unknown`},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			if got := describeKVOperation(tc.in, tc.out); got != tc.want {
				t.Errorf("describe = %s, want %s", got, tc.want)
			}
		})
	}
}
