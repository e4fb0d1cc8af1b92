package raftint

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func TestParseProfile(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    Profile
		wantErr bool
	}{
		{name: "default", input: "default", want: ProfileDefault},
		{name: "fast", input: "fast", want: ProfileFast},
		{name: "empty", input: "", wantErr: true},
		{name: "wrong case", input: "FAST", wantErr: true},
		{name: "unknown", input: "slow", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProfile(tt.input)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("ParseProfile(%q) error: %v", tt.input, err)
				}
				if got != tt.want {
					t.Errorf("ParseProfile(%q) = %q, want %q", tt.input, got, tt.want)
				}
				return
			}

			if !errors.Is(err, ErrUnknownProfile) {
				t.Fatalf("ParseProfile(%q) error = %v, want ErrUnknownProfile", tt.input, err)
			}
			for _, text := range []string{`"` + tt.input + `"`, "default", "fast"} {
				if !strings.Contains(err.Error(), text) {
					t.Errorf("error %q does not mention %s", err, text)
				}
			}
		})
	}
}

func TestProfileTiming(t *testing.T) {
	tests := []struct {
		profile Profile
		want    Timing
	}{
		{ProfileDefault, Timing{
			HeartbeatTimeout:   time.Second,
			ElectionTimeout:    time.Second,
			LeaderLeaseTimeout: 500 * time.Millisecond,
			CommitTimeout:      50 * time.Millisecond,
			RPCTimeout:         10 * time.Second,
		}},
		{ProfileFast, Timing{
			HeartbeatTimeout:   150 * time.Millisecond,
			ElectionTimeout:    150 * time.Millisecond,
			LeaderLeaseTimeout: 100 * time.Millisecond,
			CommitTimeout:      10 * time.Millisecond,
			RPCTimeout:         2 * time.Second,
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.profile), func(t *testing.T) {
			got := tt.profile.Timing()
			if got != tt.want {
				t.Errorf("Timing() = %+v, want %+v", got, tt.want)
			}
			if got.Floor() != got.HeartbeatTimeout {
				t.Errorf("Floor() = %s, want the heartbeat timeout %s", got.Floor(), got.HeartbeatTimeout)
			}

			cfg := raft.DefaultConfig()
			cfg.LocalID = "n1"
			cfg.HeartbeatTimeout = got.HeartbeatTimeout
			cfg.ElectionTimeout = got.ElectionTimeout
			cfg.LeaderLeaseTimeout = got.LeaderLeaseTimeout
			cfg.CommitTimeout = got.CommitTimeout
			if err := raft.ValidateConfig(cfg); err != nil {
				t.Errorf("raft rejects the timing: %v", err)
			}
		})
	}
}

func TestProfileDefaultMatchesRaft(t *testing.T) {
	want := raft.DefaultConfig()
	got := ProfileDefault.Timing()

	if got.HeartbeatTimeout != want.HeartbeatTimeout {
		t.Errorf("HeartbeatTimeout = %s, raft default %s", got.HeartbeatTimeout, want.HeartbeatTimeout)
	}
	if got.ElectionTimeout != want.ElectionTimeout {
		t.Errorf("ElectionTimeout = %s, raft default %s", got.ElectionTimeout, want.ElectionTimeout)
	}
	if got.LeaderLeaseTimeout != want.LeaderLeaseTimeout {
		t.Errorf("LeaderLeaseTimeout = %s, raft default %s", got.LeaderLeaseTimeout, want.LeaderLeaseTimeout)
	}
	if got.CommitTimeout != want.CommitTimeout {
		t.Errorf("CommitTimeout = %s, raft default %s", got.CommitTimeout, want.CommitTimeout)
	}
}
