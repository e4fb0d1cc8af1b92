package main

import (
	"context"
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/faultline-dev/faultline/scenarios"
)

// radiusScenario is a scenario of a given blast radius that never runs.
type radiusScenario struct{ radius scenarios.BlastRadius }

func (s radiusScenario) Name() string                       { return "test-" + string(s.radius) }
func (s radiusScenario) Description() string                { return "" }
func (s radiusScenario) BlastRadius() scenarios.BlastRadius { return s.radius }
func (s radiusScenario) DefaultTarget() scenarios.Target    { return scenarios.TargetNodeCrash }
func (s radiusScenario) MinNodes() int                      { return 3 }
func (s radiusScenario) Phases() []string                   { return nil }
func (s radiusScenario) Run(context.Context, scenarios.Env) (scenarios.Repetition, error) {
	return scenarios.Repetition{}, nil
}

func parseTargetFlags(t *testing.T, args ...string) targetOptions {
	t.Helper()
	var opts targetOptions
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addTargetFlags(fs, &opts)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return opts
}

func TestTargetValidate(t *testing.T) {
	cases := []struct {
		args []string
		ok   bool
	}{
		{nil, true},
		{[]string{"--target", "procs"}, true},
		{[]string{"--target", "compose", "--allow-blast-radius", "cluster"}, true},
		{[]string{"--target", "kubernetes"}, false},
		{[]string{"--target", "procs", "--allow-blast-radius", "everything"}, false},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			err := parseTargetFlags(t, tc.args...).validate()
			if (err == nil) != tc.ok {
				t.Errorf("validate = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

func TestTargetCheckRadius(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		radius scenarios.BlastRadius
		ok     bool
	}{
		{"local runs all", nil, scenarios.RadiusCluster, true},
		{"procs operation", []string{"--target", "procs"}, scenarios.RadiusOperation, true},
		{"procs instance", []string{"--target", "procs"}, scenarios.RadiusInstance, true},
		{"procs node refused", []string{"--target", "procs"}, scenarios.RadiusNode, false},
		{"procs node allowed", []string{"--target", "procs", "--allow-blast-radius", "node"}, scenarios.RadiusNode, true},
		{"compose node by cluster", []string{"--target", "compose", "--allow-blast-radius", "cluster"}, scenarios.RadiusNode, true},
		{"compose cluster by node", []string{"--target", "compose", "--allow-blast-radius", "node"}, scenarios.RadiusCluster, false},
		{"compose cluster allowed", []string{"--target", "compose", "--allow-blast-radius", "cluster"}, scenarios.RadiusCluster, true},
		{"instance allows no node", []string{"--target", "procs", "--allow-blast-radius", "instance"}, scenarios.RadiusNode, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := parseTargetFlags(t, tc.args...).checkRadius(radiusScenario{tc.radius})
			if (err == nil) != tc.ok {
				t.Fatalf("checkRadius = %v, want ok %v", err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "--allow-blast-radius "+string(tc.radius)) {
				t.Errorf("error %q does not name the flag value to pass", err)
			}
		})
	}
}

func TestTargetFactory(t *testing.T) {
	if f := parseTargetFlags(t).factory(nil); f != nil {
		t.Errorf("local target has a factory; want the runner's default")
	}
	for _, target := range []string{"procs", "compose"} {
		if f := parseTargetFlags(t, "--target", target).factory(nil); f == nil {
			t.Errorf("%s target has no factory", target)
		}
	}
}
