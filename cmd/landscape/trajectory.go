package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/internal/progress"
	"github.com/landscape-go/landscape/landscape"
	"github.com/landscape-go/landscape/normalize"
)

// suggestFlags shape the grid that trajectory and plane suggest.
type suggestFlags struct {
	margin float64
	num    int
}

func (f *suggestFlags) register(fs *flag.FlagSet, what string) {
	fs.Float64Var(&f.margin, "margin", 0.2, "suggested grid: widen the range of "+what+" by this fraction of it on each side")
	fs.IntVar(&f.num, "num", 51, "suggested grid: points per axis")
}

func (f *suggestFlags) check() error {
	if f.num < 1 || !(f.margin >= 0) {
		return usagef("--num %d --margin %g: want at least 1 point and a margin of 0 or more", f.num, f.margin)
	}
	return nil
}

func cmdTrajectory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var model modelFlags
	var dirs directionFlags
	var dataF dataFlags
	var compute computeFlags
	var sug suggestFlags
	fs := newFlags("trajectory", "--model M --checkpoints 'run/model_*.t7' --out DIR [flags]", stderr)
	model.register(fs)
	checkpoints := fs.String("checkpoints", "", "checkpoints of the training run: comma-separated files or glob patterns; each pattern's matches are taken in natural order (model_2 before model_10)")
	final := fs.String("final", "", "the model the path ends at and the surface is centred on (default: the last checkpoint)")
	dirs.registerMode(fs, "weights")
	dirs.registerIgnore(fs)
	directions := fs.String("directions", "", "project on these directions (e.g. another run's "+landscape.DirectionsFile+", with its --final) instead of fitting a PCA: several runs on one surface")
	dataF.register(fs)
	compute.register(fs)
	sug.register(fs, "the path")
	out := fs.String("out", "", "output folder for "+landscape.DirectionsFile+", "+landscape.PathFile+" and "+landscape.TrajectoryFile)
	quiet := fs.Bool("quiet", false, "no progress output")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if model.model == "" || *checkpoints == "" || *out == "" {
		return usagef("--model, --checkpoints and --out are required")
	}
	if err := sug.check(); err != nil {
		return err
	}
	cfg := landscape.TrajectoryConfig{Model: model.model, Final: *final, Directions: *directions}
	var err error
	if cfg.ModelConfig, err = model.config(); err != nil {
		return err
	}
	if cfg.PCA.Mode, err = normalize.ParseMode(dirs.mode); err != nil {
		return usageError{err}
	}
	if cfg.PCA.Ignore, err = normalize.ParseIgnore(dirs.ignore); err != nil {
		return usageError{err}
	}
	if cfg.Data, cfg.Splits, cfg.DataOptions, err = dataF.config(); err != nil {
		return err
	}
	opts := &landscape.Options{}
	if cfg.BatchSize, opts.Device, err = compute.config(readEnv(os.Getenv)); err != nil {
		return err
	}
	if cfg.Checkpoints, err = landscape.GlobCheckpoints(strings.Split(*checkpoints, ",")...); err != nil {
		return err
	}
	opts.Warn = stderr // warnings even when quiet
	if !*quiet {
		opts.Log = stderr
		opts.Progress = progress.New(stderr, "trajectory").Update
	}
	tr, err := landscape.RunTrajectory(ctx, cfg, opts)
	if err != nil {
		return err
	}
	tr.Report(stdout) // before Write, which points the directions at the file it writes
	ax, ay := tr.Suggest(sug.margin, sug.num)
	cmdline := surfaceCommand(model, tr.Final.Path, dataF.args(), *out, ax, ay)
	if err := tr.Write(*out, landscape.SuggestedGrid{X: ax, Y: ay, Margin: sug.margin, Command: cmdline}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s, %s and %s to %s\n", landscape.DirectionsFile, landscape.PathFile, landscape.TrajectoryFile, *out)
	fmt.Fprintf(stdout, "surface around the final model, covering the path:\n  %s\n", cmdline)
	return nil
}

// surfaceCommand is the surface command line around center on the
// directions that trajectory or plane wrote into dir, over the axes, with
// the model flags and the data flags (dataArgs) the user gave: the same
// network on the same data.
func surfaceCommand(model modelFlags, center string, dataArgs []string, dir string, x, y grid.Axis) string {
	args := []string{"landscape", "surface", "--model", model.model, "--checkpoint", center}
	args = append(args, model.geometryArgs()...)
	args = append(args, "--directions", filepath.Join(dir, landscape.DirectionsFile), "--x="+x.String(), "--y="+y.String())
	args = append(args, dataArgs...)
	args = append(args, "--out", "surface.parquet")
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell if it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
