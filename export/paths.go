package export

import (
	"image/color"
	"math"

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
	color.RGBA{R: 30, G: 90, B: 220, A: 255}, color.RGBA{R: 20, G: 150, B: 60, A: 255},
	color.RGBA{R: 140, G: 86, B: 75, A: 255}, color.RGBA{R: 0, G: 170, B: 190, A: 255},
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
// model) as a larger dot, with a legend in the corner of the plot that
// the paths cross least, on a white ground. Only the points inside the
// plot's ranges are kept, so a path that leaves the grid does not
// stretch the axes. It returns the legend, nil if no path drawn has a
// label.
func addPaths(p *plot.Plot, paths []Path) *pathLegend {
	var legend pathLegend
	for i, path := range paths {
		line, dots, end := pathPlotters(path, pathColors[i%len(pathColors)], p.X.Min, p.X.Max, p.Y.Min, p.Y.Max)
		if line == nil {
			continue
		}
		p.Add(line, end)
		legend.paths = append(legend.paths, line.XYs)
		thumbs := []plot.Thumbnailer{line}
		if dots != nil {
			p.Add(dots)
			thumbs = append(thumbs, dots)
		}
		if path.Label != "" {
			legend.entries = append(legend.entries, legendEntry{path.Label, thumbs})
		}
	}
	if len(legend.entries) == 0 {
		return nil
	}
	p.Add(&legend)
	return &legend
}

// pathLegend is the legend of the paths, drawn over them: in the corner
// where the fewest of their points lie under it, the top left where none
// do.
type pathLegend struct {
	paths   []plotter.XYs
	entries []legendEntry
	corner  legendCorner // where it was drawn
}

type legendEntry struct {
	label  string
	thumbs []plot.Thumbnailer
}

// legendCorner is a corner of the plot: top or bottom, left or right.
type legendCorner struct{ top, left bool }

// Sizes of the paths' legend, in points: its distance from the plot's
// edges, its margin, the width of a line's sample and the gap between
// entries.
const (
	legendInset  = 6
	legendMargin = 3
	legendThumb  = 18
	legendGap    = 4
)

func (l *pathLegend) Plot(c draw.Canvas, p *plot.Plot) {
	ts := textStyle(sans, vg.Points(9))
	ts.XAlign, ts.YAlign = draw.XLeft, draw.YCenter
	h := ts.Height("Ag")
	var w vg.Length
	for _, e := range l.entries {
		w = max(w, ts.Width(txt(c, e.label)))
	}
	size := vg.Point{X: 2*legendMargin + legendThumb + legendGap + w, Y: 2*legendMargin + vg.Length(len(l.entries))*h + vg.Length(len(l.entries)-1)*legendGap}
	box := func(k legendCorner) vg.Rectangle {
		var r vg.Rectangle
		r.Min.X, r.Min.Y = c.Min.X+legendInset, c.Min.Y+legendInset
		if !k.left {
			r.Min.X = c.Max.X - legendInset - size.X
		}
		if k.top {
			r.Min.Y = c.Max.Y - legendInset - size.Y
		}
		r.Max = r.Min.Add(size)
		return r
	}
	// The paths' lines, at a point every 2 points of their length, so
	// that a long segment across a corner counts as well as a cluster of
	// dots.
	trX, trY := p.Transforms(&c)
	var along []vg.Point
	for _, xys := range l.paths {
		var prev vg.Point
		for k, xy := range xys {
			at := vg.Point{X: trX(xy.X), Y: trY(xy.Y)}
			if k > 0 {
				d := at.Sub(prev)
				steps := int(math.Ceil(math.Hypot(float64(d.X), float64(d.Y)) / 2))
				for j := 1; j < steps; j++ {
					along = append(along, prev.Add(d.Scale(vg.Length(j)/vg.Length(steps))))
				}
			}
			along = append(along, at)
			prev = at
		}
	}
	fewest := math.MaxInt
	for _, k := range []legendCorner{{true, true}, {true, false}, {false, true}, {false, false}} {
		r, n := box(k), 0
		for _, at := range along {
			if at.X >= r.Min.X && at.X <= r.Max.X && at.Y >= r.Min.Y && at.Y <= r.Max.Y {
				n++
			}
		}
		if n < fewest {
			l.corner, fewest = k, n
		}
	}
	r := box(l.corner)
	c.SetColor(color.NRGBA{R: 255, G: 255, B: 255, A: 225})
	c.Fill(rectPath(r))
	c.SetLineStyle(draw.LineStyle{Color: captionColor, Width: 0.4})
	c.Stroke(rectPath(r))
	y := r.Max.Y - legendMargin - h/2
	for _, e := range l.entries {
		x := r.Min.X + legendMargin
		icon := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: x, Y: y - h/2}, Max: vg.Point{X: x + legendThumb, Y: y + h/2}}}
		for _, t := range e.thumbs {
			t.Thumbnail(&icon)
		}
		c.FillText(ts, vg.Point{X: x + legendThumb + legendGap, Y: y}, txt(c, e.label))
		y -= h + legendGap
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

// addMarks draws the marks over p: each a white dot ringed in black with
// its label beside it, on a white ground so that it reads over contours.
// Marks outside the plot's ranges are left out.
func addMarks(p *plot.Plot, marks []Mark) {
	if len(marks) > 0 {
		p.Add(markPlotter(marks))
	}
}

// markPlotter is the plot.Plotter of [addMarks].
type markPlotter []Mark

// Sizes of marks and of the labels of path points, in points.
const (
	markRadius    = 4
	markLabelSize = 9
	pointNameSize = 7
)

func (ms markPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	ts := textStyle(boldFont(c), markLabelSize)
	ts.XAlign, ts.YAlign = draw.XLeft, draw.YBottom
	for _, m := range ms {
		if !(m.X >= p.X.Min && m.X <= p.X.Max && m.Y >= p.Y.Min && m.Y <= p.Y.Max) {
			continue
		}
		at := vg.Point{X: trX(m.X), Y: trY(m.Y)}
		var dot vg.Path
		dot.Move(vg.Point{X: at.X + markRadius, Y: at.Y})
		dot.Arc(at, markRadius, 0, 2*math.Pi)
		dot.Close()
		c.SetColor(whiteColor)
		c.Fill(dot)
		c.SetLineStyle(draw.LineStyle{Color: inkColor, Width: 1.4})
		c.Stroke(dot)
		drawLabel(c, ts, vg.Point{X: at.X + markRadius + 2, Y: at.Y + markRadius - 1}, txt(c, m.Label))
	}
}

// drawLabel writes s at pt in style ts on a white ground a little larger
// than the text, and returns the box it covers.
func drawLabel(c draw.Canvas, ts draw.TextStyle, pt vg.Point, s string) vg.Rectangle {
	r := textBox(ts, pt, s)
	c.SetColor(labelGround)
	c.Fill(rectPath(r))
	c.FillText(ts, pt, s)
	return r
}

// textBox returns the box, with a margin of 1.5 points, that s written at
// pt in style ts (not rotated) covers.
func textBox(ts draw.TextStyle, pt vg.Point, s string) vg.Rectangle {
	w, h := ts.Width(s), ts.Height(s)
	x0 := pt.X + vg.Length(ts.XAlign)*w
	y0 := pt.Y + vg.Length(ts.YAlign)*h
	return vg.Rectangle{Min: vg.Point{X: x0 - 1.5, Y: y0 - 1.5}, Max: vg.Point{X: x0 + w + 1.5, Y: y0 + h + 1.5}}
}

// labelGround is the ground of labels over a plot: white, a little
// transparent.
var labelGround = color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xd8}

// pointNames is a plot.Plotter that writes the names of some points of a
// path beside them: its last and its first, then every point far enough
// from the last one named whose name fits clear of the others and of the
// plot's edges.
type pointNames struct {
	path Path
	col  color.Color
}

// minNameGap is the least distance, in points, along the canvas between
// two points of a path that are both named.
const minNameGap = 36

func (pn pointNames) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	var idx []int
	var pts []vg.Point
	for k := range pn.path.X {
		x, y := pn.path.X[k], pn.path.Y[k]
		if k < len(pn.path.Names) && pn.path.Names[k] != "" && x >= p.X.Min && x <= p.X.Max && y >= p.Y.Min && y <= p.Y.Max {
			idx = append(idx, k)
			pts = append(pts, vg.Point{X: trX(x), Y: trY(y)})
		}
	}
	if len(idx) == 0 {
		return
	}
	ts := textStyle(sans, pointNameSize)
	ts.Color = shade(color.NRGBAModel.Convert(pn.col).(color.NRGBA), 0.75)
	var placed []vg.Rectangle
	var named []vg.Point
	try := func(i int) {
		for _, q := range named {
			if math.Hypot(float64(pts[i].X-q.X), float64(pts[i].Y-q.Y)) < minNameGap {
				return
			}
		}
		name := txt(c, pn.path.Names[idx[i]])
		// Right of the point and above it, else left of it, else below.
		for _, side := range [][2]float64{{1, 1}, {-1, 1}, {1, -1}, {-1, -1}} {
			st := ts
			st.XAlign, st.YAlign = draw.XLeft, draw.YBottom
			if side[0] < 0 {
				st.XAlign = draw.XRight
			}
			if side[1] < 0 {
				st.YAlign = draw.YTop
			}
			at := vg.Point{X: pts[i].X + vg.Length(4*side[0]), Y: pts[i].Y + vg.Length(3*side[1])}
			r := textBox(st, at, name)
			if contains(c.Rectangle, r) && !overlapsAny(r, placed) {
				placed = append(placed, drawLabel(c, st, at, name))
				named = append(named, pts[i])
				return
			}
		}
	}
	try(len(idx) - 1)
	try(0)
	for i := 1; i < len(idx)-1; i++ {
		try(i)
	}
}
