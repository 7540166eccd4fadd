package surface

import "math"

// This file holds the numbers by which surfaces are compared for
// flatness: the rise of the metric over circles around the centre, the
// area and widths of the basin below a threshold, and the share of
// negative curvature. "landscape compare" prints them and the notebooks
// compute the same; the definitions below are the ones to follow.

// Basin returns the area of the part of the grid where f is below
// threshold, in units of α·β (of α in 1D), and the fraction of the grid's
// area, (X[last]-X[0])·(Y[last]-Y[0]), that it is.
//
// In 2D f is taken to be linear on each of the four triangles that join
// the corners of a cell to its centre, whose value is the mean of the four
// corners; the area of each triangle where f < threshold is summed. A cell
// with a NaN or infinite corner counts as outside the basin. In 1D f is
// linear between grid points, and an interval with a NaN or infinite end
// is outside. The fraction is NaN if the grid has no area.
func (f *Field) Basin(threshold float64) (area, fraction float64) {
	if f.Is1D() {
		for i := 0; i+1 < len(f.X); i++ {
			a, b := f.Z[0][i], f.Z[0][i+1]
			if !finite(a) || !finite(b) {
				continue
			}
			h := f.X[i+1] - f.X[i]
			switch {
			case a < threshold && b < threshold:
				area += h
			case a < threshold:
				area += h * (threshold - a) / (b - a)
			case b < threshold:
				area += h * (threshold - b) / (a - b)
			}
		}
		return area, area / (f.X[len(f.X)-1] - f.X[0])
	}
	var tris [4]triangle
	var a, b []Vertex
	for iy := 0; iy+1 < len(f.Y); iy++ {
		for ix := 0; ix+1 < len(f.X); ix++ {
			lo, hi, ok := f.cellRange(ix, iy)
			switch {
			case !ok || lo >= threshold:
				continue
			case hi < threshold:
				area += (f.X[ix+1] - f.X[ix]) * (f.Y[iy+1] - f.Y[iy])
				continue
			}
			f.cellTriangles(ix, iy, &tris)
			for _, t := range tris {
				a = append(a[:0], t.v[:]...)
				b = clipPolygon(b, a, threshold, false)
				if len(b) >= 3 {
					area += polygonArea(b)
				}
			}
		}
	}
	total := (f.X[len(f.X)-1] - f.X[0]) * (f.Y[len(f.Y)-1] - f.Y[0])
	return area, area / total
}

// Interval is a stretch of an axis, for example the basin along a line
// through the centre. LoAtEdge and HiAtEdge report that it reaches the end
// of the grid on that side, so that the true bound lies further out.
type Interval struct {
	Lo, Hi             float64
	LoAtEdge, HiAtEdge bool
}

// Width returns Hi - Lo.
func (iv Interval) Width() float64 { return iv.Hi - iv.Lo }

// BasinWidths returns the stretches of the row and the column through the
// centre grid point ([Field.Centre]) on which f stays below threshold.
// From the centre each stretch extends over the neighbouring grid points
// below threshold; where it stops before the end of the grid, its bound is
// the crossing of threshold by linear interpolation between the last point
// below and the first point not below. A NaN or infinite point ends a
// stretch at the last finite point before it. If the centre itself is not
// below threshold both stretches are empty (Lo = Hi at the centre). In 1D
// y is the zero Interval.
func (f *Field) BasinWidths(threshold float64) (x, y Interval) {
	ix, iy := f.Centre()
	x = basinInterval(f.X, func(i int) float64 { return f.Z[iy][i] }, ix, threshold)
	if !f.Is1D() {
		y = basinInterval(f.Y, func(j int) float64 { return f.Z[j][ix] }, iy, threshold)
	}
	return x, y
}

// basinInterval returns the stretch around v[c] where z stays below
// threshold.
func basinInterval(v []float64, z func(int) float64, c int, threshold float64) Interval {
	below := func(i int) bool { return z(i) < threshold } // false for NaN
	iv := Interval{Lo: v[c], Hi: v[c]}
	if !below(c) {
		return iv
	}
	cross := func(in, out int) float64 {
		a, b := z(in), z(out)
		if !finite(b) {
			return v[in]
		}
		return v[in] + (threshold-a)/(b-a)*(v[out]-v[in])
	}
	i := c
	for i+1 < len(v) && below(i+1) {
		i++
	}
	if i+1 == len(v) {
		iv.Hi, iv.HiAtEdge = v[i], true
	} else {
		iv.Hi = cross(i, i+1)
	}
	i = c
	for i > 0 && below(i-1) {
		i--
	}
	if i == 0 {
		iv.Lo, iv.LoAtEdge = v[0], true
	} else {
		iv.Lo = cross(i, i-1)
	}
	return iv
}

// NegativeCurvature returns the share of interior grid points at which the
// discrete Hessian of f has a negative eigenvalue, and the number of points
// it was computed at: those whose 3×3 neighbourhood (3 points in 1D) is
// finite. With hx = (X[i+1]-X[i-1])/2 and hy = (Y[j+1]-Y[j-1])/2 the
// Hessian is taken by central differences,
//
//	fxx = (f[i+1,j] - 2f[i,j] + f[i-1,j]) / hx²
//	fyy = (f[i,j+1] - 2f[i,j] + f[i,j-1]) / hy²
//	fxy = (f[i+1,j+1] - f[i+1,j-1] - f[i-1,j+1] + f[i-1,j-1]) / (4 hx hy)
//
// and its least eigenvalue (fxx+fyy)/2 - √(((fxx-fyy)/2)² + fxy²) counts as
// negative below -1e-9·Σ|f| / min(hx², hy²), the sum over the 3×3
// neighbourhood, a tolerance for rounding. In 1D it is fxx, negative below
// -1e-9·(|f[i-1]| + 2|f[i]| + |f[i+1]|) / hx². The share is NaN where no
// point qualifies.
//
// This is a proxy for the non-convexity maps of Li et al., who plot the
// ratio |λmin/λmax| of the Hessian of the full network loss at each point:
// we have only the surface, so we measure the curvature of the surface
// itself. A convex bowl gives 0, a saddle 1.
func (f *Field) NegativeCurvature() (share float64, points int) {
	neg := 0
	if f.Is1D() {
		z := f.Z[0]
		for i := 1; i+1 < len(z); i++ {
			if !finite(z[i-1]) || !finite(z[i]) || !finite(z[i+1]) {
				continue
			}
			h := (f.X[i+1] - f.X[i-1]) / 2
			d2 := (z[i+1] - 2*z[i] + z[i-1]) / (h * h)
			tol := 1e-9 * (math.Abs(z[i-1]) + 2*math.Abs(z[i]) + math.Abs(z[i+1])) / (h * h)
			points++
			if d2 < -tol {
				neg++
			}
		}
	} else {
		for j := 1; j+1 < len(f.Y); j++ {
		points:
			for i := 1; i+1 < len(f.X); i++ {
				var sum float64
				for dj := -1; dj <= 1; dj++ {
					for di := -1; di <= 1; di++ {
						v := f.Z[j+dj][i+di]
						if !finite(v) {
							continue points
						}
						sum += math.Abs(v)
					}
				}
				z := f.Z
				hx, hy := (f.X[i+1]-f.X[i-1])/2, (f.Y[j+1]-f.Y[j-1])/2
				fxx := (z[j][i+1] - 2*z[j][i] + z[j][i-1]) / (hx * hx)
				fyy := (z[j+1][i] - 2*z[j][i] + z[j-1][i]) / (hy * hy)
				fxy := (z[j+1][i+1] - z[j-1][i+1] - z[j+1][i-1] + z[j-1][i-1]) / (4 * hx * hy)
				lmin := (fxx+fyy)/2 - math.Hypot((fxx-fyy)/2, fxy)
				tol := 1e-9 * sum / math.Min(hx*hx, hy*hy)
				points++
				if lmin < -tol {
					neg++
				}
			}
		}
	}
	if points == 0 {
		return math.NaN(), 0
	}
	return float64(neg) / float64(points), points
}

// FlatnessOptions configures [Field.Flatness]. The zero value gives the
// defaults.
type FlatnessOptions struct {
	// Radii are the radii of the circles over which the mean rise of the
	// metric is taken; nil means 0.25, 0.5 and 1.
	Radii []float64
	// Angles is the number of points on each circle; 0 means 64.
	Angles int
	// Threshold is the level below which the surface counts as basin. If
	// it is zero, the centre value plus Rise is used, so that surfaces are
	// compared at the same rise above their own centre.
	Threshold float64
	// Rise is added to the centre value to make the threshold when
	// Threshold is zero; 0 means 1.
	Rise float64
}

// Flatness holds the numbers by which [Field.Flatness] describes how flat
// a surface is around its centre.
type Flatness struct {
	// CentreX and CentreY are the grid point nearest (0, 0) ([Field.Centre];
	// CentreY is NaN in 1D) and Centre the value there.
	CentreX, CentreY, Centre float64

	// Radii are the circle radii, and Rise[k] = CircleMean(Radii[k],
	// Angles) - Centre, the mean rise of the metric over the circle
	// ([Field.CircleMean]): the sharper the minimum, the larger.
	Radii, Rise []float64

	// Threshold is the basin level; BasinArea and BasinFraction are the
	// area below it and its share of the grid ([Field.Basin]).
	Threshold, BasinArea, BasinFraction float64

	// WidthX and WidthY are the basin along the row and column through the
	// centre ([Field.BasinWidths]).
	WidthX, WidthY Interval

	// NegativeCurvature is the share of interior points with a negative
	// Hessian eigenvalue and CurvaturePoints the number of points it is
	// taken over ([Field.NegativeCurvature]).
	NegativeCurvature float64
	CurvaturePoints   int
}

// Flatness computes the flatness numbers of f, each as the method named in
// its field's comment defines it. If o is nil the defaults are used.
func (f *Field) Flatness(o *FlatnessOptions) Flatness {
	var opt FlatnessOptions
	if o != nil {
		opt = *o
	}
	if opt.Radii == nil {
		opt.Radii = []float64{0.25, 0.5, 1}
	}
	if opt.Angles == 0 {
		opt.Angles = 64
	}
	if opt.Rise == 0 {
		opt.Rise = 1
	}
	ix, iy := f.Centre()
	s := Flatness{CentreX: f.X[ix], CentreY: math.NaN(), Centre: f.Z[iy][ix]}
	if !f.Is1D() {
		s.CentreY = f.Y[iy]
	}
	s.Radii = append([]float64(nil), opt.Radii...)
	for _, r := range opt.Radii {
		s.Rise = append(s.Rise, f.CircleMean(r, opt.Angles)-s.Centre)
	}
	s.Threshold = opt.Threshold
	if s.Threshold == 0 {
		s.Threshold = s.Centre + opt.Rise
	}
	s.BasinArea, s.BasinFraction = f.Basin(s.Threshold)
	s.WidthX, s.WidthY = f.BasinWidths(s.Threshold)
	s.NegativeCurvature, s.CurvaturePoints = f.NegativeCurvature()
	return s
}
