package bench

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/faultline-dev/faultline/raftint"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr bool
	}{
		{"default", func(*Config) {}, false},
		{"smoke", func(c *Config) { *c = SmokeConfig() }, false},
		{"no sections", func(c *Config) { c.Sections = nil }, true},
		{"unknown section", func(c *Config) { c.Sections = []Section{"disk"} }, true},
		{"zero proxy rounds", func(c *Config) { c.Proxy.Rounds = 0 }, true},
		{"zero window", func(c *Config) { c.Proxy.Window = 0 }, true},
		{"unknown proxy profile", func(c *Config) { c.Proxy.Profile = "slow" }, true},
		{"zero reps", func(c *Config) { c.RTO.Reps = 0 }, true},
		{"two nodes", func(c *Config) { c.RTO.Nodes = 2 }, true},
		{"no profiles", func(c *Config) { c.RTO.Profiles = nil }, true},
		{"zero poll interval", func(c *Config) { c.RTO.PollInterval = 0 }, true},
		{"size above 31", func(c *Config) { c.Scale.Sizes = []int{3, 32} }, true},
		{"zero idle window", func(c *Config) { c.Scale.IdleWindow = 0 }, true},
		{"zero daemon count", func(c *Config) { c.Daemon.Count = 0 }, true},
		{"bad field of a section that does not run", func(c *Config) {
			c.Sections = []Section{SectionDaemon}
			c.RTO.Reps = 0
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.mutate(&cfg)
			err := cfg.Validate()
			if tt.wantErr && !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("Validate() = %v, want an error wrapping ErrInvalidConfig", err)
			}
			if !tt.wantErr && err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

func TestConfigValidateKeepsConfig(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RTO.Reps = 0
	before := DefaultConfig()
	before.RTO.Reps = 0
	_ = cfg.Validate()
	if !reflect.DeepEqual(cfg, before) {
		t.Errorf("Validate changed the config")
	}
}

func TestSmokeConfigIsSmaller(t *testing.T) {
	def, smoke := DefaultConfig(), SmokeConfig()
	if !smoke.Smoke {
		t.Errorf("SmokeConfig().Smoke = false")
	}
	if smoke.RTO.Reps != 1 || smoke.Proxy.Rounds != 1 || smoke.Scale.Reps != 1 {
		t.Errorf("smoke repetitions: rto %d, proxy %d, scale %d; want 1 each", smoke.RTO.Reps, smoke.Proxy.Rounds, smoke.Scale.Reps)
	}
	if !slices.Equal(smoke.RTO.Profiles, []raftint.Profile{raftint.ProfileDefault, raftint.ProfileFast}) {
		t.Errorf("smoke profiles = %v, want both", smoke.RTO.Profiles)
	}
	if len(smoke.Scale.Sizes) >= len(def.Scale.Sizes) {
		t.Errorf("smoke sizes %v are not fewer than the default %v", smoke.Scale.Sizes, def.Scale.Sizes)
	}
}

func TestParseSections(t *testing.T) {
	tests := []struct {
		list    string
		want    []Section
		wantErr bool
	}{
		{"proxy", []Section{SectionProxy}, false},
		{"rto, scale", []Section{SectionRTO, SectionScale}, false},
		{"daemon,daemon", []Section{SectionDaemon}, false},
		{"proxy,disk", nil, true},
		{"", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.list, func(t *testing.T) {
			got, err := ParseSections(tt.list)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidConfig) {
					t.Errorf("ParseSections(%q) error = %v, want ErrInvalidConfig", tt.list, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSections(%q): %v", tt.list, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ParseSections(%q) = %v, want %v", tt.list, got, tt.want)
			}
		})
	}
}
