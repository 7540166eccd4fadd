package export

import (
	"fmt"
	"math"

	"github.com/landscape-go/landscape/landscape/surface"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// This file draws the comparison figure of several surfaces.

// comparePalette tells 1D curves apart in a comparison: matplotlib's tab10.
var comparePalette = []colorTuple{
	{0x1f, 0x77, 0xb4}, {0xff, 0x7f, 0x0e}, {0x2c, 0xa0, 0x2c}, {0xd6, 0x27, 0x28}, {0x94, 0x67, 0xbd},
	{0x8c, 0x56, 0x4b}, {0xe3, 0x77, 0xc2}, {0x7f, 0x7f, 0x7f}, {0xbc, 0xbd, 0x22}, {0x17, 0xbe, 0xcf},
}

type colorTuple [3]uint8

func (c colorTuple) RGBA() (r, g, b, a uint32) {
	return uint32(c[0]) * 0x101, uint32(c[1]) * 0x101, uint32(c[2]) * 0x101, 0xffff
}

// NewCompareFigure returns a figure that sets surfaces side by side, each
// under its name: 2D surfaces as labelled contour panels, up to three to a
// row, on one set of levels and one colour scale chosen over all of them;
// 1D surfaces as curves of the metric on one plot. The surfaces must all
// be 2D or all 1D. A panel's axes are named by o.PanelLabels, else
// o.XLabel and o.YLabel, else after its surface's directions. If o.Width
// and o.Height are zero the figure grows with the number of panels.
func NewCompareFigure(ss []*surface.Surface, names []string, o *PlotOptions) (*Figure, error) {
	if len(ss) == 0 || len(names) != len(ss) {
		return nil, fmt.Errorf("export: compare: %w: %d surfaces and %d names", ErrPlot, len(ss), len(names))
	}
	opt := defaults(o)
	cols := min(len(ss), 3)
	rows := (len(ss) + cols - 1) / cols
	if o == nil || (o.Width == 0 && o.Height == 0) {
		opt.Width = vg.Length(cols)*3.8*vg.Inch + 1.2*vg.Inch
		opt.Height = vg.Length(rows)*3.4*vg.Inch + 1.1*vg.Inch
		if ss[0].Is1D() {
			opt.Width, opt.Height = 6*vg.Inch, 4.5*vg.Inch
		}
	}
	if opt.Metric == "" {
		opt.Metric = DefaultMetric(ss[0])
	}
	fs := make([]*surface.Field, len(ss))
	for i, s := range ss {
		if s.Is1D() != ss[0].Is1D() {
			return nil, fmt.Errorf("export: compare: %w: %s is %s but %s is %s", ErrPlot, names[i], dims(s), names[0], dims(ss[0]))
		}
		f, err := fieldOf(s, opt.Metric)
		if err != nil {
			return nil, fmt.Errorf("export: compare %s: %w", names[i], err)
		}
		fs[i] = f
	}
	lay := layout{title: "Comparison: " + opt.Metric}
	for i, s := range ss {
		if c := captionOf(&s.Provenance); len(c) > 0 {
			lay.caption = append(lay.caption, names[i]+": "+c[len(c)-1])
		}
	}
	var missing int
	for _, f := range fs {
		missing += nonFinite(f)
	}
	if ss[0].Is1D() {
		xl, _ := opt.axisLabels(&ss[0].Provenance)
		p := newPlot(xl, colorBarLabel(opt.Metric, opt.Log))
		lo, hi := math.Inf(1), math.Inf(-1)
		keep := func(v float64) bool { return finite(v) && !(opt.Log && v <= 0) }
		same := func(v float64) float64 { return v }
		for i, f := range fs {
			col := comparePalette[i%len(comparePalette)]
			st := draw.LineStyle{Color: col, Width: 1.5}
			if i >= len(comparePalette) {
				st.Dashes = []vg.Length{5, 3}
			}
			addRuns(p, f.X, f.Z[0], st, keep, same)
			lo, hi = valueRange(lo, hi, f.Z, opt.Log)
			lay.legend = append(lay.legend, legendItem{text: names[i], line: &st})
		}
		drawPlot := func(c draw.Canvas) { p.X.Label.Text = txt(c, xl); p.Draw(c) }
		if opt.Log && lo <= hi {
			if !(lo < hi) {
				lo, hi = widen(lo, hi, true)
			}
			d := logY(p, lo, hi)
			drawPlot = func(c draw.Canvas) { p.X.Label.Text = txt(c, xl); d(c) }
		}
		if missing > 0 {
			lay.caption = append(lay.caption, fmt.Sprintf("%d points NaN, ±Inf or missing are left out", missing))
		}
		lay.body = drawPlot
		return &Figure{Width: opt.Width, Height: opt.Height, DPI: opt.DPI, draw: lay.draw}, nil
	}

	ps, err := setup(fs, &opt)
	if err != nil {
		return nil, err
	}
	lay.caption = append(lay.caption, ps.notes()...)
	if missing > 0 {
		lay.legend = append(lay.legend, missingItem(missing, ContourPlot))
	}
	plots := make([]*plot.Plot, len(fs))
	axes := make([][2]string, len(fs))
	for i, f := range fs {
		axes[i][0], axes[i][1] = opt.axisLabels(&ss[i].Provenance)
		if i < len(opt.PanelLabels) {
			for j, l := range opt.PanelLabels[i] {
				if l != "" {
					axes[i][j] = l
				}
			}
		}
		p := newPlot(axes[i][0], axes[i][1])
		p.Title.TextStyle.Handler = textHandler
		p.Title.Padding = 4
		p.Add(MissingCells{f}, ContourLines{Field: f, Levels: ps.levels, Scale: ps.sc, Labels: true})
		addPaths(p, opt.Paths)
		addMarks(p, opt.Marks)
		plots[i] = p
	}
	lay.body = func(c draw.Canvas) {
		grid := draw.Crop(c, 0, -colorBarWidth, 0, 0)
		tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: 14, PadY: 10}
		var top, bottom vg.Length
		for i, p := range plots {
			p.Title.Text = txt(c, names[i])
			p.Title.TextStyle.Font = font.From(boldFont(c), labelSize)
			p.X.Label.Text, p.Y.Label.Text = txt(c, axes[i][0]), txt(c, axes[i][1])
			tc := tiles.At(grid, i%cols, i/cols)
			p.Draw(tc)
			dc := p.DataCanvas(tc)
			if i == 0 {
				top, bottom = dc.Max.Y, dc.Min.Y
			}
			top, bottom = max(top, dc.Max.Y), min(bottom, dc.Min.Y)
		}
		drawColorBar(c, barRect(grid.Max.X, bottom, top), ColorBar{Scale: ps.sc, Levels: ps.levels}, colorBarLabel(opt.Metric, opt.Log))
	}
	return &Figure{Width: opt.Width, Height: opt.Height, DPI: opt.DPI, draw: lay.draw}, nil
}

// dims names the dimension of s.
func dims(s *surface.Surface) string {
	if s.Is1D() {
		return "1D"
	}
	return "2D"
}
