package export

import (
	"github.com/landscape-go/landscape/landscape/surface"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/font/liberation"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"

)

// PlotKind selects one of the figures [NewFigure] draws of a surface.
type PlotKind int

const (
	// ContourPlot draws contour lines coloured by level and labelled with
	// it, the reference's *_2dcontour.pdf.
	ContourPlot PlotKind = iota
	// FilledContourPlot fills the bands between levels, *_2dcontourf.pdf.
	FilledContourPlot
	// HeatmapPlot colours each grid point, *_2dheat.pdf.
	HeatmapPlot
	// SurfacePlot renders the surface in 3D, *_3dsurface.pdf.
	SurfacePlot
	// CurvePlot draws a 1D surface: the loss on the left axis and the
	// accuracy on the right, *_1d_loss_acc.pdf.
	CurvePlot
)

var plotKindNames = [...]struct{ name, suffix, title string }{
	ContourPlot:       {"contour", "2dcontour", "contour lines"},
	FilledContourPlot: {"filled", "2dcontourf", "filled contours"},
	HeatmapPlot:       {"heatmap", "2dheat", "heat map"},
	SurfacePlot:       {"3d", "3dsurface", "3D surface"},
	CurvePlot:         {"1d", "1d_loss_acc", "1D curve"},
}

// String returns the kind's name: contour, filled, heatmap, 3d or 1d.
func (k PlotKind) String() string {
	if k < 0 || int(k) >= len(plotKindNames) {
		return fmt.Sprintf("PlotKind(%d)", int(k))
	}
	return plotKindNames[k].name
}

// Suffix returns the end of the file names of the kind's figures, as the
// reference names them: 2dcontour, 2dcontourf, 2dheat, 3dsurface or
// 1d_loss_acc.
func (k PlotKind) Suffix() string {
	if k < 0 || int(k) >= len(plotKindNames) {
		return k.String()
	}
	return plotKindNames[k].suffix
}

// PlotKinds returns the kinds of figure that suit s: the four 2D kinds, or
// CurvePlot for a 1D surface.
func PlotKinds(s *surface.Surface) []PlotKind {
	if s.Is1D() {
		return []PlotKind{CurvePlot}
	}
	return []PlotKind{ContourPlot, FilledContourPlot, HeatmapPlot, SurfacePlot}
}

// PlotOptions configures the figures. The zero value gives the defaults,
// which are the reference's where it has one.
type PlotOptions struct {
	// Metric is the metric to draw; "" means [DefaultMetric].
	Metric string

	// Levels are the contour levels, ascending. Nil means the reference's
	// numpy.arange(0.1, 10, 0.5): 0.1, 0.6, ..., 9.6; on a log scale, 20
	// levels evenly spaced in log from 0.1 to 10. For a metric ending in
	// _acc, or where fewer than three of these default levels lie within
	// the surface's finite values (a loss far above 10), levels at round
	// numbers spanning the values are used instead, and the colour scale
	// spans the values.
	Levels []float64

	// VMin and VMax bound the colour scale; values outside take the
	// colour of the nearer end. If both are zero they are the first and
	// last level, or 0.1 and 10 with the default levels, as the reference
	// has it. The 3D surface is clipped at the top of the scale, unless
	// the scale is a log one that was not given (by levels or VMax); the
	// 1D loss axis is cut at VMax, 10 if it is zero.
	VMin, VMax float64

	// Log makes the colour scale, the 3D z axis and the 1D loss axis
	// logarithmic. Values that are not positive are then drawn as the
	// bottom of the scale.
	Log bool

	// Azimuth and Elevation place the viewer of the 3D surface, in
	// degrees, as matplotlib's view_init does (the reference uses
	// matplotlib's default, -60 and 30). If both are zero, 45 and 30.
	Azimuth, Elevation float64

	// Width and Height are the figure's size; zero means 6 by 4.5 inches
	// (larger for a comparison of many surfaces).
	Width, Height vg.Length

	// DPI is the resolution of PNG output; zero means 150.
	DPI int

	// Paths are drawn over the 2D figures (contours and heat map): the
	// optimiser trajectories written by "landscape trajectory", projected
	// on the plane of the surface's directions.
	Paths []Path
}

// Path is a polyline in the (α, β) plane with a label for the legend, such
// as the projected path of a training run; its last point is the final
// model.
type Path struct {
	Label string
	X, Y  []float64
}

// ErrPlot is returned, wrapped, when a figure cannot be drawn for the
// surface and options given: a 2D kind for a 1D surface, a bad level, an
// unknown format.
var ErrPlot = errors.New("cannot plot")

// DefaultMetric returns the metric a figure of s shows unless told
// otherwise: train_loss if s has it, else its first metric ending in
// _loss, else its first metric.
func DefaultMetric(s *surface.Surface) string {
	if slices.Contains(s.Metrics, "train_loss") {
		return "train_loss"
	}
	for _, m := range s.Metrics {
		if strings.HasSuffix(m, "_loss") {
			return m
		}
	}
	if len(s.Metrics) > 0 {
		return s.Metrics[0]
	}
	return ""
}

// A Figure is a drawing of one or more surfaces, ready to be rendered at
// its size in PNG, SVG or PDF.
type Figure struct {
	// Width and Height are the size of the figure.
	Width, Height vg.Length
	// DPI is the resolution of PNG output.
	DPI int

	draw func(c draw.Canvas)
}

// Draw draws the figure on c, filling it.
func (f *Figure) Draw(c draw.Canvas) { f.draw(c) }

// Formats are the output formats of [Figure.Render].
var Formats = []string{"png", "svg", "pdf"}

// Render writes the figure to w in the given format: png, svg or pdf.
func (f *Figure) Render(w io.Writer, format string) (err error) {
	var cw vg.CanvasWriterTo
	switch strings.ToLower(format) {
	case "png":
		cw = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(f.DPI))}
	case "svg":
		cw = vgsvg.New(f.Width, f.Height)
	case "pdf":
		cw = pdfCanvas{vgpdf.New(f.Width, f.Height)}
	default:
		return fmt.Errorf("export: render: %w: format %q; want png, svg or pdf", ErrPlot, format)
	}
	// A figure is drawn from a surface that came from outside; a fault in
	// drawing an odd one must not bring the program down.
	defer func() {
		if e := recover(); e != nil {
			err = fmt.Errorf("export: render %s: internal error: %v", format, e)
		}
	}()
	f.draw(draw.New(cw))
	if _, err := cw.WriteTo(w); err != nil {
		return fmt.Errorf("export: render %s: %w", format, err)
	}
	return nil
}

// Save renders the figure to the file path in the format its extension
// names. Like [WriteParquet] it writes a temporary file and renames it, so
// path never holds a partial figure.
func (f *Figure) Save(path string) (err error) {
	format := strings.TrimPrefix(filepath.Ext(path), ".")
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("export: save figure %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := f.Render(tmp, format); err != nil {
		return fmt.Errorf("export: save figure %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("export: save figure %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("export: save figure %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("export: save figure %s: %w", path, err)
	}
	return nil
}

// ParsePlotKind parses a kind's name as [PlotKind.String] writes it.
func ParsePlotKind(name string) (PlotKind, error) {
	for k, n := range plotKindNames {
		if n.name == name {
			return PlotKind(k), nil
		}
	}
	return 0, fmt.Errorf("export: %w: unknown figure kind %q; want contour, filled, heatmap, 3d or 1d", ErrPlot, name)
}

// WritePlots draws the given kinds of figure of s, or if kinds is nil
// every kind that suits it ([PlotKinds]), and saves each in each format
// under dir, named base_metric_suffix[_log].format as the reference names
// its PDFs (for example surface_train_loss_2dcontour.png). It returns the
// paths written.
func WritePlots(dir, base string, s *surface.Surface, kinds []PlotKind, formats []string, o *PlotOptions) ([]string, error) {
	opt := defaults(o)
	if opt.Metric == "" {
		opt.Metric = DefaultMetric(s)
	}
	if kinds == nil {
		kinds = PlotKinds(s)
	}
	var paths []string
	for _, kind := range kinds {
		fig, err := NewFigure(s, kind, &opt)
		if err != nil {
			return paths, err
		}
		name := base + "_" + opt.Metric + "_" + kind.Suffix()
		if opt.Log {
			name += "_log"
		}
		for _, format := range formats {
			path := filepath.Join(dir, name+"."+strings.ToLower(format))
			if err := fig.Save(path); err != nil {
				return paths, err
			}
			paths = append(paths, path)
		}
	}
	return paths, nil
}

// defaults returns a copy of o, or of the zero options, with the size, the
// resolution and the view filled in.
func defaults(o *PlotOptions) PlotOptions {
	var opt PlotOptions
	if o != nil {
		opt = *o
	}
	if opt.Width == 0 {
		opt.Width = 6 * vg.Inch
	}
	if opt.Height == 0 {
		opt.Height = 4.5 * vg.Inch
	}
	if opt.DPI == 0 {
		opt.DPI = 150
	}
	if opt.Azimuth == 0 && opt.Elevation == 0 {
		opt.Azimuth, opt.Elevation = 45, 30
	}
	return opt
}

// NewFigure returns the figure of the given kind of surface s. The 2D
// kinds need a 2D surface and CurvePlot a 1D one. NaN and infinite values
// are drawn grey, and the legend says so.
func NewFigure(s *surface.Surface, kind PlotKind, o *PlotOptions) (*Figure, error) {
	opt := defaults(o)
	if opt.Metric == "" {
		opt.Metric = DefaultMetric(s)
	}
	if kind == CurvePlot {
		if !s.Is1D() {
			return nil, fmt.Errorf("export: plot: %w: a 1D curve needs a 1D surface; this one has a y axis", ErrPlot)
		}
		return newCurveFigure(s, &opt)
	}
	if kind < 0 || kind > CurvePlot {
		return nil, fmt.Errorf("export: plot: %w: unknown kind %d", ErrPlot, int(kind))
	}
	if s.Is1D() {
		return nil, fmt.Errorf("export: plot: %w: %s needs a 2D surface; this one is 1D", ErrPlot, kind)
	}
	f, err := NewField(s, opt.Metric)
	if err != nil {
		return nil, err
	}
	ps, err := setup([]*Field{f}, &opt)
	if err != nil {
		return nil, err
	}
	xl, yl := axisLabels(&s.Provenance)
	lay := layout{
		title:   titleOf(&s.Provenance, opt.Metric, plotKindNames[kind].title),
		caption: captionOf(&s.Provenance),
	}
	if n := nonFinite(f); n > 0 {
		lay.legend = append(lay.legend, missingItem(n, kind))
	}
	if ps.auto {
		lay.caption = append(lay.caption, "contour levels chosen to span the values, not the reference’s 0.1 to 10")
	}
	switch kind {
	case ContourPlot, FilledContourPlot, HeatmapPlot:
		lay.body = func(c draw.Canvas) { draw2D(c, f, ps, kind, opt.Metric, xl, yl, opt.Paths) }
	case SurfacePlot:
		v := newView(opt.Azimuth, opt.Elevation)
		s3 := newSurface3D(f, ps)
		if s3.clipped {
			lay.caption = append(lay.caption, fmt.Sprintf("z clipped at %s, the top of the colour scale", formatLevel(s3.sc.max)))
		}
		lay.body = func(c draw.Canvas) { s3.draw(c, v, opt.Metric, xl, yl) }
	}
	return &Figure{Width: opt.Width, Height: opt.Height, DPI: opt.DPI, draw: lay.draw}, nil
}

// plotSetup is what the figures of one or more fields share: the contour
// levels and the colour scale.
type plotSetup struct {
	levels []float64
	sc     scale
	auto   bool // levels chosen from the data
	clip   bool // the 3D surface is clipped at the top of the scale
}

// setup chooses the levels and the colour scale for the fields, which
// share them.
func setup(fs []*Field, o *PlotOptions) (plotSetup, error) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, f := range fs {
		for _, row := range f.Z {
			for _, v := range row {
				if finite(v) && (!o.Log || v > 0) {
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
			}
		}
	}
	var ps plotSetup
	ps.sc.log = o.Log
	switch {
	case o.Levels != nil:
		for _, l := range o.Levels {
			if !finite(l) || (o.Log && l <= 0) {
				return ps, fmt.Errorf("export: plot: %w: contour level %v on a %s scale", ErrPlot, l, scaleName(o.Log))
			}
		}
		ps.levels = slices.Compact(slices.Sorted(slices.Values(o.Levels)))
		if len(ps.levels) == 0 {
			return ps, fmt.Errorf("export: plot: %w: no contour levels", ErrPlot)
		}
		ps.sc.min, ps.sc.max = ps.levels[0], ps.levels[len(ps.levels)-1]
	default:
		ps.levels = defaultLevels(o.Log)
		ps.sc.min, ps.sc.max = 0.1, 10
		inside := 0
		for _, l := range ps.levels {
			if l > lo && l < hi {
				inside++
			}
		}
		// The reference's levels suit losses; accuracies (percent) and
		// surfaces that miss them get levels of their own.
		if (inside < 3 || strings.HasSuffix(o.Metric, "_acc")) && lo <= hi {
			ps.levels, ps.sc.min, ps.sc.max = niceLevels(lo, hi, o.Log), lo, hi
			ps.auto = true
		}
	}
	if o.VMin != 0 || o.VMax != 0 {
		ps.sc.min, ps.sc.max = o.VMin, o.VMax
	}
	ps.clip = !o.Log || o.VMax != 0 || o.Levels != nil
	if !(ps.sc.min < ps.sc.max) {
		// One level, or a flat surface: give the scale some width.
		ps.sc.min, ps.sc.max = widen(ps.sc.min, ps.sc.max, o.Log)
	}
	if !finite(ps.sc.min) || !finite(ps.sc.max) || (o.Log && ps.sc.min <= 0) {
		return ps, fmt.Errorf("export: plot: %w: colour scale %v to %v on a %s scale", ErrPlot, ps.sc.min, ps.sc.max, scaleName(o.Log))
	}
	return ps, nil
}

// widen returns a range around lo and hi, which are equal or out of order:
// halved and doubled on a log scale, half their size or 0.5 either way on
// a linear one, within the finite numbers.
func widen(lo, hi float64, log bool) (float64, float64) {
	lo, hi = math.Min(lo, hi), math.Max(lo, hi)
	if log {
		lo, hi = lo/2, math.Min(hi*2, math.MaxFloat64)
		if !(lo > 0) {
			lo = math.SmallestNonzeroFloat64
		}
		if !(lo < hi) {
			lo = hi / 2
		}
		return lo, hi
	}
	d := math.Max(math.Max(math.Abs(lo), math.Abs(hi))/2, 0.5)
	return math.Max(lo-d, -math.MaxFloat64), math.Min(hi+d, math.MaxFloat64)
}

func scaleName(log bool) string {
	if log {
		return "log"
	}
	return "linear"
}

// defaultLevels returns the reference's levels numpy.arange(0.1, 10, 0.5),
// or 20 levels evenly spaced in log from 0.1 up to 10 (excluded).
func defaultLevels(log bool) []float64 {
	l := make([]float64, 20)
	for i := range l {
		if log {
			l[i] = 0.1 * math.Pow(10, float64(i)/10)
		} else {
			l[i] = 0.1 + 0.5*float64(i)
		}
	}
	return l
}

// niceLevels returns about 20 levels at round numbers strictly between lo
// and hi: multiples of 1, 2, 2.5 or 5 times a power of ten, or on a log
// scale 1, 2 and 5 (or every digit, where that gives too few) times powers
// of ten.
func niceLevels(lo, hi float64, log bool) []float64 {
	var l []float64
	if hi <= lo {
		return []float64{lo}
	}
	if log {
		l = logValues(lo, hi, 6, 40, false)
		if len(l) == 0 {
			l = []float64{math.Sqrt(lo) * math.Sqrt(hi)}
		}
		return l
	}
	step := niceStep((hi - lo) / 20)
	first := math.Floor(lo/step) + 1
	for i := 0.0; i < 40; i++ {
		v := (first + i) * step
		if !(v < hi) {
			break
		}
		if v > lo && (len(l) == 0 || v > l[len(l)-1]) {
			l = append(l, v)
		}
	}
	if len(l) == 0 {
		l = []float64{lo + (hi-lo)/2}
	}
	return l
}

// niceStep returns the least of 1, 2, 2.5, 5 and 10 times a power of ten
// that is at least x.
func niceStep(x float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

// nonFinite counts the points of f that are NaN or infinite.
func nonFinite(f *Field) int {
	n := 0
	for _, row := range f.Z {
		for _, v := range row {
			if !finite(v) {
				n++
			}
		}
	}
	return n
}

// missingItem is the legend entry for the grey of NaN and infinite values.
func missingItem(n int, kind PlotKind) legendItem {
	txt := fmt.Sprintf("NaN, ±Inf or missing (%d points)", n)
	switch kind {
	case ContourPlot, FilledContourPlot:
		txt = fmt.Sprintf("cells touching NaN, ±Inf or missing values (%d points)", n)
	case SurfacePlot:
		txt = fmt.Sprintf("NaN, ±Inf or missing: cells drawn on the floor (%d points)", n)
	}
	return legendItem{text: txt, fill: missingColor}
}

// pdfCanvas is gonum's PDF canvas, whose fonts are encoded in Windows code
// page 1252; it encodes text so. Text that code page lacks is replaced
// before it is measured by [pdfText].
type pdfCanvas struct{ *vgpdf.Canvas }

func (c pdfCanvas) FillString(f font.Face, pt vg.Point, s string) {
	c.Canvas.FillString(f, pt, toCP1252(s))
}

// isPDF reports whether c draws to a PDF file.
func isPDF(c draw.Canvas) bool {
	// draw.Crop nests canvases.
	cv := c.Canvas
	for {
		switch v := cv.(type) {
		case pdfCanvas:
			return true
		case draw.Canvas:
			cv = v.Canvas
		case *draw.Canvas:
			cv = v.Canvas
		default:
			return false
		}
	}
}

// txt returns s as it can be drawn on c: in a PDF, Greek letters are
// spelled out and other characters that code page 1252 lacks replaced.
func txt(c draw.Canvas, s string) string {
	if !isPDF(c) {
		return s
	}
	s = strings.NewReplacer("α", "alpha", "β", "beta", "≥", ">=", "²", "^2").Replace(s)
	return strings.Map(func(r rune) rune {
		if _, ok := cp1252(r); !ok {
			return '?'
		}
		return r
	}, s)
}

// cp1252 returns the code page 1252 byte of r.
func cp1252(r rune) (byte, bool) {
	switch {
	case r < 0x80 || (r >= 0xa0 && r <= 0xff):
		return byte(r), true
	}
	for i, h := range cp1252High {
		if h == r && h != 0 {
			return byte(0x80 + i), true
		}
	}
	return 0, false
}

// cp1252High are the characters of bytes 0x80 to 0x9f in code page 1252;
// zero where a byte is undefined.
var cp1252High = [32]rune{
	'€', 0, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0, 'Ž', 0,
	0, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0, 'ž', 'Ÿ',
}

// toCP1252 encodes s in code page 1252, with ? for what it lacks.
func toCP1252(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		c, ok := cp1252(r)
		if !ok {
			c = '?'
		}
		b = append(b, c)
	}
	return string(b)
}

// boldFont returns the bold font for c. In a PDF it is the bold face
// registered as a variant of its own: gonum's PDF canvas registers every
// font as regular weight and then fails to find a bold one.
func boldFont(c draw.Canvas) font.Font {
	if isPDF(c) {
		return pdfBold
	}
	return bold
}

// Fonts.
var (
	sans    = font.Font{Typeface: "Liberation", Variant: "Sans"}
	bold    = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}
	pdfBold = font.Font{Typeface: "Liberation", Variant: "SansBold"}

	textHandler text.Handler = text.Plain{Fonts: font.NewCache(func() font.Collection {
		coll := liberation.Collection()
		for _, f := range coll {
			if f.Font.Variant == "Sans" && f.Font.Weight == xfont.WeightBold && f.Font.Style == xfont.StyleNormal {
				coll = append(coll, font.Face{Font: pdfBold, Face: f.Face})
			}
		}
		return coll
	}())}
)

// textStyle returns a text style in the figure's font.
func textStyle(fnt font.Font, size vg.Length) draw.TextStyle {
	return draw.TextStyle{
		Color:   inkColor,
		Font:    font.From(fnt, size),
		Handler: textHandler,
		XAlign:  draw.XCenter,
		YAlign:  draw.YCenter,
	}
}

// Font sizes in points.
const (
	titleSize   = 11
	labelSize   = 10
	tickSize    = 8.5
	captionSize = 7
	contourSize = 7
	legendSize  = 8
)

// newPlot returns a plot in the figures' style: sans-serif text, no gap
// between the axes and the data.
func newPlot(xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, labelSize)
		a.Tick.Label.Font = font.From(sans, tickSize)
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

// axisLabels returns the labels of the x and y axes.
func axisLabels(p *surface.Provenance) (x, y string) {
	if p.Directions.Kind == "target" {
		return "α (0 = checkpoint, 1 = target)", "β (y direction)"
	}
	return "α (x direction)", "β (y direction)"
}

// titleOf returns a figure's title: the model and data, the metric and
// what the figure shows.
func titleOf(p *surface.Provenance, metric, what string) string {
	var parts []string
	if p.Model.Name != "" {
		parts = append(parts, p.Model.Name)
	}
	if p.Data.Name != "" {
		parts = append(parts, p.Data.Name)
	}
	t := metric + ", " + what
	if len(parts) > 0 {
		t = strings.Join(parts, " on ") + ": " + t
	}
	return t
}

// captionOf returns the lines of a figure's caption from the provenance:
// the checkpoint and data, then the directions and grid.
func captionOf(p *surface.Provenance) []string {
	var l1, l2 []string
	if p.Checkpoint.Path != "" {
		l1 = append(l1, "checkpoint "+filepath.Base(p.Checkpoint.Path))
	}
	if p.Data.Name != "" {
		d := "data " + p.Data.Name
		if len(p.Data.Splits) > 0 {
			d += " " + strings.Join(p.Data.Splits, "+")
		}
		if len(p.Data.Samples) > 0 {
			d += fmt.Sprintf(" (%v samples)", strings.Trim(fmt.Sprint(p.Data.Samples), "[]"))
		}
		l1 = append(l1, d)
	}
	if p.Version != "" {
		l1 = append(l1, p.Tool+" "+p.Version)
	}
	if d := p.Directions; d.Kind != "" {
		s := "directions " + d.Kind
		switch d.Kind {
		case "random":
			s += fmt.Sprintf(" (seed %d)", d.Seed)
		default:
			if d.File != "" {
				s += " " + filepath.Base(d.File)
			}
		}
		if d.Norm != "" {
			s += ", norm " + d.Norm
		}
		if d.Ignore != "" {
			s += ", ignore " + d.Ignore
		}
		if d.Mode != "" {
			s += ", " + d.Mode
		}
		l2 = append(l2, s)
	}
	g := "grid x " + p.Grid.X.String()
	if p.Grid.Y != nil {
		g += ", y " + p.Grid.Y.String()
	}
	l2 = append(l2, g)
	var lines []string
	for _, l := range [][]string{l1, l2} {
		if len(l) > 0 {
			lines = append(lines, strings.Join(l, " · "))
		}
	}
	return lines
}

// legendItem is an entry of a figure's legend row: a line or a filled box
// in a colour, and a text.
type legendItem struct {
	text string
	line *draw.LineStyle // nil for a filled box
	fill color.Color
}

// layout places the parts of a figure: the title on top, the caption at
// the bottom, the legend row above it and the body in the rest.
type layout struct {
	title   string
	caption []string
	legend  []legendItem
	body    func(c draw.Canvas)
}

func (l layout) draw(c draw.Canvas) {
	c.SetColor(whiteColor)
	c.Fill(c.Rectangle.Path())
	const pad = 6
	c = draw.Crop(c, pad, -pad, pad, -pad)
	if l.title != "" {
		ts := textStyle(boldFont(c), titleSize)
		ts.YAlign = draw.YTop
		c.FillText(ts, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: c.Max.Y}, fitText(ts, txt(c, l.title), c.Max.X-c.Min.X))
		c.Max.Y -= ts.Height(l.title) + 6
	}
	if len(l.caption) > 0 {
		cs := textStyle(sans, captionSize)
		cs.Color = captionColor
		cs.YAlign = draw.YBottom
		h := cs.Height("Ag")
		for i := len(l.caption) - 1; i >= 0; i-- {
			c.FillText(cs, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: c.Min.Y}, fitText(cs, txt(c, l.caption[i]), c.Max.X-c.Min.X))
			c.Min.Y += h + 1.5
		}
		c.Min.Y += 3
	}
	if len(l.legend) > 0 {
		c.Min.Y += drawLegendRow(c, l.legend) + 4
	}
	l.body(c)
}

var (
	whiteColor   = color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
	captionColor = color.NRGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff}
)

// fitText returns txt, shortened with an ellipsis if it is wider than w.
func fitText(sty draw.TextStyle, txt string, w vg.Length) string {
	if sty.Width(txt) <= w {
		return txt
	}
	r := []rune(txt)
	for len(r) > 1 && sty.Width(string(r)+"…") > w {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

// drawLegendRow draws the legend entries side by side, centred at the
// bottom of c, in as many rows as they need, and returns the height used.
func drawLegendRow(c draw.Canvas, items []legendItem) vg.Length {
	ts := textStyle(sans, legendSize)
	ts.XAlign, ts.YAlign = draw.XLeft, draw.YCenter
	const swatch, gap, sep = 16, 4, 14
	h := ts.Height("Ag")
	width := func(it legendItem) vg.Length { return swatch + gap + ts.Width(txt(c, it.text)) }
	// Break the entries into rows no wider than the canvas.
	var rows [][]legendItem
	var w vg.Length
	for _, it := range items {
		if len(rows) == 0 || w+sep+width(it) > c.Max.X-c.Min.X {
			rows = append(rows, nil)
			w = -sep
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], it)
		w += sep + width(it)
	}
	for i, row := range rows {
		var total vg.Length
		for j, it := range row {
			if j > 0 {
				total += sep
			}
			total += width(it)
		}
		x := (c.Min.X+c.Max.X)/2 - total/2
		y := c.Min.Y + vg.Length(len(rows)-1-i)*(h+3) + h/2 + 1
		for _, it := range row {
			if it.line != nil {
				c.StrokeLine2(*it.line, x, y, x+swatch, y)
			} else {
				var r vg.Path
				r.Move(vg.Point{X: x, Y: y - h/2 + 1})
				r.Line(vg.Point{X: x + swatch, Y: y - h/2 + 1})
				r.Line(vg.Point{X: x + swatch, Y: y + h/2 - 1})
				r.Line(vg.Point{X: x, Y: y + h/2 - 1})
				r.Close()
				c.SetColor(it.fill)
				c.Fill(r)
				c.SetLineStyle(draw.LineStyle{Color: captionColor, Width: 0.5})
				c.Stroke(r)
			}
			c.FillText(ts, vg.Point{X: x + swatch + gap, Y: y}, txt(c, it.text))
			x += width(it) + sep
		}
	}
	return vg.Length(len(rows))*(h+3) - 1
}

// draw2D draws a 2D figure's body: the plot of the field on the left and
// the colour bar on the right.
func draw2D(c draw.Canvas, f *Field, ps plotSetup, kind PlotKind, metric, xl, yl string, paths []Path) {
	p := newPlot(txt(c, xl), txt(c, yl))
	var bar barKind
	switch kind {
	case ContourPlot:
		p.Add(missingPlotter{f}, linesPlotter{f: f, levels: ps.levels, sc: ps.sc, cmap: viridis, labels: true, width: 1, font: textStyle(sans, contourSize)})
		bar = barLines
	case FilledContourPlot:
		p.Add(missingPlotter{f}, filledPlotter{f: f, levels: ps.levels, sc: ps.sc, cmap: viridis})
		bar = barBands
	case HeatmapPlot:
		p.Add(heatPlotter{f: f, sc: ps.sc, cmap: viridis})
		bar = barSmooth
	}
	addPaths(p, paths)
	main := draw.Crop(c, 0, -colorBarWidth, 0, 0)
	p.Draw(main)
	dc := p.DataCanvas(main)
	drawColorBar(c, barRect(main, dc), ps, viridis, bar, colorBarLabel(metric, ps.sc.log))
}

// pathColors tell the paths apart over viridis' blues, greens and yellows.
var pathColors = []color.Color{
	color.RGBA{R: 220, G: 30, B: 30, A: 255}, color.RGBA{R: 245, G: 130, B: 0, A: 255},
	color.RGBA{R: 200, G: 0, B: 200, A: 255}, color.RGBA{R: 0, G: 0, B: 0, A: 255},
}

// addPaths draws each path as a line through dots, its end (the final
// model) as a larger dot, with a legend entry in the plot's corner. Only
// the points inside the plot's ranges are kept, so a path that leaves the
// grid does not stretch the axes.
func addPaths(p *plot.Plot, paths []Path) {
	for i, path := range paths {
		var xys plotter.XYs
		for k := range path.X {
			x, y := path.X[k], path.Y[k]
			if x >= p.X.Min && x <= p.X.Max && y >= p.Y.Min && y <= p.Y.Max {
				xys = append(xys, plotter.XY{X: x, Y: y})
			}
		}
		if len(xys) == 0 {
			continue
		}
		col := pathColors[i%len(pathColors)]
		line, dots, err := plotter.NewLinePoints(xys)
		if err != nil {
			continue
		}
		line.Color, line.Width = col, vg.Points(1.2)
		dots.Color, dots.Shape, dots.Radius = col, draw.CircleGlyph{}, vg.Points(1.8)
		end, _ := plotter.NewScatter(xys[len(xys)-1:])
		end.Color, end.Shape, end.Radius = col, draw.CircleGlyph{}, vg.Points(4)
		p.Add(line, dots, end)
		if path.Label != "" {
			p.Legend.Add(path.Label, line, dots)
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

// colorBarWidth is the room a colour bar takes at the right of a figure,
// with its ticks and label.
const colorBarWidth = 72

// barRect returns where the colour bar goes: right of the canvas main,
// level with the data area dc.
func barRect(main, dc draw.Canvas) vg.Rectangle {
	return vg.Rectangle{Min: vg.Point{X: main.Max.X + 12, Y: dc.Min.Y}, Max: vg.Point{X: main.Max.X + 24, Y: dc.Max.Y}}
}

func colorBarLabel(metric string, log bool) string {
	if log {
		return metric + " (log scale)"
	}
	return metric
}

// barKind is how a colour bar shows the scale.
type barKind int

const (
	barSmooth barKind = iota // a continuous gradient
	barBands                 // the bands of filled contours
	barLines                 // a gradient with the contour levels marked
)

// drawColorBar draws a vertical colour bar in r with ticks and labels on
// its right and the label of the scale beyond them.
func drawColorBar(c draw.Canvas, r vg.Rectangle, ps plotSetup, cmap colorMap, kind barKind, label string) {
	sc := ps.sc
	// pos returns the height on the bar of v.
	pos := func(v float64) vg.Length {
		return r.Min.Y + vg.Length(sc.norm(v))*(r.Max.Y-r.Min.Y)
	}
	rect := func(y0, y1 vg.Length, col color.Color) {
		var p vg.Path
		p.Move(vg.Point{X: r.Min.X, Y: y0})
		p.Line(vg.Point{X: r.Max.X, Y: y0})
		p.Line(vg.Point{X: r.Max.X, Y: y1})
		p.Line(vg.Point{X: r.Min.X, Y: y1})
		p.Close()
		c.SetColor(col)
		c.Fill(p)
		c.SetLineStyle(draw.LineStyle{Color: col, Width: seamWidth})
		c.Stroke(p)
	}
	switch kind {
	case barBands:
		bounds := append([]float64{sc.min}, ps.levels...)
		bounds = append(bounds, sc.max)
		for i := 0; i+1 < len(bounds); i++ {
			lo, hi := math.Max(bounds[i], sc.min), math.Min(bounds[i+1], sc.max)
			if lo >= hi {
				continue
			}
			t := sc.norm(sc.mid(lo, hi))
			switch {
			case i == 0:
				t = 0
			case i == len(bounds)-2:
				t = 1
			}
			rect(pos(lo), pos(hi), cmap.at(t))
		}
	default:
		const n = 96
		for i := range n {
			y0 := r.Min.Y + vg.Length(i)*(r.Max.Y-r.Min.Y)/n
			y1 := r.Min.Y + vg.Length(i+1)*(r.Max.Y-r.Min.Y)/n
			rect(y0, y1, cmap.at((float64(i)+0.5)/n))
		}
		if kind == barLines {
			for _, l := range ps.levels {
				if l >= sc.min && l <= sc.max {
					y := pos(l)
					c.StrokeLine2(draw.LineStyle{Color: inkColor, Width: 0.5}, r.Min.X, y, r.Max.X, y)
				}
			}
		}
	}
	var frame vg.Path
	frame.Move(r.Min)
	frame.Line(vg.Point{X: r.Max.X, Y: r.Min.Y})
	frame.Line(r.Max)
	frame.Line(vg.Point{X: r.Min.X, Y: r.Max.Y})
	frame.Close()
	c.SetLineStyle(draw.LineStyle{Color: inkColor, Width: 0.6})
	c.Stroke(frame)

	ts := textStyle(sans, tickSize)
	ts.XAlign = draw.XLeft
	var wmax vg.Length
	for _, t := range scaleTicks(sc.min, sc.max, sc.log) {
		y := pos(t.Value)
		c.StrokeLine2(draw.LineStyle{Color: inkColor, Width: 0.6}, r.Max.X, y, r.Max.X+3, y)
		c.FillText(ts, vg.Point{X: r.Max.X + 5, Y: y}, t.Label)
		wmax = max(wmax, ts.Width(t.Label))
	}
	ls := textStyle(sans, labelSize)
	ls.Rotation = math.Pi / 2
	label = txt(c, label)
	c.FillText(ls, vg.Point{X: r.Max.X + 5 + wmax + 4 + ls.Height(label)/2, Y: (r.Min.Y + r.Max.Y) / 2}, label)
}

// scaleTicks returns labelled ticks between lo and hi: about five at
// round numbers, or on a log scale the powers of ten, with 2 and 5 times
// them where there are fewer than three powers.
func scaleTicks(lo, hi float64, log bool) []plot.Tick {
	var ticks []plot.Tick
	if log {
		for _, v := range logValues(lo, hi, 3, 10, true) {
			ticks = append(ticks, plot.Tick{Value: v, Label: formatLevel(v)})
		}
		return ticks
	}
	for _, t := range niceTicks(lo, hi) {
		if t.Label != "" {
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// logValues returns round numbers for a log scale from lo to hi (both
// ends included if inclusive): powers of ten, or 1, 2 and 5 times them, or
// every digit times them, the first of these that gives at least least
// values and at most most; if even the powers of ten are too many, every
// k-th of them.
func logValues(lo, hi float64, least, most int, inclusive bool) []float64 {
	in := func(v float64) bool {
		if inclusive {
			return v >= lo*(1-1e-9) && v <= hi*(1+1e-9)
		}
		return v > lo && v < hi
	}
	e0, e1 := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if !(e0 <= e1) || e1-e0 > 1000 {
		return nil
	}
	var best []float64
	for _, mant := range [][]float64{{1}, {1, 2, 5}, {1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9}} {
		var v []float64
		for e := e0; e <= e1; e++ {
			for _, m := range mant {
				if x := m * math.Pow(10, e); in(x) {
					v = append(v, x)
				}
			}
		}
		if len(v) > most {
			break
		}
		best = v
		if len(v) >= least {
			return v
		}
	}
	if best != nil {
		return best
	}
	// Too many decades: every k-th power of ten.
	k := math.Ceil((e1 - e0 + 1) / float64(most))
	for e := math.Ceil(e0/k) * k; e <= e1; e += k {
		if x := math.Pow(10, e); in(x) {
			best = append(best, x)
		}
	}
	return best
}

// niceTicks returns ticks for a linear axis from lo to hi: about five
// labelled ones at multiples of a round step, and unlabelled ones halfway
// between them.
func niceTicks(lo, hi float64) []plot.Tick {
	if !(lo < hi) || !finite(hi-lo) {
		return []plot.Tick{{Value: lo, Label: formatLevel(lo)}}
	}
	step := niceStep((hi - lo) / 5.5)
	decimals := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	if m := step / math.Pow(10, math.Floor(math.Log10(step)+1e-9)); math.Abs(m-2.5) < 1e-9 {
		decimals++
	}
	var ticks []plot.Tick
	tol := 1e-9 * (hi - lo)
	first := math.Ceil((lo - tol) / step * 2)
	// Count half steps, so that a range far from zero, where adding a
	// step may not change a float64, cannot loop for ever.
	for i := 0.0; i < 40; i++ {
		k := (first + i) / 2
		v := k * step
		if !(v <= hi+tol) {
			break
		}
		if len(ticks) > 0 && v <= ticks[len(ticks)-1].Value {
			continue
		}
		if math.Abs(v) < tol {
			v = 0
		}
		t := plot.Tick{Value: v}
		if k == math.Trunc(k) {
			t.Label = strconv.FormatFloat(v, 'f', decimals, 64)
			if decimals > 6 || math.Abs(v) >= 1e7 {
				t.Label = formatLevel(v)
			}
		}
		ticks = append(ticks, t)
	}
	if len(ticks) == 0 {
		ticks = []plot.Tick{{Value: lo, Label: formatLevel(lo)}, {Value: hi, Label: formatLevel(hi)}}
	}
	return ticks
}
