package raftint

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	transport := newTransport(t, "127.0.0.1:0", nil)
	t.Cleanup(func() { transport.Close() })

	valid := DefaultConfig()
	valid.ID = "n1"
	valid.DataDir = t.TempDir()
	valid.Transport = transport

	tests := []struct {
		name   string
		modify func(*Config)
		want   []string // substrings of the error; none means valid
	}{
		{name: "valid", modify: func(*Config) {}},
		{name: "valid fast profile", modify: func(c *Config) { c.Profile = ProfileFast }},
		{name: "valid zero trailing logs", modify: func(c *Config) { c.TrailingLogs = 0 }},
		{name: "missing ID", modify: func(c *Config) { c.ID = "" }, want: []string{"missing ID"}},
		{name: "missing DataDir", modify: func(c *Config) { c.DataDir = "" }, want: []string{"missing DataDir"}},
		{name: "nil Transport", modify: func(c *Config) { c.Transport = nil }, want: []string{"missing Transport"}},
		{name: "empty profile", modify: func(c *Config) { c.Profile = "" }, want: []string{"Profile", `""`}},
		{name: "unknown profile", modify: func(c *Config) { c.Profile = "slow" }, want: []string{"Profile", `"slow"`}},
		{name: "zero SnapshotThreshold", modify: func(c *Config) { c.SnapshotThreshold = 0 }, want: []string{"SnapshotThreshold"}},
		{name: "zero SnapshotInterval", modify: func(c *Config) { c.SnapshotInterval = 0 }, want: []string{"SnapshotInterval 0s"}},
		{name: "tiny SnapshotInterval", modify: func(c *Config) { c.SnapshotInterval = time.Millisecond }, want: []string{"SnapshotInterval 1ms"}},
		{name: "zero BoltTimeout", modify: func(c *Config) { c.BoltTimeout = 0 }, want: []string{"BoltTimeout 0s"}},
		{name: "negative BoltTimeout", modify: func(c *Config) { c.BoltTimeout = -time.Second }, want: []string{"BoltTimeout -1s"}},
		{name: "zero ObserverBuffer", modify: func(c *Config) { c.ObserverBuffer = 0 }, want: []string{"ObserverBuffer 0"}},
		{
			name: "every error at once",
			modify: func(c *Config) {
				*c = Config{}
			},
			want: []string{"missing ID", "missing DataDir", "missing Transport", "Profile", "SnapshotThreshold", "SnapshotInterval", "BoltTimeout", "ObserverBuffer"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.modify(&cfg)
			before := cfg

			err := cfg.Validate()
			if cfg != before {
				t.Errorf("Validate modified the config: %+v, was %+v", cfg, before)
			}
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}

			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate() = %v, want ErrInvalidConfig", err)
			}
			for _, text := range tt.want {
				if !strings.Contains(err.Error(), text) {
					t.Errorf("error %q does not mention %q", err, text)
				}
			}
		})
	}
}

func TestOpenRejectsInvalidConfig(t *testing.T) {
	cfg := DefaultConfig()
	_, err := Open(cfg)
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Open(empty config) error = %v, want ErrInvalidConfig", err)
	}
}
