package scenarios

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// raftModule is the module path whose version the Markdown header prints.
const raftModule = "github.com/hashicorp/raft"

// WriteMarkdown writes a summary of reports in GitHub-flavoured Markdown,
// fit for a GitHub Actions job summary. It starts with a line naming the
// date, seeds, profiles and versions and a table with one row per scenario.
// A section per scenario follows with its phase percentiles and, unless it
// passed, the reasons. Table cells are padded to equal width, so the raw
// text also reads well in a terminal.
func WriteMarkdown(w io.Writer, reports []*Report) error {
	for i, r := range reports {
		if r == nil {
			return fmt.Errorf("scenarios: write markdown: report %d of %d is nil; pass only reports that Run returned", i, len(reports))
		}
	}

	var b bytes.Buffer
	b.WriteString("## faultline scenario report\n\n")
	if len(reports) == 0 {
		b.WriteString("No scenario ran.\n")
		_, err := w.Write(b.Bytes())
		return err
	}
	b.WriteString(markdownHeader(reports) + "\n\n")
	summaryTable(reports).write(&b)
	for _, r := range reports {
		b.WriteString("\n")
		writeScenarioSection(&b, r)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// WriteMarkdownFile writes the Markdown summary of reports to path.
func WriteMarkdownFile(path string, reports []*Report) error {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, reports); err != nil {
		return err
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("scenarios: write markdown: %w", err)
	}
	return nil
}

// markdownHeader returns the line that names when and how the reports ran.
// Values that differ between reports are listed in report order.
func markdownHeader(reports []*Report) string {
	var started time.Time
	var seeds, profiles, goVersions, raftVersions []string
	for _, r := range reports {
		if !r.StartedAt.IsZero() && (started.IsZero() || r.StartedAt.Before(started)) {
			started = r.StartedAt
		}
		seeds = appendNew(seeds, fmt.Sprint(r.Seed))
		profiles = appendNew(profiles, fmt.Sprintf("%s (floor %d ms)", r.Profile, r.Floor.Milliseconds()))
		goVersions = appendNew(goVersions, orUnknown(strings.TrimPrefix(r.GoVersion, "go")))
		raftVersions = appendNew(raftVersions, orUnknown(r.Libraries[raftModule]))
	}

	var parts []string
	if !started.IsZero() {
		parts = append(parts, "Run "+started.UTC().Format("2006-01-02 15:04 UTC"))
	}
	parts = append(parts,
		plural("seed", seeds)+" "+strings.Join(seeds, ", "),
		plural("profile", profiles)+" "+strings.Join(profiles, ", "),
		"Go "+strings.Join(goVersions, ", "),
		"hashicorp/raft "+strings.Join(raftVersions, ", "),
	)
	return escapeMarkdown(strings.Join(parts, ", ") + ".")
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func plural(word string, list []string) string {
	if len(list) > 1 {
		return word + "s"
	}
	return word
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// summaryTable has one row per report. The RTO percentiles are taken over
// the recovered repetitions, as the verdict takes them.
func summaryTable(reports []*Report) markdownTable {
	t := markdownTable{
		header: []string{"scenario", "verdict", "recovered", "RTO p50 ms", "RTO p95 ms", "RTO max ms", "RTO target / max", "safety violations"},
		right:  []bool{false, false, true, true, true, true, false, true},
	}
	for _, r := range reports {
		var rtos []time.Duration
		recovered, violations := 0, 0
		for _, rep := range r.Repetitions {
			if rep.Recovered {
				recovered++
				rtos = append(rtos, rep.RTO)
			}
			violations += len(rep.Violations)
		}
		p50, p95, maxRTO := "-", "-", "-"
		if len(rtos) > 0 {
			s := summarize(rtos)
			p50, p95, maxRTO = msNumber(s.P50), msNumber(s.P95), msNumber(s.Max)
		}
		t.rows = append(t.rows, []string{
			r.Scenario,
			verdictWord(r.Verdict),
			fmt.Sprintf("%d/%d", recovered, r.Reps),
			p50, p95, maxRTO,
			shortDuration(r.Target.Target) + " / " + shortDuration(r.Target.Max),
			fmt.Sprint(violations),
		})
	}
	return t
}

// writeScenarioSection writes the description, the per-phase table and the
// reasons of one report, as blocks separated by one blank line.
func writeScenarioSection(b *bytes.Buffer, r *Report) {
	fmt.Fprintf(b, "### %s: %s\n", escapeMarkdown(r.Scenario), verdictWord(r.Verdict))
	if r.Description != "" {
		b.WriteString("\n" + escapeParagraph(firstLine(r.Description)) + "\n")
	}
	fmt.Fprintf(b, "\n%d nodes, blast radius %s, %d of %d repetitions ran in %s.\n",
		r.Nodes, escapeMarkdown(string(r.BlastRadius)), len(r.Repetitions), r.Reps, shortDuration(r.Duration))

	t := markdownTable{
		header: []string{"phase", "n", "p50 ms", "p95 ms", "max ms"},
		right:  []bool{false, true, true, true, true},
	}
	for _, phase := range r.Phases {
		s, ok := r.Summary[phase]
		if !ok {
			t.rows = append(t.rows, []string{phase, "0", "-", "-", "-"})
			continue
		}
		t.rows = append(t.rows, []string{phase, fmt.Sprint(s.N), msNumber(s.P50), msNumber(s.P95), msNumber(s.Max)})
	}
	if len(t.rows) > 0 {
		b.WriteString("\n")
		t.write(b)
	}

	if r.Verdict == VerdictPass || len(r.Reasons) == 0 {
		return
	}
	fmt.Fprintf(b, "\nWhy %s:\n\n", verdictWord(r.Verdict))
	for _, reason := range r.Reasons {
		b.WriteString("- " + escapeMarkdown(firstLine(reason)) + "\n")
	}
}

func verdictWord(v Verdict) string {
	if v == "" {
		return "UNKNOWN"
	}
	return strings.ToUpper(string(v))
}

func msNumber(d time.Duration) string {
	return fmt.Sprint(d.Milliseconds())
}

// shortDuration formats d in ms below one second and in seconds above, so
// objectives such as 600 s stay short.
func shortDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d%time.Second == 0:
		return fmt.Sprintf("%d s", d/time.Second)
	default:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
}

// markdownTable is a GFM table whose cells are padded to the width of their
// column. Cells are plain text and escaped when written.
type markdownTable struct {
	header []string
	right  []bool // right-align column i
	rows   [][]string
}

func (t markdownTable) write(b *bytes.Buffer) {
	cells := make([][]string, 0, len(t.rows)+1)
	for _, row := range append([][]string{t.header}, t.rows...) {
		escaped := make([]string, len(t.header))
		for i := range escaped {
			if i < len(row) {
				escaped[i] = escapeMarkdown(row[i])
			}
		}
		cells = append(cells, escaped)
	}

	// GFM needs at least three characters in a delimiter cell.
	widths := make([]int, len(t.header))
	for i := range widths {
		widths[i] = 3
		for _, row := range cells {
			widths[i] = max(widths[i], utf8.RuneCountInString(row[i]))
		}
	}

	delimiter := make([]string, len(widths))
	for i, width := range widths {
		if t.right[i] {
			delimiter[i] = strings.Repeat("-", width-1) + ":"
		} else {
			delimiter[i] = strings.Repeat("-", width)
		}
	}

	t.writeRow(b, cells[0], widths)
	b.WriteString("| " + strings.Join(delimiter, " | ") + " |\n")
	for _, row := range cells[1:] {
		t.writeRow(b, row, widths)
	}
}

func (t markdownTable) writeRow(b *bytes.Buffer, row []string, widths []int) {
	padded := make([]string, len(row))
	for i, cell := range row {
		pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
		if t.right[i] {
			padded[i] = pad + cell
		} else {
			padded[i] = cell + pad
		}
	}
	b.WriteString("| " + strings.Join(padded, " | ") + " |\n")
}

// escapeMarkdown makes s literal inline text on one line: newlines become
// spaces, and characters that GFM reads as inline markup get a backslash.
// An underscore is escaped only at a word boundary. Under the emphasis rules
// of CommonMark 0.31.2, which GFM follows, an underscore between two
// letters or digits can neither open nor close emphasis, so names like
// step_down stay readable in a terminal.
func escapeMarkdown(s string) string {
	runes := []rune(strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s))
	var b strings.Builder
	for i, c := range runes {
		switch c {
		case '\\', '`', '*', '|', '<', '[', ']', '&', '~':
			b.WriteByte('\\')
		case '_':
			inWord := i > 0 && i < len(runes)-1 && isWordRune(runes[i-1]) && isWordRune(runes[i+1])
			if !inWord {
				b.WriteByte('\\')
			}
		}
		b.WriteRune(c)
	}
	return b.String()
}

// escapeParagraph escapes s as escapeMarkdown does and also escapes a
// leading character that would start a heading, quote or list.
func escapeParagraph(s string) string {
	escaped := escapeMarkdown(s)
	if escaped != "" && strings.ContainsRune("#>-+", rune(escaped[0])) {
		return "\\" + escaped
	}
	return escaped
}

func isWordRune(c rune) bool {
	return unicode.IsLetter(c) || unicode.IsDigit(c)
}
