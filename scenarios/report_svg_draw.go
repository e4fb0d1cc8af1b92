package scenarios

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Sizes of the timeline image, in px.
const (
	svgWidth       = 1000
	svgMargin      = 16
	svgRowHeight   = 28
	svgBandHeight  = 18
	svgLaneHeight  = 14
	svgLegendLine  = 20
	svgNoteLine    = 15
	svgMaxLabel    = 24 // runes of a node name shown before an ellipsis
	svgMaxNotes    = 8  // fault and heal details listed under the legend
	svgCharWidth   = 0.62
	svgMinAxisSpan = 10 * time.Millisecond
	// svgMergeDistance is how close, in px, markers of one kind must be to
	// share a label.
	svgMergeDistance = 6
)

// svgColor returns the fill of a state or the stroke of a marker kind.
func svgColor(kind string) string {
	switch kind {
	case string(stateLeader):
		return "#2e7d32"
	case string(stateFollower):
		return "#90caf9"
	case string(stateCandidate):
		return "#ffa000"
	case string(stateDown):
		return "#424242"
	case "fault":
		return "#c62828"
	case "heal":
		return "#00897b"
	case "crash":
		return "#000000"
	case "restart":
		return "#6a1b9a"
	case "rto":
		return "#d81b60"
	case "write":
		return "#37474f"
	}
	return "#e0e0e0" // unknown states
}

// textWidth estimates the width of text in a sans-serif font of size px.
// No font metrics are at hand, so it assumes a wide average glyph.
func textWidth(text string, size float64) float64 {
	return float64(utf8.RuneCountInString(text)) * size * svgCharWidth
}

// svgLayout holds the positions that the drawing steps share.
type svgLayout struct {
	title      string
	subtitles  []string
	tl         repTimeline
	rowLabels  []string
	plotLeft   float64
	plotRight  float64
	plotTop    float64
	plotBottom float64
	span, step time.Duration
	groups     []markerGroup
	legendTop  float64
	legendRows int
	notes      []string
	height     float64
}

func newSVGLayout(r *Report, rep Repetition, tl repTimeline) *svgLayout {
	l := &svgLayout{tl: tl}
	l.title, l.subtitles = svgTitle(r, rep)

	labelWidth := textWidth("writes", 12)
	for _, node := range tl.nodes {
		label := truncateRunes(node, svgMaxLabel)
		l.rowLabels = append(l.rowLabels, label)
		labelWidth = max(labelWidth, textWidth(label, 12))
	}
	l.plotLeft = svgMargin + labelWidth + 12
	l.plotRight = svgWidth - svgMargin - 8

	end := max(tl.end, svgMinAxisSpan)
	l.step = niceStep(end, 10)
	l.span = (end + l.step - 1) / l.step * l.step

	l.groupMarkers()
	lanes := l.placeLabels()
	l.plotTop = 30 + float64(len(l.subtitles))*16 + 10 + float64(lanes)*svgLaneHeight + 6
	l.plotBottom = l.plotTop + float64(len(tl.nodes)+1)*svgRowHeight
	l.legendTop = l.plotBottom + 52
	_, l.legendRows = l.legendItems()
	l.notes = l.noteLines()
	l.height = l.legendTop + float64(l.legendRows)*svgLegendLine + float64(len(l.notes))*svgNoteLine + 12
	return l
}

// x maps a time since the start to a horizontal position.
func (l *svgLayout) x(d time.Duration) float64 {
	return l.plotLeft + (l.plotRight-l.plotLeft)*float64(d)/float64(l.span)
}

// noteLines lists the details of faults and heals, shortened to the width.
func (l *svgLayout) noteLines() []string {
	var notes []string
	width := float64(svgWidth - 2*svgMargin)
	maxRunes := int(width / (11 * svgCharWidth))
	for _, m := range l.tl.markers {
		if m.detail == "" {
			continue
		}
		if len(notes) == svgMaxNotes {
			notes = append(notes, "and more faults and heals not listed")
			break
		}
		notes = append(notes, truncateRunes(fmt.Sprintf("%s at %d ms: %s", m.kind, m.at.Milliseconds(), m.detail), maxRunes))
	}
	return notes
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// esc escapes text for XML character data and attribute values.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // strings.Builder.Write always returns a nil error
	return b.String()
}

func (l *svgLayout) render(b *bytes.Buffer) {
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="%d" height="%.0f" viewBox="0 0 %d %.0f" font-family="sans-serif" font-size="12">`+"\n",
		svgWidth, l.height, svgWidth, l.height)
	fmt.Fprintf(b, "<title>%s</title>\n", esc(l.title+"; "+l.subtitles[0]))
	fmt.Fprintf(b, "<desc>%s</desc>\n", esc(strings.Join(l.subtitles, "; ")))
	fmt.Fprintf(b, `<rect x="0" y="0" width="%d" height="%.0f" fill="#ffffff"/>`+"\n", svgWidth, l.height)

	fmt.Fprintf(b, `<text class="title" x="%d" y="24" font-size="16" font-weight="bold">%s</text>`+"\n", svgMargin, esc(l.title))
	for i, line := range l.subtitles {
		fmt.Fprintf(b, `<text class="subtitle" x="%d" y="%d" fill="#424242">%s</text>`+"\n", svgMargin, 42+16*i, esc(line))
	}

	l.drawRowBackgrounds(b)
	l.drawWindows(b)
	l.drawAxis(b)
	l.drawRows(b)
	l.drawMarkers(b)
	l.drawLegend(b)
	for i, note := range l.notes {
		y := l.legendTop + float64(l.legendRows)*svgLegendLine + float64(i)*svgNoteLine + 4
		fmt.Fprintf(b, `<text class="note" x="%d" y="%.1f" font-size="11" fill="#424242">%s</text>`+"\n", svgMargin, y, esc(note))
	}
	b.WriteString("</svg>\n")
}

// drawRowBackgrounds stripes every other row, so a row can be followed
// across the image.
func (l *svgLayout) drawRowBackgrounds(b *bytes.Buffer) {
	for i := range len(l.tl.nodes) + 1 {
		if i%2 == 0 {
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="#f5f5f5"/>`+"\n",
				float64(svgMargin), l.rowTop(i), l.plotRight-svgMargin, svgRowHeight)
		}
	}
}

// drawRows draws a row per node with its state bands, then the writes row.
// It draws over the fault windows and the grid, so bands keep the colors
// of the legend.
func (l *svgLayout) drawRows(b *bytes.Buffer) {
	for i, node := range l.tl.nodes {
		mid := l.rowTop(i) + svgRowHeight/2
		fmt.Fprintf(b, `<g class="row">`+"\n")
		fmt.Fprintf(b, `<text class="row-label" x="%.1f" y="%.1f" text-anchor="end"><title>%s</title>%s</text>`+"\n",
			l.plotLeft-12, mid+4, esc(node), esc(l.rowLabels[i]))
		for _, band := range l.tl.bands[node] {
			x0, x1 := l.x(band.from), l.x(band.to)
			fmt.Fprintf(b, `<rect class="band %s" x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s"><title>%s</title></rect>`+"\n",
				band.state, x0, mid-svgBandHeight/2, max(x1-x0, 0.5), svgBandHeight, svgColor(string(band.state)), esc(bandTitle(node, band)))
			if band.state == stateLeader && band.term > 0 {
				label := fmt.Sprintf("term %d", band.term)
				if textWidth(label, 11)+8 <= x1-x0 {
					fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="11" fill="#ffffff">%s</text>`+"\n", x0+4, mid+4, label)
				}
			}
		}
		b.WriteString("</g>\n")
	}

	mid := l.rowTop(len(l.tl.nodes)) + svgRowHeight/2
	fmt.Fprintf(b, `<g class="writes-row">`+"\n")
	fmt.Fprintf(b, `<text class="row-label" x="%.1f" y="%.1f" text-anchor="end" font-style="italic">writes</text>`+"\n", l.plotLeft-12, mid+4)
	for _, at := range l.tl.writes {
		x := l.x(at)
		fmt.Fprintf(b, `<line class="write" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1"/>`+"\n",
			x, mid-6, x, mid+6, svgColor("write"))
	}
	b.WriteString("</g>\n")
}

func (l *svgLayout) rowTop(i int) float64 {
	return l.plotTop + float64(i)*svgRowHeight
}

// drawWindows shades each fault window over every row.
func (l *svgLayout) drawWindows(b *bytes.Buffer) {
	for _, w := range l.tl.windows {
		x0, x1 := l.x(w.from), l.x(w.to)
		fmt.Fprintf(b, `<rect class="fault-window" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.2"><title>fault window %d–%d ms</title></rect>`+"\n",
			x0, l.plotTop, max(x1-x0, 1), l.plotBottom-l.plotTop, svgColor("fault"), w.from.Milliseconds(), w.to.Milliseconds())
	}
}

// drawAxis draws the time axis below the rows with a grid line per tick.
func (l *svgLayout) drawAxis(b *bytes.Buffer) {
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#616161"/>`+"\n", l.plotLeft, l.plotBottom, l.plotRight, l.plotBottom)
	for t := time.Duration(0); t <= l.span; t += l.step {
		x := l.x(t)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#bdbdbd" stroke-dasharray="2,3"/>`+"\n", x, l.plotTop, x, l.plotBottom)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#616161"/>`+"\n", x, l.plotBottom, x, l.plotBottom+4)
		fmt.Fprintf(b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle" font-size="11">%d</text>`+"\n", x, l.plotBottom+16, t.Milliseconds())
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#424242">ms since the repetition started</text>`+"\n",
		(l.plotLeft+l.plotRight)/2, l.plotBottom+32)
}

// legendItem is one entry of the legend: a filled swatch or a line sample.
type legendItem struct {
	label string
	color string
	line  bool
	// newLine starts a legend line, so states and markers stay apart.
	newLine bool
	x, y    float64
}

// legendItems lays the legend out in lines that fit the width and returns
// the items and the number of lines.
func (l *svgLayout) legendItems() ([]legendItem, int) {
	items := []legendItem{
		{label: "leader", color: svgColor(string(stateLeader))},
		{label: "follower", color: svgColor(string(stateFollower))},
		{label: "candidate", color: svgColor(string(stateCandidate))},
		{label: "down (crash to restart)", color: svgColor(string(stateDown))},
		{label: "unknown", color: svgColor(string(stateUnknown))},
		{label: "fault window", color: svgColor("fault")},
		{label: "fault", color: svgColor("fault"), line: true, newLine: true},
		{label: "heal", color: svgColor("heal"), line: true},
		{label: "crash", color: svgColor("crash"), line: true},
		{label: "restart", color: svgColor("restart"), line: true},
		{label: "RTO", color: svgColor("rto"), line: true},
		{label: "acknowledged write", color: svgColor("write"), line: true},
	}
	x, line := float64(svgMargin), 0
	for i := range items {
		width := 18 + textWidth(items[i].label, 12) + 18
		if (items[i].newLine || x+width > svgWidth-svgMargin) && x > svgMargin {
			x, line = svgMargin, line+1
		}
		items[i].x, items[i].y = x, l.legendTop+float64(line)*svgLegendLine
		x += width
	}
	return items, line + 1
}

func (l *svgLayout) drawLegend(b *bytes.Buffer) {
	b.WriteString(`<g class="legend">` + "\n")
	items, _ := l.legendItems()
	for _, it := range items {
		switch {
		case it.line:
			dash := ""
			if it.label == "RTO" {
				dash = ` stroke-dasharray="4,2"`
			}
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/>`+"\n",
				it.x+7, it.y-10, it.x+7, it.y+2, it.color, dash)
		case it.label == "fault window":
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="14" height="12" fill="%s" fill-opacity="0.15" stroke="%s" stroke-opacity="0.4"/>`+"\n",
				it.x, it.y-10, it.color, it.color)
		default:
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="14" height="12" fill="%s"/>`+"\n", it.x, it.y-10, it.color)
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", it.x+18, it.y, esc(it.label))
	}
	b.WriteString("</g>\n")
}
