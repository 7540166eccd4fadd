package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/landscape/optim"
	"github.com/landscape-go/landscape/landscape/toy"
)

func cmdToy(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("toy", "--function F --optimizers sgd,momentum,adam[:LR] --out DIR [flags]", stderr)
	function := fs.String("function", "rosenbrock", "the function: rosenbrock, himmelblau, saddle or bowl of two variables, ripple or hills of one")
	optimizers := fs.String("optimizers", "", "optimizers to race, comma-separated, each NAME or NAME:LR, a NAME with torch.optim's keyword arguments if wanted ('rmsprop(centered=true)'); names: "+strings.Join(optim.Names(), ", ")+
		" (default: "+toy.DefaultRuns+"; for ripple sgd at 0.01, 0.1 and 1; for hills sgd:0.01,momentum:0.01,adam:0.1)")
	lr := fs.Float64("lr", 0, "learning rate of the optimizers given without one (0: each one's PyTorch default; for SGD, one that suits the function)")
	steps := fs.Int("steps", 0, "steps of each optimizer (default: enough for the function, 40 to 1000)")
	formats := fs.String("format", "png,svg,pdf", "comma-separated output formats: png, svg, pdf, jpg")
	out := fs.String("out", "", "output folder, created if missing")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out is required")
	}
	if *steps < 0 || *steps > 1_000_000 || *lr < 0 {
		return usagef("--steps %d --lr %g: want 1 to 1000000 steps and a learning rate of 0 or more", *steps, *lr)
	}
	f, err := toy.Lookup(*function)
	if err != nil {
		return usageError{err}
	}
	runs, err := optim.ParseRuns(cmp.Or(*optimizers, f.Race()), *lr)
	if err != nil {
		return usageError{err}
	}
	fmts, err := export.ParseFormats(*formats)
	if err != nil {
		return usagef("--%v", err)
	}
	paths, err := toy.Race(f, runs, *steps)
	if err != nil {
		return usageError{err}
	}
	if f.Is1D() {
		return toyCurve(f, paths, *out, fmts, stdout)
	}
	o := &export.PlotOptions{Metric: "loss", Levels: f.Levels, Log: f.Log, XLabel: "x", YLabel: "y",
		Marks: []export.Mark{{Label: "start", X: f.StartX, Y: f.StartY}}}
	for _, m := range f.Minima {
		o.Marks = append(o.Marks, export.Mark{Label: "min", X: m[0], Y: m[1]})
	}
	for _, p := range paths {
		o.Paths = append(o.Paths, export.Path{Label: p.Label, X: p.X, Y: p.Y})
		fmt.Fprintf(stdout, "%-28s after %d steps at (%.5g, %.5g), loss %.6g\n", p.Label, len(p.X)-1, p.X[len(p.X)-1], p.Y[len(p.Y)-1], p.Final)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	written, err := export.WritePlots(*out, f.Name, toy.Surface(f), []export.PlotKind{export.ContourPlot}, fmts, o)
	for _, p := range written {
		fmt.Fprintln(stdout, "wrote", p)
	}
	return err
}

// toyCurve draws the race on f, a function of one variable, along its
// curve: each run's points at (x, f(x)).
func toyCurve(f toy.Function, paths []toy.Path, out string, fmts []string, stdout io.Writer) error {
	at := func(x float64) float64 { return f.F(x, 0) }
	o := &export.PlotOptions{XLabel: "x", YLabel: "loss", Marks: []export.Mark{{Label: "start", X: f.StartX, Y: at(f.StartX)}}}
	for _, m := range f.Minima {
		o.Marks = append(o.Marks, export.Mark{Label: "min", X: m[0], Y: at(m[0])})
	}
	var drawn []export.Path
	for _, p := range paths {
		ys := make([]float64, len(p.X))
		for k, x := range p.X {
			ys[k] = at(x)
		}
		drawn = append(drawn, export.Path{Label: p.Label, X: p.X, Y: ys})
		fmt.Fprintf(stdout, "%-28s after %d steps at x = %.5g, loss %.6g\n", p.Label, len(p.X)-1, p.X[len(p.X)-1], p.Final)
	}
	xs := f.X.Values()
	ys := make([]float64, len(xs))
	for i, x := range xs {
		ys[i] = at(x)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	written, err := export.WriteCurvePathPlots(out, f.Name+"_loss_1dcurve", f.Name+": "+f.Formula, xs, ys, drawn, fmts, o)
	for _, p := range written {
		fmt.Fprintln(stdout, "wrote", p)
	}
	return err
}
