package surface

import "math"

// This file holds the piecewise linear surface through a Field's grid
// points, from which the basin area, the contour lines and the filled
// contours are all taken.
//
// Each grid cell whose four corners are finite is split into four triangles
// that meet at its centre, given the mean of the corners, and the metric is
// taken to be linear on each triangle. Contour lines bound the bands
// exactly, and saddle cells are resolved by the centre value. Cells with a
// NaN or infinite corner are missing: nothing is drawn or counted in them.

// Vertex is a point (X, Y) of the plane with the value Z of a field there.
type Vertex struct{ X, Y, Z float64 }

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
	v [3]Vertex
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
	c := [4]Vertex{{x0, y0, z00}, {x1, y0, z10}, {x1, y1, z11}, {x0, y1, z01}}
	m := Vertex{(x0 + x1) / 2, (y0 + y1) / 2, (z00 + z10 + z01 + z11) / 4}
	i, j := int32(ix), int32(iy)
	outer := [4]edgeKey{{0, i, j}, {1, i + 1, j}, {0, i, j + 1}, {1, i, j}}
	for k := range 4 {
		dst[k] = triangle{
			v: [3]Vertex{c[k], c[(k+1)%4], m},
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

// Contour is a contour line of a field: a polyline through the points
// (X[i], Y[i]), Closed if it returns to its start.
type Contour struct {
	X, Y   []float64
	Closed bool
}

// Contours returns the contour lines of f at level on the piecewise linear
// surface: each a chain of the segments where the level crosses a
// triangle, joined through the edges they share. A line ends where it
// meets the edge of the grid or a missing cell. f must be 2D.
func (f *Field) Contours(level float64) []Contour {
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
					if (a.Z >= level) == (b.Z >= level) {
						continue
					}
					w := (level - a.Z) / (b.Z - a.Z)
					s.p[n] = [2]float64{a.X + w*(b.X-a.X), a.Y + w*(b.Y-a.Y)}
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
	var lines []Contour
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
		var l Contour
		for i := len(back) - 1; i >= 0; i-- {
			l.X, l.Y = append(l.X, back[i][0]), append(l.Y, back[i][1])
		}
		for _, p := range fwd {
			l.X, l.Y = append(l.X, p[0]), append(l.Y, p[1])
		}
		l.Closed = closed
		lines = append(lines, l)
	}
	return lines
}

// clipPolygon returns the part of the polygon in where z ≥ level (above)
// or z < level (!above), appended to dst[:0]; z is linear along each edge.
func clipPolygon(dst, in []Vertex, level float64, above bool) []Vertex {
	dst = dst[:0]
	inside := func(v Vertex) bool { return (v.Z >= level) == above }
	for i, a := range in {
		b := in[(i+1)%len(in)]
		ia, ib := inside(a), inside(b)
		if ia {
			dst = append(dst, a)
		}
		if ia != ib {
			w := (level - a.Z) / (b.Z - a.Z)
			dst = append(dst, Vertex{a.X + w*(b.X-a.X), a.Y + w*(b.Y-a.Y), level})
		}
	}
	return dst
}

// polygonArea returns the area enclosed by p.
func polygonArea(p []Vertex) float64 {
	var a float64
	for i, v := range p {
		w := p[(i+1)%len(p)]
		a += v.X*w.Y - w.X*v.Y
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

// Bands calls fill with the polygons of f between consecutive bounds, which
// are ascending: band 0 below bounds[0], band i from bounds[i-1] up to
// bounds[i], band len(bounds) from the last bound up, on the piecewise
// linear surface. Runs of cells of one band along a row are merged into
// one rectangle; missing cells belong to no band. The polygon passed to
// fill is reused by the next call. f must be 2D.
func (f *Field) Bands(bounds []float64, fill func(band int, poly []Vertex)) {
	var tris [4]triangle
	var a, b []Vertex
	rect := make([]Vertex, 4)
	for iy := 0; iy+1 < len(f.Y); iy++ {
		run, runBand := -1, 0
		flush := func(end int) {
			if run >= 0 {
				x0, x1, y0, y1 := f.X[run], f.X[end], f.Y[iy], f.Y[iy+1]
				rect[0], rect[1], rect[2], rect[3] = Vertex{x0, y0, 0}, Vertex{x1, y0, 0}, Vertex{x1, y1, 0}, Vertex{x0, y1, 0}
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
				tlo := math.Min(t.v[0].Z, math.Min(t.v[1].Z, t.v[2].Z))
				thi := math.Max(t.v[0].Z, math.Max(t.v[1].Z, t.v[2].Z))
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

// MissingCells calls fill with the rectangle from (x0, y0) to (x1, y1) of
// each run of cells along a row that have a corner that is NaN or
// infinite: the cells the piecewise linear surface leaves out. f must be
// 2D.
func (f *Field) MissingCells(fill func(x0, y0, x1, y1 float64)) {
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
