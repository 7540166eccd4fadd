package main

import (
	"github.com/landscape-go/landscape/landscape/surface"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/internal/atomicfile"
	"github.com/landscape-go/landscape/landscape"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/safetensors"
	"github.com/landscape-go/landscape/normalize"
)

// surfaceFlags are the flags that describe a surface computation; the
// directions command shares the model and direction ones.
type surfaceFlags struct {
	model, checkpoint, data, split string
	samples                        int
	sampleSeed                     string
	mean, std                      string
	x, y                           string
	directions, target             string
	seed                           uint64
	norm, ignore, mode             string
	batch, workers                 int
	device                         string
	tf32                           bool
	channels, classes              int
	size                           string
	out                            string
	quiet, overwrite               bool
	shard                          string
	shardCount                     int
	saveEvery                      time.Duration
}

func (f *surfaceFlags) registerModel(fs *flag.FlagSet) {
	fs.StringVar(&f.model, "model", "", "architecture from the zoo (see 'landscape models'), e.g. resnet56")
	fs.StringVar(&f.checkpoint, "checkpoint", "", "weights file: PyTorch .pt/.pth/.t7/.tar (zip or legacy), .safetensors or .npz")
	fs.IntVar(&f.channels, "channels", 0, "input channels (default: from the data)")
	fs.StringVar(&f.size, "size", "", "input image size HxW or N (default: from the data)")
	fs.IntVar(&f.classes, "classes", 0, "number of classes (default: from the data)")
}

func (f *surfaceFlags) registerDirections(fs *flag.FlagSet) {
	fs.Uint64Var(&f.seed, "seed", 123, "seed of the random directions")
	fs.StringVar(&f.norm, "norm", "filter", "direction normalisation: filter, layer, weight, dfilter, dlayer or none")
	fs.StringVar(&f.ignore, "ignore", "biasbn", "rank<=1 tensors (biases, batch norm): biasbn zeroes their directions; none sets each to the tensor itself, as the reference does without --xignore")
	fs.StringVar(&f.mode, "mode", "weights", "weights (parameters only) or states (also BN running statistics)")
}

func (f *surfaceFlags) register(fs *flag.FlagSet) {
	f.registerModel(fs)
	f.registerDirections(fs)
	fs.StringVar(&f.data, "data", "", "dataset KIND:PATH, KIND one of cifar10, cifar100, mnist, fashion-mnist, npz")
	fs.StringVar(&f.split, "split", "train", "splits to evaluate: train, test or train,test")
	fs.IntVar(&f.samples, "samples", 0, "use only this many samples per split (0 = all): the first ones in file order")
	fs.StringVar(&f.sampleSeed, "sample-seed", "", "with --samples: a random subset drawn with this seed instead of the first ones")
	fs.StringVar(&f.mean, "mean", "", "per-channel mean in [0,1] units, comma-separated (default: the dataset's)")
	fs.StringVar(&f.std, "std", "", "per-channel standard deviation in [0,1] units, comma-separated")
	fs.StringVar(&f.x, "x", "-1:1:51", "x axis min:max:num, both ends included; auto: the range a trajectory or plane direction file suggests")
	fs.StringVar(&f.y, "y", "", "y axis min:max:num (or auto); absent for a 1D surface")
	fs.StringVar(&f.directions, "directions", "", "read directions from this file (written by 'landscape directions') instead of drawing them")
	fs.StringVar(&f.target, "target", "", "interpolate: the x direction is TARGET - CHECKPOINT, unnormalised (1 is the target)")
	registerComputeFlags(fs, f)
	fs.StringVar(&f.out, "out", "", "output Parquet file; with a shard, the folder of the part files")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress output")
	fs.BoolVar(&f.overwrite, "overwrite", false, "replace an existing output computed differently instead of refusing")
	fs.StringVar(&f.shard, "shard", "", "compute only shard i/n of the points, into OUT/part-0000i-of-0000n.parquet (default: from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)")
	fs.DurationVar(&f.saveEvery, "save-every", 5*time.Second, "save the points done this often while running, so that a killed run resumes where it was")
	fs.IntVar(&f.shardCount, "shard-count", 0, "number of shards, for Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX) or to override Slurm's count")
}

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
	cfg, err := f.config()
	if err != nil {
		return err
	}
	shard, sharded, err := resolveShard(f.shard, f.shardCount, os.Getenv)
	if err != nil {
		return err
	}
	out := f.out
	if sharded {
		cfg.Shard = shard
		out = partPath(f.out, shard)
		if err := os.MkdirAll(f.out, 0o755); err != nil {
			return err
		}
	}
	return runSurface(ctx, cfg, out, runOptions{quiet: f.quiet, overwrite: f.overwrite}, stdout, stderr)
}

type runOptions struct{ quiet, overwrite bool }

// runSurface computes the surface and writes it to out. An existing out
// from an interrupted run of the same computation is resumed; one computed
// differently is refused unless overwrite is set. While the run goes on the
// points done are saved every few seconds, atomically, and on interruption
// all of them are saved, so nothing finished is lost. A run that fails
// otherwise writes nothing new.
func runSurface(ctx context.Context, cfg landscape.Config, out string, opts runOptions, stdout, stderr io.Writer) error {
	start := time.Now()
	if !opts.quiet {
		cfg.Log = stderr
	}
	removeStaleTemps(out)
	if err := checkWritable(out); err != nil {
		return err
	}
	if !opts.overwrite {
		if _, err := os.Stat(out); err == nil {
			prev, err := export.ReadParquet(out)
			if err != nil {
				return fmt.Errorf("%s exists and cannot be resumed: %w (remove it or pass --overwrite)", out, err)
			}
			cfg.Resume = prev
		}
	}
	job, err := landscape.Prepare(cfg)
	if err != nil {
		return err
	}
	defer job.Evaluator.Close()
	if r := cfg.Resume; r != nil {
		if err := r.Provenance.Compatible(job.Provenance, true); err != nil {
			return fmt.Errorf("%s holds another computation: %w (remove it, choose another --out, or pass --overwrite)", out, err)
		}
		if !opts.quiet {
			fmt.Fprintf(stderr, "resuming %s: %d of %d points already computed\n", out, len(r.Points), len(job.Indices))
		}
	}
	job.Config.Save = func(s *surface.Surface) error { return export.WriteParquet(out, s) }
	if !opts.quiet {
		job.Config.Progress = newProgress(stderr, "surface").update
	}
	evalStart := time.Now()
	s, err := job.Evaluate(ctx, start)
	evalSeconds := time.Since(evalStart).Seconds()
	if err != nil {
		if s != nil && len(s.Points) > 0 && ctx.Err() != nil {
			if werr := export.WriteParquet(out, s); werr != nil {
				return fmt.Errorf("%w; saving the %d points done to %s failed too: %v", err, len(s.Points), out, werr)
			}
			fmt.Fprintf(stderr, "saved %d of %d points to %s; run the same command again to resume\n", len(s.Points), len(job.Indices), out)
		}
		return err
	}
	if err := export.WriteParquet(out, s); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d points, %.1fs", out, len(s.Points), s.Provenance.WallSeconds)
	computed := len(s.Points)
	if cfg.Resume != nil {
		computed -= len(cfg.Resume.Points)
	}
	if computed > 0 {
		fmt.Fprintf(stdout, " (%.1fs to set up, then %.4g points/s on %s)", evalStart.Sub(start).Seconds(), float64(computed)/evalSeconds, job.Provenance.Device)
	}
	fmt.Fprintln(stdout)
	return summarize(stdout, s)
}

// removeStaleTemps deletes temporary files that a killed earlier run left
// beside out while it was writing it (WriteParquet's ".NAME.tmp-*").
func removeStaleTemps(out string) {
	stale, _ := filepath.Glob(atomicfile.TempPattern(out))
	for _, f := range stale {
		os.Remove(f)
	}
}

// checkWritable fails early, before hours of computing, if no file can be
// created beside out.
func checkWritable(out string) error {
	dir := filepath.Dir(out)
	f, err := os.CreateTemp(dir, "."+filepath.Base(out)+".tmp-probe-*")
	if err != nil {
		return fmt.Errorf("cannot write the output %s: %w", out, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// partPath names the part file of a shard in folder dir.
func partPath(dir string, s grid.Shard) string {
	return filepath.Join(dir, fmt.Sprintf("part-%05d-of-%05d.parquet", s.Index, s.Count))
}

// resolveShard decides which shard this process computes: --shard i/n if
// given, else a Slurm job array task (SLURM_ARRAY_TASK_ID counted from
// SLURM_ARRAY_TASK_MIN, of SLURM_ARRAY_TASK_COUNT or MAX−MIN+1 tasks), else
// a Kubernetes Indexed Job pod (JOB_COMPLETION_INDEX of --shard-count), else
// the whole grid (sharded false). --shard-count overrides the count.
func resolveShard(flagValue string, count int, getenv func(string) string) (grid.Shard, bool, error) {
	if count < 0 {
		return grid.Shard{}, false, usagef("--shard-count %d: want a positive number", count)
	}
	atoi := func(name string) (int, bool, error) {
		v := getenv(name)
		if v == "" {
			return 0, false, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, false, fmt.Errorf("environment variable %s=%q is not a number", name, v)
		}
		return n, true, nil
	}
	var s grid.Shard
	switch id, inSlurm, err := atoi("SLURM_ARRAY_TASK_ID"); {
	case flagValue != "":
		if s, err = grid.ParseShard(flagValue); err != nil {
			return s, false, usageError{err}
		}
		if count > 0 && count != s.Count {
			return s, false, usagef("--shard %s and --shard-count %d disagree", flagValue, count)
		}
		return s, true, nil
	case err != nil:
		return s, false, err
	case inSlurm:
		lo, _, err1 := atoi("SLURM_ARRAY_TASK_MIN")
		hi, hasMax, err2 := atoi("SLURM_ARRAY_TASK_MAX")
		n, hasCount, err3 := atoi("SLURM_ARRAY_TASK_COUNT")
		if err := errors.Join(err1, err2, err3); err != nil {
			return s, false, err
		}
		switch {
		case count > 0:
			n = count
		case !hasCount && hasMax:
			n = hi - lo + 1
		case !hasCount:
			return s, false, errors.New("SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MAX: pass --shard-count")
		}
		s = grid.Shard{Index: id - lo, Count: n}
		if err := s.Validate(); err != nil {
			return s, false, fmt.Errorf("Slurm array task %d (min %d) of %d tasks: %w; use a contiguous --array=0-%d or pass --shard", id, lo, n, err, n-1)
		}
		return s, true, nil
	}
	idx, inK8s, err := atoi("JOB_COMPLETION_INDEX")
	switch {
	case err != nil:
		return s, false, err
	case inK8s && count == 0:
		return s, false, usagef("JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job): pass --shard-count equal to the job's completions")
	case inK8s:
		s = grid.Shard{Index: idx, Count: count}
		if err := s.Validate(); err != nil {
			return s, false, err
		}
		return s, true, nil
	case count > 0:
		return s, false, usagef("--shard-count without --shard, SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX")
	}
	return grid.Whole(), false, nil
}

// summarize prints the centre's metrics and the range of each metric.
func summarize(w io.Writer, s *surface.Surface) error {
	for m, name := range s.Metrics {
		lo, hi, bad := 0.0, 0.0, 0
		first := true
		for _, p := range s.Points {
			v := p.Values[m]
			if v != v || v > 1e308 || v < -1e308 {
				bad++
				continue
			}
			if first || v < lo {
				lo = v
			}
			if first || v > hi {
				hi = v
			}
			first = false
		}
		fmt.Fprintf(w, "  %-11s min %.6g  max %.6g", name, lo, hi)
		if bad > 0 {
			fmt.Fprintf(w, "  (%d points NaN or Inf)", bad)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// config turns the flags into a run configuration, rejecting bad values
// with usage errors.
func (f *surfaceFlags) config() (landscape.Config, error) {
	var cfg landscape.Config
	if f.model == "" || f.checkpoint == "" || f.data == "" {
		return cfg, usagef("--model, --checkpoint and --data are required")
	}
	var err error
	if cfg.ModelConfig, err = f.modelConfig(); err != nil {
		return cfg, err
	}
	cfg.Model, cfg.Checkpoint = f.model, f.checkpoint
	if cfg.Data, err = data.ParseSpec(f.data); err != nil {
		return cfg, usageError{err}
	}
	for _, s := range strings.Split(f.split, ",") {
		s = strings.TrimSpace(s)
		if s != "train" && s != "test" {
			return cfg, usagef("--split %q: want train, test or train,test", f.split)
		}
		cfg.Splits = append(cfg.Splits, s)
	}
	if f.samples < 0 {
		return cfg, usagef("--samples %d: want 0 (all) or more", f.samples)
	}
	cfg.DataOptions.Samples = f.samples
	if f.sampleSeed != "" {
		seed, err := strconv.ParseUint(f.sampleSeed, 10, 64)
		if err != nil {
			return cfg, usagef("--sample-seed %q: want a non-negative integer", f.sampleSeed)
		}
		if f.samples == 0 {
			return cfg, usagef("--sample-seed needs --samples N")
		}
		cfg.DataOptions.SampleSeed = &seed
	}
	if cfg.DataOptions.Mean, err = floats("--mean", f.mean); err != nil {
		return cfg, err
	}
	if cfg.DataOptions.Std, err = floats("--std", f.std); err != nil {
		return cfg, err
	}
	if (cfg.DataOptions.Mean == nil) != (cfg.DataOptions.Std == nil) {
		return cfg, usagef("--mean and --std go together")
	}
	if f.x == "auto" || f.y == "auto" {
		if err := f.autoAxes(); err != nil {
			return cfg, err
		}
	}
	x, err := grid.ParseAxis(f.x)
	if err != nil {
		return cfg, usagef("--x: %v", err)
	}
	cfg.Grid.X = x
	if f.y != "" {
		y, err := grid.ParseAxis(f.y)
		if err != nil {
			return cfg, usagef("--y: %v", err)
		}
		cfg.Grid.Y = &y
	}
	if f.directions != "" && f.target != "" {
		return cfg, usagef("--directions and --target exclude each other")
	}
	cfg.DirectionFile, cfg.Target, cfg.Seed = f.directions, f.target, f.seed
	if cfg.Directions, err = f.directionOptions(); err != nil {
		return cfg, err
	}
	if f.batch < 1 {
		return cfg, usagef("--batch-size %d: want at least 1", f.batch)
	}
	cfg.BatchSize, cfg.Workers = f.batch, f.workers
	if _, _, err := landscape.ParseDevice(f.device); err != nil {
		return cfg, usagef("--device %s: want auto, cpu, cuda or cuda:N", f.device)
	}
	cfg.Device, cfg.TF32 = f.device, f.tf32
	if f.saveEvery <= 0 {
		return cfg, usagef("--save-every %v: want a positive duration", f.saveEvery)
	}
	cfg.SaveEvery = f.saveEvery
	return cfg, nil
}

// autoAxes replaces --x=auto and --y=auto by the axes that "landscape
// trajectory" or "landscape plane" stored in the direction file: a grid
// that covers the path, or the three models, with a margin.
func (f *surfaceFlags) autoAxes() error {
	if f.directions == "" {
		return usagef("--x=auto and --y=auto take their range from a direction file written by 'landscape trajectory' or 'landscape plane': give it with --directions")
	}
	_, meta, err := safetensors.Read(f.directions)
	if err != nil {
		return err
	}
	for _, a := range []struct {
		flag *string
		key  string
	}{{&f.x, "suggested_x"}, {&f.y, "suggested_y"}} {
		if *a.flag != "auto" {
			continue
		}
		v, ok := meta[a.key]
		if !ok {
			return usagef("--%s=auto: %s suggests no grid (no %s in its metadata); give the axis as min:max:num", a.key[len(a.key)-1:], f.directions, a.key)
		}
		*a.flag = v
	}
	return nil
}

func (f *surfaceFlags) directionOptions() (normalize.Options, error) {
	var o normalize.Options
	var err error
	if o.Norm, err = normalize.ParseNorm(f.norm); err != nil {
		return o, usageError{err}
	}
	if o.Ignore, err = normalize.ParseIgnore(f.ignore); err != nil {
		return o, usageError{err}
	}
	if o.Mode, err = normalize.ParseMode(f.mode); err != nil {
		return o, usageError{err}
	}
	return o, nil
}

func (f *surfaceFlags) modelConfig() (nets.Config, error) {
	c := nets.Config{InChannels: f.channels, Classes: f.classes}
	if f.channels < 0 || f.classes < 0 {
		return c, usagef("--channels and --classes must be positive")
	}
	if f.size != "" {
		hs, ws, found := strings.Cut(f.size, "x")
		if !found {
			ws = hs
		}
		h, err1 := strconv.Atoi(hs)
		w, err2 := strconv.Atoi(ws)
		if err1 != nil || err2 != nil || h < 1 || w < 1 {
			return c, usagef("--size %q: want HxW or N, e.g. 32x32", f.size)
		}
		c.Height, c.Width = h, w
	}
	return c, nil
}

// floats parses a comma-separated list of numbers; "" gives nil.
func floats(flagName, s string) ([]float64, error) {
	if s == "" {
		return nil, nil
	}
	var v []float64
	for _, part := range strings.Split(s, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil {
			return nil, usagef("%s %q: want comma-separated numbers", flagName, s)
		}
		v = append(v, x)
	}
	return v, nil
}
