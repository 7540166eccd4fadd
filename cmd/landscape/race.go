package main

import (
	"context"
	"fmt"
	"io"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/landscape"
	"github.com/landscape-go/landscape/landscape/optim"
)

func cmdRace(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var src sourceFlags
	fs := newFlags("race", "--model M --checkpoint INIT --data KIND:PATH --optimizers sgd:0.1,adam:0.001 --epochs N --out DIR [flags]", stderr)
	src.register(fs, "the initial weights, every run's: ")
	src.registerInit(fs)
	trainingBatch(fs)
	optimizers := fs.String("optimizers", "sgd:0.05,momentum:0.01,adam:0.001", "the runs, comma-separated, each NAME or NAME:LR (one optimizer at several rates, or several optimizers); a NAME may carry torch.optim's keyword arguments, as in 'adamw(weight_decay=0.05):0.001'")
	epochs := fs.Int("epochs", 2, "epochs of each run")
	seed := fs.Uint64("shuffle-seed", 0, "seed of each epoch's shuffling, the same for every run")
	num := fs.Int("num", 21, "points per axis of the surface")
	margin := fs.Float64("margin", 0.2, "widen the range of the paths by this fraction of it on each side")
	plane := fs.String("plane", "first", "the plane: first, the PCA of the first run's checkpoints; all, of every run's together (both centred on the first run's final model)")
	formats := fs.String("format", "png,svg,pdf", "formats of the figure")
	out := fs.String("out", "", "output folder: a folder of checkpoints per run, plane/ (the PCA), race.parquet and its figure")
	overwrite := fs.Bool("overwrite", false, "delete the checkpoints of other runs in the runs' folders and train anew, instead of refusing")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out is required")
	}
	if *epochs < 2 || *num < 2 || !(*margin >= 0) {
		return usagef("--epochs %d --num %d --margin %g: want two epochs or more (the plane is a PCA of three checkpoints or more), two points and a margin of 0 or more", *epochs, *num, *margin)
	}
	if *plane != "first" && *plane != "all" {
		return usagef("--plane %q: want first or all", *plane)
	}
	runs, err := optim.ParseRuns(*optimizers, 0)
	if err != nil {
		return usageError{err}
	}
	for i := range runs { // each run's folder and legend name its rate
		runs[i].Optimizer, _ = optim.Canonical(runs[i].Optimizer) // ParseRuns has read it
		runs[i].LR = withDefaultLR(runs[i].Optimizer, runs[i].LR)
	}
	if err := optim.Distinct(runs); err != nil {
		return usageError{err}
	}
	fmts, err := export.ParseFormats(*formats)
	if err != nil {
		return usagef("--%v", err)
	}
	spec := landscape.RaceSpec{Runs: runs, Epochs: *epochs, Seed: *seed, Num: *num, Margin: *margin, AllPaths: *plane == "all"}
	var opts *landscape.Options
	if spec.Source, spec.BatchSize, opts, err = src.config("race", stderr); err != nil {
		return err
	}
	opts.Overwrite = *overwrite
	if _, err := src.writeInit(&spec.Source, *out); err != nil {
		return err
	}
	res, err := landscape.Race(ctx, spec, *out, fmts, opts)
	for _, dir := range res.Runs {
		fmt.Fprintln(stdout, "trained", dir)
	}
	for _, f := range res.Files {
		fmt.Fprintln(stdout, "wrote", f)
	}
	return err
}
