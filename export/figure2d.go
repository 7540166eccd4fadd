package export

import (
	"github.com/landscape-go/landscape/landscape/surface"
	"gonum.org/v1/plot/vg/draw"
)

// draw2D draws the body of a contour, filled-contour or heat-map figure:
// the plot of the field on the left, with paths and marks over it, and
// the colour bar on the right.
func draw2D(c draw.Canvas, f *surface.Field, ps plotSetup, kind PlotKind, metric, xl, yl string, paths []Path, marks []Mark) {
	p := newPlot(txt(c, xl), txt(c, yl))
	bar := ColorBar{Scale: ps.sc}
	switch kind {
	case ContourPlot:
		p.Add(MissingCells{f}, ContourLines{Field: f, Levels: ps.levels, Scale: ps.sc, Labels: true})
		bar.Levels = ps.levels
	case FilledContourPlot:
		p.Add(MissingCells{f}, FilledContours{Field: f, Levels: ps.levels, Scale: ps.sc})
		bar.Levels, bar.Filled = ps.levels, true
	case HeatmapPlot:
		p.Add(HeatMap{Field: f, Scale: ps.sc})
	}
	addPaths(p, paths)
	addMarks(p, marks)
	main := draw.Crop(c, 0, -colorBarWidth, 0, 0)
	p.Draw(main)
	dc := p.DataCanvas(main)
	drawColorBar(c, barRect(main.Max.X, dc.Min.Y, dc.Max.Y), bar, colorBarLabel(metric, ps.sc.Log))
}
