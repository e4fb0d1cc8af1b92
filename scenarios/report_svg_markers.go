package scenarios

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// markerGroup is one marker, or several of one kind drawn so close
// together that they share a label. Lane 0 is the lowest above the rows.
type markerGroup struct {
	kind    string
	markers []timelineMarker
	xs      []float64 // the marker lines
	label   string
	centerX float64 // the label, kept inside the plot
	lane    int
}

// groupMarkers joins markers of one kind, other than the RTO, whose lines
// fall within svgMergeDistance of the previous one, so a cluster restart
// gets one crash label instead of a tall stack.
func (l *svgLayout) groupMarkers() {
	for _, m := range l.tl.markers {
		x := l.x(m.at)
		if n := len(l.groups); n > 0 {
			last := &l.groups[n-1]
			if last.kind == m.kind && m.kind != "rto" && x-last.xs[len(last.xs)-1] <= svgMergeDistance {
				last.markers = append(last.markers, m)
				last.xs = append(last.xs, x)
				continue
			}
		}
		l.groups = append(l.groups, markerGroup{kind: m.kind, markers: []timelineMarker{m}, xs: []float64{x}})
	}

	for i := range l.groups {
		g := &l.groups[i]
		switch {
		case len(g.markers) == 1:
			g.label = g.markers[0].label
		case g.kind == "crash" || g.kind == "restart":
			nodes := make([]string, len(g.markers))
			for j, m := range g.markers {
				nodes[j] = m.node
			}
			g.label = g.kind + " " + strings.Join(nodes, ", ")
		default:
			g.label = fmt.Sprintf("%s ×%d", g.kind, len(g.markers))
		}
	}
}

// placeLabels puts each group's label on the lowest lane where it does not
// overlap a label to its left, and returns the number of lanes used.
func (l *svgLayout) placeLabels() int {
	const gap = 6
	var laneEnds []float64
	for i := range l.groups {
		g := &l.groups[i]
		half := textWidth(g.label, 11) / 2
		mid := (g.xs[0] + g.xs[len(g.xs)-1]) / 2
		g.centerX = min(max(mid, l.plotLeft+half), l.plotRight-half)
		for g.lane < len(laneEnds) && laneEnds[g.lane]+gap > g.centerX-half {
			g.lane++
		}
		if g.lane == len(laneEnds) {
			laneEnds = append(laneEnds, 0)
		}
		laneEnds[g.lane] = g.centerX + half
	}
	return len(laneEnds)
}

// drawMarkers draws each marker line from its label's lane to the bottom of
// the rows, then the labels on white boxes, so a line that passes a lower
// label does not cross its text. RTO markers come last, so that the RTO
// stays visible where it meets a heal.
func (l *svgLayout) drawMarkers(b *bytes.Buffer) {
	ordered := slices.Clone(l.groups)
	slices.SortStableFunc(ordered, func(a, b markerGroup) int {
		return cmp.Compare(boolInt(a.kind == "rto"), boolInt(b.kind == "rto"))
	})
	for _, g := range ordered {
		dash := ""
		if g.kind == "rto" {
			dash = ` stroke-dasharray="5,3"`
		}
		fmt.Fprintf(b, `<g class="marker %s">`+"\n", g.kind)
		fmt.Fprintf(b, "<title>%s</title>\n", esc(groupTitle(g)))
		for _, x := range g.xs {
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5"%s/>`+"\n",
				x, l.labelY(g)+3, x, l.plotBottom, svgColor(g.kind), dash)
		}
		b.WriteString("</g>\n")
	}
	for _, g := range l.groups {
		width := textWidth(g.label, 11)
		y := l.labelY(g)
		fmt.Fprintf(b, `<g class="marker-label %s">`+"\n", g.kind)
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="12" fill="#ffffff"/>`+"\n", g.centerX-width/2-1, y-10, width+2)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="11" fill="%s">%s</text>`+"\n",
			g.centerX, y, svgColor(g.kind), esc(g.label))
		b.WriteString("</g>\n")
	}
}

// groupTitle lists the time, label and detail of every marker of g.
func groupTitle(g markerGroup) string {
	parts := make([]string, len(g.markers))
	for i, m := range g.markers {
		parts[i] = fmt.Sprintf("%s at %d ms", m.label, m.at.Milliseconds())
		if m.detail != "" {
			parts[i] += ": " + m.detail
		}
	}
	return strings.Join(parts, "; ")
}

// labelY returns the baseline of a marker label.
func (l *svgLayout) labelY(g markerGroup) float64 {
	return l.plotTop - 6 - float64(g.lane)*svgLaneHeight
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}
