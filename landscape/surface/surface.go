package surface

import (
	"fmt"
	"math"
)

// Surface is a loss landscape sampled on a grid, or the part of one that a
// shard computed. It is stored long-format, one [Point] per grid point, the
// shape of the Parquet output: x, y, then one value per metric.
type Surface struct {
	// Metrics names the values of every point, in column order, for example
	// "train_loss", "train_acc", "test_loss", "test_acc".
	Metrics []string
	// Points holds the computed points in ascending Index order.
	Points []Point
	// Provenance records how the surface was made.
	Provenance Provenance
}

// Point is one evaluated grid point.
type Point struct {
	// Index is the flat grid index iy*nx + ix (ix alone in 1D). It ties a
	// point to its place in the grid whatever shard computed it.
	Index int
	// X and Y are the coordinates α and β; Y is NaN in a 1D surface and is
	// written as null.
	X, Y float64
	// Values holds one number per entry of Surface.Metrics. A loss may be
	// +Inf or NaN far from the centre; it is stored as such.
	Values []float64
}

// Is1D reports whether the surface has no y axis.
func (s *Surface) Is1D() bool { return s.Provenance.Grid.Y == nil }

// Metric returns the column index of the named metric.
func (s *Surface) Metric(name string) (int, error) {
	for i, m := range s.Metrics {
		if m == name {
			return i, nil
		}
	}
	return -1, fmt.Errorf("surface: surface has no metric %q (it has %v)", name, s.Metrics)
}

// Grid returns the named metric as a dense array Z[iy][ix] (one row in 1D),
// the layout of the reference's 2D arrays and of matplotlib's contour. Grid
// points the surface does not hold are NaN.
func (s *Surface) Grid(metric string) ([][]float64, error) {
	m, err := s.Metric(metric)
	if err != nil {
		return nil, err
	}
	g := s.Provenance.Grid
	nx, n := g.X.Num, g.Len()
	ny := n / nx
	z := make([][]float64, ny)
	for iy := range z {
		z[iy] = make([]float64, nx)
		for ix := range z[iy] {
			z[iy][ix] = math.NaN()
		}
	}
	for _, p := range s.Points {
		if p.Index < 0 || p.Index >= n {
			return nil, fmt.Errorf("surface: point index %d outside a %dx%d grid", p.Index, nx, ny)
		}
		z[p.Index/nx][p.Index%nx] = p.Values[m]
	}
	return z, nil
}

// Metrics returns the metric column names for the splits: train_loss,
// train_acc, test_loss, ...
func Metrics(splits []string) []string {
	var m []string
	for _, s := range splits {
		m = append(m, s+"_loss", s+"_acc")
	}
	return m
}
