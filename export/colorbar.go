package export

import (
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ColorBar shows a colour scale as a vertical bar: the bands between
// Levels in the colours [FilledContours] gives them if Filled, or else a
// continuous gradient, with Levels, if any, marked across it as lines.
//
// It is a plotter for a plot of its own, set beside the plot of the field:
// it fills the plot's data area from x = 0 to 1 and from Scale.Min to
// Scale.Max up the y axis, whose Scale must be plot.LogScale{} if the
// colour scale is a log one. ColorBar's Ticks method is a plot.Ticker for
// that axis, placing round numbers as the figures do.
type ColorBar struct {
	Scale  ColorScale
	Levels []float64
	Filled bool
}

var (
	_ plot.Plotter    = ColorBar{}
	_ plot.DataRanger = ColorBar{}
	_ plot.Ticker     = ColorBar{}
)

// Plot implements plot.Plotter.
func (b ColorBar) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	b.draw(c, vg.Rectangle{Min: vg.Point{X: trX(0), Y: trY(b.Scale.Min)}, Max: vg.Point{X: trX(1), Y: trY(b.Scale.Max)}})
}

// DataRange implements plot.DataRanger: x from 0 to 1, y over the scale.
func (b ColorBar) DataRange() (xmin, xmax, ymin, ymax float64) {
	return 0, 1, b.Scale.Min, b.Scale.Max
}

// Ticks implements plot.Ticker: about five labelled ticks at round
// numbers, or on a log scale the powers of ten, with 2 and 5 times them
// where there are fewer than three powers. Powers of ten that the figures
// write with a raised exponent are written 10^5 here, which any text
// handler draws.
func (b ColorBar) Ticks(min, max float64) []plot.Tick {
	ticks := scaleTicks(min, max, b.Scale.Log)
	for i := range ticks {
		ticks[i].Label = flatten(ticks[i].Label)
	}
	return ticks
}

// draw fills r with the bar and frames it.
func (b ColorBar) draw(c draw.Canvas, r vg.Rectangle) {
	sc, cmap := b.Scale, b.Scale.colors()
	pos := func(v float64) vg.Length { return b.y(r, v) }
	stripe := func(y0, y1 vg.Length, t float64) {
		fillSeamless(c, rectPath(vg.Rectangle{Min: vg.Point{X: r.Min.X, Y: y0}, Max: vg.Point{X: r.Max.X, Y: y1}}), cmap.At(t))
	}
	if b.Filled {
		bounds := append([]float64{sc.Min}, b.Levels...)
		bounds = append(bounds, sc.Max)
		for i := 0; i+1 < len(bounds); i++ {
			lo, hi := math.Max(bounds[i], sc.Min), math.Min(bounds[i+1], sc.Max)
			if lo >= hi {
				continue
			}
			t := sc.Norm(sc.mid(lo, hi))
			switch {
			case i == 0:
				t = 0
			case i == len(bounds)-2:
				t = 1
			}
			stripe(pos(lo), pos(hi), t)
		}
	} else {
		const n = 96
		for i := range n {
			y0 := r.Min.Y + vg.Length(i)*(r.Max.Y-r.Min.Y)/n
			y1 := r.Min.Y + vg.Length(i+1)*(r.Max.Y-r.Min.Y)/n
			stripe(y0, y1, (float64(i)+0.5)/n)
		}
		for _, l := range b.Levels {
			if l >= sc.Min && l <= sc.Max {
				y := pos(l)
				c.StrokeLine2(draw.LineStyle{Color: inkColor, Width: 0.5}, r.Min.X, y, r.Max.X, y)
			}
		}
	}
	c.SetLineStyle(draw.LineStyle{Color: inkColor, Width: 0.6})
	c.Stroke(rectPath(r))
}

// y returns the height of v on the bar drawn in r.
func (b ColorBar) y(r vg.Rectangle, v float64) vg.Length {
	return r.Min.Y + vg.Length(b.Scale.Norm(v))*(r.Max.Y-r.Min.Y)
}

// colorBarWidth is the room a colour bar takes at the right of a figure,
// with its ticks and label.
const colorBarWidth = 72

// barRect returns where a figure's colour bar goes: a little right of x,
// from bottom to top.
func barRect(x, bottom, top vg.Length) vg.Rectangle {
	return vg.Rectangle{Min: vg.Point{X: x + 12, Y: bottom}, Max: vg.Point{X: x + 24, Y: top}}
}

// colorBarLabel returns the label of the colour scale of metric.
func colorBarLabel(metric string, log bool) string {
	if log {
		return metric + " (log scale)"
	}
	return metric
}

// drawColorBar draws the bar b in r with ticks and labels on its right and
// the label of the scale beyond them.
func drawColorBar(c draw.Canvas, r vg.Rectangle, b ColorBar, label string) {
	b.draw(c, r)
	ts := textStyle(sans, tickSize)
	ts.XAlign = draw.XLeft
	var wmax vg.Length
	for _, t := range scaleTicks(b.Scale.Min, b.Scale.Max, b.Scale.Log) {
		y := b.y(r, t.Value)
		c.StrokeLine2(draw.LineStyle{Color: inkColor, Width: 0.6}, r.Max.X, y, r.Max.X+3, y)
		c.FillText(ts, vg.Point{X: r.Max.X + 5, Y: y}, t.Label)
		wmax = max(wmax, ts.Width(t.Label))
	}
	ls := textStyle(sans, labelSize)
	ls.Rotation = math.Pi / 2
	label = txt(c, label)
	c.FillText(ls, vg.Point{X: r.Max.X + 5 + wmax + 4 + ls.Height(label)/2, Y: (r.Min.Y + r.Max.Y) / 2}, label)
}
