package export

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"github.com/landscape-go/landscape/landscape/surface"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// This file draws the 1D figure (CurvePlot): loss and accuracy along a
// line, on twin axes, as the reference's *_1d_loss_acc.pdf.

// Colours of the 1D curves: matplotlib's blue for loss, red for accuracy,
// as the reference draws them.
var (
	lossColor = color.NRGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	accColor  = color.NRGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
)

// curve is one metric of a 1D surface as drawn.
type curve struct {
	name  string
	y     []float64
	right bool // on the accuracy axis
	style draw.LineStyle
}

// curveMetric is a metric a 1D figure draws: on the accuracy axis
// (right), dashed (the test split's).
type curveMetric struct {
	name          string
	right, dashed bool
}

// curveMetrics returns the metrics of those given that the 1D figure of
// metric draws: the metric, its accuracy (metric with _loss replaced by
// _acc) on the right axis, and the test split's pair, dashed, when the
// metric is a train one.
func curveMetrics(metrics []string, metric string) []curveMetric {
	cs := []curveMetric{{name: metric}}
	add := func(m string, right, dashed bool) {
		if slices.Contains(metrics, m) && m != metric {
			cs = append(cs, curveMetric{m, right, dashed})
		}
	}
	if base, ok := strings.CutSuffix(metric, "_loss"); ok {
		add(base+"_acc", true, false)
		if rest, ok := strings.CutPrefix(base, "train"); ok {
			add("test"+rest+"_loss", false, true)
			add("test"+rest+"_acc", true, true)
		}
	}
	return cs
}

// curvesOf returns the curves of the 1D figure of metric (see
// [curveMetrics]).
func curvesOf(s *surface.Surface, metric string) ([]curve, error) {
	var cs []curve
	for _, m := range curveMetrics(s.Metrics, metric) {
		z, err := s.Grid(m.name)
		if err != nil {
			return nil, fmt.Errorf("export: plot: %w", err)
		}
		st := draw.LineStyle{Color: lossColor, Width: 1.5}
		if m.right {
			st.Color = accColor
		}
		if m.dashed {
			st.Dashes = []vg.Length{5, 3}
		}
		cs = append(cs, curve{name: m.name, y: z[0], right: m.right, style: st})
	}
	return cs, nil
}

// axisRange returns the least and greatest finite values of the curves on
// one side (positive ones on a log scale), or false if there are none.
func axisRange(cs []curve, right, log bool) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, c := range cs {
		if c.right == right {
			lo, hi = valueRange(lo, hi, [][]float64{c.y}, log)
		}
	}
	return lo, hi, lo <= hi
}

// addRuns adds to p the line through the points (xs[i], y(ys[i])) in
// style, broken where keep(ys[i]) is false.
func addRuns(p *plot.Plot, xs, ys []float64, style draw.LineStyle, keep func(float64) bool, y func(float64) float64) {
	var run plotter.XYs
	flush := func() {
		if len(run) > 0 {
			if l, err := plotter.NewLine(run); err == nil {
				l.LineStyle = style
				p.Add(l)
			}
			run = nil
		}
	}
	for i, v := range ys {
		if !keep(v) {
			flush()
			continue
		}
		run = append(run, plotter.XY{X: xs[i], Y: y(v)})
	}
	flush()
}

// newCurveFigure returns the figure of the 1D surface s: the metric and
// its accuracy on twin axes, and the test split's pair dashed; xl labels
// the x axis, what says in the title what the figure shows, and caption
// is its caption.
func newCurveFigure(s *surface.Surface, o *PlotOptions, xl, what string, caption []string) (*Figure, error) {
	cs, err := curvesOf(s, o.Metric)
	if err != nil {
		return nil, err
	}
	xs := s.Provenance.Grid.X.Values()
	lay := layout{title: titleOf(&s.Provenance, o.Metric, what), caption: caption}

	// The loss axis: from 0 (or the least value) to the greatest value,
	// cut at VMax (10 by default).
	lo, hi, ok := axisRange(cs, false, o.Log)
	if !ok {
		lo, hi = 0.1, 10
	}
	top := o.VMax
	if top == 0 {
		top = 10
	}
	if !o.Log && lo > 0 {
		lo = 0
	}
	if hi > top && top > lo {
		hi = top
		lay.caption = append(lay.caption, fmt.Sprintf("loss axis cut at %s", formatLevel(top)))
	}
	if !(lo < hi) {
		lo, hi = widen(lo, hi, o.Log)
	}
	// The accuracy axis: 0 to 100 for percentages, 0 to 1 for fractions.
	alo, ahi := 0.0, 100.0
	hasAcc := slices.ContainsFunc(cs, func(c curve) bool { return c.right })
	if a0, a1, ok := axisRange(cs, true, false); ok {
		alo = math.Min(0, a0)
		switch {
		case a1 <= 1:
			ahi = 1
		case a1 > 100:
			ahi = a1
		}
	}
	// toLeft maps an accuracy to the loss axis, so that it can be drawn on
	// the same plot.
	toLeft := func(a float64) float64 {
		t := (a - alo) / (ahi - alo)
		if o.Log {
			return math.Exp(math.Log(lo) + t*(math.Log(hi)-math.Log(lo)))
		}
		return lo + t*(hi-lo)
	}

	// An axis that holds both splits' curves is labelled by what they
	// measure, "loss" or "accuracy", the legend telling the splits apart.
	leftName, rightName := o.Metric, ""
	lefts, rights := 0, 0
	for _, c := range cs {
		if c.right {
			rights++
			if rightName == "" {
				rightName = c.name
			}
		} else {
			lefts++
		}
	}
	measure := func(name string) string { _, m, _ := strings.Cut(name, "_"); return m }
	if lefts > 1 && measure(leftName) != "" {
		leftName = measure(leftName)
	}
	if rights > 1 && measure(rightName) == "acc" {
		rightName = "accuracy"
	}
	p := newPlot(xl, colorBarLabel(leftName, o.Log))
	var missing []int
	for i := range xs {
		if !finite(cs[0].y[i]) {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		p.Add(missingBands{xs: xs, idx: missing})
		lay.legend = append(lay.legend, legendItem{text: fmt.Sprintf("%s NaN, ±Inf or missing (%d points)", o.Metric, len(missing)), fill: missingColor})
	}
	for _, c := range cs {
		keep := func(v float64) bool { return finite(v) && !(o.Log && !c.right && v <= 0) }
		y := func(v float64) float64 { return v }
		if c.right {
			y = toLeft
		}
		addRuns(p, xs, c.y, c.style, keep, y)
		st := c.style
		lay.legend = append(lay.legend, legendItem{text: c.name, line: &st})
	}
	p.X.Min, p.X.Max = xs[0], xs[len(xs)-1]
	p.Y.Min, p.Y.Max = lo, hi
	drawPlot := func(c draw.Canvas) draw.Canvas { p.Draw(c); return c }
	if o.Log {
		drawPlot = logY(p, lo, hi)
	}
	rightLabel := rightName
	lay.body = func(c draw.Canvas) {
		p.X.Label.Text = txt(c, xl)
		main := c
		if hasAcc {
			main = draw.Crop(c, 0, -48, 0, 0)
		}
		main = drawPlot(main)
		if !hasAcc {
			return
		}
		dc := p.DataCanvas(main)
		ink := draw.LineStyle{Color: inkColor, Width: 0.7}
		c.StrokeLine2(ink, dc.Max.X, dc.Min.Y, dc.Max.X, dc.Max.Y)
		ts := textStyle(sans, tickSize)
		ts.XAlign = draw.XLeft
		var wmax vg.Length
		for _, t := range scaleTicks(alo, ahi, false) {
			y := dc.Min.Y + vg.Length((t.Value-alo)/(ahi-alo))*(dc.Max.Y-dc.Min.Y)
			c.StrokeLine2(ink, dc.Max.X, y, dc.Max.X+4, y)
			c.FillText(ts, vg.Point{X: dc.Max.X + 6, Y: y}, t.Label)
			wmax = max(wmax, ts.Width(t.Label))
		}
		ls := textStyle(sans, labelSize)
		ls.Color = accColor
		ls.Rotation = -math.Pi / 2
		rl := txt(c, rightLabel)
		c.FillText(ls, vg.Point{X: dc.Max.X + 6 + wmax + 4 + ls.Height(rl)/2, Y: (dc.Min.Y + dc.Max.Y) / 2}, rl)
	}
	return &Figure{Width: o.Width, Height: o.Height, DPI: o.DPI, draw: lay.draw}, nil
}

// missingBands shades, across the whole height of a 1D plot, the stretch
// of each point whose value is not finite: halfway to its neighbours.
type missingBands struct {
	xs  []float64
	idx []int
}

func (m missingBands) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	e := edges(m.xs)
	for _, i := range m.idx {
		x0, x1 := trX(math.Max(e[i], m.xs[0])), trX(math.Min(e[i+1], m.xs[len(m.xs)-1]))
		c.SetColor(missingColor)
		c.Fill(rectPath(vg.Rectangle{Min: vg.Point{X: x0, Y: c.Min.Y}, Max: vg.Point{X: x1, Y: c.Max.Y}}))
	}
}
