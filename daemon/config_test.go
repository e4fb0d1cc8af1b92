package daemon

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	valid := DefaultConfig()
	valid.NodeID = "node-1"

	cases := []struct {
		name   string
		mutate func(*Config)
		field  string // empty when valid
	}{
		{"valid", func(*Config) {}, ""},
		{"no timeout is valid", func(c *Config) { c.DefaultTimeout = 0 }, ""},
		{"empty node ID", func(c *Config) { c.NodeID = "" }, "NodeID"},
		{"zero concurrency", func(c *Config) { c.Concurrency = 0 }, "Concurrency"},
		{"negative timeout", func(c *Config) { c.DefaultTimeout = -time.Second }, "DefaultTimeout"},
		{"zero history", func(c *Config) { c.HistorySize = 0 }, "HistorySize"},
		{"zero max queued", func(c *Config) { c.MaxQueued = 0 }, "MaxQueued"},
		{"zero max abandoned", func(c *Config) { c.MaxAbandoned = 0 }, "MaxAbandoned"},
		{"negative cancel grace", func(c *Config) { c.CancelGrace = -time.Millisecond }, "CancelGrace"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid
			tc.mutate(&cfg)
			before := cfg

			err := cfg.Validate()

			if cfg != before {
				t.Errorf("Validate changed the config: %+v, want %+v", cfg, before)
			}
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate: %v, want ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("Validate: %q does not name field %s", err, tc.field)
			}
		})
	}
}

func TestConfigValidateReportsEveryField(t *testing.T) {
	err := Config{}.Validate()
	for _, field := range []string{"NodeID", "Concurrency", "HistorySize", "MaxQueued", "MaxAbandoned"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("Validate of a zero Config: %q does not name %s", err, field)
		}
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	_, err := New(DefaultConfig())
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("New without a node ID: %v, want ErrInvalidConfig", err)
	}
}
