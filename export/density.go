package export

import (
	"fmt"
	"math"

	"gonum.org/v1/plot/vg/draw"
)

// This file draws Hessian eigenvalue densities.

// DensityCurve is one spectral density to draw: ρ at the points X, and the
// label of its legend entry.
type DensityCurve struct {
	Label  string
	X, Rho []float64
}

// NewDensityFigure draws eigenvalue densities on a logarithmic density
// axis, as PyHessian's figures do, one colour per curve; the axis runs down
// to 1e-6 of the greatest density, where the broadening's tails fade.
// Caption lines go under the figure. Of o it uses the size and the
// resolution.
func NewDensityFigure(curves []DensityCurve, caption []string, o *PlotOptions) (*Figure, error) {
	opt := defaults(o)
	x0, x1, top := math.Inf(1), math.Inf(-1), 0.0
	for _, c := range curves {
		if len(c.X) != len(c.Rho) || len(c.X) < 2 {
			return nil, fmt.Errorf("export: density %q: %w: %d points and %d densities", c.Label, ErrPlot, len(c.X), len(c.Rho))
		}
		x0, x1 = math.Min(x0, c.X[0]), math.Max(x1, c.X[len(c.X)-1])
		for _, r := range c.Rho {
			top = math.Max(top, r)
		}
	}
	if !(x0 < x1) || !(top > 0) || math.IsInf(top, 0) {
		return nil, fmt.Errorf("export: density: %w: no finite positive density", ErrPlot)
	}
	lo, hi := top*1e-6, top*2
	lay := layout{title: "Hessian eigenvalue density", caption: caption}
	styles := make([]draw.LineStyle, len(curves))
	for i, c := range curves {
		styles[i] = draw.LineStyle{Color: pathColors[i%len(pathColors)], Width: 1.5}
		lay.legend = append(lay.legend, legendItem{text: c.Label, line: &styles[i]})
	}
	lay.body = func(cv draw.Canvas) {
		p := newPlot(txt(cv, "eigenvalue"), txt(cv, "density"))
		for i, c := range curves {
			addRuns(p, c.X, c.Rho, styles[i], func(v float64) bool { return v >= lo && finite(v) }, func(v float64) float64 { return v })
		}
		p.X.Min, p.X.Max = x0, x1
		logY(p, lo, hi)(cv)
	}
	return &Figure{Width: opt.Width, Height: opt.Height, DPI: opt.DPI, draw: lay.draw}, nil
}

// WriteDensityPlots draws [NewDensityFigure] and saves it in each format
// as dir/base.format, returning the paths written.
func WriteDensityPlots(dir, base string, curves []DensityCurve, caption []string, formats []string, o *PlotOptions) ([]string, error) {
	fig, err := NewDensityFigure(curves, caption, o)
	if err != nil {
		return nil, err
	}
	return fig.saveAll(dir, base, formats)
}
