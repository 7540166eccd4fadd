package export

import (
	"fmt"
	"math"
	"strings"

	"github.com/landscape-go/landscape/landscape/surface"
	"gonum.org/v1/plot/vg/draw"
)

// This file draws trajectories alone, without a surface under them.

// NewPathFigure returns a figure of paths alone, without a surface: each
// in the plane of its directions as [NewFigure] draws paths over a
// surface, with the names of as many of its points as there is room for
// (see [Path]), its last and first among them, and o.Marks. The axes span
// the finite points with a margin. Of o it uses the size, the resolution
// and the axis labels.
func NewPathFigure(paths []Path, o *PlotOptions) (*Figure, error) {
	opt := defaults(o)
	x0, x1 := math.Inf(1), math.Inf(-1)
	y0, y1 := x0, x1
	take := func(x, y float64) {
		if finite(x) && finite(y) {
			x0, x1, y0, y1 = math.Min(x0, x), math.Max(x1, x), math.Min(y0, y), math.Max(y1, y)
		}
	}
	var labels, caption []string
	for _, p := range paths {
		if len(p.X) != len(p.Y) || (p.Names != nil && len(p.Names) != len(p.X)) {
			return nil, fmt.Errorf("export: path %q: %w: %d x, %d y and %d names", p.Label, ErrPlot, len(p.X), len(p.Y), len(p.Names))
		}
		for k := range p.X {
			take(p.X[k], p.Y[k])
		}
		if p.Label != "" {
			labels = append(labels, p.Label)
		}
		caption = append(caption, pathCaption(p))
	}
	for _, m := range opt.Marks {
		take(m.X, m.Y)
	}
	if !(x0 <= x1) {
		return nil, fmt.Errorf("export: plot paths: %w: no finite points", ErrPlot)
	}
	x0, x1 = padRange(x0, x1)
	y0, y1 = padRange(y0, y1)
	xl, yl := opt.axisLabels(&surface.Provenance{})
	title := "Trajectory"
	if len(labels) > 1 {
		title = "Trajectories"
	}
	if len(labels) > 0 {
		title += ": " + strings.Join(labels, ", ")
	}
	lay := layout{title: title, caption: caption}
	lay.body = func(c draw.Canvas) {
		p := newPlot(txt(c, xl), txt(c, yl))
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = x0, x1, y0, y1
		addPaths(p, paths)
		for i, path := range paths {
			p.Add(pointNames{path: path, col: pathColors[i%len(pathColors)]})
		}
		addMarks(p, opt.Marks)
		p.Draw(c)
	}
	return &Figure{Width: opt.Width, Height: opt.Height, DPI: opt.DPI, draw: lay.draw}, nil
}

// WritePathPlots draws the figure of paths alone ([NewPathFigure]) and
// saves it in each format as dir/base.format. It returns the paths
// written.
func WritePathPlots(dir, base string, paths []Path, formats []string, o *PlotOptions) ([]string, error) {
	fig, err := NewPathFigure(paths, o)
	if err != nil {
		return nil, err
	}
	return fig.saveAll(dir, base, formats)
}

// pathCaption describes p in a line of a caption: its label, how many
// points it has, and the names of its first and last.
func pathCaption(p Path) string {
	s := fmt.Sprintf("%d points", len(p.X))
	if n := len(p.Names); n > 0 {
		s += fmt.Sprintf(", from %s to %s", p.Names[0], p.Names[n-1])
	}
	if p.Label != "" {
		s = p.Label + ": " + s
	}
	return s
}

// padRange returns lo and hi moved apart by 6% of their distance, or
// around a single value by 10% of it (0.1 around 0).
func padRange(lo, hi float64) (float64, float64) {
	d := 0.06 * (hi - lo)
	if !(d > 0) || math.IsInf(d, 0) {
		d = math.Max(0.1*math.Abs(lo), 0.1)
	}
	return lo - d, hi + d
}

// NewCurvePathFigure returns the figure of a function of one variable: its
// curve through (xs[i], ys[i]), xs increasing, with paths over it (a run's
// points (x, f(x)), drawn as [NewFigure] draws paths, up to the plot's
// edge) and o.Marks. The x axis spans xs, the y axis the curve's finite
// values with a margin; title heads it. Of o it uses the size, the
// resolution and the axis labels.
func NewCurvePathFigure(title string, xs, ys []float64, paths []Path, o *PlotOptions) (*Figure, error) {
	opt := defaults(o)
	if len(xs) != len(ys) || len(xs) < 2 || !(xs[0] < xs[len(xs)-1]) {
		return nil, fmt.Errorf("export: plot curve: %w: %d x and %d y values", ErrPlot, len(xs), len(ys))
	}
	lo, hi := valueRange(math.Inf(1), math.Inf(-1), [][]float64{ys}, false)
	if !(lo <= hi) {
		return nil, fmt.Errorf("export: plot curve: %w: no finite values", ErrPlot)
	}
	lo, hi = padRange(lo, hi)
	var caption []string
	for _, p := range paths {
		if len(p.X) != len(p.Y) {
			return nil, fmt.Errorf("export: path %q: %w: %d x and %d y", p.Label, ErrPlot, len(p.X), len(p.Y))
		}
		caption = append(caption, pathCaption(p))
	}
	xl, yl := opt.axisLabels(&surface.Provenance{})
	lay := layout{title: title, caption: caption}
	lay.body = func(c draw.Canvas) {
		p := newPlot(txt(c, xl), txt(c, yl))
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = xs[0], xs[len(xs)-1], lo, hi
		addRuns(p, xs, ys, draw.LineStyle{Color: inkColor, Width: 1.2}, finite, func(v float64) float64 { return v })
		addPaths(p, paths)
		addMarks(p, opt.Marks)
		p.Draw(c)
	}
	return &Figure{Width: opt.Width, Height: opt.Height, DPI: opt.DPI, draw: lay.draw}, nil
}

// WriteCurvePathPlots draws [NewCurvePathFigure] and saves it in each
// format as dir/base.format. It returns the paths written.
func WriteCurvePathPlots(dir, base, title string, xs, ys []float64, paths []Path, formats []string, o *PlotOptions) ([]string, error) {
	fig, err := NewCurvePathFigure(title, xs, ys, paths, o)
	if err != nil {
		return nil, err
	}
	return fig.saveAll(dir, base, formats)
}
