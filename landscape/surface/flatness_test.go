package surface

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/landscape-go/landscape/grid"
)

// field returns f sampled on the axes x and y (y nil for 1D).
func field(x grid.Axis, y *grid.Axis, f func(x, y float64) float64) *Field {
	fl := &Field{X: x.Values()}
	if y == nil {
		row := make([]float64, x.Num)
		for i, xv := range fl.X {
			row[i] = f(xv, 0)
		}
		fl.Z = [][]float64{row}
		return fl
	}
	fl.Y = y.Values()
	for _, yv := range fl.Y {
		row := make([]float64, x.Num)
		for i, xv := range fl.X {
			row[i] = f(xv, yv)
		}
		fl.Z = append(fl.Z, row)
	}
	return fl
}

func approx(got, want, tol float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= tol
}

var (
	ax4    = grid.Axis{Min: -2, Max: 2, Num: 41}     // step 0.1
	ax3    = grid.Axis{Min: -1.5, Max: 1.5, Num: 31} // step 0.1
	bowlXY = func(x, y float64) float64 { return x*x + y*y }
)

// TestFieldAtInterpolatesBilinearly checks that At reproduces a bilinear
// function, is NaN outside the grid and lets an infinite neighbour spoil
// only the points that weigh it.
func TestFieldAtInterpolatesBilinearly(t *testing.T) {
	t.Parallel()
	// A bilinear function is reproduced exactly.
	bil := func(x, y float64) float64 { return 1 + 2*x + 3*y + 4*x*y }
	f := field(ax4, &ax3, bil)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		x, y := -2+4*rng.Float64(), -1.5+3*rng.Float64()
		if got := f.At(x, y); !approx(got, bil(x, y), 1e-12) {
			t.Fatalf("At(%g, %g) = %g, want %g", x, y, got, bil(x, y))
		}
	}
	for _, p := range [][2]float64{{2, 1.5}, {-2, -1.5}, {2, -1.5}, {0, 0}} {
		if got := f.At(p[0], p[1]); !approx(got, bil(p[0], p[1]), 1e-12) {
			t.Errorf("At(%v) = %g, want %g", p, got, bil(p[0], p[1]))
		}
	}
	for _, p := range [][2]float64{{2.01, 0}, {0, -1.6}, {math.NaN(), 0}, {0, math.Inf(1)}} {
		if got := f.At(p[0], p[1]); !math.IsNaN(got) {
			t.Errorf("At(%v) outside the grid = %g, want NaN", p, got)
		}
	}
	// An infinite neighbour does not spoil an exact grid value.
	f.Z[20][21] = math.Inf(1)
	if got := f.At(0, 0.5); !approx(got, bil(0, 0.5), 1e-12) {
		t.Errorf("At grid point beside +Inf = %g", got)
	}
	if got := f.At(0.05, 0.5); !math.IsInf(got, 1) {
		t.Errorf("At between a point and +Inf = %g, want +Inf", got)
	}
	// 1D ignores y.
	g := field(ax4, nil, func(x, _ float64) float64 { return 3*x - 1 })
	if got := g.At(0.25, 99); !approx(got, -0.25, 1e-12) {
		t.Errorf("1D At(0.25) = %g, want -0.25", got)
	}
}

// TestFlatnessOfAnalyticSurfaces checks circle means, basin areas and widths
// and the negative-curvature share against their values on bowls, a saddle
// and 1D curves.
func TestFlatnessOfAnalyticSurfaces(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    *Field
		// CircleMean(r, 64)
		r, circle, circleTol float64
		// Basin(thr)
		thr, area, areaTol, fraction float64
		// BasinWidths(thr)
		wx, wy   float64
		edge     bool // the x stretch reaches the grid's edge
		negShare float64
		points   int
	}{
		{
			// ∮ (x²+y²) = r²; bilinear interpolation overestimates a
			// convex function by at most h²/2. The disc x²+y² < 1 has area
			// π; the crossings of the axes fall on grid points.
			name: "bowl", f: field(ax4, &ax4, bowlXY),
			r: 1, circle: 1, circleTol: 0.005,
			thr: 1, area: math.Pi, areaTol: 0.02, fraction: math.Pi / 16,
			wx: 2, wy: 2, negShare: 0, points: 39 * 39,
		},
		{
			// On a non-square grid: the same disc.
			name: "bowl non-square", f: field(ax4, &ax3, bowlXY),
			r: 0.5, circle: 0.25, circleTol: 0.005,
			thr: 1, area: math.Pi, areaTol: 0.02, fraction: math.Pi / 12,
			wx: 2, wy: 2, negShare: 0, points: 39 * 29,
		},
		{
			// x² + 3y²: circle mean (1+3)r²/2; ellipse area π·1·(1/√3).
			name: "elliptic bowl", f: field(ax4, &ax4, func(x, y float64) float64 { return 0.5 + x*x + 3*y*y }),
			r: 0.5, circle: 0.5 + 0.5, circleTol: 0.01,
			thr: 1.5, area: math.Pi / math.Sqrt(3), areaTol: 0.02, fraction: math.Pi / math.Sqrt(3) / 16,
			wx: 2, wy: 2 / math.Sqrt(3), negShare: 0, points: 39 * 39,
		},
		{
			// x² - y²: zero circle mean; negative curvature everywhere; the
			// region below 1 reaches the edges along y.
			name: "saddle", f: field(ax4, &ax4, func(x, y float64) float64 { return x*x - y*y }),
			r: 1, circle: 0, circleTol: 1e-9,
			thr: 1, area: -1, fraction: -1,
			wx: 2, wy: 4, negShare: 1, points: 39 * 39,
		},
		{
			// The circle leaves the grid.
			name: "circle outside", f: field(ax4, &ax4, bowlXY),
			r: 2.5, circle: math.NaN(),
			thr: 100, area: 16, areaTol: 1e-9, fraction: 1,
			wx: 4, wy: 4, edge: true, negShare: 0, points: 39 * 39,
		},
		{
			// 1D x²: the circle is ±r; the basin below 0.25 is [-0.5, 0.5].
			name: "1D bowl", f: field(grid.Axis{Min: -1, Max: 1, Num: 21}, nil, bowlXY),
			r: 0.5, circle: 0.25, circleTol: 1e-12,
			thr: 0.25, area: 1, areaTol: 1e-12, fraction: 0.5,
			wx: 1, negShare: 0, points: 19,
		},
		{
			name: "1D hill", f: field(grid.Axis{Min: -1, Max: 1, Num: 21}, nil, func(x, _ float64) float64 { return -x * x }),
			r: 1, circle: -1, circleTol: 1e-12,
			thr: 0.5, area: 2, areaTol: 1e-12, fraction: 1,
			wx: 2, edge: true, negShare: 1, points: 19,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.f.CircleMean(tt.r, 64); !approx(got, tt.circle, tt.circleTol) {
				t.Errorf("CircleMean(%g) = %.6g, want %.6g ± %g", tt.r, got, tt.circle, tt.circleTol)
			}
			area, frac := tt.f.Basin(tt.thr)
			if tt.area >= 0 && (!approx(area, tt.area, tt.areaTol) || !approx(frac, tt.fraction, tt.areaTol)) {
				t.Errorf("Basin(%g) = %.6g (fraction %.6g), want %.6g (%.6g) ± %g", tt.thr, area, frac, tt.area, tt.fraction, tt.areaTol)
			}
			x, y := tt.f.BasinWidths(tt.thr)
			if !approx(x.Width(), tt.wx, 1e-9) || (!tt.f.Is1D() && !approx(y.Width(), tt.wy, 0.02)) {
				t.Errorf("BasinWidths(%g) = %+v, %+v; want widths %g, %g", tt.thr, x, y, tt.wx, tt.wy)
			}
			if x.LoAtEdge != tt.edge || x.HiAtEdge != tt.edge {
				t.Errorf("x stretch %+v: at edge want %v", x, tt.edge)
			}
			share, n := tt.f.NegativeCurvature()
			if !approx(share, tt.negShare, 0) || n != tt.points {
				t.Errorf("NegativeCurvature() = %g over %d points, want %g over %d", share, n, tt.negShare, tt.points)
			}
		})
	}
}

// TestBasinAreaConvergesAsHSquared checks the basin area of the bowl against
// π as the grid is refined: the error of the piecewise linear surface falls
// as h².
func TestBasinAreaConvergesAsHSquared(t *testing.T) {
	t.Parallel()
	var last float64
	for i, n := range []int{11, 21, 41, 81} {
		ax := grid.Axis{Min: -1.5, Max: 1.5, Num: n}
		area, _ := field(ax, &ax, bowlXY).Basin(1)
		err := math.Abs(area - math.Pi)
		if area > math.Pi {
			t.Errorf("%d points: area %g above π; the interpolant of a convex function lies above it", n, area)
		}
		if i > 0 && err > last/3 {
			t.Errorf("%d points: error %g, was %g on the coarser grid; want it to fall about fourfold", n, err, last)
		}
		last = err
	}
}

// TestFlatnessSkipsNonFinitePoints checks what NaN and infinite points take
// out of the basin, circle means, curvature and widths.
func TestFlatnessSkipsNonFinitePoints(t *testing.T) {
	t.Parallel()
	f := field(ax4, &ax4, bowlXY)
	f.Z[20][30] = math.NaN() // (1, 0)
	f.Z[5][5] = math.Inf(1)
	area, _ := f.Basin(2)
	clean, _ := field(ax4, &ax4, bowlXY).Basin(2)
	// The NaN at (1, 0) lies inside the basin x²+y² < 2: its four cells drop out.
	if !approx(clean-area, 4*0.01, 1e-9) {
		t.Errorf("Basin with a NaN inside = %g, clean %g; want 0.04 less", area, clean)
	}
	if got := f.CircleMean(1, 64); !math.IsNaN(got) {
		t.Errorf("CircleMean through a NaN = %g, want NaN", got)
	}
	_, n := f.NegativeCurvature()
	if n != 39*39-9-9 {
		t.Errorf("NegativeCurvature over %d points, want %d (two 3x3 neighbourhoods dropped)", n, 39*39-18)
	}
	x, _ := f.BasinWidths(2)
	if !approx(x.Hi, 0.9, 1e-12) || x.HiAtEdge {
		t.Errorf("x stretch %+v: want it to end at the last finite point 0.9 before the NaN", x)
	}
	// A centre above the threshold gives empty stretches.
	x, y := f.BasinWidths(-1)
	if x.Width() != 0 || y.Width() != 0 {
		t.Errorf("stretches below -1: %+v %+v, want empty", x, y)
	}
}

// TestFlatnessDefaultsAndOptions checks the centre, the default radii and
// threshold, and the options that change them.
func TestFlatnessDefaultsAndOptions(t *testing.T) {
	t.Parallel()
	f := field(ax4, &ax4, func(x, y float64) float64 { return 0.5 + x*x + y*y })
	s := f.Flatness(nil)
	if s.CentreX != 0 || s.CentreY != 0 || s.Centre != 0.5 || s.Threshold != 1.5 {
		t.Errorf("centre (%g, %g) = %g, threshold %g; want (0, 0) = 0.5, threshold 1.5", s.CentreX, s.CentreY, s.Centre, s.Threshold)
	}
	if len(s.Radii) != 3 || len(s.Rise) != 3 {
		t.Fatalf("radii %v rises %v, want three", s.Radii, s.Rise)
	}
	for i, r := range s.Radii {
		if !approx(s.Rise[i], r*r, 0.005) {
			t.Errorf("rise at r=%g is %g, want %g", r, s.Rise[i], r*r)
		}
	}
	if !approx(s.BasinArea, math.Pi, 0.02) || !approx(s.WidthX.Width(), 2, 1e-9) || s.NegativeCurvature != 0 {
		t.Errorf("basin %g, width %g, negative curvature %g", s.BasinArea, s.WidthX.Width(), s.NegativeCurvature)
	}
	s = f.Flatness(&FlatnessOptions{Radii: []float64{0.3}, Angles: 8, Threshold: 0.75})
	if s.Threshold != 0.75 || !approx(s.BasinArea, math.Pi/4, 0.01) || len(s.Rise) != 1 {
		t.Errorf("with options: threshold %g area %g rises %v", s.Threshold, s.BasinArea, s.Rise)
	}
	s = f.Flatness(&FlatnessOptions{Rise: 0.25})
	if s.Threshold != 0.75 {
		t.Errorf("rise 0.25: threshold %g, want 0.75", s.Threshold)
	}
	// The centre is the grid point nearest (0, 0), here (0.1, 0.2).
	g := field(grid.Axis{Min: 0.1, Max: 1, Num: 10}, &grid.Axis{Min: -0.8, Max: 0.2, Num: 3}, bowlXY)
	s = g.Flatness(nil)
	if !approx(s.CentreX, 0.1, 1e-12) || !approx(s.CentreY, 0.2, 1e-12) || !approx(s.Centre, 0.05, 1e-12) || !math.IsNaN(s.Rise[0]) {
		t.Errorf("off-centre grid: centre (%g, %g) = %g, rise %v", s.CentreX, s.CentreY, s.Centre, s.Rise)
	}
}
