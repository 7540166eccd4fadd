package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/demo"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape"
	"github.com/landscape-go/landscape/nets"
)

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "[--out DIR]", stderr)
	out := fs.String("out", "landscape-demo", "output folder")
	samples := fs.Int("samples", 500, "test images to average over (at most 1000 are embedded)")
	axis := fs.String("grid", "-1:1:21", "the x and y axes, min:max:num")
	quiet := fs.Bool("quiet", false, "no progress output")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	ax, err := grid.ParseAxis(*axis)
	if err != nil {
		return usagef("--grid: %v", err)
	}
	if *samples < 1 || *samples > 1000 {
		return usagef("--samples %d: want 1 to 1000", *samples)
	}
	return runDemo(ctx, *out, *samples, ax, *quiet, stdout, stderr)
}

// runDemo extracts the embedded model and data and computes the surface
// of the default run: filter-normalised random directions, biases and BN
// ignored, BN in eval mode, on Fashion-MNIST test images.
func runDemo(ctx context.Context, out string, samples int, ax grid.Axis, quiet bool, stdout, stderr io.Writer) error {
	assets := filepath.Join(out, "assets")
	ckpt, dataDir, err := demo.Extract(assets)
	if err != nil {
		return err
	}
	defer os.RemoveAll(assets)
	cfg := landscape.Config{
		Model:       demo.Model,
		ModelConfig: nets.Config{InChannels: 1, Height: 28, Width: 28, Classes: 10},
		Checkpoint:  ckpt,
		Data:        data.Spec{Kind: data.FashionMNIST, Path: dataDir},
		Splits:      []string{"test"},
		DataOptions: data.Options{Samples: samples},
		Seed:        123,
		Grid:        grid.Grid{X: ax, Y: &ax},
	}
	target := filepath.Join(out, "surface.parquet")
	fmt.Fprintf(stdout, "landscape demo: %s on %d Fashion-MNIST test images, %dx%d grid over [%g, %g]²\n",
		demo.Model, samples, ax.Num, ax.Num, ax.Min, ax.Max)
	return runSurface(ctx, cfg, target, runOptions{quiet: quiet, overwrite: true}, stdout, stderr)
}
