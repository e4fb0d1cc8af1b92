package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// WriteSVGs writes one timeline SVG per report into dir, creating dir if
// needed, and returns the paths written. Each file is named after its
// scenario (<scenario>.svg, with characters unsafe in file names replaced)
// and shows the first failed repetition or, when none failed, the one with
// the median RTO. A report without repetitions still gets a file, whose
// title states that no repetition ran.
func WriteSVGs(dir string, reports []*Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("scenarios: write svg: %w", err)
	}

	var paths []string
	used := map[string]bool{}
	for i, r := range reports {
		if r == nil {
			return paths, fmt.Errorf("scenarios: write svg: report %d of %d is nil; pass only reports that Run returned", i, len(reports))
		}
		name := uniqueName(svgFileBase(r.Scenario), used)
		rep, _ := pickRepetition(r)

		var b bytes.Buffer
		if err := WriteTimelineSVG(&b, r, rep); err != nil {
			return paths, err
		}
		path := filepath.Join(dir, name+".svg")
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			return paths, fmt.Errorf("scenarios: write svg: %w", err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// pickRepetition returns the repetition that a report's timeline shows: the
// first failed one, or else the one with the median RTO. With an even number
// of repetitions it takes the lower of the two middle ones. It returns false
// when the report has no repetitions.
func pickRepetition(r *Report) (Repetition, bool) {
	if len(r.Repetitions) == 0 {
		return Repetition{}, false
	}
	for _, rep := range r.Repetitions {
		if repetitionFailed(rep) {
			return rep, true
		}
	}
	sorted := slices.Clone(r.Repetitions)
	slices.SortStableFunc(sorted, func(a, b Repetition) int {
		switch {
		case a.RTO < b.RTO:
			return -1
		case a.RTO > b.RTO:
			return 1
		}
		return a.Index - b.Index
	})
	return sorted[(len(sorted)-1)/2], true
}

func repetitionFailed(rep Repetition) bool {
	return !rep.Recovered || len(rep.Violations) > 0
}

// repetitionRole names why a timeline shows rep, for its title.
func repetitionRole(r *Report, rep Repetition) string {
	picked, ok := pickRepetition(r)
	switch {
	case !ok || picked.Index != rep.Index:
		if repetitionFailed(rep) {
			return "failed"
		}
		return ""
	case repetitionFailed(rep):
		return "first failed repetition"
	default:
		return "median RTO"
	}
}

// svgFileBase keeps letters, digits, dot, dash and underscore of a scenario
// name, replaces every other character with an underscore, and drops
// leading dots.
func svgFileBase(name string) string {
	base := strings.Map(func(c rune) rune {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
			return c
		}
		return '_'
	}, name)
	// A leading dot would hide the file.
	base = strings.TrimLeft(base, ".")
	if base == "" {
		return "scenario"
	}
	return base
}

// uniqueName returns base, or base-2, base-3 and so on when base is taken.
func uniqueName(base string, used map[string]bool) string {
	name := base
	for n := 2; used[name]; n++ {
		name = fmt.Sprintf("%s-%d", base, n)
	}
	used[name] = true
	return name
}

// WriteTimelineSVG draws one repetition of r as an SVG 1.1 image. Each node
// gets a row that shows its raft state over time: leader, follower,
// candidate, or down from a crash to its restart. Fault windows are shaded
// across all rows, and vertical markers show faults, heals, crashes,
// restarts and the RTO. A last row has a tick per acknowledged write. A
// legend follows, and the title names the scenario, profile, seed,
// repetition and verdict. Times are in ms from rep.Start. The image uses no
// scripts, external fonts or other files.
func WriteTimelineSVG(w io.Writer, r *Report, rep Repetition) error {
	if r == nil {
		return errors.New("scenarios: write svg: report is nil")
	}
	tl := buildTimeline(rep)
	var b bytes.Buffer
	newSVGLayout(r, rep, tl).render(&b)
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("scenarios: write svg: %w", err)
	}
	return nil
}

// svgTitle returns the title and subtitle lines of a timeline.
func svgTitle(r *Report, rep Repetition) (string, []string) {
	if rep.Index == 0 {
		return r.Scenario + ": no repetition ran", []string{svgRunLine(r)}
	}
	title := fmt.Sprintf("%s: repetition %d of %d", r.Scenario, rep.Index, r.Reps)
	if role := repetitionRole(r, rep); role != "" {
		title += " (" + role + ")"
	}

	status := "recovered, RTO " + ms(rep.RTO)
	if !rep.Recovered {
		status = "not recovered"
	}
	lines := []string{svgRunLine(r) + ", repetition " + status}
	if rep.Error != "" {
		lines = append(lines, "error: "+firstLine(rep.Error))
	}
	for _, v := range rep.Violations {
		lines = append(lines, "safety violation: "+firstLine(v))
	}
	return title, lines
}

func svgRunLine(r *Report) string {
	return fmt.Sprintf("profile %s, seed %d, %d nodes, verdict %s", r.Profile, r.Seed, r.Nodes, verdictWord(r.Verdict))
}

// niceStep returns a tick step of 1, 2 or 5 times a power of ten that
// splits span into at most maxTicks intervals.
func niceStep(span time.Duration, maxTicks int) time.Duration {
	step := time.Millisecond
	for {
		for _, m := range []time.Duration{1, 2, 5} {
			if span/(step*m) < time.Duration(maxTicks) {
				return step * m
			}
		}
		step *= 10
	}
}
