package export

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"

	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape/surface"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/golden (see its README)")

// goldenDir holds the golden PNGs of this architecture: floating point
// differs slightly between architectures (fused multiply-add on arm64),
// and so do antialiased edges.
var goldenDir = filepath.Join("testdata", "golden", runtime.GOARCH)

// goldenTolerance is the largest mean absolute difference, in 8-bit levels
// per channel, between a rendered image and its golden one. A change of
// font, layout or colour moves it well past this; a different rounding of
// an antialiased edge does not.
const goldenTolerance = 0.6

// Test figures are small, to keep the goldens small, and sharp enough to
// read.
const (
	testWidth  = 6 * vg.Inch
	testHeight = 4.5 * vg.Inch
	testDPI    = 80
)

// synthetic returns a 2D surface on the axes x and y with train_loss
// loss(x, y) and train_acc falling from 100 as the loss rises, and the
// provenance of a typical run.
func synthetic(x, y grid.Axis, loss func(x, y float64) float64) *surface.Surface {
	s := &surface.Surface{Metrics: []string{"train_loss", "train_acc"}}
	s.Provenance = surface.Provenance{
		Tool: "landscape", Version: "test",
		Model:      surface.ModelInfo{Name: "resnet56", InChannels: 3, Height: 32, Width: 32, Classes: 10},
		Checkpoint: surface.FileInfo{Path: "/runs/resnet56_sgd_lr=0.1/model_300.t7"},
		Directions: surface.DirectionsInfo{Kind: "random", Seed: 123, Norm: "filter", Ignore: "biasbn", Mode: "weights"},
		Data:       surface.DataInfo{Name: "cifar10", Splits: []string{"train"}, Samples: []int{50000}},
		Grid:       grid.Grid{X: x, Y: &y},
	}
	for iy, yv := range y.Values() {
		for ix, xv := range x.Values() {
			l := loss(xv, yv)
			s.Points = append(s.Points, surface.Point{
				Index: iy*x.Num + ix, X: xv, Y: yv,
				Values: []float64{l, 100 * math.Exp(-l/3)},
			})
		}
	}
	return s
}

// bowlSaddle is the test landscape: a tilted bowl, steeper along y, whose
// x³ term bends it into a saddle towards +x, reaching above the top level
// 10 in the corners.
func bowlSaddle(x, y float64) float64 {
	return 0.3 + 5*x*x + 8*y*y + 3*x*y - 4*x*x*x
}

// plotSurface is bowlSaddle on a 21x15 grid.
func plotSurface() *surface.Surface {
	return synthetic(grid.Axis{Min: -1, Max: 1, Num: 21}, grid.Axis{Min: -0.7, Max: 0.7, Num: 15}, bowlSaddle)
}

// withHole returns s with the metric NaN or infinite at some points: a
// blown-up corner and a missing point near the centre.
func withHole(s *surface.Surface) *surface.Surface {
	nx := s.Provenance.Grid.X.Num
	for i := range s.Points {
		p := &s.Points[i]
		ix, iy := p.Index%nx, p.Index/nx
		switch {
		case ix >= nx-4 && iy <= 3:
			p.Values[0], p.Values[1] = math.Inf(1), 0
		case ix == nx/2+3 && iy == 8:
			p.Values[0], p.Values[1] = math.NaN(), math.NaN()
		}
	}
	return s
}

// oneD returns a 1D surface with train and test loss and accuracy, the
// loss NaN at its right end.
func oneD() *surface.Surface {
	x := grid.Axis{Min: -1, Max: 1.5, Num: 51}
	s := &surface.Surface{Metrics: []string{"train_loss", "train_acc", "test_loss", "test_acc"}}
	s.Provenance = surface.Provenance{
		Tool:       "landscape",
		Model:      surface.ModelInfo{Name: "vgg9"},
		Directions: surface.DirectionsInfo{Kind: "target", File: "model_b.pt", Mode: "states"},
		Data:       surface.DataInfo{Name: "cifar10", Splits: []string{"train", "test"}, Samples: []int{50000, 10000}},
		Grid:       grid.Grid{X: x},
	}
	for i, xv := range x.Values() {
		tr := 0.05 + 6*xv*xv*(1-xv)*(1-xv) + 0.02*xv
		te := tr + 0.35
		if xv > 1.35 {
			tr, te = math.NaN(), math.Inf(1)
		}
		s.Points = append(s.Points, surface.Point{Index: i, X: xv, Y: math.NaN(),
			Values: []float64{tr, 100 * math.Exp(-tr), te, 100 * math.Exp(-te) * 0.92}})
	}
	return s
}

// checkGolden renders fig as PNG and compares it with the golden image
// name.png, or rewrites that with -update.
func checkGolden(t *testing.T, name string, fig *Figure) {
	t.Helper()
	fig.Width, fig.Height, fig.DPI = testWidth, testHeight, testDPI
	var buf bytes.Buffer
	if err := fig.Render(&buf, "png"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(goldenDir, name+".png")
	if *updateGolden {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("no golden image %s for %s; make it with go test ./export -run %s -update", path, runtime.GOARCH, t.Name())
	}
	if err != nil {
		t.Fatal(err)
	}
	d, err := imageDiff(buf.Bytes(), want)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if d > goldenTolerance {
		got := filepath.Join(t.TempDir(), name+".png")
		os.WriteFile(got, buf.Bytes(), 0o644)
		t.Errorf("%s: mean absolute difference %.3f levels, want ≤ %g; got image left in %s (rerun with -update if the change is meant)", path, d, goldenTolerance, got)
	}
}

// imageDiff returns the mean absolute difference of two PNG images, in
// 8-bit levels per channel.
func imageDiff(a, b []byte) (float64, error) {
	ia, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		return 0, err
	}
	ib, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	if ia.Bounds() != ib.Bounds() {
		return 0, errors.New("image size " + ia.Bounds().String() + ", golden " + ib.Bounds().String())
	}
	var sum float64
	r := ia.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			sum += pixelDiff(ia, ib, x, y)
		}
	}
	return sum / float64(3*r.Dx()*r.Dy()), nil
}

func pixelDiff(a, b image.Image, x, y int) float64 {
	r1, g1, b1, _ := a.At(x, y).RGBA()
	r2, g2, b2, _ := b.At(x, y).RGBA()
	d := func(p, q uint32) float64 { return math.Abs(float64(p>>8) - float64(q>>8)) }
	return d(r1, r2) + d(g1, g2) + d(b1, b2)
}

// TestFiguresMatchGoldenImages renders every kind of figure, with NaN,
// non-square grids, log scales and a comparison, and compares each with its
// golden image.
func TestFiguresMatchGoldenImages(t *testing.T) {
	t.Parallel()
	nonSquare := synthetic(grid.Axis{Min: -2, Max: 1, Num: 31}, grid.Axis{Min: -0.25, Max: 0.5, Num: 7}, func(x, y float64) float64 {
		return 0.2 + 0.8*x*x + 12*y*y + 0.5*x
	})
	accuracy := &PlotOptions{Metric: "train_acc"}
	tests := []struct {
		name string
		s    *surface.Surface
		kind PlotKind
		o    *PlotOptions
	}{
		{"contour", plotSurface(), ContourPlot, nil},
		{"filled", plotSurface(), FilledContourPlot, nil},
		{"heatmap", plotSurface(), HeatmapPlot, nil},
		{"surface3d", plotSurface(), SurfacePlot, nil},
		{"surface3d_view", plotSurface(), SurfacePlot, &PlotOptions{Azimuth: -60, Elevation: 30}},
		{"curve1d", oneD(), CurvePlot, nil},
		{"curve1d_log", oneD(), CurvePlot, &PlotOptions{Log: true}},
		{"nan_contour", withHole(plotSurface()), ContourPlot, nil},
		{"nan_filled", withHole(plotSurface()), FilledContourPlot, nil},
		{"nan_heatmap", withHole(plotSurface()), HeatmapPlot, nil},
		{"nan_surface3d", withHole(plotSurface()), SurfacePlot, nil},
		{"nonsquare_contour", nonSquare, ContourPlot, nil},
		{"nonsquare_heatmap", nonSquare, HeatmapPlot, nil},
		{"nonsquare_surface3d", nonSquare, SurfacePlot, nil},
		{"log_filled", plotSurface(), FilledContourPlot, &PlotOptions{Log: true}},
		{"accuracy_contour", plotSurface(), ContourPlot, accuracy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fig, err := NewFigure(tt.s, tt.kind, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.name, fig)
		})
	}
	t.Run("compare", func(t *testing.T) {
		t.Parallel()
		b := synthetic(grid.Axis{Min: -1, Max: 1, Num: 21}, grid.Axis{Min: -1, Max: 1, Num: 21}, func(x, y float64) float64 {
			return 0.1 + 2*x*x + 3*y*y
		})
		b.Provenance.Model.Name = "resnet56_noshort"
		fig, err := NewCompareFigure([]*surface.Surface{plotSurface(), withHole(b)}, []string{"resnet56", "resnet56_noshort"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, "compare", fig)
	})
}

// TestRenderWritesEveryFormat renders every kind in every format and checks
// that each output is a file of its format.
func TestRenderWritesEveryFormat(t *testing.T) {
	t.Parallel()
	magic := map[string]string{"png": "\x89PNG", "svg": "<?xml", "pdf": "%PDF", "jpg": "\xff\xd8\xff"}
	for _, s := range []*surface.Surface{withHole(plotSurface()), oneD()} {
		for _, kind := range PlotKinds(s) {
			fig, err := NewFigure(s, kind, &PlotOptions{Width: 4 * vg.Inch, Height: 3 * vg.Inch, DPI: 30})
			if err != nil {
				t.Fatal(err)
			}
			for _, format := range Formats() {
				var buf bytes.Buffer
				if err := fig.Render(&buf, format); err != nil {
					t.Fatalf("%s %s: %v", kind, format, err)
				}
				if !strings.HasPrefix(buf.String(), magic[format]) {
					t.Errorf("%s %s starts %q", kind, format, buf.Bytes()[:min(8, buf.Len())])
				}
			}
		}
	}
}

// TestFiguresOfOddSurfacesDraw draws surfaces that could trip the drawing
// code: all NaN, flat, a single row, negative losses on a log scale, a grid
// of one point. None may fail or panic.
func TestFiguresOfOddSurfacesDraw(t *testing.T) {
	t.Parallel()
	ax := grid.Axis{Min: -1, Max: 1, Num: 5}
	tests := []struct {
		name string
		s    *surface.Surface
		o    *PlotOptions
	}{
		{"all NaN", synthetic(ax, ax, func(x, y float64) float64 { return math.NaN() }), nil},
		{"all +Inf", synthetic(ax, ax, func(x, y float64) float64 { return math.Inf(1) }), nil},
		{"flat", synthetic(ax, ax, func(x, y float64) float64 { return 2 }), nil},
		{"flat log", synthetic(ax, ax, func(x, y float64) float64 { return 2 }), &PlotOptions{Log: true}},
		{"negative log", synthetic(ax, ax, func(x, y float64) float64 { return x - 0.5 }), &PlotOptions{Log: true}},
		{"one row", synthetic(ax, grid.Axis{Min: 0, Max: 0, Num: 1}, bowlSaddle), nil},
		{"one point", synthetic(grid.Axis{Num: 1}, grid.Axis{Num: 1}, bowlSaddle), nil},
		{"huge", synthetic(ax, ax, func(x, y float64) float64 { return 1e300 * (x + 2) }), nil},
		{"tiny range", synthetic(ax, ax, func(x, y float64) float64 { return 1 + 1e-12*x }), nil},
		{"one level", plotSurface(), &PlotOptions{Levels: []float64{1}}},
		{"sparse shard", func() *surface.Surface {
			s := plotSurface()
			s.Points = nil
			for i, p := range plotSurface().Points {
				if i%3 == 0 {
					s.Points = append(s.Points, p)
				}
			}
			return s
		}(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := PlotOptions{Width: 3 * vg.Inch, Height: 2 * vg.Inch, DPI: 20}
			if tt.o != nil {
				o.Levels, o.Log = tt.o.Levels, tt.o.Log
			}
			for _, kind := range PlotKinds(tt.s) {
				fig, err := NewFigure(tt.s, kind, &o)
				if err != nil {
					t.Fatalf("%s: %v", kind, err)
				}
				if err := fig.Render(new(bytes.Buffer), "png"); err != nil {
					t.Errorf("%s: %v", kind, err)
				}
			}
		})
	}
}

// TestNewFigureRefusesBadKindsAndOptions checks that a kind that does not
// suit the surface, bad levels, an unknown metric or format give errors
// wrapping ErrPlot.
func TestNewFigureRefusesBadKindsAndOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    *surface.Surface
		kind PlotKind
		o    *PlotOptions
		want error
	}{
		{"contour of 1D", oneD(), ContourPlot, nil, ErrPlot},
		{"curve of 2D", plotSurface(), CurvePlot, nil, ErrPlot},
		{"unknown kind", plotSurface(), PlotKind(42), nil, ErrPlot},
		{"negative level on log", plotSurface(), ContourPlot, &PlotOptions{Log: true, Levels: []float64{-1, 1}}, ErrPlot},
		{"NaN level", plotSurface(), ContourPlot, &PlotOptions{Levels: []float64{math.NaN()}}, ErrPlot},
		{"empty levels", plotSurface(), ContourPlot, &PlotOptions{Levels: []float64{}}, ErrPlot},
		{"bad scale", plotSurface(), HeatmapPlot, &PlotOptions{VMin: 5, VMax: 1}, nil},
	}
	for _, name := range []string{"contour", "filled", "heatmap", "3d", "1d"} {
		if k, err := ParsePlotKind(name); err != nil || k.String() != name {
			t.Errorf("ParsePlotKind(%q) = %v, %v", name, k, err)
		}
	}
	if _, err := ParsePlotKind("pie"); !errors.Is(err, ErrPlot) {
		t.Errorf("ParsePlotKind(pie): %v, want ErrPlot", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewFigure(tt.s, tt.kind, tt.o)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := NewFigure(plotSurface(), ContourPlot, &PlotOptions{Metric: "nope"}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown metric: error %v, want one naming it", err)
	}
	var buf bytes.Buffer
	fig, _ := NewFigure(plotSurface(), HeatmapPlot, nil)
	if err := fig.Render(&buf, "gif"); !errors.Is(err, ErrPlot) {
		t.Errorf("render gif: %v, want ErrPlot", err)
	}
}

// TestWritePlotsNamesFilesAsReference checks the files WritePlots writes:
// named as the reference names its PDFs, non-empty, and no temporary files
// left.
func TestWritePlotsNamesFilesAsReference(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	o := &PlotOptions{Width: 3 * vg.Inch, Height: 2 * vg.Inch, DPI: 20}
	paths, err := WritePlots(dir, "surf", plotSurface(), nil, []string{"png", "svg"}, o)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"surf_train_loss_2dcontour.png", "surf_train_loss_2dcontour.svg", "surf_train_loss_2dcontourf.png",
		"surf_train_loss_2dcontourf.svg", "surf_train_loss_2dheat.png", "surf_train_loss_2dheat.svg",
		"surf_train_loss_3dsurface.png", "surf_train_loss_3dsurface.svg"}
	if len(paths) != len(want) {
		t.Fatalf("wrote %v, want %v", paths, want)
	}
	for i, p := range paths {
		if filepath.Base(p) != want[i] {
			t.Errorf("path %d is %s, want %s", i, filepath.Base(p), want[i])
		}
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(want) {
		t.Errorf("%d files in the folder, want %d (no temporary files left)", len(entries), len(want))
	}
	paths, err = WritePlots(dir, "one", plotSurface(), []PlotKind{HeatmapPlot}, []string{"pdf"}, o)
	if err != nil || len(paths) != 1 || filepath.Base(paths[0]) != "one_train_loss_2dheat.pdf" {
		t.Errorf("heat map only: wrote %v, %v", paths, err)
	}
	o.Log = true
	paths, err = WritePlots(dir, "curve", oneD(), nil, []string{"pdf"}, o)
	if err != nil || len(paths) != 1 || filepath.Base(paths[0]) != "curve_train_loss_1d_loss_acc_log.pdf" {
		t.Errorf("1D: wrote %v, %v", paths, err)
	}
}

// TestLevelsAndColourScaleChoice checks the contour levels and colour scale
// chosen for the reference's default, log scales, accuracies, large losses
// and given levels.
func TestLevelsAndColourScaleChoice(t *testing.T) {
	t.Parallel()
	f := func(lo, hi float64) []*surface.Field {
		return []*surface.Field{{X: []float64{0, 1}, Y: []float64{0, 1}, Z: [][]float64{{lo, hi}, {hi, math.NaN()}}}}
	}
	tests := []struct {
		name        string
		fs          []*surface.Field
		o           PlotOptions
		first, last float64
		n           int
		vmin, vmax  float64
		auto        bool
	}{
		{"reference default", f(0.05, 30), PlotOptions{}, 0.1, 9.6, 20, 0.1, 10, false},
		{"log default", f(0.05, 30), PlotOptions{Log: true}, 0.1, 9, 20, 0.1, 10, false},
		{"accuracy", f(10, 100), PlotOptions{}, 15, 95, 17, 10, 100, true},
		{"large loss", f(50, 1000), PlotOptions{Log: true}, 60, 900, 14, 50, 1000, true},
		{"given", f(0, 1), PlotOptions{Levels: []float64{3, 1, 2, 2}}, 1, 3, 3, 1, 3, false},
		{"given range", f(0, 1), PlotOptions{Levels: []float64{1, 2}, VMin: 0.5, VMax: 4}, 1, 2, 2, 0.5, 4, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ps, err := setup(tt.fs, &tt.o)
			if err != nil {
				t.Fatal(err)
			}
			l := ps.levels
			if ps.auto != tt.auto || math.Abs(l[0]-tt.first) > 1e-9 || math.Abs(l[len(l)-1]-tt.last) > 1e-9 ||
				math.Abs(ps.sc.Min-tt.vmin) > 1e-9 || math.Abs(ps.sc.Max-tt.vmax) > 1e-9 || (tt.n > 0 && len(l) != tt.n) {
				t.Errorf("levels %v (auto %v), scale %v to %v; want %d levels %v..%v (auto %v), scale %v to %v",
					l, ps.auto, ps.sc.Min, ps.sc.Max, tt.n, tt.first, tt.last, tt.auto, tt.vmin, tt.vmax)
			}
		})
	}
}

// FuzzFigure draws every kind of figure of a 5x4 surface whose values come
// from the fuzzer, on linear and log scales: no values may make drawing
// fail or panic.
func FuzzFigure(f *testing.F) {
	seed := func(vs ...float64) []byte {
		b := make([]byte, 8*len(vs))
		for i, v := range vs {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
		}
		return b
	}
	f.Add(seed(1, 2, 3, math.NaN(), math.Inf(1), math.Inf(-1), 0, -1), false)
	f.Add(seed(1e308, -1e308, 5e-324, 1e-300, 7), true)
	f.Add(seed(0.5, 0.5, 0.5, 0.5), true)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, data []byte, log bool) {
		i := 0
		value := func() float64 {
			if len(data) < 8 {
				return 1
			}
			v := math.Float64frombits(binary.LittleEndian.Uint64(data[8*(i%(len(data)/8)):]))
			i++
			return v
		}
		x, y := grid.Axis{Min: -1, Max: 1, Num: 5}, grid.Axis{Min: 0, Max: 3, Num: 4}
		s2 := synthetic(x, y, func(float64, float64) float64 { return value() })
		s1 := oneD()
		for k := range s1.Points {
			s1.Points[k].Values[0] = value()
		}
		o := &PlotOptions{Width: 2 * vg.Inch, Height: 1.5 * vg.Inch, DPI: 10, Log: log}
		for _, s := range []*surface.Surface{s2, s1} {
			for _, kind := range PlotKinds(s) {
				fig, err := NewFigure(s, kind, o)
				if err != nil {
					t.Fatalf("%s: %v", kind, err)
				}
				if err := fig.Render(new(bytes.Buffer), "png"); err != nil {
					t.Fatalf("%s: %v", kind, err)
				}
			}
			if _, err := Summarize(s, "fuzz", "train_loss", nil); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestLongPathsAreThinned checks that a path of 100,000 points is drawn
// through at most maxPathVertices points and without dots, so that
// figures with it take no longer than without it, and that its end is
// kept.
func TestLongPathsAreThinned(t *testing.T) {
	t.Parallel()
	var path Path
	for k := range 100_000 {
		path.X = append(path.X, float64(k)/100_000)
		path.Y = append(path.Y, 0.5)
	}
	line, dots, end := pathPlotters(path, color.Black, 0, 1, 0, 1)
	vertices, last := len(line.XYs), line.XYs[len(line.XYs)-1]
	if vertices > maxPathVertices+1 || dots != nil || last.X != path.X[len(path.X)-1] || len(end.XYs) != 1 {
		t.Errorf("a 100,000-point path drawn through %d vertices (dots %v), ending at %v; want at most %d, no dots, and the path's end",
			vertices, dots != nil, last, maxPathVertices+1)
	}
}

// A density figure renders in every format; bad curves are refused.
func TestDensityFigure(t *testing.T) {
	t.Parallel()
	x := make([]float64, 200)
	rho := make([]float64, 200)
	for i := range x {
		x[i] = -5 + float64(i)*0.5
		rho[i] = math.Exp(-x[i]*x[i]/2) + 1e-9
	}
	dir := t.TempDir()
	paths, err := WriteDensityPlots(dir, "density", []DensityCurve{{Label: "a", X: x, Rho: rho}, {Label: "b", X: x, Rho: rho[:200]}}, []string{"caption"}, Formats(), nil)
	if err != nil || len(paths) != len(Formats()) {
		t.Fatalf("wrote %v, %v", paths, err)
	}
	for _, p := range paths {
		if st, err := os.Stat(p); err != nil || st.Size() < 1000 {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, bad := range [][]DensityCurve{
		{{Label: "short", X: x[:1], Rho: rho[:1]}},
		{{Label: "mismatched", X: x, Rho: rho[:10]}},
		{{Label: "zero", X: x, Rho: make([]float64, 200)}},
	} {
		if _, err := NewDensityFigure(bad, nil, nil); !errors.Is(err, ErrPlot) {
			t.Errorf("%s: error %v, want ErrPlot", bad[0].Label, err)
		}
	}
}
