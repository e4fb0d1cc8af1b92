package bench

import (
	"os"
	"testing"

	"github.com/hashicorp/raft"
)

func TestRPCPairPaths(t *testing.T) {
	pair, err := NewRPCPair(testLogger(t))
	if err != nil {
		t.Fatalf("NewRPCPair: %v", err)
	}
	t.Cleanup(func() {
		if err := pair.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	tests := []struct {
		name string
		call func() error
	}{
		{"plain", func() error { return pair.CallPlain(pair.ReceiverAddr()) }},
		{"netchaos", pair.CallNetchaos},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := timeCalls(20, tt.call)
			if err != nil {
				t.Fatalf("20 calls: %v", err)
			}
			if d <= 0 {
				t.Errorf("mean time per call = %v, want above zero", d)
			}
		})
	}
}

func TestRPCPairCloseTwice(t *testing.T) {
	pair, err := NewRPCPair(testLogger(t))
	if err != nil {
		t.Fatalf("NewRPCPair: %v", err)
	}
	if err := pair.Close(); err != nil {
		t.Errorf("first Close: %v", err)
	}
	if err := pair.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// BenchmarkRPC measures one AppendEntries with one 100-byte entry, request
// and response, between two raft.NetworkTransports on 127.0.0.1: directly,
// through netchaos.RaftTransport with an empty table, and through a
// Toxiproxy hop when FAULTLINE_TOXIPROXY names a toxiproxy-server binary.
// The difference of ns/op between the paths is the per-message overhead.
func BenchmarkRPC(b *testing.B) {
	pair, err := NewRPCPair(nil)
	if err != nil {
		b.Fatalf("NewRPCPair: %v", err)
	}
	b.Cleanup(func() { pair.Close() })

	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			if err := pair.CallPlain(pair.ReceiverAddr()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("netchaos", func(b *testing.B) {
		for b.Loop() {
			if err := pair.CallNetchaos(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("toxiproxy", func(b *testing.B) {
		binary := os.Getenv(ToxiproxyEnv)
		if binary == "" {
			b.Skip(ToxiproxySkipped)
		}
		toxi, err := startToxiproxy(b.Context(), binary, testLogger(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(toxi.Close)
		listen, err := toxi.createProxy("faultline-bench-rpc", string(pair.ReceiverAddr()))
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if err := pair.CallPlain(raft.ServerAddress(listen)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
