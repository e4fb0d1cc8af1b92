package scenarios

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faultline-dev/faultline/raftint"
)

// svgNode is one element of a parsed SVG document.
type svgNode struct {
	name     string
	attr     map[string]string
	text     string // character data directly inside the element
	children []*svgNode
}

// parseSVG decodes data strictly, so the test fails on XML that is not well
// formed, and returns the root element.
func parseSVG(t *testing.T, data []byte) *svgNode {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var stack []*svgNode
	var root *svgNode
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, data)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &svgNode{name: tok.Name.Local, attr: map[string]string{}}
			for _, a := range tok.Attr {
				n.attr[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				root = n
			} else {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tok)
			}
		}
	}
	if root == nil || root.name != "svg" {
		t.Fatalf("root element is not svg:\n%s", data)
	}
	return root
}

// find returns every element below n, n included, for which match is true.
func (n *svgNode) find(match func(*svgNode) bool) []*svgNode {
	var out []*svgNode
	if match(n) {
		out = append(out, n)
	}
	for _, c := range n.children {
		out = append(out, c.find(match)...)
	}
	return out
}

func hasClass(n *svgNode, class string) bool {
	return slices.Contains(strings.Fields(n.attr["class"]), class)
}

func byClass(class string) func(*svgNode) bool {
	return func(n *svgNode) bool { return hasClass(n, class) }
}

// child returns the first direct child called name.
func (n *svgNode) child(name string) *svgNode {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// timelineReport returns a report whose second repetition isolates the
// leader node-2, crashes node-10 and restarts it, with a node named <&>.
func timelineReport() *Report {
	start := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	events := []raftint.Event{
		{At: at(5), Kind: raftint.EventFault, Detail: "r1 node-2→* partition; r2 *→node-2 partition"},
		{At: at(160), Node: "node-2", Kind: raftint.EventState, State: "Follower", Term: 4},
		{At: at(210), Node: "<&>", Kind: raftint.EventState, State: "Candidate", Term: 4},
		{At: at(300), Node: "<&>", Kind: raftint.EventState, State: "Leader", Term: 5},
		{At: at(305), Node: "node-10", Kind: raftint.EventLeader, Leader: "<&>", Term: 5},
		{At: at(1239), Node: "<&>", Kind: raftint.EventWrite, Index: 12},
		{At: at(1240), Kind: raftint.EventHeal, Detail: "r1,r2"},
		{At: at(1300), Kind: raftint.EventCrash, Node: "node-10"},
		{At: at(1301), Node: "node-10", Kind: raftint.EventState, State: "Shutdown", Term: 5},
		{At: at(1800), Kind: raftint.EventRestart, Node: "node-10"},
		{At: at(1850), Node: "<&>", Kind: raftint.EventWrite, Index: 13},
	}
	for i := range events {
		events[i].Seq = uint64(i + 1)
	}
	return &Report{
		Scenario: "leader-isolation",
		Profile:  raftint.ProfileFast,
		Seed:     7,
		Nodes:    3,
		Reps:     3,
		Verdict:  VerdictPass,
		Repetitions: []Repetition{
			{Index: 1, Recovered: true, RTO: 900 * time.Millisecond},
			{Index: 2, Recovered: true, RTO: 1234 * time.Millisecond, Start: start, Events: events},
			{Index: 3, Recovered: true, RTO: 2 * time.Second},
		},
	}
}

func renderSVG(t *testing.T, r *Report, rep Repetition) ([]byte, *svgNode) {
	t.Helper()
	var b bytes.Buffer
	if err := WriteTimelineSVG(&b, r, rep); err != nil {
		t.Fatalf("WriteTimelineSVG: %v", err)
	}
	return b.Bytes(), parseSVG(t, b.Bytes())
}

func TestWriteTimelineSVG(t *testing.T) {
	r := timelineReport()
	data, root := renderSVG(t, r, r.Repetitions[1])

	if width, err := strconv.Atoi(root.attr["width"]); err != nil || width < 900 {
		t.Errorf("width %q, want at least 900 px", root.attr["width"])
	}
	if got := root.attr["xmlns"]; got != "http://www.w3.org/2000/svg" {
		t.Errorf("xmlns %q, want the SVG namespace", got)
	}
	for _, banned := range []string{"<script", "@import", "xlink:href", "<image"} {
		if bytes.Contains(data, []byte(banned)) {
			t.Errorf("SVG contains %q; it must stand alone", banned)
		}
	}

	t.Run("row per node", func(t *testing.T) {
		var labels []string
		for _, row := range root.find(byClass("row")) {
			label := row.find(byClass("row-label"))
			if len(label) != 1 {
				t.Fatalf("row has %d labels, want 1", len(label))
			}
			labels = append(labels, label[0].text)
		}
		want := []string{"<&>", "node-2", "node-10"}
		if !slices.Equal(labels, want) {
			t.Errorf("row labels %q, want %q", labels, want)
		}
		if n := len(root.find(byClass("writes-row"))); n != 1 {
			t.Errorf("%d writes rows, want 1", n)
		}
	})

	t.Run("fault window", func(t *testing.T) {
		windows := root.find(byClass("fault-window"))
		if len(windows) != 1 {
			t.Fatalf("%d fault windows, want 1", len(windows))
		}
		title := windows[0].child("title")
		if title == nil || title.text != "fault window 5–1240 ms" {
			t.Errorf("fault window title %+v, want 5–1240 ms", title)
		}
	})

	t.Run("markers", func(t *testing.T) {
		var kinds []string
		for _, m := range root.find(byClass("marker")) {
			kinds = append(kinds, strings.Fields(m.attr["class"])[1])
		}
		slices.Sort(kinds)
		want := []string{"crash", "fault", "heal", "restart", "rto"}
		if !slices.Equal(kinds, want) {
			t.Errorf("marker kinds %q, want %q", kinds, want)
		}
		labels := root.find(func(n *svgNode) bool { return n.name == "text" && n.text == "RTO 1234 ms" })
		if len(labels) != 1 {
			t.Errorf("%d labels read RTO 1234 ms, want 1", len(labels))
		}
	})

	t.Run("node down between crash and restart", func(t *testing.T) {
		var down []string
		for _, band := range root.find(byClass("down")) {
			down = append(down, band.child("title").text)
		}
		want := []string{"node-10 down, 1300–1800 ms"}
		if !slices.Equal(down, want) {
			t.Errorf("down bands %q, want %q", down, want)
		}
	})

	t.Run("writes", func(t *testing.T) {
		if n := len(root.find(byClass("write"))); n != 2 {
			t.Errorf("%d write ticks, want 2", n)
		}
	})

	t.Run("escaping", func(t *testing.T) {
		if !bytes.Contains(data, []byte("&lt;&amp;&gt;")) {
			t.Error("node name <&> is not escaped")
		}
		if bytes.Contains(data, []byte("<&>")) {
			t.Error("SVG contains the node name <&> unescaped")
		}
	})

	t.Run("title", func(t *testing.T) {
		title := root.find(byClass("title"))
		if len(title) != 1 || title[0].text != "leader-isolation: repetition 2 of 3 (median RTO)" {
			t.Errorf("title %+v, want repetition 2 of 3 (median RTO)", title)
		}
		subtitle := root.find(byClass("subtitle"))
		if len(subtitle) == 0 || !strings.Contains(subtitle[0].text, "profile fast, seed 7") ||
			!strings.Contains(subtitle[0].text, "verdict PASS") {
			t.Errorf("subtitle %+v lacks profile, seed or verdict", subtitle)
		}
	})
}

// TestTimelineLabelsDoNotOverlap puts five markers within 20 ms of each
// other and checks that their labels sit on different lanes.
func TestTimelineLabelsDoNotOverlap(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	rep := Repetition{Index: 1, Recovered: true, RTO: 1005 * time.Millisecond, Start: start, Events: []raftint.Event{
		{Seq: 1, At: at(0), Kind: raftint.EventFault, Detail: "r1"},
		{Seq: 2, At: at(1000), Kind: raftint.EventHeal, Detail: "r1"},
		{Seq: 3, At: at(1010), Kind: raftint.EventCrash, Node: "node-1"},
		{Seq: 4, At: at(1015), Kind: raftint.EventFault, Detail: "r2"},
		{Seq: 5, At: at(1020), Kind: raftint.EventRestart, Node: "node-1"},
	}}
	r := &Report{Scenario: "crowded", Reps: 1, Repetitions: []Repetition{rep}}
	_, root := renderSVG(t, r, rep)

	type box struct{ y, left, right float64 }
	var boxes []box
	for _, g := range root.find(byClass("marker-label")) {
		text := g.child("text")
		x, _ := strconv.ParseFloat(text.attr["x"], 64)
		y, _ := strconv.ParseFloat(text.attr["y"], 64)
		half := textWidth(text.text, 11) / 2
		boxes = append(boxes, box{y, x - half, x + half})
	}
	if len(boxes) != 6 {
		t.Fatalf("%d marker labels, want 6", len(boxes))
	}
	for i, a := range boxes {
		for _, b := range boxes[i+1:] {
			if a.y == b.y && a.left < b.right && b.left < a.right {
				t.Errorf("labels at y=%.0f overlap: [%.0f, %.0f] and [%.0f, %.0f]", a.y, a.left, a.right, b.left, b.right)
			}
		}
	}
}

func TestWriteTimelineSVGWithoutEvents(t *testing.T) {
	cases := []struct {
		name  string
		rep   Repetition
		title string
	}{
		{"no repetition", Repetition{}, "leader-isolation: no repetition ran"},
		{"failed without events", Repetition{Index: 1, Error: "cluster not in steady state"}, "leader-isolation: repetition 1 of 1 (first failed repetition)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{Scenario: "leader-isolation", Reps: 1, Verdict: VerdictFail}
			if tc.rep.Index > 0 {
				r.Repetitions = []Repetition{tc.rep}
			}
			_, root := renderSVG(t, r, tc.rep)
			title := root.find(byClass("title"))
			if len(title) != 1 || title[0].text != tc.title {
				t.Errorf("title %+v, want %q", title, tc.title)
			}
			if n := len(root.find(byClass("row"))); n != 0 {
				t.Errorf("%d node rows, want 0", n)
			}
		})
	}
}

func TestPickRepetition(t *testing.T) {
	ok := func(i int, rto time.Duration) Repetition { return Repetition{Index: i, Recovered: true, RTO: rto} }
	cases := []struct {
		name string
		reps []Repetition
		want int // Index of the picked repetition; 0 for none
	}{
		{"none", nil, 0},
		{"odd count takes the median", []Repetition{ok(1, 300), ok(2, 100), ok(3, 200)}, 3},
		{"even count takes the lower middle", []Repetition{ok(1, 400), ok(2, 100), ok(3, 300), ok(4, 200)}, 4},
		{"equal RTOs keep index order", []Repetition{ok(1, 100), ok(2, 100), ok(3, 100)}, 2},
		{"first not recovered", []Repetition{ok(1, 100), {Index: 2}, {Index: 3}}, 2},
		{"violation counts as failed", []Repetition{ok(1, 100), {Index: 2, Recovered: true, Violations: []string{"lost write"}}}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, found := pickRepetition(&Report{Repetitions: tc.reps})
			if found != (tc.want != 0) || rep.Index != tc.want {
				t.Errorf("pickRepetition = repetition %d (found %v), want %d", rep.Index, found, tc.want)
			}
		})
	}
}

func TestWriteSVGs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "svg")
	passing := timelineReport()
	failing := timelineReport()
	failing.Repetitions[2].Recovered = false
	failing.Verdict = VerdictFail
	odd := &Report{Scenario: "../odd name", Reps: 1}

	paths, err := WriteSVGs(dir, []*Report{passing, failing, odd})
	if err != nil {
		t.Fatalf("WriteSVGs: %v", err)
	}
	want := []struct{ file, title string }{
		{"leader-isolation.svg", "leader-isolation: repetition 2 of 3 (median RTO)"},
		{"leader-isolation-2.svg", "leader-isolation: repetition 3 of 3 (first failed repetition)"},
		{"_odd_name.svg", "../odd name: no repetition ran"},
	}
	if len(paths) != len(want) {
		t.Fatalf("WriteSVGs wrote %q, want %d files", paths, len(want))
	}
	for i, w := range want {
		if paths[i] != filepath.Join(dir, w.file) {
			t.Errorf("path %d = %s, want %s", i, paths[i], filepath.Join(dir, w.file))
			continue
		}
		data, err := os.ReadFile(paths[i])
		if err != nil {
			t.Fatal(err)
		}
		title := parseSVG(t, data).find(byClass("title"))
		if len(title) != 1 || title[0].text != w.title {
			t.Errorf("%s: title %+v, want %q", w.file, title, w.title)
		}
	}
}

func TestInitialLeader(t *testing.T) {
	state := func(node, s string, term uint64) raftint.Event {
		return raftint.Event{Node: node, Kind: raftint.EventState, State: s, Term: term}
	}
	cases := []struct {
		name   string
		events []raftint.Event
		want   string
	}{
		{"first change to follower", []raftint.Event{state("n1", "Candidate", 3), state("n2", "Follower", 3)}, "n2"},
		{"write before the first change", []raftint.Event{
			{Node: "n3", Kind: raftint.EventWrite, Index: 7},
			{Node: "n3", Kind: raftint.EventCrash},
			state("n1", "Candidate", 3),
			state("n1", "Leader", 4),
			{Node: "n1", Kind: raftint.EventWrite, Index: 8},
		}, "n3"},
		{"write after a change is no clue", []raftint.Event{
			state("n1", "Candidate", 3),
			state("n1", "Leader", 4),
			{Node: "n1", Kind: raftint.EventWrite, Index: 8},
		}, ""},
		{"heartbeat failure in the first term", []raftint.Event{
			{Node: "n3", Kind: raftint.EventHeartbeatFailed, Peer: "n1", Term: 3},
			state("n1", "Candidate", 3),
		}, "n3"},
		{"leader event in the first term", []raftint.Event{
			{Node: "n1", Kind: raftint.EventLeader, Leader: "n2", Term: 3},
			{Node: "n1", Kind: raftint.EventLeader, Leader: "n1", Term: 4},
		}, "n2"},
		{"no clue", []raftint.Event{{Kind: raftint.EventCrash, Node: "n1"}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			timed := make([]timedEvent, len(tc.events))
			for i, e := range tc.events {
				timed[i] = timedEvent{Event: e, at: time.Duration(i) * time.Millisecond}
			}
			if got, _ := initialLeader(timed); got != tc.want {
				t.Errorf("initialLeader = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCompareNodeIDs(t *testing.T) {
	ids := []string{"node-10", "b", "node-2", "node-1", "a", "node-02"}
	slices.SortFunc(ids, compareNodeIDs)
	want := []string{"a", "b", "node-1", "node-2", "node-02", "node-10"}
	if !slices.Equal(ids, want) {
		t.Errorf("sorted %q, want %q", ids, want)
	}
}

func TestBuildTimelineWithoutKnownLeader(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	rep := Repetition{Index: 1, Start: start, Events: []raftint.Event{
		{Seq: 1, At: at(10), Kind: raftint.EventCrash, Node: "n1"},
		{Seq: 2, At: at(100), Kind: raftint.EventState, Node: "n2", State: "Candidate", Term: 3},
		{Seq: 3, At: at(150), Kind: raftint.EventVoteRequest, Node: "n3", Peer: "n2", Term: 4},
	}}
	tl := buildTimeline(rep)

	cases := []struct {
		node string
		want []stateBand
	}{
		{"n1", []stateBand{{0, 10 * time.Millisecond, stateUnknown, 0}, {10 * time.Millisecond, 150 * time.Millisecond, stateDown, 0}}},
		{"n2", []stateBand{{0, 100 * time.Millisecond, stateFollower, 0}, {100 * time.Millisecond, 150 * time.Millisecond, stateCandidate, 3}}},
		{"n3", []stateBand{{0, 150 * time.Millisecond, stateUnknown, 0}}},
	}
	for _, tc := range cases {
		t.Run(tc.node, func(t *testing.T) {
			if got := tl.bands[tc.node]; !slices.Equal(got, tc.want) {
				t.Errorf("bands %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestTimelineMergesCloseMarkers(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var events []raftint.Event
	for i, node := range []string{"n1", "n2", "n3"} {
		events = append(events, raftint.Event{Seq: uint64(i + 1), At: start.Add(time.Duration(i) * time.Millisecond), Kind: raftint.EventCrash, Node: node})
	}
	events = append(events, raftint.Event{Seq: 4, At: start.Add(5 * time.Second), Kind: raftint.EventRestart, Node: "n1"})
	rep := Repetition{Index: 1, Start: start, Events: events}
	_, root := renderSVG(t, &Report{Scenario: "restart", Reps: 1, Repetitions: []Repetition{rep}}, rep)

	crashes := root.find(byClass("crash"))
	var labels []string
	lines := 0
	for _, g := range crashes {
		if hasClass(g, "marker-label") {
			labels = append(labels, g.child("text").text)
		}
		if hasClass(g, "marker") {
			lines += len(g.find(func(n *svgNode) bool { return n.name == "line" }))
		}
	}
	if want := []string{"crash n1, n2, n3"}; !slices.Equal(labels, want) {
		t.Errorf("crash labels %q, want %q", labels, want)
	}
	if lines != 3 {
		t.Errorf("%d crash lines, want 3", lines)
	}
	if n := len(root.find(byClass("restart"))); n != 2 {
		t.Errorf("%d restart groups, want a marker and a label", n)
	}
}
