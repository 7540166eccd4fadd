package export

import (
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// This file holds the geometry of contours and the plotters that draw them.
//
// Each grid cell whose four corners are finite is split into four triangles
// that meet at its centre, given the mean of the corners, and the metric is
// taken to be linear on each triangle. Contour lines, filled bands and the
// basin area of [Field.Basin] all come from this one piecewise linear
// surface, so the lines bound the bands exactly, and saddle cells are
// resolved by the centre value. Cells with a NaN or infinite corner are
// missing: nothing is drawn or counted in them, and the plots fill them
// grey.

// vertex is a point of the piecewise linear surface.
type vertex struct{ x, y, z float64 }

// edgeKey names an edge of the triangulation, so that the crossings of a
// contour level with it can be matched without comparing coordinates. Kind
// 0 is the grid edge from point (i, j) to (i+1, j), kind 1 the one from
// (i, j) to (i, j+1), and kinds 2 to 5 the edges from the corners of cell
// (i, j), counter-clockwise from (i, j), to its centre.
type edgeKey struct {
	kind uint8
	i, j int32
}

// triangle is one of the four triangles of a cell, with the keys of its
// edges v[0]v[1], v[1]v[2] and v[2]v[0].
type triangle struct {
	v [3]vertex
	e [3]edgeKey
}

// cellTriangles returns the four triangles of cell (ix, iy), or false if a
// corner of the cell is not finite.
func (f *Field) cellTriangles(ix, iy int, dst *[4]triangle) bool {
	z00, z10 := f.Z[iy][ix], f.Z[iy][ix+1]
	z01, z11 := f.Z[iy+1][ix], f.Z[iy+1][ix+1]
	if !finite(z00) || !finite(z10) || !finite(z01) || !finite(z11) {
		return false
	}
	x0, x1, y0, y1 := f.X[ix], f.X[ix+1], f.Y[iy], f.Y[iy+1]
	c := [4]vertex{{x0, y0, z00}, {x1, y0, z10}, {x1, y1, z11}, {x0, y1, z01}}
	m := vertex{(x0 + x1) / 2, (y0 + y1) / 2, (z00 + z10 + z01 + z11) / 4}
	i, j := int32(ix), int32(iy)
	outer := [4]edgeKey{{0, i, j}, {1, i + 1, j}, {0, i, j + 1}, {1, i, j}}
	for k := range 4 {
		dst[k] = triangle{
			v: [3]vertex{c[k], c[(k+1)%4], m},
			e: [3]edgeKey{outer[k], {uint8(2 + (k+1)%4), i, j}, {uint8(2 + k), i, j}},
		}
	}
	return true
}

// cellRange returns the least and greatest corner of cell (ix, iy), and
// false if one is not finite.
func (f *Field) cellRange(ix, iy int) (lo, hi float64, ok bool) {
	zs := [4]float64{f.Z[iy][ix], f.Z[iy][ix+1], f.Z[iy+1][ix], f.Z[iy+1][ix+1]}
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, z := range zs {
		if !finite(z) {
			return 0, 0, false
		}
		lo, hi = math.Min(lo, z), math.Max(hi, z)
	}
	return lo, hi, true
}

// polyline is a contour line in data coordinates.
type polyline struct {
	x, y   []float64
	closed bool
}

// contourLines returns the contour lines of f at level, each one a chain
// of segments joined through the edges they share.
func (f *Field) contourLines(level float64) []polyline {
	type segment struct {
		p [2][2]float64
		k [2]edgeKey
	}
	var segs []segment
	at := map[edgeKey][2]int32{} // the (at most two) segments through an edge, plus one
	link := func(k edgeKey, s int) {
		e := at[k]
		if e[0] == 0 {
			e[0] = int32(s + 1)
		} else {
			e[1] = int32(s + 1)
		}
		at[k] = e
	}
	var tris [4]triangle
	for iy := 0; iy+1 < len(f.Y); iy++ {
		for ix := 0; ix+1 < len(f.X); ix++ {
			if lo, hi, ok := f.cellRange(ix, iy); !ok || level < lo || level > hi {
				continue
			}
			f.cellTriangles(ix, iy, &tris)
			for _, t := range tris {
				var s segment
				n := 0
				for e := range 3 {
					a, b := t.v[e], t.v[(e+1)%3]
					if (a.z >= level) == (b.z >= level) {
						continue
					}
					w := (level - a.z) / (b.z - a.z)
					s.p[n] = [2]float64{a.x + w*(b.x-a.x), a.y + w*(b.y-a.y)}
					s.k[n] = t.e[e]
					n++
				}
				if n == 2 {
					segs = append(segs, s)
					link(s.k[0], len(segs)-1)
					link(s.k[1], len(segs)-1)
				}
			}
		}
	}
	used := make([]bool, len(segs))
	// next returns the unused segment other than s through edge k, or -1.
	next := func(k edgeKey, s int) int {
		for _, o := range at[k] {
			if o != 0 && int(o-1) != s && !used[o-1] {
				return int(o - 1)
			}
		}
		return -1
	}
	// walk follows the chain of unused segments from segment s through its
	// edge key, marking them used and collecting the points it reaches;
	// it stops at a dead end, or with closed set where it reaches *stop
	// (nil: never).
	walk := func(s int, key edgeKey, stop *edgeKey) (pts [][2]float64, closed bool) {
		for {
			n := next(key, s)
			if n < 0 {
				return pts, false
			}
			used[n] = true
			end := 0
			if segs[n].k[0] == key {
				end = 1
			}
			pts = append(pts, segs[n].p[end])
			s, key = n, segs[n].k[end]
			if stop != nil && key == *stop {
				return pts, true
			}
		}
	}
	var lines []polyline
	for s0 := range segs {
		if used[s0] {
			continue
		}
		used[s0] = true
		// Walk forward from the segment's second end, then backward from
		// its first, collecting points.
		fwd, closed := walk(s0, segs[s0].k[1], &segs[s0].k[0])
		fwd = append([][2]float64{segs[s0].p[0], segs[s0].p[1]}, fwd...)
		var back [][2]float64
		if !closed {
			back, _ = walk(s0, segs[s0].k[0], nil)
		}
		var l polyline
		for i := len(back) - 1; i >= 0; i-- {
			l.x, l.y = append(l.x, back[i][0]), append(l.y, back[i][1])
		}
		for _, p := range fwd {
			l.x, l.y = append(l.x, p[0]), append(l.y, p[1])
		}
		l.closed = closed
		lines = append(lines, l)
	}
	return lines
}

// clipPolygon returns the part of the polygon in where z ≥ level (above)
// or z < level (!above), appended to dst[:0]; z is linear along each edge.
func clipPolygon(dst, in []vertex, level float64, above bool) []vertex {
	dst = dst[:0]
	inside := func(v vertex) bool { return (v.z >= level) == above }
	for i, a := range in {
		b := in[(i+1)%len(in)]
		ia, ib := inside(a), inside(b)
		if ia {
			dst = append(dst, a)
		}
		if ia != ib {
			w := (level - a.z) / (b.z - a.z)
			dst = append(dst, vertex{a.x + w*(b.x-a.x), a.y + w*(b.y-a.y), level})
		}
	}
	return dst
}

// polygonArea returns the area enclosed by p.
func polygonArea(p []vertex) float64 {
	var a float64
	for i, v := range p {
		w := p[(i+1)%len(p)]
		a += v.x*w.y - w.x*v.y
	}
	return math.Abs(a) / 2
}

// bandOf returns the band of z among the ascending bounds: 0 below
// bounds[0], i where bounds[i-1] ≤ z < bounds[i], len(bounds) at or above
// the last.
func bandOf(bounds []float64, z float64) int {
	i := 0
	for i < len(bounds) && z >= bounds[i] {
		i++
	}
	return i
}

// bands calls fill with the polygons of f between consecutive bounds:
// band 0 below bounds[0], band i from bounds[i-1] up to bounds[i], band
// len(bounds) from the last bound up. Runs of cells of one band along a row
// are merged into one rectangle. The polygon passed to fill is reused.
func (f *Field) bands(bounds []float64, fill func(band int, poly []vertex)) {
	var tris [4]triangle
	var a, b []vertex
	rect := make([]vertex, 4)
	for iy := 0; iy+1 < len(f.Y); iy++ {
		run, runBand := -1, 0
		flush := func(end int) {
			if run >= 0 {
				x0, x1, y0, y1 := f.X[run], f.X[end], f.Y[iy], f.Y[iy+1]
				rect[0], rect[1], rect[2], rect[3] = vertex{x0, y0, 0}, vertex{x1, y0, 0}, vertex{x1, y1, 0}, vertex{x0, y1, 0}
				fill(runBand, rect)
				run = -1
			}
		}
		for ix := 0; ix+1 < len(f.X); ix++ {
			lo, hi, ok := f.cellRange(ix, iy)
			if !ok {
				flush(ix)
				continue
			}
			if bl := bandOf(bounds, lo); bl == bandOf(bounds, hi) {
				if run >= 0 && bl != runBand {
					flush(ix)
				}
				if run < 0 {
					run, runBand = ix, bl
				}
				continue
			}
			flush(ix)
			f.cellTriangles(ix, iy, &tris)
			for _, t := range tris {
				tlo := math.Min(t.v[0].z, math.Min(t.v[1].z, t.v[2].z))
				thi := math.Max(t.v[0].z, math.Max(t.v[1].z, t.v[2].z))
				for band := bandOf(bounds, tlo); band <= bandOf(bounds, thi); band++ {
					a = append(a[:0], t.v[:]...)
					if band > 0 {
						b = clipPolygon(b, a, bounds[band-1], true)
						a, b = b, a
					}
					if band < len(bounds) && len(a) >= 3 {
						b = clipPolygon(b, a, bounds[band], false)
						a, b = b, a
					}
					if len(a) >= 3 && polygonArea(a) > 0 {
						fill(band, a)
					}
				}
			}
		}
		flush(len(f.X) - 1)
	}
}

// missingCells calls fill with the rectangle of each run of cells along a
// row that have a corner that is not finite.
func (f *Field) missingCells(fill func(x0, y0, x1, y1 float64)) {
	for iy := 0; iy+1 < len(f.Y); iy++ {
		run := -1
		for ix := 0; ix+1 < len(f.X); ix++ {
			_, _, ok := f.cellRange(ix, iy)
			if !ok && run < 0 {
				run = ix
			}
			if ok && run >= 0 {
				fill(f.X[run], f.Y[iy], f.X[ix], f.Y[iy+1])
				run = -1
			}
		}
		if run >= 0 {
			fill(f.X[run], f.Y[iy], f.X[len(f.X)-1], f.Y[iy+1])
		}
	}
}

// formatLevel formats a contour level for a label: at most four
// significant digits, trailing zeros dropped.
func formatLevel(v float64) string {
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// dataRange is the plot.DataRanger of the field's grid.
func (f *Field) dataRange() (xmin, xmax, ymin, ymax float64) {
	return f.X[0], f.X[len(f.X)-1], f.Y[0], f.Y[len(f.Y)-1]
}

// fillPolygon fills p (data coordinates) in colour c and strokes its
// outline in the same colour, a hair wide, so that adjacent polygons show
// no seams where renderers antialias their shared edges.
func fillPolygon(c draw.Canvas, trX, trY func(float64) vg.Length, p []vertex, col color.Color) {
	var path vg.Path
	for i, v := range p {
		pt := vg.Point{X: trX(v.x), Y: trY(v.y)}
		if i == 0 {
			path.Move(pt)
		} else {
			path.Line(pt)
		}
	}
	path.Close()
	c.SetColor(col)
	c.Fill(path)
	c.SetLineStyle(draw.LineStyle{Color: col, Width: seamWidth})
	c.Stroke(path)
}

// seamWidth is the width of the outline that hides seams between filled
// polygons.
const seamWidth = 1

// missingPlotter fills the cells of a field that have a corner that is not
// finite with the missing-data colour.
type missingPlotter struct{ f *Field }

func (m missingPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	m.f.missingCells(func(x0, y0, x1, y1 float64) {
		fillPolygon(c, trX, trY, []vertex{{x0, y0, 0}, {x1, y0, 0}, {x1, y1, 0}, {x0, y1, 0}}, missingColor)
	})
}

func (m missingPlotter) DataRange() (xmin, xmax, ymin, ymax float64) { return m.f.dataRange() }

// filledPlotter draws filled contours: the bands between levels, each in
// the colour of its middle value; below the first level and above the last
// the colours of the ends of the scale.
type filledPlotter struct {
	f      *Field
	levels []float64
	sc     scale
	cmap   colorMap
}

func (fp filledPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	cols := make([]color.Color, len(fp.levels)+1)
	for i := range cols {
		var t float64
		switch {
		case i == 0:
			t = 0
		case i == len(fp.levels):
			t = 1
		default:
			t = fp.sc.norm(fp.sc.mid(fp.levels[i-1], fp.levels[i]))
		}
		cols[i] = fp.cmap.at(t)
	}
	fp.f.bands(fp.levels, func(band int, poly []vertex) {
		fillPolygon(c, trX, trY, poly, cols[band])
	})
}

func (fp filledPlotter) DataRange() (xmin, xmax, ymin, ymax float64) { return fp.f.dataRange() }

// linesPlotter draws contour lines, each in the colour of its level, with
// the level written along the line in gaps cut for it when labels is set.
type linesPlotter struct {
	f      *Field
	levels []float64
	sc     scale
	cmap   colorMap
	labels bool
	width  vg.Length
	font   draw.TextStyle
}

// lineColor returns the colour of a contour line at t: the colour map
// without its palest end, which would not show on white.
func (lp linesPlotter) lineColor(t float64) color.NRGBA { return lp.cmap.at(0.88 * t) }

func (lp linesPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	var placed []vg.Rectangle
	for _, level := range lp.levels {
		col := lp.lineColor(lp.sc.norm(level))
		style := draw.LineStyle{Color: col, Width: lp.width}
		txt := formatLevel(level)
		for _, l := range lp.f.contourLines(level) {
			pts := make([]vg.Point, len(l.x))
			for i := range pts {
				pts[i] = vg.Point{X: trX(l.x[i]), Y: trY(l.y[i])}
			}
			if !lp.labels {
				c.StrokeLines(style, pts)
				continue
			}
			gaps, labels := placeLabels(c, pts, lp.font, txt, &placed)
			for _, piece := range cutPolyline(pts, gaps) {
				c.StrokeLines(style, piece)
			}
			ts := lp.font
			ts.Color = shade(col, 0.7)
			for _, lb := range labels {
				ts.Rotation = lb.angle
				c.FillText(ts, lb.at, txt)
			}
		}
	}
}

func (lp linesPlotter) DataRange() (xmin, xmax, ymin, ymax float64) { return lp.f.dataRange() }

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

// heatPlotter draws each grid point as a rectangle reaching halfway to its
// neighbours, coloured by its value, or grey where it is not finite.
type heatPlotter struct {
	f    *Field
	sc   scale
	cmap colorMap
}

// edges returns the boundaries of the rectangles centred on the points v.
func edges(v []float64) []float64 {
	e := make([]float64, len(v)+1)
	if len(v) == 1 {
		e[0], e[1] = v[0]-0.5, v[0]+0.5
		return e
	}
	e[0] = v[0] - (v[1]-v[0])/2
	for i := 1; i < len(v); i++ {
		e[i] = (v[i-1] + v[i]) / 2
	}
	e[len(v)] = v[len(v)-1] + (v[len(v)-1]-v[len(v)-2])/2
	return e
}

func (hp heatPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	ex, ey := edges(hp.f.X), edges(hp.f.Y)
	for iy, row := range hp.f.Z {
		for ix, z := range row {
			var col color.Color = missingColor
			if t := hp.sc.norm(z); !math.IsNaN(t) {
				col = hp.cmap.at(t)
			} else if hp.sc.log && finite(z) {
				col = hp.cmap.at(0) // not positive: below a log scale
			}
			fillPolygon(c, trX, trY, []vertex{{ex[ix], ey[iy], 0}, {ex[ix+1], ey[iy], 0}, {ex[ix+1], ey[iy+1], 0}, {ex[ix], ey[iy+1], 0}}, col)
		}
	}
}

func (hp heatPlotter) DataRange() (xmin, xmax, ymin, ymax float64) {
	ex, ey := edges(hp.f.X), edges(hp.f.Y)
	return ex[0], ex[len(ex)-1], ey[0], ey[len(ey)-1]
}
