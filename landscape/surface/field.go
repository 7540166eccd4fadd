package surface

import "math"

// Field is one metric of a surface as a dense grid: Z[iy][ix] is the value
// at (X[ix], Y[iy]). A 1D surface has Y nil and Z one row. Values may be NaN
// or infinite where the surface holds no point or the loss blew up.
//
// Between grid points a Field is taken to be bilinear by [Field.At], and
// piecewise linear on the four triangles that split each cell at its centre
// by [Field.Basin], [Field.Contours] and [Field.Bands], so that the basin
// area, the contour lines and the filled contours drawn from them agree.
type Field struct {
	X, Y []float64
	Z    [][]float64
}

// Field returns the named metric of s as a Field, with the coordinates of
// the grid in its provenance. Grid points s does not hold are NaN.
func (s *Surface) Field(metric string) (*Field, error) {
	z, err := s.Grid(metric)
	if err != nil {
		return nil, err
	}
	f := &Field{X: s.Provenance.Grid.X.Values(), Z: z}
	if !s.Is1D() {
		f.Y = s.Provenance.Grid.Y.Values()
	}
	return f, nil
}

// Is1D reports whether f has no y axis.
func (f *Field) Is1D() bool { return f.Y == nil }

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// locate returns i and the weight w of v[i+1] with which x lies between
// v[i] and v[i+1], or false if x is outside v. A point within a billionth
// of the span outside counts as on the edge.
func locate(v []float64, x float64) (i int, w float64, ok bool) {
	n := len(v)
	if n == 1 {
		return 0, 0, x == v[0]
	}
	tol := 1e-9 * (v[n-1] - v[0])
	switch {
	case math.IsNaN(x) || x < v[0]-tol || x > v[n-1]+tol:
		return 0, 0, false
	case x <= v[0]:
		return 0, 0, true
	case x >= v[n-1]:
		return n - 2, 1, true
	}
	i = int((x - v[0]) / (v[n-1] - v[0]) * float64(n-1))
	i = max(0, min(i, n-2))
	for i > 0 && x < v[i] {
		i--
	}
	for i < n-2 && x > v[i+1] {
		i++
	}
	return i, (x - v[i]) / (v[i+1] - v[i]), true
}

// At returns the value of f at (x, y) by bilinear interpolation between the
// four grid points around it (linear in 1D, where y is ignored), or NaN if
// the point is outside the grid. A grid point with zero weight does not
// take part, so an infinite neighbour does not spoil an exact grid value.
func (f *Field) At(x, y float64) float64 {
	ix, wx, ok := locate(f.X, x)
	if !ok {
		return math.NaN()
	}
	iy, wy := 0, 0.0
	if !f.Is1D() {
		if iy, wy, ok = locate(f.Y, y); !ok {
			return math.NaN()
		}
	}
	var sum float64
	for dy, ay := range [2]float64{1 - wy, wy} {
		for dx, ax := range [2]float64{1 - wx, wx} {
			if w := ax * ay; w != 0 {
				sum += w * f.Z[iy+dy][ix+dx]
			}
		}
	}
	return sum
}

// Centre returns the indices of the grid point nearest (0, 0), iy 0 in 1D:
// along each axis the coordinate of least magnitude, the first of two
// equally near.
func (f *Field) Centre() (ix, iy int) {
	nearest := func(v []float64) int {
		best := 0
		for i, c := range v {
			if math.Abs(c) < math.Abs(v[best]) {
				best = i
			}
		}
		return best
	}
	ix = nearest(f.X)
	if !f.Is1D() {
		iy = nearest(f.Y)
	}
	return ix, iy
}

// CircleMean returns the mean of f at n points evenly spread over the
// circle of radius r around (0, 0),
//
//	(1/n) Σ_{k<n} f.At(r cos(2πk/n), r sin(2πk/n)),
//
// starting on the positive x axis, by bilinear interpolation ([Field.At]).
// It is NaN if the circle leaves the grid, and NaN or infinite if it
// crosses a cell with such a corner. In 1D the circle is the two points -r
// and r, and n is not used.
func (f *Field) CircleMean(r float64, n int) float64 {
	if f.Is1D() {
		return (f.At(-r, 0) + f.At(r, 0)) / 2
	}
	if n < 1 {
		return math.NaN()
	}
	var sum float64
	for k := range n {
		s, c := math.Sincos(2 * math.Pi * float64(k) / float64(n))
		sum += f.At(r*c, r*s)
	}
	return sum / float64(n)
}
