package export

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// This file draws optimiser trajectories ([Path]) over the 2D figures.

// pathColors tell the paths apart over viridis' blues, greens and yellows.
var pathColors = []color.Color{
	color.RGBA{R: 220, G: 30, B: 30, A: 255}, color.RGBA{R: 245, G: 130, B: 0, A: 255},
	color.RGBA{R: 200, G: 0, B: 200, A: 255}, color.RGBA{R: 0, G: 0, B: 0, A: 255},
}

// A path of more than maxPathDots points is drawn as a line without dots,
// and one of more than maxPathVertices points through every k-th point
// (its ends kept): a figure cannot show more, and a path of 100,000 rows
// would otherwise take minutes to draw in every format.
const (
	maxPathDots     = 500
	maxPathVertices = 5000
)

// addPaths draws each path as a line through dots, its end (the final
// model) as a larger dot, with a legend entry in the plot's corner. Only
// the points inside the plot's ranges are kept, so a path that leaves the
// grid does not stretch the axes.
func addPaths(p *plot.Plot, paths []Path) {
	for i, path := range paths {
		line, dots, end := pathPlotters(path, pathColors[i%len(pathColors)], p.X.Min, p.X.Max, p.Y.Min, p.Y.Max)
		if line == nil {
			continue
		}
		p.Add(line, end)
		thumbs := []plot.Thumbnailer{line}
		if dots != nil {
			p.Add(dots)
			thumbs = append(thumbs, dots)
		}
		if path.Label != "" {
			p.Legend.Add(path.Label, thumbs...)
		}
	}
	if len(paths) > 0 {
		p.Legend.Top, p.Legend.Left = true, true
		p.Legend.TextStyle = textStyle(sans, vg.Points(9))
		p.Legend.TextStyle.XAlign, p.Legend.TextStyle.YAlign = draw.XLeft, draw.YBottom // where gonum's legend expects them
		p.Legend.XOffs, p.Legend.YOffs = vg.Points(6), -vg.Points(6)
		p.Legend.Padding, p.Legend.ThumbnailWidth = vg.Points(4), vg.Points(18)
	}
}

// pathPlotters makes the line of the points of path inside [x0, x1] ×
// [y0, y1] (nil if there are none), their dots (nil for a long path) and
// the larger dot of its end.
func pathPlotters(path Path, col color.Color, x0, x1, y0, y1 float64) (line *plotter.Line, dots, end *plotter.Scatter) {
	var xys plotter.XYs
	for k := range path.X {
		x, y := path.X[k], path.Y[k]
		if x >= x0 && x <= x1 && y >= y0 && y <= y1 {
			xys = append(xys, plotter.XY{X: x, Y: y})
		}
	}
	if len(xys) == 0 {
		return nil, nil, nil
	}
	last := xys[len(xys)-1]
	if n := len(xys); n > maxPathVertices {
		step := (n + maxPathVertices - 1) / maxPathVertices
		thin := xys[:0:0]
		for k := 0; k < n; k += step {
			thin = append(thin, xys[k])
		}
		xys = append(thin, last)
	}
	line, err := plotter.NewLine(xys)
	if err != nil {
		return nil, nil, nil
	}
	line.Color, line.Width = col, vg.Points(1.2)
	end, _ = plotter.NewScatter(plotter.XYs{last})
	end.Color, end.Shape, end.Radius = col, draw.CircleGlyph{}, vg.Points(4)
	if len(path.X) <= maxPathDots {
		dots, _ = plotter.NewScatter(xys)
		dots.Color, dots.Shape, dots.Radius = col, draw.CircleGlyph{}, vg.Points(1.8)
	}
	return line, dots, end
}
