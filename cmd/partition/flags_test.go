package main

import (
	"errors"
	"flag"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/netchaos"
	"github.com/faultline-dev/faultline/partition"
)

const nodesArg = "--nodes=node-1=http://127.0.0.1:8081,node-2=http://127.0.0.1:8082,node-3=http://127.0.0.1:8083"

func noEnv(string) string { return "" }

func TestParseArgsValid(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name string
		args []string
		mode mode
		spec partition.Spec
	}{
		{"isolate", []string{"--isolate", "node-1"}, modeApply,
			partition.Spec{Isolate: "node-1", TTL: 5 * time.Minute}},
		{"isolate leader", []string{"--isolate", "leader"}, modeApply,
			partition.Spec{Isolate: partition.Leader, TTL: 5 * time.Minute}},
		{"isolate reject", []string{"--isolate", "node-1", "--kind", "reject", "--duration", "30s"}, modeApply,
			partition.Spec{Isolate: "node-1", Kind: netchaos.KindReject, TTL: 30 * time.Second}},
		{"split", []string{"--split", "node-1,node-2/node-3"}, modeApply,
			partition.Spec{Split: [][]string{{"node-1", "node-2"}, {"node-3"}}, TTL: 5 * time.Minute}},
		{"split kind", []string{"--split", "node-1/node-2", "--kind=partition"}, modeApply,
			partition.Spec{Split: [][]string{{"node-1"}, {"node-2"}}, Kind: netchaos.KindPartition, TTL: 5 * time.Minute}},
		{"one-way", []string{"--one-way", "node-1->node-2"}, modeApply,
			partition.Spec{OneWay: &partition.Link{From: "node-1", To: "node-2"}, TTL: 5 * time.Minute}},
		{"delay", []string{"--delay", "200ms"}, modeApply,
			partition.Spec{Delay: 200 * ms, TTL: 5 * time.Minute}},
		{"delay jitter link", []string{"--delay", "200ms", "--jitter", "50ms", "--link", "node-1->node-2"}, modeApply,
			partition.Spec{Delay: 200 * ms, Jitter: 50 * ms, Link: &partition.Link{From: "node-1", To: "node-2"}, TTL: 5 * time.Minute}},
		{"drop percent", []string{"--drop", "20%"}, modeApply,
			partition.Spec{Drop: 0.2, TTL: 5 * time.Minute}},
		{"drop fraction", []string{"--drop", "0.2", "--link", "node-2->node-3"}, modeApply,
			partition.Spec{Drop: 0.2, Link: &partition.Link{From: "node-2", To: "node-3"}, TTL: 5 * time.Minute}},
		{"delay and drop", []string{"--delay", "1s", "--drop", "100%"}, modeApply,
			partition.Spec{Delay: time.Second, Drop: 1, TTL: 5 * time.Minute}},
		{"isolate and delay", []string{"--isolate", "node-3", "--delay", "10ms"}, modeApply,
			partition.Spec{Isolate: "node-3", Delay: 10 * ms, TTL: 5 * time.Minute}},
		{"heal", []string{"--heal"}, modeHeal, partition.Spec{}},
		{"status", []string{"status"}, modeStatus, partition.Spec{}},
		{"status json", []string{"status", "--json"}, modeStatus, partition.Spec{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{}, tc.args...)
			if tc.mode == modeStatus {
				args = append(args, nodesArg)
			} else {
				args = append([]string{nodesArg}, args...)
			}
			opts, err := parseArgs(args, noEnv)
			if err != nil {
				t.Fatalf("parseArgs(%q): %v", args, err)
			}
			if opts.mode != tc.mode {
				t.Errorf("mode = %v, want %v", opts.mode, tc.mode)
			}
			if !specEqual(opts.spec, tc.spec) {
				t.Errorf("spec = %+v, want %+v", opts.spec, tc.spec)
			}
			if len(opts.endpoints) != 3 || opts.endpoints[2].ID != "node-3" {
				t.Errorf("endpoints = %+v, want node-1..node-3", opts.endpoints)
			}
		})
	}
}

func specEqual(a, b partition.Spec) bool {
	linkEqual := func(x, y *partition.Link) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.Isolate == b.Isolate && slices.EqualFunc(a.Split, b.Split, slices.Equal) &&
		linkEqual(a.OneWay, b.OneWay) && linkEqual(a.Link, b.Link) && a.Kind == b.Kind &&
		a.Delay == b.Delay && a.Jitter == b.Jitter && a.Drop == b.Drop && a.TTL == b.TTL
}

func TestParseArgsUsageErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		// want is a part of the message: the flag at fault.
		want string
	}{
		{"no nodes", []string{"--isolate", "node-1"}, "--nodes"},
		{"nodes and cluster", []string{nodesArg, "--cluster", "http://127.0.0.1:8081", "--heal"}, "--cluster"},
		{"bad nodes", []string{"--nodes", "node-1=ftp://x", "--heal"}, "--nodes"},
		{"bad cluster", []string{"--cluster", "http://x/path", "--heal"}, "--cluster"},
		{"no fault", []string{nodesArg}, "no fault"},
		{"isolate and split", []string{nodesArg, "--isolate", "node-1", "--split", "node-1/node-2"}, "--isolate and --split"},
		{"isolate and one-way", []string{nodesArg, "--isolate", "node-1", "--one-way", "node-1->node-2"}, "--one-way"},
		{"split and one-way", []string{nodesArg, "--split", "node-1/node-2", "--one-way", "node-1->node-2"}, "--split and --one-way"},
		{"heal and isolate", []string{nodesArg, "--heal", "--isolate", "node-1"}, "--isolate"},
		{"heal and delay", []string{nodesArg, "--heal", "--delay", "1s"}, "--delay"},
		{"heal and duration", []string{nodesArg, "--heal", "--duration", "1m"}, "--duration"},
		{"status and heal", []string{"status", nodesArg, "--heal"}, "--heal"},
		{"status and fault", []string{"status", nodesArg, "--isolate", "node-1"}, "--isolate"},
		{"json without status", []string{nodesArg, "--isolate", "node-1", "--json"}, "-json"},
		{"jitter without delay", []string{nodesArg, "--jitter", "50ms", "--drop", "1%"}, "--jitter"},
		{"jitter alone", []string{nodesArg, "--jitter", "50ms"}, "--jitter"},
		{"kind without cut", []string{nodesArg, "--delay", "1s", "--kind", "reject"}, "--kind"},
		{"kind drop", []string{nodesArg, "--isolate", "node-1", "--kind", "drop"}, "--kind"},
		{"link without delay", []string{nodesArg, "--isolate", "node-1", "--link", "node-1->node-2"}, "--link"},
		{"malformed link", []string{nodesArg, "--delay", "1s", "--link", "node-1"}, "--link"},
		{"malformed one-way", []string{nodesArg, "--one-way", "node-1-node-2"}, "--one-way"},
		{"one group", []string{nodesArg, "--split", "node-1,node-2"}, "--split"},
		{"malformed duration", []string{nodesArg, "--isolate", "node-1", "--duration", "30"}, "--duration"},
		{"zero duration", []string{nodesArg, "--isolate", "node-1", "--duration", "0s"}, "--duration"},
		{"infinite duration", []string{nodesArg, "--isolate", "node-1", "--duration", "1000h"}, "--duration"},
		{"malformed delay", []string{nodesArg, "--delay", "soon"}, "--delay"},
		{"negative delay", []string{nodesArg, "--delay", "-1s"}, "--delay"},
		{"malformed drop", []string{nodesArg, "--drop", "lots"}, "--drop"},
		{"zero drop", []string{nodesArg, "--drop", "0%"}, "--drop"},
		{"drop above 100", []string{nodesArg, "--drop", "120%"}, "--drop"},
		{"ambiguous drop", []string{nodesArg, "--drop", "20"}, "--drop"},
		{"isolate any", []string{nodesArg, "--isolate", "*"}, "--isolate"},
		{"empty isolate", []string{nodesArg, "--isolate", ""}, "--isolate"},
		{"zero timeout", []string{nodesArg, "--heal", "--timeout", "0s"}, "--timeout"},
		{"extra argument", []string{nodesArg, "--heal", "now"}, "now"},
		{"unknown flag", []string{nodesArg, "--partition", "node-1"}, "-partition"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseArgs(tc.args, noEnv)
			if !isUsage(err) {
				t.Fatalf("parseArgs(%q) error = %v, want a usage error", tc.args, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestParseArgsHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"status", "--help"}} {
		if _, err := parseArgs(args, noEnv); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("parseArgs(%q) error = %v, want flag.ErrHelp", args, err)
		}
	}
}

func TestParseArgsToken(t *testing.T) {
	env := func(name string) string {
		if name == tokenEnv {
			return "from-env"
		}
		return ""
	}
	cases := []struct {
		name string
		args []string
		env  func(string) string
		want string
	}{
		{"none", []string{nodesArg, "--heal"}, noEnv, ""},
		{"environment", []string{nodesArg, "--heal"}, env, "from-env"},
		{"flag wins", []string{nodesArg, "--heal", "--token", "from-flag"}, env, "from-flag"},
		{"empty flag wins", []string{nodesArg, "--heal", "--token="}, env, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts, err := parseArgs(tc.args, tc.env)
			if err != nil {
				t.Fatalf("parseArgs: %v", err)
			}
			if opts.token != tc.want {
				t.Errorf("token = %q, want %q", opts.token, tc.want)
			}
		})
	}
}

func TestParseArgsCluster(t *testing.T) {
	opts, err := parseArgs([]string{"--cluster", "127.0.0.1:8081", "--heal"}, noEnv)
	if err != nil {
		t.Fatalf("parseArgs: %v", err)
	}
	if opts.clusterURL != "http://127.0.0.1:8081" || opts.endpoints != nil {
		t.Errorf("clusterURL = %q, endpoints = %+v; want the URL and no endpoints", opts.clusterURL, opts.endpoints)
	}
	if opts.nodesFlag != "--cluster http://127.0.0.1:8081" {
		t.Errorf("nodesFlag = %q, want it for the heal hint", opts.nodesFlag)
	}
}
