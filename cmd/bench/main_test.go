package main

import (
	"errors"
	"flag"
	"io"
	"slices"
	"testing"

	"github.com/faultline-dev/faultline/bench"
	"github.com/faultline-dev/faultline/raftint"
)

func TestParseOverridesSmoke(t *testing.T) {
	opts, err := parse([]string{"--smoke", "--reps", "3", "--only", "rto,scale", "--sizes", "3,7", "--profiles", "fast"}, io.Discard, io.Discard)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	cfg := opts.cfg
	if !cfg.Smoke {
		t.Errorf("Smoke = false, want true")
	}
	if cfg.RTO.Reps != 3 {
		t.Errorf("RTO.Reps = %d, want 3", cfg.RTO.Reps)
	}
	if !slices.Equal(cfg.Sections, []bench.Section{bench.SectionRTO, bench.SectionScale}) {
		t.Errorf("Sections = %v, want rto and scale", cfg.Sections)
	}
	if !slices.Equal(cfg.Scale.Sizes, []int{3, 7}) {
		t.Errorf("Scale.Sizes = %v, want [3 7]", cfg.Scale.Sizes)
	}
	if !slices.Equal(cfg.RTO.Profiles, []raftint.Profile{raftint.ProfileFast}) {
		t.Errorf("RTO.Profiles = %v, want [fast]", cfg.RTO.Profiles)
	}
	if smoke := bench.SmokeConfig(); cfg.Scale.Reps != smoke.Scale.Reps {
		t.Errorf("Scale.Reps = %d, want the smoke value %d because no flag set it", cfg.Scale.Reps, smoke.Scale.Reps)
	}
}

func TestParseDefaults(t *testing.T) {
	opts, err := parse(nil, io.Discard, io.Discard)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	def := bench.DefaultConfig()
	if opts.cfg.Smoke {
		t.Errorf("Smoke = true without --smoke")
	}
	if opts.cfg.RTO.Reps != def.RTO.Reps || opts.cfg.Proxy.Rounds != def.Proxy.Rounds {
		t.Errorf("reps %d and rounds %d, want the defaults %d and %d", opts.cfg.RTO.Reps, opts.cfg.Proxy.Rounds, def.RTO.Reps, def.Proxy.Rounds)
	}
	if !slices.Equal(opts.cfg.Sections, bench.AllSections) {
		t.Errorf("Sections = %v, want all", opts.cfg.Sections)
	}
}

func TestParseRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"unknown section", []string{"--only", "disk"}},
		{"unknown profile", []string{"--profiles", "slow"}},
		{"size not a number", []string{"--sizes", "3,five"}},
		{"size above 31", []string{"--sizes", "40"}},
		{"zero reps", []string{"--reps", "0"}},
		{"positional argument", []string{"proxy"}},
		{"unknown flag", []string{"--nodes", "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parse(tt.args, io.Discard, io.Discard); err == nil {
				t.Errorf("parse(%q) = nil error, want one", tt.args)
			}
		})
	}
}

func TestParseHelp(t *testing.T) {
	_, err := parse([]string{"--help"}, io.Discard, io.Discard)
	if !errors.Is(err, flag.ErrHelp) {
		t.Errorf("parse(--help) error = %v, want flag.ErrHelp", err)
	}
}

func TestRunUsageExitCode(t *testing.T) {
	if code := run(t.Context(), []string{"--only", "disk"}, io.Discard, io.Discard); code != exitUsage {
		t.Errorf("run with an unknown section = %d, want %d", code, exitUsage)
	}
}
