package main

import (
	"github.com/landscape-go/landscape/landscape/surface"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape"
	"github.com/landscape-go/landscape/normalize"
)

// The files the trajectory command writes into its --out folder.
const (
	trajectoryDirections = "directions.safetensors"
	trajectoryPath       = "path.csv"
	trajectorySummary    = "trajectory.json"
)

// trajectoryFlags are the trajectory command's own flags; the model and
// data ones live in surfaceFlags.
type trajectoryFlags struct {
	checkpoints, final string
	margin             float64
	num                int
}

// registerArchFlags registers the model flags of registerModel but
// --checkpoint, for commands that take several checkpoints.
func registerArchFlags(fs *flag.FlagSet, f *surfaceFlags) {
	fs.StringVar(&f.model, "model", "", "architecture from the zoo (see 'landscape models'), e.g. resnet56")
	fs.IntVar(&f.channels, "channels", 0, "input channels (default: from the data, else 3)")
	fs.StringVar(&f.size, "size", "", "input image size HxW or N (default: from the data, else 32)")
	fs.IntVar(&f.classes, "classes", 0, "number of classes (default: from the data, else 10)")
}

// registerDataFlags registers the flags that choose and evaluate data.
func registerDataFlags(fs *flag.FlagSet, f *surfaceFlags) {
	fs.StringVar(&f.data, "data", "", "dataset KIND:PATH, KIND one of cifar10, cifar100, mnist, fashion-mnist, npz")
	fs.StringVar(&f.split, "split", "train", "splits to evaluate: train, test or train,test")
	fs.IntVar(&f.samples, "samples", 0, "use only this many samples per split (0 = all): the first ones in file order")
	fs.StringVar(&f.sampleSeed, "sample-seed", "", "with --samples: a random subset drawn with this seed instead of the first ones")
	fs.StringVar(&f.mean, "mean", "", "per-channel mean in [0,1] units, comma-separated (default: the dataset's)")
	fs.StringVar(&f.std, "std", "", "per-channel standard deviation in [0,1] units, comma-separated")
	registerComputeFlags(fs, f)
}

// registerComputeFlags registers the flags that say where and how the
// forward passes run.
func registerComputeFlags(fs *flag.FlagSet, f *surfaceFlags) {
	fs.IntVar(&f.batch, "batch-size", 128, "samples per forward pass on the CPU (a GPU sizes its batches from free memory)")
	fs.IntVar(&f.workers, "workers", 0, "CPU workers (default: all cores)")
	fs.StringVar(&f.device, "device", "auto", "where to compute: auto (a GPU if one works, else the CPU), cpu, cuda or cuda:N")
	fs.BoolVar(&f.tf32, "tf32", false, "on a GPU, compute convolutions in TF32 (PyTorch's GPU default; about 3 fewer digits, several times faster) instead of FP32")
}

// dataConfig parses the data flags; a zero Spec means no --data.
func dataConfig(f *surfaceFlags) (spec data.Spec, splits []string, opts data.Options, err error) {
	if f.batch < 1 {
		return spec, nil, opts, usagef("--batch-size %d: want at least 1", f.batch)
	}
	if f.data == "" {
		return spec, nil, opts, nil
	}
	if spec, err = data.ParseSpec(f.data); err != nil {
		return spec, nil, opts, usageError{err}
	}
	for _, s := range strings.Split(f.split, ",") {
		s = strings.TrimSpace(s)
		if s != "train" && s != "test" {
			return spec, nil, opts, usagef("--split %q: want train, test or train,test", f.split)
		}
		splits = append(splits, s)
	}
	if f.samples < 0 {
		return spec, nil, opts, usagef("--samples %d: want 0 (all) or more", f.samples)
	}
	opts.Samples = f.samples
	if f.sampleSeed != "" {
		seed, err := strconv.ParseUint(f.sampleSeed, 10, 64)
		if err != nil || f.samples == 0 {
			return spec, nil, opts, usagef("--sample-seed %q: want a non-negative integer, with --samples N", f.sampleSeed)
		}
		opts.SampleSeed = &seed
	}
	if opts.Mean, err = floats("--mean", f.mean); err != nil {
		return spec, nil, opts, err
	}
	if opts.Std, err = floats("--std", f.std); err != nil {
		return spec, nil, opts, err
	}
	if (opts.Mean == nil) != (opts.Std == nil) {
		return spec, nil, opts, usagef("--mean and --std go together")
	}
	return spec, splits, opts, nil
}

func cmdTrajectory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f surfaceFlags
	var t trajectoryFlags
	fs := newFlags("trajectory", "--model M --checkpoints 'run/model_*.t7' --out DIR [flags]", stderr)
	registerArchFlags(fs, &f)
	fs.StringVar(&t.checkpoints, "checkpoints", "", "checkpoints of the training run: comma-separated files or glob patterns; each pattern's matches are taken in natural order (model_2 before model_10)")
	fs.StringVar(&t.final, "final", "", "the model the path ends at and the surface is centred on (default: the last checkpoint)")
	fs.StringVar(&f.mode, "mode", "weights", "weights (parameters only) or states (also BN running statistics)")
	fs.StringVar(&f.ignore, "ignore", "biasbn", "biasbn zeroes every rank<=1 entry (biases, batch norm), as the reference's --ignore biasbn; none keeps them")
	fs.StringVar(&f.directions, "directions", "", "project on these directions (e.g. another run's "+trajectoryDirections+", with its --final) instead of fitting a PCA: several runs on one surface")
	registerDataFlags(fs, &f)
	fs.Float64Var(&t.margin, "margin", 0.2, "suggested grid: widen the path's range by this fraction of it on each side")
	fs.IntVar(&t.num, "num", 51, "suggested grid: points per axis")
	fs.StringVar(&f.out, "out", "", "output folder for "+trajectoryDirections+", "+trajectoryPath+" and "+trajectorySummary)
	fs.BoolVar(&f.quiet, "quiet", false, "no progress output")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if f.model == "" || t.checkpoints == "" || f.out == "" {
		return usagef("--model, --checkpoints and --out are required")
	}
	if t.num < 1 || !(t.margin >= 0) {
		return usagef("--num %d --margin %g: want at least 1 point and a margin of 0 or more", t.num, t.margin)
	}
	cfg := landscape.TrajectoryConfig{Model: f.model, Final: t.final, Directions: f.directions, BatchSize: f.batch, Workers: f.workers, Device: f.device, TF32: f.tf32}
	var err error
	if cfg.ModelConfig, err = f.modelConfig(); err != nil {
		return err
	}
	if cfg.PCA.Mode, err = normalize.ParseMode(f.mode); err != nil {
		return usageError{err}
	}
	if cfg.PCA.Ignore, err = normalize.ParseIgnore(f.ignore); err != nil {
		return usageError{err}
	}
	if cfg.Data, cfg.Splits, cfg.DataOptions, err = dataConfig(&f); err != nil {
		return err
	}
	if cfg.Checkpoints, err = expandCheckpoints(t.checkpoints); err != nil {
		return err
	}
	return runTrajectory(ctx, cfg, f, t, stdout, stderr)
}

// expandCheckpoints splits a comma-separated list and expands each glob
// pattern, its matches in natural order; a pattern that matches nothing
// is an error.
func expandCheckpoints(list string) ([]string, error) {
	var out []string
	for _, pat := range strings.Split(list, ",") {
		pat = strings.TrimSpace(pat)
		if pat == "" {
			continue
		}
		m, err := filepath.Glob(pat)
		if err != nil {
			return nil, usagef("--checkpoints %q: %v", pat, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("no checkpoint matches %q", pat)
		}
		slices.SortFunc(m, naturalCompare)
		out = append(out, m...)
	}
	return out, nil
}

// naturalCompare orders strings with runs of digits compared as numbers,
// so that model_2.t7 comes before model_10.t7.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := len(na) - len(nb); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			if c := da - db; c != 0 { // fewer leading zeros first
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// trajectoryJSON is the summary written to trajectory.json.
type trajectoryJSON struct {
	Tool                   string                   `json:"tool"`
	Version                string                   `json:"version"`
	Created                string                   `json:"created"`
	Model                  surface.ModelInfo      `json:"model"`
	Final                  surface.FileInfo       `json:"final"`
	Mode                   string                   `json:"mode"`
	Ignore                 string                   `json:"ignore"`
	Checkpoints            int                      `json:"checkpoints"`
	Values                 int                      `json:"values"`
	ExplainedVariance      [2]float64               `json:"explained_variance"`
	ExplainedVarianceRatio [2]float64               `json:"explained_variance_ratio"`
	SingularValues         [2]float64               `json:"singular_values"`
	TotalVariance          float64                  `json:"total_variance"`
	SignConvention         string                   `json:"sign_convention"`
	Directions             surface.DirectionsInfo `json:"directions"`
	PathFile               string                   `json:"path_file"`
	Data                   *surface.DataInfo      `json:"data,omitempty"`
	Metrics                []string                 `json:"metrics,omitempty"`
	Suggested              suggestedGrid            `json:"suggested_grid"`
	WallSeconds            float64                  `json:"wall_seconds"`
	Path                   []trajectoryPointJSON    `json:"path"`
}

type trajectoryPointJSON struct {
	Checkpoint string  `json:"checkpoint"`
	X          float64 `json:"x"`
	Y          float64 `json:"y"`
	Residual   float64 `json:"residual"`
	Distance   float64 `json:"distance"`
	Frozen     float64 `json:"frozen"`
}

// suggestedGrid is a grid that covers the models with a margin.
type suggestedGrid struct {
	X       grid.Axis `json:"x"`
	Y       grid.Axis `json:"y"`
	Margin  float64   `json:"margin"`
	Command string    `json:"command"`
}

// runTrajectory computes the PCA directions and the path and writes the
// direction file, the path as CSV and the JSON summary into the --out
// folder. Nothing is written if the computation fails.
func runTrajectory(ctx context.Context, cfg landscape.TrajectoryConfig, f surfaceFlags, t trajectoryFlags, stdout, stderr io.Writer) error {
	start := time.Now()
	if !f.quiet {
		cfg.Log = stderr
		cfg.Progress = newProgress(stderr, "trajectory").update
	}
	tr, err := landscape.RunTrajectory(ctx, cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return err
	}
	xs, ys := make([]float64, len(tr.Points)), make([]float64, len(tr.Points))
	pathMeta := make([][2]float64, len(tr.Points))
	names := make([]string, len(tr.Points))
	for i, p := range tr.Points {
		xs[i], ys[i] = p.X, p.Y
		pathMeta[i] = [2]float64{p.X, p.Y}
		names[i] = p.Checkpoint
	}
	ax, ay := landscape.AxesCovering(xs, ys, t.margin, t.num)
	dirs := filepath.Join(f.out, trajectoryDirections)
	res := tr.PCA
	meta := map[string]string{
		"kind": "pca", "model": tr.Model.Name, "final": tr.Final.Path, "final_sha256": tr.Final.SHA256,
		"mode": tr.Options.Mode.String(), "ignore": tr.Options.Ignore.String(),
		"explained_variance_ratio": jsonString(res.ExplainedVarianceRatio),
		"explained_variance":       jsonString(res.ExplainedVariance),
		"singular_values":          jsonString(res.SingularValues),
		"checkpoints":              jsonString(names),
		"path":                     jsonString(pathMeta),
		"suggested_x":              ax.String(), "suggested_y": ay.String(),
		"sha256": tr.Directions.SHA256,
	}
	if err := normalize.WriteFile(dirs, res.X, res.Y, meta); err != nil {
		return err
	}
	tr.Directions.File = dirs
	var csvBuf bytes.Buffer
	if err := writePathCSV(&csvBuf, tr); err != nil {
		return err
	}
	if err := writeOutputFile(filepath.Join(f.out, trajectoryPath), csvBuf.Bytes()); err != nil {
		return err
	}
	cmdline := surfaceCommand(f, tr.Final.Path, dirs, ax, ay)
	sum := trajectoryJSON{
		Tool: "landscape", Version: landscape.Version, Created: start.UTC().Format(time.RFC3339),
		Model: tr.Model, Final: tr.Final, Mode: tr.Options.Mode.String(), Ignore: tr.Options.Ignore.String(),
		Checkpoints: len(tr.Points), Values: tr.Values,
		ExplainedVariance: res.ExplainedVariance, ExplainedVarianceRatio: res.ExplainedVarianceRatio,
		SingularValues: res.SingularValues, TotalVariance: res.TotalVariance,
		SignConvention: "svd_flip(u_based_decision=True): along each component the checkpoint farthest from the mean has a positive centred coordinate (scikit-learn's PCA up to 1.4)",
		Directions:     tr.Directions, PathFile: trajectoryPath, Data: tr.Data, Metrics: tr.Metrics,
		Suggested:   suggestedGrid{X: ax, Y: ay, Margin: t.margin, Command: cmdline},
		WallSeconds: time.Since(start).Seconds(),
	}
	for _, p := range tr.Points {
		sum.Path = append(sum.Path, trajectoryPointJSON{Checkpoint: p.Checkpoint, X: p.X, Y: p.Y, Residual: p.Residual, Distance: p.Distance, Frozen: p.Frozen})
	}
	js, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	if err := writeOutputFile(filepath.Join(f.out, trajectorySummary), append(js, '\n')); err != nil {
		return err
	}

	fmt.Fprintf(stdout, "wrote %s, %s and %s to %s\n", trajectoryDirections, trajectoryPath, trajectorySummary, f.out)
	if tr.Directions.Kind == "file" {
		fmt.Fprintf(stdout, "%d checkpoints projected on the directions of %s over %d values (%s mode, ignore %s)\n",
			len(tr.Points), cfg.Directions, tr.Values, tr.Options.Mode, tr.Options.Ignore)
	} else {
		fmt.Fprintf(stdout, "PCA of %d checkpoints over %d values (%s mode, ignore %s): PC1 %.2f%%, PC2 %.2f%% of the variance\n",
			len(tr.Points), tr.Values, tr.Options.Mode, tr.Options.Ignore, 100*res.ExplainedVarianceRatio[0], 100*res.ExplainedVarianceRatio[1])
	}
	worst := 0
	for i, p := range tr.Points {
		if p.Residual > tr.Points[worst].Residual {
			worst = i
		}
	}
	wp := tr.Points[worst]
	fmt.Fprintf(stdout, "path: x in [%.4g, %.4g], y in [%.4g, %.4g]; largest residual %.4g (%.1f%% of its distance %.4g) at %s\n",
		slices.Min(xs), slices.Max(xs), slices.Min(ys), slices.Max(ys), wp.Residual, 100*wp.Residual/math.Max(wp.Distance, 1e-300), wp.Distance, wp.Checkpoint)
	frozen := 0
	for i, p := range tr.Points {
		if p.Frozen > tr.Points[frozen].Frozen {
			frozen = i
		}
	}
	if fp := tr.Points[frozen]; fp.Frozen > 0 {
		fmt.Fprintf(stdout, "entries the directions leave at the final model's values (%s) differ by up to %.4g, at %s; the losses at projected points use the final model's\n",
			frozenWhat(tr.Options), fp.Frozen, fp.Checkpoint)
	}
	fmt.Fprintf(stdout, "surface around the final model, covering the path:\n  %s\n", cmdline)
	return nil
}

// frozenWhat names the entries a PCA leaves at the final model's values.
func frozenWhat(o normalize.PCAOptions) string {
	switch {
	case o.Ignore == normalize.BiasBN:
		return "biases, batch-norm parameters and statistics"
	case o.Mode == normalize.Weights:
		return "batch-norm running statistics"
	}
	return "none"
}

// writePathCSV writes one row per checkpoint: checkpoint, x, y, residual,
// distance, frozen (see [normalize.Projection]) and, with data, each metric
// at the checkpoint and then each at its projected point
// (projected_train_loss, ...).
func writePathCSV(w io.Writer, tr *landscape.Trajectory) error {
	cw := csv.NewWriter(w)
	head := []string{"checkpoint", "x", "y", "residual", "distance", "frozen"}
	head = append(head, tr.Metrics...)
	for _, m := range tr.Metrics {
		head = append(head, "projected_"+m)
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, p := range tr.Points {
		row := []string{p.Checkpoint, g(p.X), g(p.Y), g(p.Residual), g(p.Distance), g(p.Frozen)}
		for _, v := range p.Values {
			row = append(row, g(v))
		}
		for _, v := range p.Projected {
			row = append(row, g(v))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// surfaceCommand is the surface command line for directions centred on
// center over the axes, with the model and data flags the user gave.
func surfaceCommand(f surfaceFlags, center, dirs string, x, y grid.Axis) string {
	args := []string{"landscape", "surface", "--model", f.model, "--checkpoint", center, "--directions", dirs,
		"--x=" + x.String(), "--y=" + y.String()}
	if f.channels != 0 {
		args = append(args, "--channels", strconv.Itoa(f.channels))
	}
	if f.size != "" {
		args = append(args, "--size", f.size)
	}
	if f.classes != 0 {
		args = append(args, "--classes", strconv.Itoa(f.classes))
	}
	if f.data != "" {
		args = append(args, "--data", f.data)
		if f.split != "train" {
			args = append(args, "--split", f.split)
		}
		if f.samples != 0 {
			args = append(args, "--samples", strconv.Itoa(f.samples))
		}
	} else {
		args = append(args, "--data", "KIND:PATH")
	}
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

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain values of this file are passed
	}
	return string(b)
}

// writeOutputFile writes b to path through a temporary file in the same
// folder and a rename, so an interrupted run leaves no half file.
func writeOutputFile(path string, b []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return errors.Join(err, os.Remove(tmp.Name()))
	}
	return nil
}
