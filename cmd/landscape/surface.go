package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/internal/progress"
	"github.com/landscape-go/landscape/landscape"
)

// surfaceFlags are the flags of the surface command.
type surfaceFlags struct {
	model              modelFlags
	checkpoint         string
	data               dataFlags
	dirs               directionFlags
	grid               gridFlags
	compute            computeFlags
	directions, target string
	out                string
	quiet, overwrite   bool
	shard              string
	shardCount         int
	saveEvery          time.Duration
	gradNorm           bool
	curvature          bool
	curvatureParams    string
	curvatureTol       float64
	curvatureSeed      uint64
}

func (f *surfaceFlags) register(fs *flag.FlagSet) {
	f.model.register(fs)
	fs.StringVar(&f.checkpoint, "checkpoint", "", checkpointHelp)
	f.dirs.register(fs)
	f.data.register(fs)
	f.grid.register(fs)
	fs.StringVar(&f.directions, "directions", "", "read directions from this file (written by 'landscape directions', 'trajectory' or 'plane') instead of drawing them")
	fs.StringVar(&f.target, "target", "", "interpolate: the x direction is TARGET - CHECKPOINT, unnormalised (1 is the target)")
	fs.Lookup("mode").Usage += "; with --target the default is states, so that 1 is the target model itself"
	f.compute.register(fs)
	fs.StringVar(&f.out, "out", "", "output Parquet file; with a shard, the folder of the part files")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress output")
	fs.BoolVar(&f.overwrite, "overwrite", false, "replace an existing output computed differently instead of refusing")
	fs.StringVar(&f.shard, "shard", "", "compute only shard i/n of the points, into OUT/part-0000i-of-0000n.parquet (default: from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)")
	fs.DurationVar(&f.saveEvery, "save-every", 5*time.Second, "save the points done this often while running, so that a killed run resumes where it was")
	fs.IntVar(&f.shardCount, "shard-count", 0, "number of shards, for Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX) or to override Slurm's count")
	fs.BoolVar(&f.gradNorm, "grad-norm", false, "add the norm of the gradient of the first split's loss at every point (on the surface's device; its parameters are --curvature-params')")
	fs.BoolVar(&f.curvature, "curvature", false, "a curvature map: add the Hessian's λmax, λmin and |λmin/λmax| of the first split's loss at every point (on the surface's device; dozens of Hessian-vector products a point)")
	fs.StringVar(&f.curvatureParams, "curvature-params", "rank2", "parameters of the curvature map's Hessian: rank2 (weights of rank > 1, the reference's) or all")
	fs.Float64Var(&f.curvatureTol, "curvature-tol", landscape.DefaultCurvatureTol, "relative residual of the curvature map's eigenvalues (the reference's eigsh takes 1e-2, at which λmin can stop short in the bulk near 0)")
	fs.Uint64Var(&f.curvatureSeed, "curvature-seed", 0, "seed of the Lanczos start vector, the same at every point")
}

// checkpointHelp is the one help text of --checkpoint.
const checkpointHelp = "weights file: PyTorch .pt/.pth/.t7/.tar (zip or legacy), .safetensors or .npz"

func cmdSurface(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f surfaceFlags
	fs := newFlags("surface", "--model M --checkpoint F --data KIND:PATH --out F.parquet [flags]", stderr)
	f.register(fs)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if f.out == "" {
		return usagef("--out is required")
	}
	if f.target != "" && !flagSet(fs, "mode") {
		// Interpolation as the reference's README runs it: the running
		// statistics move too, so that α = 1 is model B itself.
		f.dirs.mode = "states"
		if !f.quiet {
			fmt.Fprintln(stderr, "interpolation in states mode: batch-norm running statistics move from the checkpoint's to the target's too, so α = 1 is the target model (--mode weights keeps the checkpoint's)")
		}
	} else if f.target != "" && f.dirs.mode == "weights" {
		fmt.Fprintln(stderr, "warning: --mode weights with --target: batch-norm running statistics stay the checkpoint's, so α = 1 is the target's parameters with the checkpoint's statistics, not the target model")
	}
	spec, opts, err := f.config(readEnv(os.Getenv))
	if err != nil {
		return err
	}
	shard, asked, err := resolveShard(f.shard, f.shardCount, os.Getenv)
	if err != nil {
		return err
	}
	out := f.out
	// A shard's part goes into the folder --out: always for one of
	// several, and for the whole grid (0/1, a job array of one task) where
	// --out is a folder already; else the whole grid is the file --out.
	st, statErr := os.Stat(f.out)
	if asked && (shard.Count > 1 || statErr == nil && st.IsDir()) {
		if f.shard == "" {
			// Said even when quiet: it decides where the output goes.
			fmt.Fprintf(stderr, "shard %s, from the job array's environment: --out %s is the folder of the part files (--shard 0/1 computes the whole grid into one file)\n", shard, f.out)
		}
		spec.Shard = shard
		out = partPath(f.out, shard)
		if statErr == nil && !st.IsDir() {
			return usagef("--out %s is a file, but shard %s writes a folder of part files there: choose another --out", f.out, shard)
		}
		if err := os.MkdirAll(f.out, 0o755); err != nil {
			return err
		}
	}
	return runSurface(ctx, spec, opts, out, f.quiet, stdout, stderr)
}

// runSurface computes the surface and writes it to out. An existing out
// from an interrupted run of the same computation is resumed; one computed
// differently is refused unless opts.Overwrite is set. While the run goes
// on the points done are saved every few seconds, atomically, and on
// interruption all of them are saved, so nothing finished is lost. A run
// that fails otherwise writes nothing new.
func runSurface(ctx context.Context, spec landscape.Spec, opts *landscape.Options, out string, quiet bool, stdout, stderr io.Writer) error {
	start := time.Now()
	opts.Warn = stderr // warnings even when quiet
	if !quiet {
		opts.Log = stderr
	}
	store, err := export.OpenParquetStore(out)
	if err != nil {
		return err
	}
	defer store.Close()
	opts.Store = store
	job, err := landscape.Prepare(spec, opts)
	if err != nil {
		return err
	}
	defer job.Close()
	if !quiet {
		// Made now, so that its rates and times are the points', not the
		// loading's before them.
		opts.Progress = progress.New(stderr, "surface").Update
	}
	evalStart := time.Now()
	s, err := job.Run(ctx)
	switch {
	case errors.Is(err, landscape.ErrOtherComputation):
		return fmt.Errorf("%w (remove it, choose another --out, or pass --overwrite)", err)
	case errors.Is(err, landscape.ErrCannotResume):
		return fmt.Errorf("%w (remove it or pass --overwrite)", err)
	}
	if err != nil {
		if s != nil && len(s.Points) > 0 && ctx.Err() != nil {
			fmt.Fprintf(stderr, "saved %d of %d points to %s; run the same command again to resume\n", len(s.Points), len(job.Indices), out)
		}
		return err
	}
	computed := len(s.Points) - job.Resumed
	if computed == 0 && job.Resumed > 0 && s.Provenance.Progress.Complete() {
		fmt.Fprintf(stdout, "%s holds all %d points already: nothing to compute\n", out, len(s.Points))
		return export.WriteRanges(stdout, s)
	}
	fmt.Fprintf(stdout, "wrote %s: %d points, %.1fs", out, len(s.Points), s.Provenance.WallSeconds)
	if computed > 0 {
		fmt.Fprintf(stdout, " (%.1fs to set up, then %.4g points/s on %s)", evalStart.Sub(start).Seconds(), float64(computed)/time.Since(evalStart).Seconds(), job.Provenance.Device)
	}
	fmt.Fprintln(stdout)
	return export.WriteRanges(stdout, s)
}

// partPath names the part file of a shard in folder dir.
func partPath(dir string, s grid.Shard) string {
	return filepath.Join(dir, fmt.Sprintf("part-%05d-of-%05d.parquet", s.Index, s.Count))
}

// resolveShard decides which shard this process computes: --shard i/n if
// given, else the task's of a Slurm job array or Kubernetes Indexed Job
// (see [grid.ShardFromEnv]), else the whole grid (asked false).
// --shard-count overrides the number of tasks.
func resolveShard(flagValue string, count int, getenv func(string) string) (grid.Shard, bool, error) {
	if count < 0 {
		return grid.Shard{}, false, usagef("--shard-count %d: want a positive number", count)
	}
	if flagValue != "" {
		s, err := grid.ParseShard(flagValue)
		if err != nil {
			return s, false, usageError{err}
		}
		if count > 0 && count != s.Count {
			return s, false, usagef("--shard %s and --shard-count %d disagree", flagValue, count)
		}
		return s, true, nil
	}
	s, inArray, err := grid.ShardFromEnv(getenv, count)
	switch {
	case errors.Is(err, grid.ErrShardCount):
		return s, false, usagef("%v: pass --shard-count (the job's completions or array size)", err)
	case err != nil:
		return s, false, usagef("%v (or pass --shard)", err)
	case !inArray && count > 0:
		return s, false, usagef("--shard-count without --shard, SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX")
	}
	return s, inArray, nil
}

// config turns the flags into what to compute and how, rejecting bad
// values with usage errors.
func (f *surfaceFlags) config(env envSettings) (spec landscape.Spec, opts *landscape.Options, err error) {
	spec.Model, spec.Checkpoint = f.model.model, f.model.checkpoint(f.checkpoint)
	if spec.ModelConfig, err = f.model.config(); err != nil { // a weights file as --model is told first
		return spec, nil, err
	}
	if spec.Model == "" || spec.Checkpoint == "" || f.data.data == "" {
		return spec, nil, usagef("--model, --checkpoint and --data are required (an ONNX model's checkpoint defaults to its own weights)")
	}
	if spec.Data, spec.Splits, spec.DataOptions, err = f.data.config(); err != nil {
		return spec, nil, err
	}
	if f.directions != "" && f.target != "" {
		return spec, nil, usagef("--directions and --target exclude each other")
	}
	if spec.Grid, err = f.grid.config(f.directions); err != nil {
		return spec, nil, err
	}
	spec.Directions = landscape.Directions{File: f.directions, Target: f.target, Seed: f.dirs.seed}
	if spec.Directions.Options, err = f.dirs.options(); err != nil {
		return spec, nil, err
	}
	opts = &landscape.Options{Overwrite: f.overwrite, SaveEvery: f.saveEvery}
	if spec.BatchSize, opts.Device, err = f.compute.config(env); err != nil {
		return spec, nil, err
	}
	if f.saveEvery <= 0 {
		return spec, nil, usagef("--save-every %v: want a positive duration", f.saveEvery)
	}
	params, err := landscape.ParseHessianParams(f.curvatureParams)
	if err != nil {
		return spec, nil, usagef("--curvature-params: %v", err)
	}
	if f.gradNorm {
		spec.GradNorm = &landscape.GradNorm{Params: params}
	}
	if f.curvature {
		if !(f.curvatureTol > 0 && f.curvatureTol < 1) {
			return spec, nil, usagef("--curvature-tol %g: want a number between 0 and 1", f.curvatureTol)
		}
		spec.Curvature = &landscape.Curvature{Params: params, Tol: f.curvatureTol, Seed: f.curvatureSeed}
	}
	return spec, opts, nil
}
