package main

import (
	"context"
	"fmt"
	"io"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/landscape"
)

func cmdHessian(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var src sourceFlags
	fs := newFlags("hessian", "--model M --checkpoint F --data KIND:PATH --out DIR [flags]", stderr)
	src.register(fs, "")
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
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	spec := landscape.HessianSpec{Top: *top, TraceSamples: *traceSamples,
		DensityRuns: *runs, DensitySteps: *steps, PerLayer: *perLayer, Seed: *seed, Directions: *dirs}
	if *out == "" {
		return usagef("--out is required")
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
	var opts *landscape.Options
	if spec.Source, spec.BatchSize, opts, err = src.config("hessian", stderr); err != nil {
		return err
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
	if err := rep.WriteSummary(stdout); err != nil {
		return err
	}
	if *dirs != "" {
		fmt.Fprintf(stdout, "wrote %s: the top two eigenvectors (surface --directions %s --x=auto --y=auto)\n", *dirs, *dirs)
	}
	return nil
}
