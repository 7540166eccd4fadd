package export

import (
	"fmt"
	"math"
	"slices"

	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape/surface"
)

// This file takes one line of a 2D surface's grid as a 1D surface, and
// draws it as the 1D figure.

// Dim names a coordinate of a surface's grid.
type Dim int

const (
	// DimX is the coordinate α, along the x direction.
	DimX Dim = iota
	// DimY is the coordinate β, along the y direction.
	DimY
)

// String returns x or y.
func (d Dim) String() string {
	if d == DimY {
		return "y"
	}
	return "x"
}

// Slice is a line of a 2D surface's grid: the one nearest the coordinate
// Fixed = At, along the other coordinate. With Fixed DimY it is the row
// nearest y = At, along x; with DimX the column nearest x = At, along y.
type Slice struct {
	Fixed Dim
	At    float64
}

// String returns the slice as the command line writes it: y=0, x=-0.5.
func (sl Slice) String() string { return sl.Fixed.String() + "=" + formatLevel(sl.At) }

// SliceSurface returns the line sl of the 2D surface s as a 1D surface
// whose x axis is the axis the line runs along, and the coordinate of the
// grid line taken: the one nearest sl.At, which must lie within half a
// grid step of the axis. The slice keeps the metrics and the provenance
// of s, but for the grid, the shard (the whole) and the progress; points
// s does not hold are missing from it too.
func SliceSurface(s *surface.Surface, sl Slice) (*surface.Surface, float64, error) {
	if s.Is1D() {
		return nil, 0, fmt.Errorf("export: slice %s: %w: the surface is 1D already", sl, ErrPlot)
	}
	g := s.Provenance.Grid
	fixed, along := *g.Y, g.X
	if sl.Fixed == DimX {
		fixed, along = g.X, *g.Y
	}
	k, ok := nearest(fixed, sl.At)
	if !ok {
		return nil, 0, fmt.Errorf("export: slice %s: %w: outside the grid's %s axis %s", sl, ErrPlot, sl.Fixed, fixed)
	}
	out := &surface.Surface{Metrics: slices.Clone(s.Metrics), Provenance: s.Provenance}
	out.Provenance.Grid = grid.Grid{X: along}
	out.Provenance.Shard = grid.Whole()
	nx := g.X.Num
	for _, p := range s.Points {
		ix, iy := p.Index%nx, p.Index/nx
		i, on := ix, iy == k
		if sl.Fixed == DimX {
			i, on = iy, ix == k
		}
		if on {
			out.Points = append(out.Points, surface.Point{Index: i, X: along.At(i), Y: math.NaN(), Values: slices.Clone(p.Values)})
		}
	}
	out.Provenance.Progress = surface.Progress{Done: len(out.Points), Total: along.Num}
	return out, fixed.At(k), nil
}

// nearest returns the index of the coordinate of a nearest v, and whether
// v lies within half a step of the axis (within 0.5 of a one-point axis).
func nearest(a grid.Axis, v float64) (int, bool) {
	if a.Num <= 1 {
		return 0, math.Abs(v-a.Min) <= 0.5
	}
	t := (v - a.Min) / (a.Max - a.Min) * float64(a.Num-1)
	if !(t >= -0.5 && t <= float64(a.Num-1)+0.5) {
		return 0, false
	}
	return min(max(int(math.Round(t)), 0), a.Num-1), true
}

// newSliceFigure returns the 1D figure of the line o.Slice of the 2D
// surface s, whose axes are labelled xl and yl.
func newSliceFigure(s *surface.Surface, o *PlotOptions, xl, yl string) (*Figure, error) {
	line, at, err := SliceSurface(s, *o.Slice)
	if err != nil {
		return nil, err
	}
	name, along := o.Slice.Fixed.String(), xl
	if o.Slice.Fixed == DimX {
		along = yl
	}
	what := fmt.Sprintf("slice at %s = %s", name, formatLevel(at))
	caption := captionOf(&s.Provenance)
	if math.Abs(at-o.Slice.At) > 1e-9*math.Max(1, math.Abs(at)) {
		caption = append(caption, fmt.Sprintf("the grid line nearest %s = %s", name, formatLevel(o.Slice.At)))
	}
	return newCurveFigure(line, o, along, what, caption)
}
