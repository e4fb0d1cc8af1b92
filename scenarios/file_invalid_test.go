package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Each case is a whole file; want is the start of the message it must
// produce: FILE:LINE: FIELD: and the first words of the reason.
var invalidFiles = []struct {
	name string
	doc  string
	want string
}{
	{
		name: "unknown top-level key",
		doc: `name: x
blast_radius: node
timeout: 5s
steps:
  - crash: leader
  - measure: {rto: from_fault_to_first_write}
`,
		want: "bad.yaml:3: timeout: unknown key (valid keys: name, description,",
	},
	{
		name: "unknown key in a fault",
		doc: `name: x
blast_radius: node
steps:
  - fault:
      isolate: leader
      sever: true
  - measure: {rto: from_fault_to_first_write}
`,
		want: "bad.yaml:6: steps[0].fault.sever: unknown key",
	},
	{
		name: "bad duration",
		doc: `name: x
blast_radius: node
steps:
  - fault: {isolate: leader}
  - wait: 2 seconds
  - measure: {rto: from_fault_to_first_write}
`,
		want: `bad.yaml:5: steps[1].wait: invalid duration "2 seconds"`,
	},
	{
		name: "duration without a unit",
		doc: `name: x
blast_radius: node
steps:
  - fault: {isolate: leader, ttl: 30}
  - measure: {rto: from_fault_to_first_write}
`,
		want: `bad.yaml:4: steps[0].fault.ttl: invalid duration "30" (add a unit, such as 30s)`,
	},
	{
		name: "percentage above 100",
		doc: `name: x
blast_radius: cluster
steps:
  - fault: {drop: 150%}
  - heal: all
  - measure: {rto: from_heal_to_converged}
`,
		want: `bad.yaml:4: steps[0].fault.drop: percentage "150%" is outside (0%, 100%]`,
	},
	{
		name: "percentage not a number",
		doc: `name: x
blast_radius: cluster
steps:
  - fault: {drop: lots}
  - heal: all
  - measure: {rto: from_heal_to_converged}
`,
		want: `bad.yaml:4: steps[0].fault.drop: invalid percentage "lots"`,
	},
	{
		name: "unknown kind",
		doc: `name: leader
description: isolate the leader
nodes: 3
profile: fast
blast_radius: node
rto: {target: 120s, max: 600s}
steady_state:
  - leader_elected
steps:
  - fault: {isolate: leader, kind: partition, label: first}
  - heal: first
  - fault:
      isolate: leader
      kind: sever
  - measure: {rto: from_fault_to_first_write}
`,
		want: `bad.yaml:14: steps[2].fault.kind: unknown kind "sever" (use partition or reject)`,
	},
	{
		name: "heal of an unknown label",
		doc: `name: x
blast_radius: node
steps:
  - fault: {isolate: leader, label: cut}
  - heal: cutt
  - measure: {rto: from_heal_to_converged}
`,
		want: `bad.yaml:5: steps[1].heal: unknown label "cutt": no earlier fault step has it (labels so far: cut`,
	},
	{
		name: "heal before its fault",
		doc: `name: x
blast_radius: node
steps:
  - heal: later
  - fault: {isolate: leader, label: later}
  - measure: {rto: from_fault_to_first_write}
`,
		want: `bad.yaml:4: steps[0].heal: the fault labelled "later" comes later, at steps[1]`,
	},
	{
		name: "heal of a healed label",
		doc: `name: x
blast_radius: node
steps:
  - fault: {isolate: leader, label: cut}
  - heal: cut
  - heal: cut
  - measure: {rto: from_heal_to_converged}
`,
		want: `bad.yaml:6: steps[2].heal: the fault labelled "cut" at steps[0] is already healed`,
	},
	{
		name: "restart of a node never crashed",
		doc: `name: x
blast_radius: node
steps:
  - crash: leader
  - measure: {rto: from_fault_to_first_write}
  - restart: node-2
`,
		want: "bad.yaml:6: steps[2].restart: node-2 was never crashed by an earlier step (down now: leader)",
	},
	{
		name: "restart with no crash at all",
		doc: `name: x
blast_radius: node
steps:
  - fault: {isolate: leader}
  - measure: {rto: from_fault_to_first_write}
  - restart: leader
`,
		want: "bad.yaml:6: steps[2].restart: leader was never crashed",
	},
	{
		name: "missing name",
		doc: `blast_radius: node
steps:
  - crash: leader
  - measure: {rto: from_fault_to_first_write}
`,
		want: "bad.yaml:1: name: missing",
	},
	{
		name: "nodes below what a split needs",
		doc: `name: x
blast_radius: cluster
nodes: 3
steps:
  - fault: {split: [[leader, follower], [rest]]}
  - measure: {rto: from_fault_to_first_write}
`,
		want: "bad.yaml:3: nodes: 3 is below the 5 nodes the steps need: steps[1] waits for a write while 2 nodes are cut off or down",
	},
	{
		name: "nodes below a named node",
		doc: `name: x
blast_radius: node
nodes: 3
steps:
  - fault: {isolate: node-4}
  - heal: all
  - measure: {rto: from_heal_to_converged}
`,
		want: "bad.yaml:3: nodes: 3 is below the 4 nodes the steps need: steps[0] names node-4",
	},
	{
		name: "unknown node name",
		doc: `name: x
blast_radius: node
steps:
  - crash: leadr
  - measure: {rto: from_fault_to_first_write}
`,
		want: `bad.yaml:4: steps[0].crash: unknown node "leadr" (use leader, old_leader, follower, all or a node ID`,
	},
	{
		name: "two steps in one item",
		doc: `name: x
blast_radius: node
steps:
  - crash: leader
    wait: 1s
  - measure: {rto: from_fault_to_first_write}
`,
		want: "bad.yaml:4: steps[0]: wait and crash are set together",
	},
	{
		name: "no RTO measurement",
		doc: `name: x
blast_radius: node
steps:
  - fault: {isolate: leader}
  - heal: all
`,
		want: "bad.yaml:3: steps: no step measures the RTO",
	},
	{
		name: "no_commit_on a node that is not cut off",
		doc: `name: x
blast_radius: node
steps:
  - fault: {isolate: follower}
  - assert: {no_commit_on: leader}
  - measure: {rto: from_fault_to_first_write}
`,
		want: "bad.yaml:5: steps[1].assert.no_commit_on: leader is not cut off by an active isolate or split",
	},
	{
		name: "stable while a node is cut off",
		doc: `name: x
blast_radius: node
steps:
  - fault: {isolate: leader}
  - wait: {for: stable}
  - measure: {rto: from_fault_to_first_write}
`,
		want: "bad.yaml:5: steps[1].wait.for: stable cannot be met while the fault of steps[0] cuts nodes off",
	},
	{
		name: "measure from a mark never set",
		doc: `name: x
blast_radius: node
steps:
  - crash: leader
  - measure: {rto: from_fault_to_first_write}
  - measure: {phase: back, from: restarted}
`,
		want: `bad.yaml:6: steps[2].measure.from: mark "restarted" is not set by an earlier step`,
	},
	{
		name: "kind on a drop",
		doc: `name: x
blast_radius: cluster
steps:
  - fault: {drop: 10%, kind: reject}
  - heal: all
  - measure: {rto: from_heal_to_converged}
`,
		want: "bad.yaml:4: steps[0].fault.kind: drop sets its own kind",
	},
	{
		name: "unknown message kind",
		doc: `name: x
blast_radius: cluster
steps:
  - fault:
      cut: leader->follower
      messages: [request_vote, votes]
  - heal: all
  - measure: {rto: from_heal_to_converged}
`,
		want: `bad.yaml:6: steps[0].fault.messages[1]: unknown message kind "votes"`,
	},
	{
		name: "invalid YAML",
		doc: `name: x
blast_radius: node
steps
  - crash: leader
`,
		want: "bad.yaml:3: invalid YAML: could not find expected ':'",
	},
	{
		name: "empty file",
		doc:  "",
		want: "bad.yaml: the file is empty",
	},
}

func TestValidateRejectsInvalidFiles(t *testing.T) {
	for _, tc := range invalidFiles {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate([]byte(tc.doc), "bad.yaml")
			if err == nil {
				t.Fatal("Validate accepted the file")
			}
			if !errors.Is(err, ErrInvalidScenarioFile) {
				t.Errorf("error does not wrap ErrInvalidScenarioFile: %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error\n%v\nlacks %q", err, tc.want)
			}
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadFile(filepath.Join(dir, "missing.yaml")); !errors.Is(err, ErrInvalidScenarioFile) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadFile of a missing file: %v, want ErrInvalidScenarioFile and os.ErrNotExist", err)
	}
	path := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(path, []byte(invalidFiles[0].doc), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":3: timeout:") {
		t.Errorf("LoadFile error %v, want it to start with %s:3: timeout:", err, path)
	}
}
