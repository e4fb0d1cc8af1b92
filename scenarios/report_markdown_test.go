package scenarios

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/faultline-dev/faultline/raftint"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sampleReports returns a passing and a failing report with fixed values,
// as Run would fill them.
func sampleReports() []*Report {
	started := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	libraries := map[string]string{raftModule: "v1.7.2"}
	pass := &Report{
		Scenario:    "leader-isolation",
		Description: "blackhole the leader both ways; measure detection, election and the RTO",
		BlastRadius: RadiusNode,
		Profile:     raftint.ProfileFast,
		Floor:       150 * time.Millisecond,
		Seed:        7,
		Nodes:       3,
		Reps:        3,
		Target:      TargetNetworkPartition,
		Phases:      []string{PhaseDetection, PhaseElection, PhaseRTO, PhaseStepDown, PhaseHeal},
		Repetitions: []Repetition{
			{Index: 1, Recovered: true, RTO: 306 * time.Millisecond},
			{Index: 2, Recovered: true, RTO: 357 * time.Millisecond},
			{Index: 3, Recovered: true, RTO: 1204 * time.Millisecond},
		},
		Summary: map[string]Stat{
			PhaseDetection: {N: 3, P50: 207 * time.Millisecond, P95: 235 * time.Millisecond, Max: 235 * time.Millisecond},
			PhaseElection:  {N: 3, P50: 303 * time.Millisecond, P95: 356 * time.Millisecond, Max: 356 * time.Millisecond},
			PhaseRTO:       {N: 3, P50: 357 * time.Millisecond, P95: 1204 * time.Millisecond, Max: 1204 * time.Millisecond},
			PhaseStepDown:  {N: 3, P50: 100 * time.Millisecond, P95: 101 * time.Millisecond, Max: 101 * time.Millisecond},
		},
		SuccessRate: 1,
		Verdict:     VerdictPass,
		GoVersion:   "go1.26.8",
		Libraries:   libraries,
		StartedAt:   started,
		Duration:    4200 * time.Millisecond,
	}
	fail := &Report{
		Scenario:    "split-brain",
		Description: "# cut the cluster in two | a <minority> and a majority",
		BlastRadius: RadiusCluster,
		Profile:     raftint.ProfileFast,
		Floor:       150 * time.Millisecond,
		Seed:        7,
		Nodes:       5,
		Reps:        2,
		Target:      Target{Target: 500 * time.Millisecond, Max: 90 * time.Second},
		Phases:      []string{PhaseElection, PhaseRTO},
		Repetitions: []Repetition{
			{Index: 1, Recovered: true, RTO: 480 * time.Millisecond, Violations: []string{"durability: node-4 lacks 1 of 9 acknowledged writes"}},
			{Index: 2, Recovered: false, Error: "no majority write within 1m30s"},
		},
		Summary: map[string]Stat{
			PhaseElection: {N: 1, P50: 410 * time.Millisecond, P95: 410 * time.Millisecond, Max: 410 * time.Millisecond},
		},
		SuccessRate: 0.5,
		Verdict:     VerdictFail,
		Reasons: []string{
			"repetition 1: durability: node-4 lacks 1 of 9 acknowledged writes",
			"repetition 2 did not recover: no majority write within 1m30s\ngoroutine trace",
			"rule r1|r2 on `node-<&>`",
		},
		GoVersion: "go1.26.8",
		Libraries: libraries,
		StartedAt: started.Add(5 * time.Second),
		Duration:  95 * time.Second,
	}
	return []*Report{pass, fail}
}

// checkGolden compares got with testdata/name, or rewrites the file when
// the test runs with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file: %v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (rerun with -update if the change is intended)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestWriteMarkdownGolden(t *testing.T) {
	cases := []struct {
		name    string
		reports []*Report
		golden  string
	}{
		{"pass and fail", sampleReports(), "report.md.golden"},
		{"no reports", nil, "report_empty.md.golden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteMarkdown(&b, tc.reports); err != nil {
				t.Fatalf("WriteMarkdown: %v", err)
			}
			checkGolden(t, tc.golden, b.Bytes())
		})
	}
}

func TestWriteMarkdownPadsTableCells(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, sampleReports()); err != nil {
		t.Fatalf("WriteMarkdown: %v", err)
	}

	// Consecutive lines that start with a pipe form one table; every line
	// of a table must have the same width.
	tables := 0
	width := -1
	for line := range strings.SplitSeq(b.String(), "\n") {
		if !strings.HasPrefix(line, "|") {
			width = -1
			continue
		}
		n := utf8.RuneCountInString(line)
		if width == -1 {
			width = n
			tables++
			continue
		}
		if n != width {
			t.Errorf("table line %q is %d runes wide, want %d", line, n, width)
		}
	}
	if tables != 3 {
		t.Errorf("found %d tables, want 3 (summary and one per scenario)", tables)
	}
}

func TestWriteMarkdownHeaderListsDistinctValues(t *testing.T) {
	reports := sampleReports()
	reports[1].Seed = 8
	reports[1].Profile = raftint.ProfileDefault
	reports[1].Floor = time.Second

	var b bytes.Buffer
	if err := WriteMarkdown(&b, reports); err != nil {
		t.Fatalf("WriteMarkdown: %v", err)
	}
	for _, want := range []string{
		"Run 2026-03-14 09:26 UTC",
		"seeds 7, 8",
		"profiles fast (floor 150 ms), default (floor 1000 ms)",
		"Go 1.26.8",
		"hashicorp/raft v1.7.2",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("header lacks %q:\n%s", want, b.String())
		}
	}
}

func TestWriteMarkdownRejectsNilReport(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, []*Report{sampleReports()[0], nil}); err == nil {
		t.Fatal("WriteMarkdown accepted a nil report")
	}
	if b.Len() != 0 {
		t.Errorf("WriteMarkdown wrote %d bytes before failing", b.Len())
	}
}

func TestWriteMarkdownFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.md")
	if err := WriteMarkdownFile(path, sampleReports()); err != nil {
		t.Fatalf("WriteMarkdownFile: %v", err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := WriteMarkdown(&want, sampleReports()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("file content differs from WriteMarkdown output:\n%s", got)
	}

	missing := filepath.Join(t.TempDir(), "no-such-dir", "summary.md")
	if err := WriteMarkdownFile(missing, sampleReports()); err == nil {
		t.Errorf("WriteMarkdownFile(%s) succeeded, want an error", missing)
	}
}

func TestEscapeMarkdown(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"plain", "leader-isolation", "leader-isolation"},
		{"underscore inside a word", "step_down", "step_down"},
		{"underscore at a word boundary", "_x_", `\_x\_`},
		{"pipe", "a|b", `a\|b`},
		{"html", "<&>", `\<\&>`},
		{"code and emphasis", "`*x*`", "\\`\\*x\\*\\`"},
		{"newlines", "one\ntwo\r\nthree", "one two three"},
		{"backslash", `a\b`, `a\\b`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := escapeMarkdown(tc.in); got != tc.want {
				t.Errorf("escapeMarkdown(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestEscapeParagraphLeadingMarker(t *testing.T) {
	cases := []struct{ in, want string }{
		{"# title", `\# title`},
		{"- item", `\- item`},
		{"> quote", `\> quote`},
		{"a # b", "a # b"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			if got := escapeParagraph(tc.in); got != tc.want {
				t.Errorf("escapeParagraph(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestShortDuration(t *testing.T) {
	cases := []struct {
		in   time.Duration
		want string
	}{
		{0, "0 ms"},
		{999 * time.Millisecond, "999 ms"},
		{120 * time.Second, "120 s"},
		{1500 * time.Millisecond, "1.5 s"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			if got := shortDuration(tc.in); got != tc.want {
				t.Errorf("shortDuration(%v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
