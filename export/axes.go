package export

import (
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// This file styles the axes of the figures' gonum plots.

// newPlot returns a plot in the figures' style: sans-serif text, no gap
// between the axes and the data.
func newPlot(xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, labelSize)
		a.Tick.Label.Font = font.From(sans, tickSize)
		a.Label.TextStyle.Handler, a.Tick.Label.Handler = textHandler, textHandler
		a.Padding = 0
		a.Tick.Marker = plot.TickerFunc(niceTicks)
	}
	p.X.Label.Text, p.Y.Label.Text = xlabel, ylabel
	return p
}

// logY puts the y axis of p on a log scale from lo to hi. gonum centres
// the y label's room at the arithmetic middle of the axis, near the top of
// a log axis, which wastes space above the plot; so the label is taken off
// the plot, and the returned function draws p with the label drawn by
// hand.
func logY(p *plot.Plot, lo, hi float64) func(c draw.Canvas) draw.Canvas {
	p.Y.Min, p.Y.Max = lo, hi
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.TickerFunc(func(lo, hi float64) []plot.Tick { return scaleTicks(lo, hi, true) })
	label := p.Y.Label.Text
	p.Y.Label.Text = ""
	return func(c draw.Canvas) draw.Canvas {
		label := txt(c, label)
		ls := p.Y.Label.TextStyle
		ls.Rotation = math.Pi / 2
		h := ls.Height(label)
		main := draw.Crop(c, h+4, 0, 0, 0)
		p.Draw(main)
		dc := p.DataCanvas(main)
		c.FillText(ls, vg.Point{X: c.Min.X + h/2, Y: (dc.Min.Y + dc.Max.Y) / 2}, label)
		return main
	}
}
