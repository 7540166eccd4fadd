package surface

import (
	"math"
	"testing"

	"github.com/landscape-go/landscape/grid"
)

// TestContoursOfBowlAreClosedCircles checks that the contour of the bowl
// x²+y² at 1 is one closed line near the unit circle.
func TestContoursOfBowlAreClosedCircles(t *testing.T) {
	t.Parallel()
	lines := field(ax4, &ax4, bowlXY).Contours(1)
	if len(lines) != 1 || !lines[0].Closed {
		t.Fatalf("%d lines (first closed: %v), want one closed line", len(lines), len(lines) > 0 && lines[0].Closed)
	}
	l := lines[0]
	if len(l.X) < 40 || len(l.X) != len(l.Y) {
		t.Fatalf("%d x and %d y points, want as many and at least 40", len(l.X), len(l.Y))
	}
	for i := range l.X {
		// The interpolant of a convex function lies above it: the line
		// is inside the circle, by at most about h²/2.
		if r := math.Hypot(l.X[i], l.Y[i]); r > 1+1e-12 || r < 0.99 {
			t.Fatalf("point %d (%g, %g) at radius %g, want within [0.99, 1]", i, l.X[i], l.Y[i], r)
		}
	}
	// A level above the grid's corners leaves lines open at the edges.
	for _, l := range field(ax4, &ax4, bowlXY).Contours(5) {
		if l.Closed {
			t.Errorf("contour at 5 is closed; it leaves the grid")
		}
	}
}

// TestBandsAgreeWithBasin checks that the filled bands cover the grid but
// for its missing cells, and that the band below a level has the area Basin
// gives it.
func TestBandsAgreeWithBasin(t *testing.T) {
	t.Parallel()
	f := field(ax4, &ax3, func(x, y float64) float64 { return 0.5 + x*x + 3*y*y - x*y })
	f.Z[3][4] = math.NaN()
	bounds := []float64{1, 2, 4}
	areas := make([]float64, len(bounds)+1)
	f.Bands(bounds, func(band int, poly []Vertex) { areas[band] += polygonArea(poly) })
	var missing float64
	f.MissingCells(func(x0, y0, x1, y1 float64) { missing += (x1 - x0) * (y1 - y0) })
	if !approx(missing, 4*0.01, 1e-12) {
		t.Errorf("missing cells cover %g, want the four cells around the NaN, 0.04", missing)
	}
	var total float64
	for _, a := range areas {
		total += a
	}
	if want := 4*3 - missing; !approx(total, want, 1e-9) {
		t.Errorf("bands cover %g, want the grid less its missing cells, %g", total, want)
	}
	below := 0.0
	for i, level := range bounds {
		below += areas[i]
		if area, _ := f.Basin(level); !approx(below, area, 1e-9) {
			t.Errorf("bands below %g cover %g, Basin says %g", level, below, area)
		}
	}
}

// TestSurfaceFieldIsDenseWithNaNGaps checks that a surface's metric becomes
// a field on its grid, with NaN where the surface holds no point, in 2D and
// 1D.
func TestSurfaceFieldIsDenseWithNaNGaps(t *testing.T) {
	t.Parallel()
	s := &Surface{Metrics: []string{"train_loss", "train_acc"}}
	s.Provenance.Grid = grid.Grid{X: grid.Axis{Min: -1, Max: 1, Num: 3}, Y: &grid.Axis{Min: 0, Max: 1, Num: 2}}
	for _, i := range []int{0, 1, 2, 4, 5} { // point 3 missing
		x, y := s.Provenance.Grid.Point(i)
		s.Points = append(s.Points, Point{Index: i, X: x, Y: y, Values: []float64{x + 10*y, 0}})
	}
	f, err := s.Field("train_loss")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float64{{-1, 0, 1}, {math.NaN(), 10, 11}}
	for iy := range want {
		for ix := range want[iy] {
			if !approx(f.Z[iy][ix], want[iy][ix], 0) {
				t.Errorf("Z[%d][%d] = %g, want %g", iy, ix, f.Z[iy][ix], want[iy][ix])
			}
		}
	}
	if len(f.X) != 3 || len(f.Y) != 2 || f.Is1D() {
		t.Errorf("field axes %v, %v; want 3 x and 2 y values", f.X, f.Y)
	}
	if _, err := s.Field("test_loss"); err == nil {
		t.Error("a metric the surface lacks gave no error")
	}
	s.Provenance.Grid.Y = nil
	s.Points = s.Points[:3]
	for k := range s.Points {
		s.Points[k].Y = math.NaN()
	}
	if f, err = s.Field("train_loss"); err != nil || !f.Is1D() || len(f.Z) != 1 {
		t.Errorf("1D field %+v, %v; want one row and no y axis", f, err)
	}
}
