package export

import (
	"image/color"

	"github.com/landscape-go/landscape/landscape/surface"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// This file holds the gonum/plot plotters of a surface's field that the
// figures are drawn with, exported so that a program can compose figures
// of its own from them. The contour plotters draw the piecewise linear
// surface of [surface.Field.Contours] and [surface.Field.Bands]; all of
// them take the field to be 2D.

// Compile-time checks that the plotters are what gonum/plot wants.
var (
	_ plotter.GridXYZ = GridXYZ{}
	_ plot.Plotter    = HeatMap{}
	_ plot.DataRanger = HeatMap{}
	_ plot.Plotter    = FilledContours{}
	_ plot.DataRanger = FilledContours{}
	_ plot.Plotter    = ContourLines{}
	_ plot.DataRanger = ContourLines{}
	_ plot.Plotter    = MissingCells{}
	_ plot.DataRanger = MissingCells{}
)

// GridXYZ is a field as gonum/plot's plotter.GridXYZ, for gonum's own
// plotter.NewHeatMap and plotter.NewContour: column c lies at X[c], row r
// at Y[r] (0 in the one row of a 1D field), and Z(c, r) is Z[r][c].
type GridXYZ struct{ Field *surface.Field }

// Dims returns the number of columns and rows of the grid.
func (g GridXYZ) Dims() (c, r int) { return len(g.Field.X), len(g.Field.Z) }

// Z returns the value at column c and row r.
func (g GridXYZ) Z(c, r int) float64 { return g.Field.Z[r][c] }

// X returns the coordinate α of column c.
func (g GridXYZ) X(c int) float64 { return g.Field.X[c] }

// Y returns the coordinate β of row r, 0 in a 1D field.
func (g GridXYZ) Y(r int) float64 {
	if g.Field.Is1D() {
		return 0
	}
	return g.Field.Y[r]
}

// fieldRange is the plot.DataRanger of a field's grid.
func fieldRange(f *surface.Field) (xmin, xmax, ymin, ymax float64) {
	return f.X[0], f.X[len(f.X)-1], f.Y[0], f.Y[len(f.Y)-1]
}

// polygonPath returns the closed path through pts.
func polygonPath(pts ...vg.Point) vg.Path {
	var path vg.Path
	for i, pt := range pts {
		if i == 0 {
			path.Move(pt)
		} else {
			path.Line(pt)
		}
	}
	path.Close()
	return path
}

// rectPath returns the closed path around r.
func rectPath(r vg.Rectangle) vg.Path {
	return polygonPath(r.Min, vg.Point{X: r.Max.X, Y: r.Min.Y}, r.Max, vg.Point{X: r.Min.X, Y: r.Max.Y})
}

// fillSeamless fills path in colour col and strokes its outline in the
// same colour, a hair wide, so that adjacent polygons show no seams where
// renderers antialias their shared edges.
func fillSeamless(c draw.Canvas, path vg.Path, col color.Color) {
	c.SetColor(col)
	c.Fill(path)
	c.SetLineStyle(draw.LineStyle{Color: col, Width: seamWidth})
	c.Stroke(path)
}

// seamWidth is the width of the outline that hides seams between filled
// polygons.
const seamWidth = 1

// fillPolygon fills p, in data coordinates, seamlessly in colour col.
func fillPolygon(c draw.Canvas, trX, trY func(float64) vg.Length, p []surface.Vertex, col color.Color) {
	pts := make([]vg.Point, len(p))
	for i, v := range p {
		pts[i] = vg.Point{X: trX(v.X), Y: trY(v.Y)}
	}
	fillSeamless(c, polygonPath(pts...), col)
}

// fillRect fills the rectangle from (x0, y0) to (x1, y1), in data
// coordinates, seamlessly in colour col.
func fillRect(c draw.Canvas, trX, trY func(float64) vg.Length, x0, y0, x1, y1 float64, col color.Color) {
	fillSeamless(c, rectPath(vg.Rectangle{Min: vg.Point{X: trX(x0), Y: trY(y0)}, Max: vg.Point{X: trX(x1), Y: trY(y1)}}), col)
}

// MissingCells fills grey the cells of Field that have a corner that is
// NaN or infinite, which the contour plotters leave empty.
type MissingCells struct{ Field *surface.Field }

// Plot implements plot.Plotter.
func (m MissingCells) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	m.Field.MissingCells(func(x0, y0, x1, y1 float64) {
		fillRect(c, trX, trY, x0, y0, x1, y1, missingColor)
	})
}

// DataRange implements plot.DataRanger: the grid.
func (m MissingCells) DataRange() (xmin, xmax, ymin, ymax float64) { return fieldRange(m.Field) }

// FilledContours fills the bands of Field between its Levels, which are
// ascending, each in the colour Scale gives its middle value; below the
// first level and above the last it uses the colours of the ends of the
// scale.
type FilledContours struct {
	Field  *surface.Field
	Levels []float64
	Scale  ColorScale
}

// Plot implements plot.Plotter.
func (fc FilledContours) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	cmap := fc.Scale.colors()
	cols := make([]color.Color, len(fc.Levels)+1)
	for i := range cols {
		var t float64
		switch {
		case i == 0:
			t = 0
		case i == len(fc.Levels):
			t = 1
		default:
			t = fc.Scale.Norm(fc.Scale.mid(fc.Levels[i-1], fc.Levels[i]))
		}
		cols[i] = cmap.At(t)
	}
	fc.Field.Bands(fc.Levels, func(band int, poly []surface.Vertex) {
		fillPolygon(c, trX, trY, poly, cols[band])
	})
}

// DataRange implements plot.DataRanger: the grid.
func (fc FilledContours) DataRange() (xmin, xmax, ymin, ymax float64) { return fieldRange(fc.Field) }

// ContourLines draws the contour lines of Field at its Levels, each in the
// colour Scale gives the level (leaving out the palest tenth of the map,
// which would not show on white), and with Labels the level written along
// the line in gaps cut for it, clear of each other.
type ContourLines struct {
	Field  *surface.Field
	Levels []float64
	Scale  ColorScale
	// Width is the width of the lines; 0 means 1 point.
	Width vg.Length
	// Labels writes the levels along the lines.
	Labels bool
	// LabelStyle is the style of the labels; its colour is replaced by a
	// darker shade of the line's. If its font has no size, the figures'
	// 7-point sans-serif is used. Levels below 0.001 or from 10⁴ up are
	// written as powers of ten: in the figures' style with a raised
	// exponent, in another as 10^5.
	LabelStyle draw.TextStyle
}

// Plot implements plot.Plotter.
func (cl ContourLines) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	width := cl.Width
	if width == 0 {
		width = 1
	}
	font := cl.LabelStyle
	if font.Font.Size == 0 {
		font = textStyle(sans, contourSize)
	}
	label := tickLabel
	if _, ok := font.Handler.(richText); !ok {
		label = func(v float64) string { return flatten(tickLabel(v)) }
	}
	var placed []vg.Rectangle
	for _, level := range cl.Levels {
		col := cl.Scale.colors().At(0.88 * cl.Scale.Norm(level))
		style := draw.LineStyle{Color: col, Width: width}
		txt := label(level)
		for _, l := range cl.Field.Contours(level) {
			pts := make([]vg.Point, len(l.X))
			for i := range pts {
				pts[i] = vg.Point{X: trX(l.X[i]), Y: trY(l.Y[i])}
			}
			if !cl.Labels {
				c.StrokeLines(style, pts)
				continue
			}
			gaps, labels := placeLabels(c, pts, font, txt, &placed)
			for _, piece := range cutPolyline(pts, gaps) {
				c.StrokeLines(style, piece)
			}
			ts := font
			ts.Color = shade(col, 0.7)
			for _, lb := range labels {
				ts.Rotation = lb.angle
				c.FillText(ts, lb.at, txt)
			}
		}
	}
}

// DataRange implements plot.DataRanger: the grid.
func (cl ContourLines) DataRange() (xmin, xmax, ymin, ymax float64) { return fieldRange(cl.Field) }

// HeatMap draws each grid point of Field as a rectangle reaching halfway
// to its neighbours, in the colour Scale gives its value, or grey where
// the value is NaN or infinite.
type HeatMap struct {
	Field *surface.Field
	Scale ColorScale
}

// edges returns the boundaries of the rectangles centred on the points v.
func edges(v []float64) []float64 {
	e := make([]float64, len(v)+1)
	if len(v) == 1 {
		e[0], e[1] = v[0]-0.5, v[0]+0.5
		return e
	}
	e[0] = v[0] - (v[1]-v[0])/2
	for i := 1; i < len(v); i++ {
		e[i] = (v[i-1] + v[i]) / 2
	}
	e[len(v)] = v[len(v)-1] + (v[len(v)-1]-v[len(v)-2])/2
	return e
}

// Plot implements plot.Plotter.
func (h HeatMap) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	ex, ey := edges(h.Field.X), edges(h.Field.Y)
	for iy, row := range h.Field.Z {
		for ix, z := range row {
			fillRect(c, trX, trY, ex[ix], ey[iy], ex[ix+1], ey[iy+1], h.Scale.Color(z))
		}
	}
}

// DataRange implements plot.DataRanger: the grid and the half cells
// around its edge.
func (h HeatMap) DataRange() (xmin, xmax, ymin, ymax float64) {
	ex, ey := edges(h.Field.X), edges(h.Field.Y)
	return ex[0], ex[len(ex)-1], ey[0], ey[len(ey)-1]
}
