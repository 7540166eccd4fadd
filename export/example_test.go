package export_test

import (
	"bytes"
	"fmt"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape/surface"
)

// bowl returns the 1D surface of the loss x² on the axis -1:1:5, with an
// accuracy that falls off away from the centre.
func bowl() *surface.Surface {
	s := &surface.Surface{Metrics: []string{"train_loss", "train_acc"}}
	s.Provenance.Tool = "landscape"
	s.Provenance.Grid.X = grid.Axis{Min: -1, Max: 1, Num: 5}
	for i, x := range s.Provenance.Grid.X.Values() {
		s.Points = append(s.Points, surface.Point{
			Index:  i,
			X:      x,
			Y:      math.NaN(), // 1D
			Values: []float64{x * x, 1 - math.Abs(x)/2},
		})
	}
	return s
}

// bowl2D returns the 2D surface of the loss 0.1 + x² + 2y² on the grid
// -1:1:21 by -0.5:1:16, with an accuracy that falls as the loss rises.
func bowl2D() *surface.Surface {
	s := &surface.Surface{Metrics: []string{"train_loss", "train_acc"}}
	s.Provenance.Tool = "landscape"
	s.Provenance.Model.Name = "bowl"
	s.Provenance.Grid = grid.Grid{X: grid.Axis{Min: -1, Max: 1, Num: 21}, Y: &grid.Axis{Min: -0.5, Max: 1, Num: 16}}
	for i := range s.Provenance.Grid.Len() {
		x, y := s.Provenance.Grid.Point(i)
		loss := 0.1 + x*x + 2*y*y
		s.Points = append(s.Points, surface.Point{Index: i, X: x, Y: y, Values: []float64{loss, 100 * math.Exp(-loss)}})
	}
	return s
}

// reportFile prints the name of the file at path and whether it holds
// anything.
func reportFile(path string) {
	fi, err := os.Stat(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote", filepath.Base(path), "non-empty:", fi.Size() > 0)
}

func ExampleWriteCSV() {
	if err := export.WriteCSV(os.Stdout, bowl()); err != nil {
		log.Fatal(err)
	}
	// Output:
	// x,y,train_loss,train_acc
	// -1,,1,0.5
	// -0.5,,0.25,0.75
	// 0,,0,1
	// 0.5,,0.25,0.75
	// 1,,1,0.5
}

func ExampleWriteParquet() {
	dir, err := os.MkdirTemp("", "landscape")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "surface.parquet")

	if err := export.WriteParquet(path, bowl()); err != nil {
		log.Fatal(err)
	}
	s, err := export.ReadParquet(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Metrics, s.Provenance.Tool, s.Provenance.Grid.X)
	for _, p := range s.Points {
		fmt.Println(p.Index, p.X, p.Y, p.Values)
	}
	// Output:
	// [train_loss train_acc] landscape -1:1:5
	// 0 -1 NaN [1 0.5]
	// 1 -0.5 NaN [0.25 0.75]
	// 2 0 NaN [0 1]
	// 3 0.5 NaN [0.25 0.75]
	// 4 1 NaN [1 0.5]
}

// Reading a surface file: here a part file that a cluster task with
// --save-every left when it was stopped, with the least loss it holds.
func ExampleReadParquet() {
	s, err := export.ReadParquet(filepath.Join("testdata", "golden", "v0.1-surface.parquet"))
	if err != nil {
		log.Fatal(err)
	}
	p := s.Provenance
	fmt.Printf("%s on %s, metrics %v\n", p.Model.Name, p.Data.Name, s.Metrics)
	fmt.Printf("grid %d x %d, shard %v: %d of its %d points (complete: %v)\n",
		p.Grid.X.Num, p.Grid.Y.Num, p.Shard, len(s.Points), p.Progress.Total, p.Progress.Complete())

	loss, err := s.Metric("train_loss")
	if err != nil {
		log.Fatal(err)
	}
	best := -1
	for k, pt := range s.Points {
		if v := pt.Values[loss]; !math.IsNaN(v) && (best < 0 || v < s.Points[best].Values[loss]) {
			best = k
		}
	}
	b := s.Points[best]
	fmt.Printf("least train_loss %g at (%g, %g), grid point %d\n", b.Values[loss], b.X, b.Y, b.Index)
	// Output:
	// resnet56 on cifar10, metrics [train_loss train_acc test_loss test_acc]
	// grid 5 x 4, shard 1/2: 5 of its 8 points (complete: false)
	// least train_loss 0.1 at (0, 0), grid point 7
}

// Drawing the figures of a surface: WritePlots saves the contour lines,
// filled contours, heat map and 3D surface of its loss.
func ExampleWritePlots() {
	dir, err := os.MkdirTemp("", "landscape")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	o := &export.PlotOptions{Width: 4 * vg.Inch, Height: 3 * vg.Inch, DPI: 50}
	paths, err := export.WritePlots(dir, "bowl", bowl2D(), nil, []string{"png"}, o)
	if err != nil {
		log.Fatal(err)
	}
	for _, path := range paths {
		reportFile(path)
	}
	// Output:
	// wrote bowl_train_loss_2dcontour.png non-empty: true
	// wrote bowl_train_loss_2dcontourf.png non-empty: true
	// wrote bowl_train_loss_2dheat.png non-empty: true
	// wrote bowl_train_loss_3dsurface.png non-empty: true
}

// Composing a gonum/plot figure: gonum's heat map of the loss through
// GridXYZ, with this package's labelled contour lines over it.
func ExampleGridXYZ() {
	f, err := bowl2D().Field("train_loss")
	if err != nil {
		log.Fatal(err)
	}
	g := export.GridXYZ{Field: f}
	c, r := g.Dims()
	least := math.Inf(1)
	for i := range c {
		for j := range r {
			least = math.Min(least, g.Z(i, j))
		}
	}
	fmt.Printf("%d x %d grid, x from %g to %g, y from %g to %g, least loss %g\n", c, r, g.X(0), g.X(c-1), g.Y(0), g.Y(r-1), least)

	cmap := moreland.SmoothBlueRed().Palette(32)
	p := plot.New()
	p.Title.Text = "0.1 + x² + 2y²"
	p.Add(plotter.NewHeatMap(g, cmap))
	p.Add(export.ContourLines{Field: f, Levels: []float64{0.25, 0.5, 1, 2}, Scale: export.ColorScale{Min: 0, Max: 2.5}, Labels: true})

	dir, err := os.MkdirTemp("", "landscape")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "bowl.png")
	if err := p.Save(4*vg.Inch, 3*vg.Inch, path); err != nil {
		log.Fatal(err)
	}
	reportFile(path)
	// Output:
	// 21 x 16 grid, x from -1 to 1, y from -0.5 to 1, least loss 0.1
	// wrote bowl.png non-empty: true
}

// Composing a figure with a colour bar: filled contours and a ColorBar in
// a narrow plot of its own beside them, on one canvas.
func ExampleColorBar() {
	f, err := bowl2D().Field("train_loss")
	if err != nil {
		log.Fatal(err)
	}
	scale := export.ColorScale{Min: 0.1, Max: 10, Log: true}
	levels := []float64{0.2, 0.5, 1, 2, 5}

	field := plot.New()
	field.Add(export.MissingCells{Field: f}, export.FilledContours{Field: f, Levels: levels, Scale: scale})
	bar := export.ColorBar{Scale: scale, Levels: levels, Filled: true}
	legend := plot.New()
	legend.Add(bar)
	legend.Y.Scale, legend.Y.Tick.Marker = plot.LogScale{}, bar
	legend.HideX()

	img := vgimg.New(5*vg.Inch, 3*vg.Inch)
	c := draw.New(img)
	field.Draw(draw.Crop(c, 0, -vg.Inch, 0, 0))
	legend.Draw(draw.Crop(c, 4.2*vg.Inch, 0, 0, 0))

	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		log.Fatal(err)
	}
	cfg, err := png.DecodeConfig(&buf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("a %dx%d PNG\n", cfg.Width, cfg.Height)
	fmt.Print("colour bar ticks:")
	for _, t := range bar.Ticks(scale.Min, scale.Max) {
		fmt.Print(" ", t.Label)
	}
	fmt.Println()
	// Output:
	// a 480x288 PNG
	// colour bar ticks: 0.1 1 10
}
