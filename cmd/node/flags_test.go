package main

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/raftint"
)

func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

var minimalArgs = []string{"--id", "node-1", "--data-dir", "/tmp/x"}

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := parseConfig(minimalArgs, env(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	want := nodeConfig{
		ID: "node-1", RaftAddr: "127.0.0.1:7000", RaftAdvertise: "127.0.0.1:7000",
		GossipAddr: "127.0.0.1:7946", GossipAdvertise: "127.0.0.1:7946",
		HTTPAddr: "127.0.0.1:8080", HTTPAdvertise: "127.0.0.1:8080", DataDir: "/tmp/x",
		Profile: raftint.ProfileDefault, Chaos: true, Seed: 1, FaultTTL: 5 * time.Minute,
		LogLevel: slog.LevelInfo, LogFormat: "text",
	}
	if cfg.Join != nil {
		t.Errorf("join = %v, want none", cfg.Join)
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("config =\n%+v\nwant\n%+v", cfg, want)
	}
}

func TestParseConfigFlagsWinOverEnv(t *testing.T) {
	vars := map[string]string{
		"FAULTLINE_NODE_ID":             "env-node",
		"FAULTLINE_DATA_DIR":            "/env/dir",
		"FAULTLINE_PROFILE":             "fast",
		"FAULTLINE_JOIN":                "10.0.0.1:7946, 10.0.0.2:7946",
		"FAULTLINE_BOOTSTRAP_EXPECT":    "3",
		"FAULTLINE_CHAOS":               "off",
		"FAULTLINE_REMOVE_FAILED_AFTER": "30s",
		"FAULTLINE_SEED":                "99",
	}
	cfg, err := parseConfig([]string{"--id", "flag-node", "--seed", "7"}, env(vars), &bytes.Buffer{})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"id from flag", cfg.ID, "flag-node"},
		{"seed from flag", cfg.Seed, int64(7)},
		{"data dir from env", cfg.DataDir, "/env/dir"},
		{"profile from env", cfg.Profile, raftint.ProfileFast},
		{"join from env", strings.Join(cfg.Join, ","), "10.0.0.1:7946,10.0.0.2:7946"},
		{"bootstrap expect from env", cfg.BootstrapExpect, 3},
		{"chaos from env", cfg.Chaos, false},
		{"remove failed after from env", cfg.RemoveFailedAfter, 30 * time.Second},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestParseConfigInvalid(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		vars  map[string]string
		names string // the flag or variable the error must name
	}{
		{"missing id", []string{"--data-dir", "/d"}, nil, "--id"},
		{"missing data dir", []string{"--id", "n"}, nil, "--data-dir"},
		{"raft addr without port", append([]string{"--raft-addr", "127.0.0.1"}, minimalArgs...), nil, "--raft-addr"},
		{"gossip port out of range", append([]string{"--gossip-addr", "127.0.0.1:70000"}, minimalArgs...), nil, "--gossip-addr"},
		{"bad join entry", append([]string{"--join", "a:1,b"}, minimalArgs...), nil, "--join"},
		{"negative bootstrap expect", append([]string{"--bootstrap-expect", "-1"}, minimalArgs...), nil, "--bootstrap-expect"},
		{"bootstrap expect not a number", minimalArgs, map[string]string{"FAULTLINE_BOOTSTRAP_EXPECT": "three"}, "FAULTLINE_BOOTSTRAP_EXPECT"},
		{"unknown profile", append([]string{"--profile", "slow"}, minimalArgs...), nil, "--profile"},
		{"chaos yes", minimalArgs, map[string]string{"FAULTLINE_CHAOS": "yes"}, "FAULTLINE_CHAOS"},
		{"bad remove failed after", append([]string{"--remove-failed-after", "soon"}, minimalArgs...), nil, "--remove-failed-after"},
		{"negative remove failed after", append([]string{"--remove-failed-after", "-1s"}, minimalArgs...), nil, "--remove-failed-after"},
		{"zero fault ttl", append([]string{"--fault-ttl", "0s"}, minimalArgs...), nil, "--fault-ttl"},
		{"seed not a number", append([]string{"--seed", "x"}, minimalArgs...), nil, "--seed"},
		{"bad log level", append([]string{"--log-level", "loud"}, minimalArgs...), nil, "--log-level"},
		{"bad log format", append([]string{"--log-format", "xml"}, minimalArgs...), nil, "--log-format"},
		{"public http without token", append([]string{"--http-addr", "0.0.0.0:8080"}, minimalArgs...), nil, "--admin-token"},
		{"raft on every interface without advertise", append([]string{"--raft-addr", "0.0.0.0:7000"}, minimalArgs...), nil, "--raft-advertise"},
		{"advertise on every interface", append([]string{"--raft-advertise", "0.0.0.0:7000"}, minimalArgs...), nil, "--raft-advertise"},
		{"unknown flag", append([]string{"--colour", "on"}, minimalArgs...), nil, "colour"},
		{"stray argument", append(minimalArgs, "extra"), nil, "extra"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig(tc.args, env(tc.vars), &bytes.Buffer{})
			if !errors.Is(err, errUsage) {
				t.Fatalf("parse: %v, want errUsage", err)
			}
			if !strings.Contains(err.Error(), tc.names) {
				t.Errorf("error %q does not name %s", err, tc.names)
			}
		})
	}
}

func TestAdvertiseDefaults(t *testing.T) {
	args := append([]string{
		"--raft-addr", "0.0.0.0:8300", "--raft-advertise", "node-1:8300",
		"--gossip-addr", "0.0.0.0:7946", "--http-addr", "0.0.0.0:8080", "--admin-token", "t",
	}, minimalArgs...)
	cfg, err := parseConfig(args, env(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if cfg.HTTPAdvertise != "node-1:8080" {
		t.Errorf("http advertise = %q, want the raft advertise host with the HTTP port", cfg.HTTPAdvertise)
	}
	if cfg.GossipAdvertise != "" {
		t.Errorf("gossip advertise = %q, want empty so memberlist picks an address", cfg.GossipAdvertise)
	}
}

func TestRunExitCodes(t *testing.T) {
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(`{"status":"ok"}`))
	}))
	defer healthy.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer failing.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	tests := []struct {
		name string
		args []string
		want int
	}{
		{"invalid flag", []string{"run", "--id", "n", "--data-dir", "/d", "--profile", "slow"}, exitUsage},
		{"invalid flag without subcommand", []string{"--chaos", "maybe"}, exitUsage},
		{"run help", []string{"run", "--help"}, exitOK},
		{"healthcheck ok", []string{"healthcheck", "--url", healthy.URL}, exitOK},
		{"healthcheck full url", []string{"healthcheck", "--url", healthy.URL + "/healthz"}, exitOK},
		{"healthcheck 503", []string{"healthcheck", "--url", failing.URL}, exitFailure},
		{"healthcheck unreachable", []string{"healthcheck", "--url", closed.URL}, exitFailure},
		{"healthcheck bad flag", []string{"healthcheck", "--uri", healthy.URL}, exitUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := run(tc.args, env(nil), &stderr); got != tc.want {
				t.Errorf("exit code %d, want %d; stderr:\n%s", got, tc.want, stderr.String())
			}
		})
	}
}
