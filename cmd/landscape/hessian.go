package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/internal/progress"
	"github.com/landscape-go/landscape/landscape"
)

func cmdHessian(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var model modelFlags
	var dataF dataFlags
	var compute computeFlags
	fs := newFlags("hessian", "--model M --checkpoint F --data KIND:PATH --out DIR [flags]", stderr)
	model.register(fs)
	ckpt := fs.String("checkpoint", "", checkpointHelp)
	dataF.register(fs)
	compute.register(fs)
	params := fs.String("params", "rank2", "parameters whose Hessian is analysed: rank2 (weights of rank > 1: convolutions and linear layers, the reference's choice) or all")
	top := fs.Int("top", 1, "number of largest eigenvalues")
	traceSamples := fs.Int("trace-samples", 50, "at most this many Hutchinson samples for the trace (it stops at a 1% standard error)")
	runs := fs.Int("density-runs", 1, "stochastic Lanczos quadrature runs for the eigenvalue density (0: no density)")
	steps := fs.Int("density-steps", 80, "Lanczos steps per density run")
	perLayer := fs.Bool("per-layer", false, "also each tensor's block: its top eigenvalue and trace (two estimates per tensor)")
	seed := fs.Uint64("seed", 0, "seed of the random start and probe vectors")
	dirs := fs.String("directions", "", "also write the top two eigenvectors to this direction file: the Hessian plane, for 'landscape surface --directions FILE --x=auto --y=auto'")
	formats := fs.String("format", "png,svg,pdf", "formats of the density figure")
	out := fs.String("out", "", "output folder for hessian.json and the density figure")
	quiet := fs.Bool("quiet", false, "no progress output")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	spec := landscape.HessianSpec{Model: model.model, Checkpoint: model.checkpoint(*ckpt), Top: *top, TraceSamples: *traceSamples,
		DensityRuns: *runs, DensitySteps: *steps, PerLayer: *perLayer, Seed: *seed, Directions: *dirs}
	if spec.Model == "" || spec.Checkpoint == "" || dataF.data == "" || *out == "" {
		return usagef("--model, --checkpoint, --data and --out are required")
	}
	if *top < 1 || *traceSamples < 1 || *runs < 0 || *steps < 2 {
		return usagef("--top, --trace-samples and --density-steps want positive numbers (--density-steps at least 2), --density-runs 0 or more")
	}
	if *runs == 0 {
		spec.DensityRuns = -1
	}
	var err error
	if spec.Params, err = landscape.ParseHessianParams(*params); err != nil {
		return usageError{err}
	}
	fmts, err := export.ParseFormats(*formats)
	if err != nil {
		return usagef("--%v", err)
	}
	if spec.ModelConfig, err = model.config(); err != nil {
		return err
	}
	var splits []string
	if spec.Data, splits, spec.DataOptions, err = dataF.config(); err != nil {
		return err
	}
	if len(splits) != 1 {
		return usagef("--split %s: the Hessian is of one split's loss", dataF.split)
	}
	spec.Split = splits[0]
	opts := &landscape.Options{}
	if spec.BatchSize, opts.Device, err = compute.config(readEnv(os.Getenv)); err != nil {
		return err
	}
	if !*quiet {
		opts.Log = stderr
		opts.Progress = progress.New(stderr, "hessian").Update
	}
	rep, err := landscape.Hessian(ctx, spec, opts)
	if err != nil {
		return err
	}
	written, err := rep.Write(*out, fmts)
	for _, p := range written {
		fmt.Fprintln(stdout, "wrote", p)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s at %s: loss %.6g, gradient norm %.4g, over %d parameters (%s)\n", rep.Model.Name, rep.Checkpoint.Path, rep.Loss, rep.GradNorm, rep.Dim, rep.Params)
	fmt.Fprintf(stdout, "  λmax %.6g, λmin %.6g, |λmin/λmax| %.4g\n", rep.Top[0], rep.Min, rep.Ratio)
	if len(rep.Top) > 1 {
		fmt.Fprintf(stdout, "  top %d eigenvalues: %.6g\n", len(rep.Top), rep.Top)
	}
	fmt.Fprintf(stdout, "  trace %.6g ± %.2g (%d samples)\n", rep.Trace, rep.TraceStdErr, rep.TraceSample)
	fmt.Fprintf(stdout, "  %d Hessian-vector products in %.1fs on %s\n", rep.HVPs, rep.WallSeconds, rep.Device)
	if *dirs != "" {
		fmt.Fprintf(stdout, "wrote %s: the top two eigenvectors (surface --directions %s --x=auto --y=auto)\n", *dirs, *dirs)
	}
	return nil
}
