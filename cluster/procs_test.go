package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/raftint"
)

// buildNode builds cmd/node into a temporary directory.
func buildNode(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "node")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/faultline-dev/faultline/cmd/node")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build cmd/node: %v\n%s", err, out)
	}
	return bin
}

func TestProcsConfigValidate(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "node")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		change func(*ProcsConfig)
	}{
		{"no binary", func(c *ProcsConfig) { c.Binary = "" }},
		{"missing binary", func(c *ProcsConfig) { c.Binary = filepath.Join(t.TempDir(), "absent") }},
		{"directory", func(c *ProcsConfig) { c.Binary = t.TempDir() }},
		{"zero size", func(c *ProcsConfig) { c.Size = 0 }},
		{"unknown profile", func(c *ProcsConfig) { c.Profile = "turbo" }},
		{"zero poll", func(c *ProcsConfig) { c.TimelinePoll = 0 }},
		{"zero stop timeout", func(c *ProcsConfig) { c.StopTimeout = 0 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultProcsConfig()
			cfg.Binary = bin
			tc.change(&cfg)
			if err := cfg.Validate(); err == nil {
				t.Errorf("Validate accepted %+v", cfg)
			}
		})
	}
	cfg := DefaultProcsConfig()
	cfg.Binary = bin
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate of the default config: %v", err)
	}
}

// TestProcs runs one cluster of real node processes through the steps
// that scenarios take: isolate the leader, heal, write, crash and restart
// a follower.
func TestProcs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts node processes; skipped with -short")
	}
	cfg := DefaultProcsConfig()
	cfg.Binary = buildNode(t)
	cfg.Profile = raftint.ProfileFast
	cfg.DataDir = t.TempDir()
	cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := StartProcs(ctx, cfg)
	if err != nil {
		t.Fatalf("StartProcs: %v", err)
	}
	defer func() {
		if t.Failed() {
			for _, id := range c.Nodes() {
				t.Logf("end of %s:\n%s", c.LogPath(id), logTail(c.LogPath(id)))
			}
		}
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()

	st, err := c.WaitStable(ctx)
	if err != nil {
		t.Fatalf("WaitStable: %v", err)
	}
	old := st.Leader

	t.Run("isolate leader", func(t *testing.T) {
		seq := c.Timeline().LastSeq()
		rules, err := c.AddFaults(netchaos.Isolate(old, netchaos.KindPartition)...)
		if err != nil {
			t.Fatalf("AddFaults: %v", err)
		}
		elected, err := c.Timeline().Wait(ctx, seq, func(e raftint.Event) bool {
			return e.Kind == raftint.EventState && e.State == "Leader" && e.Node != old
		})
		if err != nil {
			t.Fatalf("no new leader after isolating %s: %v", old, err)
		}
		t.Logf("%s elected after isolating %s", elected.Node, old)
		if err := c.RemoveFaults(rules[0].ID, rules[1].ID); err != nil {
			t.Fatalf("RemoveFaults: %v", err)
		}
		if _, err := c.WaitStable(ctx); err != nil {
			t.Fatalf("WaitStable after heal: %v", err)
		}
	})

	t.Run("crash and restart", func(t *testing.T) {
		leader, _, err := Leader(c)
		if err != nil {
			t.Fatalf("Leader: %v", err)
		}
		follower := c.Nodes()[0]
		if follower == leader {
			follower = c.Nodes()[1]
		}
		var last uint64
		for i := range 5 {
			if last, err = c.Put(ctx, leader, fmt.Sprintf("k%d", i), "v"); err != nil {
				t.Fatalf("Put: %v", err)
			}
		}
		if err := c.Crash(follower); err != nil {
			t.Fatalf("Crash: %v", err)
		}
		if _, err := c.Status(follower); !errors.Is(err, ErrNodeDown) {
			t.Errorf("Status of the crashed node: %v, want ErrNodeDown", err)
		}
		if err := c.Restart(ctx, follower); err != nil {
			t.Fatalf("Restart: %v", err)
		}
		if _, err := c.WaitConverged(ctx, last); err != nil {
			t.Fatalf("WaitConverged: %v", err)
		}
		for i := range 5 {
			if v, ok, err := c.Get(follower, fmt.Sprintf("k%d", i)); err != nil || !ok || v != "v" {
				t.Errorf("k%d on the restarted %s = %q, %v, %v; want v", i, follower, v, ok, err)
			}
		}
	})

	t.Run("follower rejects write", func(t *testing.T) {
		leader, _, err := Leader(c)
		if err != nil {
			t.Fatalf("Leader: %v", err)
		}
		follower := c.Nodes()[0]
		if follower == leader {
			follower = c.Nodes()[1]
		}
		if _, err := c.Put(ctx, follower, "k", "v"); err == nil {
			t.Errorf("Put through follower %s succeeded", follower)
		}
	})
}
