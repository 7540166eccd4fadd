package export

import (
	"bytes"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/landscape-go/landscape/internal/atomicfile"
	"github.com/landscape-go/landscape/landscape/surface"
)

// This file is the API of the figures: their kinds and options, and
// drawing, rendering and saving them.

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
	// Metric is the metric to draw; "" means [DefaultMetric] for
	// [NewFigure], and each of [PlotMetrics] for [WritePlots].
	Metric string

	// Levels are the contour levels, ascending. Nil means the reference's
	// numpy.arange(0.1, 10, 0.5): 0.1, 0.6, ..., 9.6; on a log scale, 20
	// levels at round numbers from 0.1 to 9 (0.1, 0.15, 0.2, 0.3, ...,
	// 0.9, 1, 1.5, 2, 3, ..., 9). For a metric ending in _acc, or where
	// fewer than three of these default levels lie within the surface's
	// finite values (a loss far above 10), levels at round numbers
	// spanning the values are used instead, and the colour scale spans the
	// values.
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
	// bottom of the scale. Ticks between 0.001 and 10⁴ are written as
	// decimals (0.1, 1, 10, 100), others as powers of ten (10⁵, 2×10⁻⁴).
	Log bool

	// ColorMap colours the values of the 2D figures and the 3D surface.
	// Nil means the reference's: [Viridis] for the 2D figures and
	// [CoolWarm] for the 3D surface.
	ColorMap ColorMap

	// Azimuth and Elevation place the viewer of the 3D surface, in
	// degrees, as matplotlib's view_init does (the reference uses
	// matplotlib's default, -60 and 30). If both are zero, 45 and 30.
	Azimuth, Elevation float64

	// Width and Height are the figure's size; zero means 6 by 4.5 inches
	// (larger for a comparison of many surfaces).
	Width, Height vg.Length

	// DPI is the resolution of PNG and JPEG output; zero means 150.
	DPI int

	// XLabel and YLabel name the axes of α and β; "" means a name from
	// the provenance's directions, such as "α (x direction)". A program
	// that knows more about the directions than the surface file says,
	// such as the explained variance of principal components, names them
	// here: "PC1 (81.8%)".
	XLabel, YLabel string

	// PanelLabels name, in a comparison of 2D surfaces ([NewCompareFigure]),
	// the axes of each surface's panel, {x, y} in the order of the
	// surfaces, where one name does not suit them all (surfaces on
	// different directions); a name that is "", or a panel past the end,
	// takes XLabel or YLabel.
	PanelLabels [][2]string

	// Paths are drawn over the 2D figures (contours and heat map): the
	// optimiser trajectories written by "landscape trajectory", projected
	// on the plane of the surface's directions.
	Paths []Path

	// Marks are labelled points drawn over the 2D figures, such as the
	// models A, B and C of a plane.
	Marks []Mark

	// Slice, if not nil, draws one line of a 2D surface's grid as the 1D
	// figure ([CurvePlot]), as [SliceSurface] takes it.
	Slice *Slice
}

// Path is a polyline in the (α, β) plane with a label for the legend, such
// as the projected path of a training run; its last point is the final
// model. Names, if not nil, name its points (the checkpoints of a
// trajectory), and a figure of the path alone writes some of them beside
// their points.
type Path struct {
	Label string
	X, Y  []float64
	Names []string
	// Directions is the SHA-256 of the directions the path's coordinates
	// are on (normalize.Hash, as a surface's provenance records it), ""
	// where it is not known: a path belongs over a surface on the same
	// directions only.
	Directions string
	// File is where the path was read from, for messages; "" if it was
	// not.
	File string
}

// Mark is a labelled point in the (α, β) plane.
type Mark struct {
	Label string
	X, Y  float64
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

// PlotMetrics returns the metrics [WritePlots] draws of s unless told
// which: every metric ending in _loss (train_loss and test_loss), or
// [DefaultMetric] if there is none. Of a 1D surface it leaves out a metric
// that the 1D figure of one before it shows already: that of train_loss
// draws test_loss too.
func PlotMetrics(s *surface.Surface) []string { return plotMetrics(s.Metrics, s.Is1D()) }

// plotMetrics is [PlotMetrics] of a surface with the given metrics, 1D if
// oneD.
func plotMetrics(metrics []string, oneD bool) []string {
	var out, shown []string
	for _, m := range metrics {
		if !(strings.HasSuffix(m, "_loss") || strings.HasSuffix(m, "_lambda_ratio")) || slices.Contains(shown, m) {
			continue
		}
		out = append(out, m)
		if oneD {
			for _, c := range curveMetrics(metrics, m) {
				shown = append(shown, c.name)
			}
		}
	}
	if len(out) == 0 {
		if m := DefaultMetric(&surface.Surface{Metrics: metrics}); m != "" {
			out = []string{m}
		}
	}
	return out
}

// A Figure is a drawing of one or more surfaces, ready to be rendered at
// its size in PNG, SVG, PDF or JPEG.
type Figure struct {
	// Width and Height are the size of the figure.
	Width, Height vg.Length
	// DPI is the resolution of PNG output.
	DPI int

	draw func(c draw.Canvas)
}

// Draw draws the figure on c, filling it.
func (f *Figure) Draw(c draw.Canvas) { f.draw(c) }

// Formats returns the output formats of [Figure.Render]: png, svg, pdf
// and jpg.
func Formats() []string { return []string{"png", "svg", "pdf", "jpg"} }

// jpegQuality is the quality of JPEG output: high enough that the edges
// of text and lines show no ringing.
const jpegQuality = 92

// Render writes the figure to w in the given format: png, svg, pdf, or jpg
// (also called jpeg).
func (f *Figure) Render(w io.Writer, format string) (err error) {
	var cw vg.CanvasWriterTo
	img := func() *vgimg.Canvas { return vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(f.DPI)) }
	switch strings.ToLower(format) {
	case "png":
		cw = vgimg.PngCanvas{Canvas: img()}
	case "jpg", "jpeg":
		cw = jpegCanvas{img()}
	case "svg":
		cw = vgsvg.New(f.Width, f.Height)
	case "pdf":
		cw = pdfCanvas{vgpdf.New(f.Width, f.Height)}
	default:
		return fmt.Errorf("export: render: %w: format %q; want png, svg, pdf or jpg", ErrPlot, format)
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

// jpegCanvas is an image canvas that writes a JPEG file of [jpegQuality]
// (gonum's JpegCanvas writes the encoder's default, 75).
type jpegCanvas struct{ *vgimg.Canvas }

func (c jpegCanvas) WriteTo(w io.Writer) (int64, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, c.Image(), &jpeg.Options{Quality: jpegQuality}); err != nil {
		return 0, err
	}
	return buf.WriteTo(w)
}

// Save renders the figure to the file path in the format its extension
// names. Like [WriteParquet] it writes a temporary file beside path,
// syncs it to disk and renames it over path, so that path never holds a
// partial figure.
func (f *Figure) Save(path string) error {
	format := strings.TrimPrefix(filepath.Ext(path), ".")
	if err := atomicfile.Write(path, func(w io.Writer) error { return f.Render(w, format) }); err != nil {
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
// under dir, named base_metric_suffix[_slice][_log].format as the
// reference names its PDFs (for example surface_train_loss_2dcontour.png,
// or surface_train_loss_1d_loss_acc_y=0.png for a slice). It draws the
// figures of o.Metric, or if that is empty of each of [PlotMetrics]. With
// o.Slice it draws the 1D figure of that line of s. It returns the paths
// written.
func WritePlots(dir, base string, s *surface.Surface, kinds []PlotKind, formats []string, o *PlotOptions) ([]string, error) {
	opt := defaults(o)
	metrics := []string{opt.Metric}
	if opt.Metric == "" {
		metrics = plotMetrics(s.Metrics, s.Is1D() || opt.Slice != nil)
		if len(metrics) == 0 {
			return nil, fmt.Errorf("export: plot: %w: the surface has no metrics", ErrPlot)
		}
	}
	if kinds == nil {
		kinds = PlotKinds(s)
		if opt.Slice != nil {
			kinds = []PlotKind{CurvePlot}
		}
	}
	var paths []string
	for _, metric := range metrics {
		opt.Metric = metric
		for _, kind := range kinds {
			fig, err := NewFigure(s, kind, &opt)
			if err != nil {
				return paths, err
			}
			name := base + "_" + metric + "_" + kind.Suffix()
			if opt.Slice != nil {
				name += "_" + opt.Slice.String()
			}
			if opt.Log {
				name += "_log"
			}
			written, err := fig.saveAll(dir, name, formats)
			paths = append(paths, written...)
			if err != nil {
				return paths, err
			}
		}
	}
	return paths, nil
}

// saveAll saves f in each format as dir/name.format and returns the paths
// written.
func (f *Figure) saveAll(dir, name string, formats []string) ([]string, error) {
	var paths []string
	for _, format := range formats {
		path := filepath.Join(dir, name+"."+strings.ToLower(format))
		if err := f.Save(path); err != nil {
			return paths, err
		}
		paths = append(paths, path)
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
// kinds need a 2D surface and CurvePlot a 1D one, or a 2D one and
// o.Slice. NaN and infinite values are drawn grey, and the legend says so.
func NewFigure(s *surface.Surface, kind PlotKind, o *PlotOptions) (*Figure, error) {
	opt := defaults(o)
	if opt.Metric == "" {
		opt.Metric = DefaultMetric(s)
	}
	xl, yl := opt.axisLabels(&s.Provenance)
	if kind == CurvePlot {
		if opt.Slice != nil {
			return newSliceFigure(s, &opt, xl, yl)
		}
		if !s.Is1D() {
			return nil, fmt.Errorf("export: plot: %w: a 1D curve needs a 1D surface or a slice; this one has a y axis", ErrPlot)
		}
		return newCurveFigure(s, &opt, xl, "1D curve", captionOf(&s.Provenance))
	}
	if kind < 0 || kind > CurvePlot {
		return nil, fmt.Errorf("export: plot: %w: unknown kind %d", ErrPlot, int(kind))
	}
	if s.Is1D() {
		return nil, fmt.Errorf("export: plot: %w: %s needs a 2D surface; this one is 1D", ErrPlot, kind)
	}
	if opt.Slice != nil {
		return nil, fmt.Errorf("export: plot: %w: a slice is drawn as the 1D curve, not as %s", ErrPlot, kind)
	}
	f, err := fieldOf(s, opt.Metric)
	if err != nil {
		return nil, err
	}
	ps, err := setup([]*surface.Field{f}, &opt)
	if err != nil {
		return nil, err
	}
	lay := layout{
		title:   titleOf(&s.Provenance, opt.Metric, plotKindNames[kind].title),
		caption: captionOf(&s.Provenance),
	}
	if n := nonFinite(f); n > 0 {
		lay.legend = append(lay.legend, missingItem(n, kind))
	}
	lay.caption = append(lay.caption, ps.notes()...)
	switch kind {
	case ContourPlot, FilledContourPlot, HeatmapPlot:
		lay.body = func(c draw.Canvas) { draw2D(c, f, ps, kind, opt.Metric, xl, yl, opt.Paths, opt.Marks) }
	case SurfacePlot:
		v := newView(opt.Azimuth, opt.Elevation)
		s3 := newSurface3D(f, ps)
		if s3.clipped {
			lay.caption = append(lay.caption, fmt.Sprintf("z clipped at %s, the top of the colour scale", formatLevel(s3.sc.Max)))
		}
		lay.body = func(c draw.Canvas) { s3.draw(c, v, opt.Metric, xl, yl) }
	}
	return &Figure{Width: opt.Width, Height: opt.Height, DPI: opt.DPI, draw: lay.draw}, nil
}

// axisLabels returns the labels of the x and y axes: o's, or where it has
// none, those the provenance p suggests.
func (o *PlotOptions) axisLabels(p *surface.Provenance) (x, y string) {
	x, y = axisLabels(p)
	if o.XLabel != "" {
		x = o.XLabel
	}
	if o.YLabel != "" {
		y = o.YLabel
	}
	return x, y
}

// fieldOf returns the named metric of s as a field.
func fieldOf(s *surface.Surface, metric string) (*surface.Field, error) {
	f, err := s.Field(metric)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return f, nil
}
