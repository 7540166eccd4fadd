package export

import (
	"math"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// This file places the labels of contour lines: where along a line the
// level is written, and the gaps cut in the line for it.

// label is a contour label: its centre and its angle in radians.
type label struct {
	at    vg.Point
	angle float64
}

// labelSpacing is the least distance along a contour line between two of
// its labels.
const labelSpacing = 150

// placeLabels chooses where to write txt along the polyline pts (canvas
// coordinates): about one label per labelSpacing of length, on stretches
// straight enough to carry the text, inside the canvas and clear of the
// labels placed before. It returns the arc-length intervals to leave
// unstroked and the labels, and adds their boxes to placed.
func placeLabels(c draw.Canvas, pts []vg.Point, sty draw.TextStyle, txt string, placed *[]vg.Rectangle) (gaps [][2]vg.Length, labels []label) {
	s := arcLengths(pts)
	total := s[len(s)-1]
	w, h := sty.Width(txt), sty.Height(txt)
	if total < 3*w {
		return nil, nil
	}
	n := max(1, int(total/labelSpacing))
	for k := range n {
		// Try the middle of each stretch first, then points on either side.
		for _, off := range []float64{0.5, 0.35, 0.65, 0.2, 0.8} {
			mid := vg.Length((float64(k) + off) / float64(n) * float64(total))
			if mid-w/2 < 0 || mid+w/2 > total {
				continue
			}
			a, b := pointAt(pts, s, mid-w/2), pointAt(pts, s, mid+w/2)
			chord := math.Hypot(float64(b.X-a.X), float64(b.Y-a.Y))
			if chord < 0.9*float64(w) {
				continue // too curved here
			}
			centre := pointAt(pts, s, mid)
			r := vg.Length(math.Max(float64(w), float64(h))/2 + 1)
			box := vg.Rectangle{Min: vg.Point{X: centre.X - r, Y: centre.Y - r}, Max: vg.Point{X: centre.X + r, Y: centre.Y + r}}
			if !contains(c.Rectangle, box) || overlapsAny(box, *placed) {
				continue
			}
			angle := math.Atan2(float64(b.Y-a.Y), float64(b.X-a.X))
			if angle > math.Pi/2 {
				angle -= math.Pi
			} else if angle < -math.Pi/2 {
				angle += math.Pi
			}
			*placed = append(*placed, box)
			labels = append(labels, label{centre, angle})
			gaps = append(gaps, [2]vg.Length{mid - w/2 - 2, mid + w/2 + 2})
			break
		}
	}
	return gaps, labels
}

// arcLengths returns the distance along pts from its start to each point.
func arcLengths(pts []vg.Point) []vg.Length {
	s := make([]vg.Length, len(pts))
	for i := 1; i < len(pts); i++ {
		s[i] = s[i-1] + vg.Length(math.Hypot(float64(pts[i].X-pts[i-1].X), float64(pts[i].Y-pts[i-1].Y)))
	}
	return s
}

// pointAt returns the point at arc length d along pts, whose arc lengths
// are s.
func pointAt(pts []vg.Point, s []vg.Length, d vg.Length) vg.Point {
	i := 1
	for i < len(pts)-1 && s[i] < d {
		i++
	}
	seg := s[i] - s[i-1]
	if seg <= 0 {
		return pts[i]
	}
	w := (d - s[i-1]) / seg
	return vg.Point{X: pts[i-1].X + w*(pts[i].X-pts[i-1].X), Y: pts[i-1].Y + w*(pts[i].Y-pts[i-1].Y)}
}

// cutPolyline returns the pieces of pts outside the arc-length intervals
// gaps, which are ascending and disjoint.
func cutPolyline(pts []vg.Point, gaps [][2]vg.Length) [][]vg.Point {
	if len(gaps) == 0 {
		return [][]vg.Point{pts}
	}
	s := arcLengths(pts)
	var pieces [][]vg.Point
	from := vg.Length(0)
	for _, g := range append(gaps, [2]vg.Length{s[len(s)-1], s[len(s)-1]}) {
		to := min(g[0], s[len(s)-1])
		if to > from {
			piece := []vg.Point{pointAt(pts, s, from)}
			for i, d := range s {
				if d > from && d < to {
					piece = append(piece, pts[i])
				}
			}
			pieces = append(pieces, append(piece, pointAt(pts, s, to)))
		}
		from = max(from, g[1])
	}
	return pieces
}

func contains(outer, inner vg.Rectangle) bool {
	return inner.Min.X >= outer.Min.X && inner.Min.Y >= outer.Min.Y && inner.Max.X <= outer.Max.X && inner.Max.Y <= outer.Max.Y
}

func overlapsAny(r vg.Rectangle, rs []vg.Rectangle) bool {
	for _, o := range rs {
		if r.Min.X < o.Max.X && o.Min.X < r.Max.X && r.Min.Y < o.Max.Y && o.Min.Y < r.Max.Y {
			return true
		}
	}
	return false
}
