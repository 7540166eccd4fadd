package export

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"

	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape/surface"
)

// small are options for figures that tests read rather than look at.
func small() *PlotOptions { return &PlotOptions{Width: 4 * vg.Inch, Height: 3 * vg.Inch, DPI: 30} }

var svgText = regexp.MustCompile(`<text[^>]*>([^<]*)</text>`)

// svgTexts renders fig as SVG and returns the texts it writes, each piece
// of text as one string.
func svgTexts(t *testing.T, fig *Figure) []string {
	t.Helper()
	var buf bytes.Buffer
	if err := fig.Render(&buf, "svg"); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range svgText.FindAllStringSubmatch(buf.String(), -1) {
		texts = append(texts, html.UnescapeString(m[1]))
	}
	return texts
}

// hasText reports whether one of texts contains s.
func hasText(texts []string, s string) bool {
	return slices.ContainsFunc(texts, func(t string) bool { return strings.Contains(t, s) })
}

// withTest returns s with test_loss and test_acc beside its train metrics:
// the train loss plus 0.3, and its accuracy.
func withTest(s *surface.Surface) *surface.Surface {
	s.Metrics = append(s.Metrics, "test_loss", "test_acc")
	for i := range s.Points {
		l := s.Points[i].Values[0] + 0.3
		s.Points[i].Values = append(s.Points[i].Values, l, 100*math.Exp(-l/3))
	}
	return s
}

func TestPlotMetrics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		metrics []string
		oneD    bool
		want    []string
	}{
		{[]string{"train_loss", "train_acc", "test_loss", "test_acc"}, false, []string{"train_loss", "test_loss"}},
		{[]string{"train_loss", "train_acc", "test_loss", "test_acc"}, true, []string{"train_loss"}},
		{[]string{"test_loss", "test_acc"}, true, []string{"test_loss"}},
		{[]string{"a_loss", "b_loss"}, true, []string{"a_loss", "b_loss"}},
		{[]string{"train_acc"}, false, []string{"train_acc"}},
		{nil, false, nil},
	}
	for _, tt := range tests {
		if got := plotMetrics(tt.metrics, tt.oneD); !slices.Equal(got, tt.want) {
			t.Errorf("plotMetrics(%v, 1D %v) = %v, want %v", tt.metrics, tt.oneD, got, tt.want)
		}
	}
}

// TestWritePlotsDrawsEveryLossByDefault checks that WritePlots draws the
// train and the test loss of a 2D surface unless told a metric, and the
// train loss alone of a 1D one, whose figure shows the test loss too.
func TestWritePlotsDrawsEveryLossByDefault(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := withTest(plotSurface())
	check := func(kinds []PlotKind, s *surface.Surface, metric string, want ...string) {
		t.Helper()
		o := small()
		o.Metric = metric
		paths, err := WritePlots(dir, "s", s, kinds, []string{"png"}, o)
		var got []string
		for _, p := range paths {
			got = append(got, filepath.Base(p))
		}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("wrote %v (%v), want %v", got, err, want)
		}
	}
	check([]PlotKind{HeatmapPlot}, s, "", "s_train_loss_2dheat.png", "s_test_loss_2dheat.png")
	check([]PlotKind{HeatmapPlot}, s, "test_acc", "s_test_acc_2dheat.png")
	check(nil, oneD(), "", "s_train_loss_1d_loss_acc.png")
	fig, err := NewFigure(oneD(), CurvePlot, small())
	if err != nil {
		t.Fatal(err)
	}
	if texts := svgTexts(t, fig); !hasText(texts, "test_loss") || !hasText(texts, "test_acc") {
		t.Errorf("the 1D figure of train_loss does not show the test split: %q", texts)
	}
}

func TestSliceSurface(t *testing.T) {
	t.Parallel()
	s := plotSurface() // x -1:1:21, y -0.7:0.7:15
	row, at, err := SliceSurface(s, Slice{Fixed: DimY, At: 0.12})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(at-0.1) > 1e-12 || !row.Is1D() || row.Provenance.Grid.X != s.Provenance.Grid.X || len(row.Points) != 21 {
		t.Fatalf("row at y=0.12: at %v, grid %+v, %d points; want y = 0.1 along x, 21 points", at, row.Provenance.Grid, len(row.Points))
	}
	for i, p := range row.Points {
		if p.Index != i || math.Abs(p.X-s.Provenance.Grid.X.At(i)) > 1e-12 || math.Abs(p.Values[0]-bowlSaddle(p.X, 0.1)) > 1e-9 {
			t.Errorf("row point %d: %+v, want loss %v at x %v", i, p, bowlSaddle(p.X, 0.1), s.Provenance.Grid.X.At(i))
		}
	}
	col, at, err := SliceSurface(s, Slice{Fixed: DimX, At: -1.04})
	if err != nil {
		t.Fatal(err)
	}
	if at != -1 || col.Provenance.Grid.X != *s.Provenance.Grid.Y || len(col.Points) != 15 {
		t.Fatalf("column at x=-1.04: at %v, grid %+v, %d points; want x = -1 along y, 15 points", at, col.Provenance.Grid, len(col.Points))
	}
	for _, p := range col.Points {
		if math.Abs(p.Values[0]-bowlSaddle(-1, p.X)) > 1e-9 {
			t.Errorf("column point %+v, want loss %v", p, bowlSaddle(-1, p.X))
		}
	}
	// A point the surface lacks is missing from the slice too.
	sparse := plotSurface()
	sparse.Points = slices.DeleteFunc(sparse.Points, func(p surface.Point) bool { return p.Index == 7*21+3 })
	if row, _, err := SliceSurface(sparse, Slice{Fixed: DimY, At: 0}); err != nil || len(row.Points) != 20 {
		t.Errorf("sparse row: %v points, %v; want 20", len(row.Points), err)
	}
	for _, sl := range []Slice{{DimY, 0.8}, {DimX, math.NaN()}, {DimX, -1.06}} {
		if _, _, err := SliceSurface(s, sl); !errors.Is(err, ErrPlot) {
			t.Errorf("slice %s outside the grid: %v, want ErrPlot", sl, err)
		}
	}
	if _, _, err := SliceSurface(oneD(), Slice{DimY, 0}); !errors.Is(err, ErrPlot) {
		t.Errorf("slice of a 1D surface: %v, want ErrPlot", err)
	}
	if a, b := (Slice{DimY, 0}).String(), (Slice{DimX, -0.5}).String(); a != "y=0" || b != "x=-0.5" {
		t.Errorf("slices print as %s and %s", a, b)
	}
}

// TestSliceFigure checks the 1D figure of a slice: its file name, its
// title and the label of the axis it runs along, and a caption when the
// grid line is not where asked.
func TestSliceFigure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	o := small()
	o.Slice = &Slice{Fixed: DimY, At: 0}
	paths, err := WritePlots(dir, "s", withTest(plotSurface()), nil, []string{"svg"}, o)
	if err != nil || len(paths) != 1 || filepath.Base(paths[0]) != "s_train_loss_1d_loss_acc_y=0.svg" {
		t.Fatalf("wrote %v, %v; want s_train_loss_1d_loss_acc_y=0.svg alone", paths, err)
	}
	o.Slice = &Slice{Fixed: DimX, At: 0.03}
	fig, err := NewFigure(plotSurface(), CurvePlot, o)
	if err != nil {
		t.Fatal(err)
	}
	texts := svgTexts(t, fig)
	for _, want := range []string{"train_loss, slice at x = 0", "β (y direction)", "the grid line nearest x = 0.03"} {
		if !hasText(texts, want) {
			t.Errorf("the slice's figure lacks %q: %q", want, texts)
		}
	}
	if _, err := NewFigure(plotSurface(), ContourPlot, o); !errors.Is(err, ErrPlot) {
		t.Errorf("contours of a slice: %v, want ErrPlot", err)
	}
}

// TestAxisLabelsAndMarks checks that the axis labels and the marks given
// appear in every 2D figure and the comparison, marks outside the plot
// being left out, and the labels in the 3D surface.
func TestAxisLabelsAndMarks(t *testing.T) {
	t.Parallel()
	o := small()
	o.XLabel, o.YLabel = "PC1 (81.8%)", "PC2 (9.1%)"
	o.Marks = []Mark{{"A", 0, 0}, {"B", 0.5, 0.2}, {"Far", 5, 5}}
	figs := map[string]*Figure{}
	for _, kind := range PlotKinds(plotSurface()) {
		fig, err := NewFigure(plotSurface(), kind, o)
		if err != nil {
			t.Fatal(err)
		}
		figs[kind.String()] = fig
	}
	cmp, err := NewCompareFigure([]*surface.Surface{plotSurface(), plotSurface()}, []string{"a", "b"}, o)
	if err != nil {
		t.Fatal(err)
	}
	figs["compare"] = cmp
	for name, fig := range figs {
		texts := svgTexts(t, fig)
		if !hasText(texts, "PC1 (81.8%)") || !hasText(texts, "PC2 (9.1%)") {
			t.Errorf("%s: no axis labels PC1, PC2 in %q", name, texts)
		}
		if name == "3d" {
			continue
		}
		if !slices.Contains(texts, "A") || !slices.Contains(texts, "B") || slices.Contains(texts, "Far") {
			t.Errorf("%s: marks A and B, and not Far, want; texts %q", name, texts)
		}
	}
}

// TestComparePanelLabels checks that each panel of a comparison has its
// own axes where PanelLabels names them, and XLabel and YLabel, or the
// names after its surface's directions, where it does not.
func TestComparePanelLabels(t *testing.T) {
	t.Parallel()
	target := plotSurface()
	target.Provenance.Directions.Kind = "target"
	o := small()
	o.YLabel = "v"
	o.PanelLabels = [][2]string{{"PC1 (81.8%)", "PC2 (9.1%)"}, {"", ""}}
	fig, err := NewCompareFigure([]*surface.Surface{plotSurface(), plotSurface(), target}, []string{"pca", "random", "target"}, o)
	if err != nil {
		t.Fatal(err)
	}
	texts := svgTexts(t, fig)
	count := func(s string) (n int) {
		for _, t := range texts {
			if t == s {
				n++
			}
		}
		return n
	}
	for _, want := range []struct {
		label string
		n     int
	}{{"PC1 (81.8%)", 1}, {"PC2 (9.1%)", 1}, {"α (x direction)", 1}, {"α (0 = checkpoint, 1 = target)", 1}, {"v", 2}} {
		if got := count(want.label); got != want.n {
			t.Errorf("%d axes labelled %q, want %d; texts %q", got, want.label, want.n, texts)
		}
	}
}

func TestLogTickLabels(t *testing.T) {
	t.Parallel()
	sup := superscript
	for _, tt := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {0.001, "0.001"}, {0.15, "0.15"}, {1, "1"}, {5000, "5000"},
		{1e4, "10" + sup("4")}, {2.5e-4, "2.5×10" + sup("−4")}, {9.99999e5, "10" + sup("6")},
		{-1e5, "-10" + sup("5")}, {1e300, "10" + sup("300")},
	} {
		if got := tickLabel(tt.v); got != tt.want {
			t.Errorf("tickLabel(%g) = %q, want %q", tt.v, got, tt.want)
		}
	}
	labels := func(lo, hi float64) []string {
		var l []string
		for _, tk := range scaleTicks(lo, hi, true) {
			l = append(l, tk.Label)
		}
		return l
	}
	if got := labels(0.1, 10); !slices.Equal(got, []string{"0.1", "1", "10"}) {
		t.Errorf("log ticks from 0.1 to 10: %q", got)
	}
	// One style on an axis: every tick a power of ten once one is.
	if got := labels(0.01, 1e8); len(got) < 4 || slices.ContainsFunc(got, func(l string) bool { return !strings.HasPrefix(l, "10"+string(supStart)) }) {
		t.Errorf("log ticks from 0.01 to 1e8: %q, want powers of ten", got)
	}
	// The colour bar's ticker, for plots of other programs, writes what
	// any text handler draws.
	var bar []string
	for _, tk := range (ColorBar{Scale: ColorScale{Min: 0.01, Max: 1e8, Log: true}}).Ticks(0.01, 1e8) {
		bar = append(bar, tk.Label)
	}
	if !slices.Contains(bar, "10^−2") || !slices.Contains(bar, "10^8") {
		t.Errorf("ColorBar.Ticks labels %q, want 10^−2 ... 10^8", bar)
	}
	// Drawn, the exponent is smaller than the digits, not written as is.
	ts := textStyle(sans, tickSize)
	if w, plain := ts.Width("10"+sup("4")), ts.Width("104"); !(w > ts.Width("10") && w < plain) {
		t.Errorf("10^4 drawn %v wide; want between 10 (%v) and 104 (%v)", w, ts.Width("10"), plain)
	}
	big := synthetic(grid.Axis{Min: -1, Max: 1, Num: 11}, grid.Axis{Min: -1, Max: 1, Num: 11}, func(x, y float64) float64 {
		return 0.01 * math.Exp(12*(x*x+y*y))
	})
	sci := regexp.MustCompile(`\de[+-]\d`)
	for _, kind := range []PlotKind{SurfacePlot, ContourPlot} {
		o := small()
		o.Log = true
		fig, err := NewFigure(big, kind, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{"png", "pdf"} {
			if err := fig.Render(new(bytes.Buffer), format); err != nil {
				t.Fatal(err)
			}
		}
		texts := svgTexts(t, fig)
		if slices.ContainsFunc(texts, sci.MatchString) {
			t.Errorf("%s on a log scale writes numbers as 1e+04: %q", kind, texts)
		}
		if kind == SurfacePlot && !slices.Contains(texts, "8") {
			t.Errorf("%s: no exponent 8 of 10⁸ among %q", kind, texts)
		}
	}
}

func TestColorMaps(t *testing.T) {
	t.Parallel()
	for _, name := range ColorMapNames() {
		for _, n := range []string{name, name + "_r"} {
			m, err := ParseColorMap(n)
			if err != nil || len(m) < 2 {
				t.Errorf("ParseColorMap(%q) = %d colours, %v", n, len(m), err)
			}
		}
	}
	if r, _ := ParseColorMap("viridis_r"); r.At(0) != Viridis().At(1) || r.At(1) != Viridis().At(0) {
		t.Errorf("viridis_r runs from %v to %v", r.At(0), r.At(1))
	}
	if _, err := ParseColorMap("jet"); !errors.Is(err, ErrPlot) || !strings.Contains(err.Error(), "viridis") {
		t.Errorf("ParseColorMap(jet): %v, want ErrPlot naming the maps", err)
	}
	// A figure in gray has no colour but the paths'; in viridis it has.
	coloured := func(kind PlotKind, cm ColorMap) int {
		o := small()
		o.ColorMap = cm
		fig, err := NewFigure(plotSurface(), kind, o)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := fig.Render(&buf, "png"); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(&buf)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, _ := img.At(x, y).RGBA()
				if max(r, g, bl)-min(r, g, bl) > 0x0300 {
					n++
				}
			}
		}
		return n
	}
	for _, kind := range []PlotKind{HeatmapPlot, FilledContourPlot, SurfacePlot} {
		if n := coloured(kind, Gray()); n > 0 {
			t.Errorf("%s in gray has %d coloured pixels", kind, n)
		}
		if n := coloured(kind, nil); n < 200 {
			t.Errorf("%s in the default colours has %d coloured pixels", kind, n)
		}
	}
}

func TestJPEG(t *testing.T) {
	t.Parallel()
	fig, err := NewFigure(plotSurface(), HeatmapPlot, small())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "heat.jpg")
	if err := fig.Save(path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b != image.Rect(0, 0, 4*30, 3*30) {
		t.Errorf("JPEG of a 4x3 inch figure at 30 dpi is %v", b)
	}
}

// trajectory returns a path of n points with names model_0 ... spiralling
// in to the origin.
func trajectory(n int) Path {
	p := Path{Label: "sgd"}
	for k := range n {
		th, r := 3*float64(k)/float64(n), 1-float64(k)/float64(n)
		p.X, p.Y = append(p.X, 3*r*math.Cos(th)), append(p.Y, 0.5*r*math.Sin(th))
		p.Names = append(p.Names, fmt.Sprintf("model_%d", k))
	}
	return p
}

// TestPathFigure checks the figure of a trajectory alone: its first and
// last checkpoints named and only some between, its axes, the files
// WritePathPlots writes, and the errors for paths that cannot be drawn.
func TestPathFigure(t *testing.T) {
	t.Parallel()
	o := small()
	o.Width, o.Height = 6*vg.Inch, 4.5*vg.Inch
	o.XLabel, o.YLabel = "PC1 (81.8%)", "PC2 (9.1%)"
	fig, err := NewPathFigure([]Path{trajectory(60)}, o)
	if err != nil {
		t.Fatal(err)
	}
	texts := svgTexts(t, fig)
	named := 0
	for _, s := range texts {
		if strings.HasPrefix(s, "model_") {
			named++
		}
	}
	for _, want := range []string{"model_0", "model_59", "PC1 (81.8%)", "PC2 (9.1%)", "Trajectory: sgd", "sgd: 60 points, from model_0 to model_59"} {
		if !slices.Contains(texts, want) {
			t.Errorf("the trajectory's figure lacks %q: %q", want, texts)
		}
	}
	if named < 5 || named > 30 {
		t.Errorf("%d of 60 checkpoints named; want some, not all", named)
	}
	t.Run("golden", func(t *testing.T) { checkGolden(t, "path", fig) })

	dir := t.TempDir()
	unnamed := trajectory(5)
	unnamed.Names, unnamed.Label = nil, "adam"
	paths, err := WritePathPlots(dir, "sgd_path", []Path{trajectory(8), unnamed}, []string{"png", "svg"}, small())
	if err != nil || len(paths) != 2 || filepath.Base(paths[0]) != "sgd_path.png" || filepath.Base(paths[1]) != "sgd_path.svg" {
		t.Errorf("wrote %v, %v", paths, err)
	}
	for _, p := range paths {
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
	bad := trajectory(3)
	bad.Names = bad.Names[:2]
	nan := Path{X: []float64{math.NaN()}, Y: []float64{1}}
	for name, paths := range map[string][]Path{"none": nil, "empty": {{}}, "names": {bad}, "NaN": {nan}} {
		if _, err := NewPathFigure(paths, nil); !errors.Is(err, ErrPlot) {
			t.Errorf("%s: %v, want ErrPlot", name, err)
		}
	}
	// One point, or a straight line, still has axes of some width.
	for _, p := range []Path{{X: []float64{0}, Y: []float64{0}}, {X: []float64{0, 1}, Y: []float64{2, 2}}} {
		fig, err := NewPathFigure([]Path{p}, small())
		if err == nil {
			err = fig.Render(new(bytes.Buffer), "png")
		}
		if err != nil {
			t.Errorf("path %v: %v", p, err)
		}
	}
}

// TestCurvePathFigure checks the figure of a function of one variable: its
// title, axis labels, the runs' legend and captions, the files
// WriteCurvePathPlots writes, and the errors for what cannot be drawn.
func TestCurvePathFigure(t *testing.T) {
	t.Parallel()
	xs, ys := make([]float64, 101), make([]float64, 101)
	for i := range xs {
		xs[i] = -2 + 4*float64(i)/100
		ys[i] = xs[i] * xs[i]
	}
	run := Path{Label: "sgd, lr 0.4", X: []float64{1.5, 0.3, 0.06}, Y: []float64{2.25, 0.09, 0.0036}}
	o := small()
	o.XLabel, o.YLabel = "x", "loss"
	o.Marks = []Mark{{Label: "start", X: 1.5, Y: 2.25}}
	fig, err := NewCurvePathFigure("bowl: x²", xs, ys, []Path{run}, o)
	if err != nil {
		t.Fatal(err)
	}
	texts := svgTexts(t, fig)
	for _, want := range []string{"bowl: x²", "x", "loss", "sgd, lr 0.4", "sgd, lr 0.4: 3 points", "start"} {
		if !slices.Contains(texts, want) {
			t.Errorf("the curve's figure lacks %q: %q", want, texts)
		}
	}
	written, err := WriteCurvePathPlots(t.TempDir(), "bowl_loss_1dcurve", "bowl", xs, ys, []Path{run}, []string{"png"}, small())
	if err != nil || len(written) != 1 || filepath.Base(written[0]) != "bowl_loss_1dcurve.png" {
		t.Errorf("wrote %v, %v", written, err)
	}
	nan := []float64{math.NaN(), math.NaN()}
	for name, c := range map[string]struct {
		xs, ys []float64
		paths  []Path
	}{
		"lengths":    {xs, ys[:50], nil},
		"one point":  {xs[:1], ys[:1], nil},
		"decreasing": {[]float64{1, 0}, []float64{0, 1}, nil},
		"no values":  {[]float64{0, 1}, nan, nil},
		"path":       {xs, ys, []Path{{X: []float64{1}, Y: nil}}},
	} {
		if _, err := NewCurvePathFigure("f", c.xs, c.ys, c.paths, nil); !errors.Is(err, ErrPlot) {
			t.Errorf("%s: %v, want ErrPlot", name, err)
		}
	}
}
