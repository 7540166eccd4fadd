package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/demo"
	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/export/view"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape"
	"github.com/landscape-go/landscape/landscape/optim"
	"github.com/landscape-go/landscape/nets"
)

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "[--out DIR]", stderr)
	out := fs.String("out", "landscape-demo", "output folder")
	samples := fs.Int("samples", demo.DefaultSamples, fmt.Sprintf("test images to average over (at most %d are embedded)", demo.Images))
	axis := fs.String("grid", demo.DefaultGrid, "the x and y axes, min:max:num")
	quiet := fs.Bool("quiet", false, "no progress output")
	curvature := fs.Bool("curvature", false, "also map |λmin/λmax| of the Hessian over a coarser grid for both networks (the paper's Fig. 7; 2½ to 5 minutes each on two cores)")
	curvAxis := fs.String("curvature-grid", demo.CurvatureGrid, "the curvature maps' x and y axes, min:max:num")
	curvSamples := fs.Int("curvature-samples", demo.CurvatureSamples, "test images the curvature maps' Hessian averages over")
	race := fs.Bool("race", true, "also train ResNet-56 from scratch with SGD, momentum and Adam on the embedded images and draw their paths on one surface (about 50 s on two cores)")
	raceSamples := fs.Int("race-samples", demo.RaceSamples, "images the race trains on and its surface averages over")
	raceEpochs := fs.Int("race-epochs", demo.RaceEpochs, "epochs of each of the race's runs")
	raceGrid := fs.Int("race-grid", demo.RaceGrid, "points per axis of the race's surface")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	ax, err := grid.ParseAxis(*axis)
	if err != nil {
		return usagef("--grid: %v", err)
	}
	for _, f := range []struct {
		flag string
		n    int
	}{{"samples", *samples}, {"curvature-samples", *curvSamples}, {"race-samples", *raceSamples}} {
		if f.n < 1 || f.n > demo.Images {
			return usagef("--%s %d: want 1 to %d", f.flag, f.n, demo.Images)
		}
	}
	if *raceEpochs < 2 || *raceGrid < 2 {
		return usagef("--race-epochs %d --race-grid %d: want 2 or more of each (the race's plane is a PCA of three checkpoints or more)", *raceEpochs, *raceGrid)
	}
	var rc *demoRace
	if *race {
		rc = &demoRace{samples: *raceSamples, epochs: *raceEpochs, grid: *raceGrid}
	}
	var curv *demoCurvature
	if *curvature {
		curv = &demoCurvature{samples: *curvSamples}
		if curv.axis, err = grid.ParseAxis(*curvAxis); err != nil {
			return usagef("--curvature-grid: %v", err)
		}
	}
	return runDemo(ctx, *out, *samples, ax, curv, rc, *quiet, stdout, stderr)
}

// demoCurvature is the demo's curvature maps: their grid axis and samples.
type demoCurvature struct {
	axis    grid.Axis
	samples int
}

// demoRace is the size of the demo's race (see demo.RaceOptimizers).
type demoRace struct {
	samples, epochs, grid int
}

// runDemo is the showcase: the embedded networks, the same architecture
// with and without skip connections, each evaluated on a 2D grid of
// filter-normalised random directions (biases and BN ignored, BN in eval
// mode) over Fashion-MNIST test images; then every plot of each surface,
// the comparison figure and table, and an index.html that shows them
// with an interactive view of each surface.
func runDemo(ctx context.Context, out string, samples int, ax grid.Axis, curv *demoCurvature, race *demoRace, quiet bool, stdout, stderr io.Writer) error {
	start := time.Now()
	assets := filepath.Join(out, ".assets")
	dataDir, err := demo.Extract(assets)
	if err != nil {
		return err
	}
	defer os.RemoveAll(assets)
	fmt.Fprintf(stdout, "landscape demo: %d networks on %d Fashion-MNIST test images (%dx%d), %dx%d grid over [%g, %g]²\n",
		len(demo.Showcase()), samples, demo.Size, demo.Size, ax.Num, ax.Num, ax.Min, ax.Max)
	// On the CPU, as the demo's timing promises; the environment's CPU
	// settings apply.
	_, dev, err := (&computeFlags{batch: 128, device: "cpu"}).config(readEnv(os.Getenv))
	if err != nil {
		return err
	}
	spec := func(m demo.Model, ax grid.Axis, samples int) landscape.Spec {
		return landscape.Spec{
			Model:       m.Model,
			ModelConfig: nets.Config{InChannels: 1, Height: demo.Size, Width: demo.Size, Classes: 10},
			Checkpoint:  filepath.Join(assets, m.Checkpoint),
			Data:        data.Spec{Kind: data.FashionMNIST, Path: dataDir},
			Splits:      []string{"test"},
			DataOptions: data.Options{Samples: samples},
			Directions:  landscape.Directions{Seed: 123},
			Grid:        grid.Grid{X: ax, Y: &ax},
		}
	}
	var surfaces []string
	for i, m := range demo.Showcase() {
		path := filepath.Join(out, m.Model+".parquet")
		fmt.Fprintf(stdout, "[%d/%d] %s\n", i+1, len(demo.Showcase()), m.Label)
		opts := &landscape.Options{Device: dev, Overwrite: true}
		if err := runSurface(ctx, spec(m, ax, samples), opts, path, quiet, stdout, stderr); err != nil {
			return err
		}
		surfaces = append(surfaces, path)
	}

	plots := filepath.Join(out, "plots")
	for _, path := range surfaces {
		if err := runPlot(path, plots, nil, []string{"png"}, &export.PlotOptions{}, io.Discard); err != nil {
			return err
		}
	}
	if curv != nil {
		// The curvature maps: the same directions, a coarser grid, the
		// Hessian's extreme eigenvalues at every point.
		for i, m := range demo.Showcase() {
			s := spec(m, curv.axis, curv.samples)
			s.Curvature = &landscape.Curvature{}
			path := filepath.Join(out, m.Model+demo.CurvatureSuffix+".parquet")
			fmt.Fprintf(stdout, "[%d/%d] %s: curvature map, %dx%d grid, %d test images\n", i+1, len(demo.Showcase()), m.Label, curv.axis.Num, curv.axis.Num, curv.samples)
			if err := runSurface(ctx, s, &landscape.Options{Device: dev, Overwrite: true}, path, quiet, stdout, stderr); err != nil {
				return err
			}
			if err := runPlot(path, plots, []export.PlotKind{export.HeatmapPlot, export.FilledContourPlot}, []string{"png"}, &export.PlotOptions{}, io.Discard, "test_lambda_ratio"); err != nil {
				return err
			}
		}
	}
	if race != nil {
		if err := race.run(ctx, out, assets, dataDir, dev, stdout); err != nil {
			return err
		}
	}
	labels := make([]string, len(demo.Showcase()))
	for i, m := range demo.Showcase() {
		labels[i] = m.Label
	}
	if err := runCompare(ctx, surfaces, labels, plots, []string{"png"}, &export.PlotOptions{}, &export.SummaryOptions{Radii: []float64{0.25, 0.5, 1}}, stdout, stderr); err != nil {
		return err
	}
	ss, err := export.ReadParquetFiles(surfaces...)
	if err != nil {
		return err
	}
	views := make([]*view.Panel, len(ss))
	for i, s := range ss {
		if views[i], err = view.NewPanel(s, &view.Options{Label: labels[i]}); err != nil {
			return err
		}
	}
	index := filepath.Join(out, "index.html")
	if err := demo.WriteIndex(index, surfaces, labels, views, plots, samples, ax); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%.0fs in all): open it in a browser\n", index, time.Since(start).Seconds())
	return nil
}

// run runs the demo's race (see demo.RaceOptimizers): the initial weights
// written to assets, the race's runs, surface and figure to out/race, made
// anew.
func (r *demoRace) run(ctx context.Context, out, assets, dataDir string, dev landscape.Device, stdout io.Writer) error {
	start := time.Now()
	src := landscape.Source{Model: "resnet56", ModelConfig: nets.Config{InChannels: 1, Height: demo.Size, Width: demo.Size, Classes: 10},
		Data: data.Spec{Kind: data.FashionMNIST, Path: dataDir}, Split: "test", DataOptions: data.Options{Samples: r.samples}}
	if _, err := writeInitial(&src, demo.RaceSeed, assets); err != nil {
		return err
	}
	runs, err := optim.ParseRuns(demo.RaceOptimizers, 0)
	if err != nil {
		return err
	}
	dir := filepath.Join(out, demo.RaceDir)
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "[race] ResNet-56 from PyTorch's default initialisation, %s, %d epochs in batches of %d on %d images\n",
		demo.RaceOptimizers, r.epochs, demo.RaceBatch, r.samples)
	spec := landscape.RaceSpec{Source: src, Runs: runs, Epochs: r.epochs, BatchSize: demo.RaceBatch, Seed: demo.RaceSeed, Num: r.grid, AllPaths: true}
	opts := &landscape.Options{Device: dev}
	res, err := landscape.Race(ctx, spec, dir, []string{"png"}, opts)
	if err != nil {
		return err
	}
	for _, f := range res.Files {
		fmt.Fprintln(stdout, "wrote", f)
	}
	fmt.Fprintf(stdout, "[race] %.0fs\n", time.Since(start).Seconds())
	return nil
}
