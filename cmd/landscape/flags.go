package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/backend/cuda"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/internal/progress"
	"github.com/landscape-go/landscape/landscape"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/safetensors"
	"github.com/landscape-go/landscape/normalize"
)

// The flag groups below are shared by the subcommands, so that each flag
// has one meaning and one help text wherever it appears. Each group
// registers its flags, turns them into the library's types (usage errors
// for bad values), and can write itself back as command-line arguments
// (for the commands that trajectory and plane suggest).

// modelFlags choose the architecture and its input geometry.
type modelFlags struct {
	model             string
	channels, classes int
	size              string
}

func (f *modelFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.model, "model", "", "architecture from the zoo (see 'landscape models'), e.g. resnet56, or a network exported from PyTorch as FILE.onnx (its parameters are the default --checkpoint)")
	fs.IntVar(&f.channels, "channels", 0, "input channels (default: from the data, else from the checkpoint's first convolution)")
	fs.StringVar(&f.size, "size", "", "input image size HxW or N (default: from the data, else 32)")
	fs.IntVar(&f.classes, "classes", 0, "number of classes (default: from the checkpoint's classifier, else the data's)")
}

// config returns the model's settings; zero fields are filled later from
// the data and the checkpoint.
func (f *modelFlags) config() (nets.Config, error) {
	c := nets.Config{InChannels: f.channels, Classes: f.classes}
	if err := f.checkModel(); err != nil {
		return c, err
	}
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

// checkModel refuses a --model that names a weights file: a network is
// an architecture of the zoo or an ONNX export, its weights the
// checkpoint.
func (f *modelFlags) checkModel() error {
	switch ext := strings.ToLower(filepath.Ext(f.model)); ext {
	case ".pt", ".pth", ".t7", ".tar", ".bin", ".ckpt", ".safetensors", ".npz":
		return usagef("--model %s is a weights file: give the architecture (--model resnet56, see 'landscape models') or an ONNX export (--model model.onnx), and the weights with --checkpoint %s", f.model, f.model)
	}
	return nil
}

// checkpoint returns the checkpoint flag's value, or for an ONNX model
// given none, the model file, whose parameters are its weights.
func (f *modelFlags) checkpoint(flagValue string) string {
	return landscape.CheckpointFor(f.model, flagValue)
}

// geometryArgs writes back the flags beside --model.
func (f *modelFlags) geometryArgs() []string {
	var a []string
	if f.channels != 0 {
		a = append(a, "--channels", strconv.Itoa(f.channels))
	}
	if f.size != "" {
		a = append(a, "--size", f.size)
	}
	if f.classes != 0 {
		a = append(a, "--classes", strconv.Itoa(f.classes))
	}
	return a
}

// modeHelp is the one help text of --mode.
const modeHelp = "weights (parameters only; batch-norm running statistics stay the centre's) or states (also the running statistics)"

// directionFlags say how random directions are drawn and normalised.
type directionFlags struct {
	seed               uint64
	norm, ignore, mode string
}

func (f *directionFlags) register(fs *flag.FlagSet) {
	fs.Uint64Var(&f.seed, "seed", 123, "seed of the random directions")
	fs.StringVar(&f.norm, "norm", "filter", "direction normalisation: filter, layer, weight, dfilter, dlayer or none")
	f.registerIgnore(fs)
	f.registerMode(fs, "weights")
}

func (f *directionFlags) registerIgnore(fs *flag.FlagSet) {
	fs.StringVar(&f.ignore, "ignore", "biasbn", "rank<=1 tensors (biases, batch norm): biasbn zeroes their directions, as the reference's --xignore biasbn; none keeps them (random directions: set to the tensor itself, as the reference does without --xignore)")
}

func (f *directionFlags) registerMode(fs *flag.FlagSet, def string) {
	fs.StringVar(&f.mode, "mode", def, modeHelp)
}

func (f *directionFlags) options() (normalize.Options, error) {
	var o normalize.Options
	var err error
	if f.norm != "" {
		if o.Norm, err = normalize.ParseNorm(f.norm); err != nil {
			return o, usageError{err}
		}
	}
	if f.ignore != "" {
		if o.Ignore, err = normalize.ParseIgnore(f.ignore); err != nil {
			return o, usageError{err}
		}
	}
	if o.Mode, err = normalize.ParseMode(f.mode); err != nil {
		return o, usageError{err}
	}
	return o, nil
}

// dataFlags choose the data and how it is sampled and normalised.
type dataFlags struct {
	data, split string
	samples     int
	sampleSeed  string
	mean, std   string
}

func (f *dataFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "", "dataset KIND:PATH, KIND one of cifar10, cifar100, mnist, fashion-mnist, npz (a FILE.npz alone is npz:FILE.npz)")
	fs.StringVar(&f.split, "split", "train", "splits to evaluate: train, test or train,test")
	fs.IntVar(&f.samples, "samples", 0, "use only this many samples per split (0 = all): the first ones in file order")
	fs.StringVar(&f.sampleSeed, "sample-seed", "", "with --samples: a random subset drawn with this seed instead of the first ones")
	fs.StringVar(&f.mean, "mean", "", "per-channel mean in [0,1] units, comma-separated (default: the dataset's; it must be what the network was trained with)")
	fs.StringVar(&f.std, "std", "", "per-channel standard deviation in [0,1] units, comma-separated (default: the dataset's)")
}

// config parses the data flags; a zero Spec means no --data.
func (f *dataFlags) config() (spec data.Spec, splits []string, opts data.Options, err error) {
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

// args writes the data flags back, every one that differs from its
// default, so that a suggested command computes on the same data.
func (f *dataFlags) args() []string {
	if f.data == "" {
		return []string{"--data", "KIND:PATH"}
	}
	a := []string{"--data", f.data}
	if f.split != "train" {
		a = append(a, "--split", f.split)
	}
	if f.samples != 0 {
		a = append(a, "--samples", strconv.Itoa(f.samples))
	}
	if f.sampleSeed != "" {
		a = append(a, "--sample-seed", f.sampleSeed)
	}
	if f.mean != "" {
		a = append(a, "--mean", f.mean)
	}
	if f.std != "" {
		a = append(a, "--std", f.std)
	}
	return a
}

// computeFlags say where and how the forward passes run.
type computeFlags struct {
	batch, workers int
	device         string
	tf32           bool
}

func (f *computeFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.batch, "batch-size", 128, "samples per forward pass on the CPU (a GPU sizes its batches from free memory)")
	fs.IntVar(&f.workers, "workers", 0, "CPU workers (default: all cores)")
	fs.StringVar(&f.device, "device", "auto", "where to compute: auto (a GPU if one works, else the CPU), cpu, cuda, cuda:N, or cuda:all (the points dealt among every GPU)")
	fs.BoolVar(&f.tf32, "tf32", false, "on a GPU, compute convolutions in TF32 (PyTorch's GPU default; about 3 fewer digits, several times faster) instead of FP32")
}

// maxBatch bounds --batch-size: larger batches gain nothing on a CPU and
// their buffers would not fit in memory.
const maxBatch = 1 << 16

// config returns the batch size and the device, the backends' settings
// from the environment (see [envSettings]) included.
func (f *computeFlags) config(env envSettings) (batch int, dev landscape.Device, err error) {
	if f.batch < 1 || f.batch > maxBatch {
		return 0, dev, usagef("--batch-size %d: want 1 to %d", f.batch, maxBatch)
	}
	if f.workers < 0 {
		return 0, dev, usagef("--workers %d: want 0 (all cores) or more", f.workers)
	}
	if _, _, err := landscape.ParseDevice(f.device); err != nil {
		return 0, dev, usagef("--device %s: want auto, cpu, cuda, cuda:N or cuda:all", f.device)
	}
	dev = landscape.Device{
		Name: f.device,
		CPU:  cpu.Options{Workers: f.workers, Generic: env.genericCPU, NoWinograd: env.noWinograd, BLAS: env.blas},
		CUDA: cuda.Options{TF32: f.tf32, Benchmark: env.cudnnBenchmark},
	}
	if env.profile {
		dev.CUDA.Profile = os.Stderr
	}
	return f.batch, dev, nil
}

// sourceFlags choose a network at a checkpoint, one split of data, and
// where to compute: what hessian and train take.
type sourceFlags struct {
	model      modelFlags
	checkpoint string
	initSeed   string // --init-seed, of the commands that train (see registerInit)
	takesInit  bool   // the command has --init-seed
	data       dataFlags
	compute    computeFlags
	quiet      bool
}

func (f *sourceFlags) register(fs *flag.FlagSet, checkpointWhat string) {
	f.model.register(fs)
	fs.StringVar(&f.checkpoint, "checkpoint", "", checkpointWhat+checkpointHelp)
	f.data.register(fs)
	fs.Lookup("split").Usage = "the split: train or test (one)"
	f.compute.register(fs)
	fs.BoolVar(&f.quiet, "quiet", false, "no progress output")
}

// registerInit adds --init-seed, for the commands that train: a start from
// scratch with no checkpoint (see writeInit).
func (f *sourceFlags) registerInit(fs *flag.FlagSet) {
	f.takesInit = true
	fs.StringVar(&f.initSeed, "init-seed", "", "start from PyTorch's default initialisation of the zoo model, drawn from this seed, instead of --checkpoint "+
		"(written to the output folder as init-seedN.safetensors; the input's shape from --channels and --size, else the data's; the classes from --classes, else the data's)")
}

// writeInit, where --init-seed is given, writes to dir the source's zoo
// model at PyTorch's default initialisation drawn from that seed (see
// writeInitial) and makes it the source's checkpoint; created says that
// the file was not there before.
func (f *sourceFlags) writeInit(src *landscape.Source, dir string) (created bool, err error) {
	if f.initSeed == "" {
		return false, nil
	}
	seed, err := strconv.ParseUint(f.initSeed, 10, 64)
	switch {
	case err != nil:
		return false, usagef("--init-seed %q: want a whole number of 0 or more", f.initSeed)
	case landscape.IsONNX(f.model.model):
		return false, usagef("--init-seed: %s is an ONNX model, whose file holds its initial weights: give none, or a --checkpoint", f.model.model)
	case f.checkpoint != "":
		return false, usagef("--init-seed %s and --checkpoint %s: the initial weights come from one of them", f.initSeed, f.checkpoint)
	}
	return writeInitial(src, seed, dir)
}

// writeInitial writes to dir, as init-seedN.safetensors, the source's zoo
// model at PyTorch's default initialisation drawn from seed (see
// landscape.Source.Initialise), and makes it the source's checkpoint;
// created says that the file was not there before (it is written anew
// either way: the same seed and shape give the same bits).
func writeInitial(src *landscape.Source, seed uint64, dir string) (created bool, err error) {
	sd, err := src.Initialise(seed)
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	path := filepath.Join(dir, fmt.Sprintf("init-seed%d.safetensors", seed))
	_, statErr := os.Stat(path)
	if err := safetensors.Write(path, sd, map[string]string{"landscape": fmt.Sprintf("%s at PyTorch's default initialisation, seed %d", src.Model, seed)}); err != nil {
		return false, err
	}
	src.Checkpoint = path
	return statErr != nil, nil
}

// config returns the source, the batch size and the options, the progress
// reported to stderr unless --quiet; cmd names the command in the
// progress and in errors.
func (f *sourceFlags) config(cmd string, stderr io.Writer) (src landscape.Source, batch int, opts *landscape.Options, err error) {
	src = landscape.Source{Model: f.model.model, Checkpoint: f.model.checkpoint(f.checkpoint)}
	if src.ModelConfig, err = f.model.config(); err != nil { // a weights file as --model is told first
		return src, 0, nil, err
	}
	if src.Model == "" || src.Checkpoint == "" && f.initSeed == "" || f.data.data == "" {
		if f.takesInit {
			return src, 0, nil, usagef("--model, --checkpoint (or --init-seed) and --data are required")
		}
		return src, 0, nil, usagef("--model, --checkpoint and --data are required")
	}
	var splits []string
	if src.Data, splits, src.DataOptions, err = f.data.config(); err != nil {
		return src, 0, nil, err
	}
	if len(splits) != 1 {
		return src, 0, nil, usagef("--split %s: %s takes one split", f.data.split, cmd)
	}
	src.Split = splits[0]
	opts = &landscape.Options{}
	if batch, opts.Device, err = f.compute.config(readEnv(os.Getenv)); err != nil {
		return src, 0, nil, err
	}
	opts.Warn = stderr // warnings even when quiet
	if !f.quiet {
		opts.Log = stderr
		m := progress.New(stderr, cmd)
		switch cmd {
		case "train":
			m.Unit = "steps"
		case "race":
			m.Unit = "" // its runs' steps, then its surface's points
		}
		opts.Progress = m.Update
	}
	return src, batch, opts, nil
}

// gridFlags give the axes of a surface.
type gridFlags struct{ x, y string }

func (f *gridFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.x, "x", "-1:1:51", "x axis min:max:num, both ends included; auto or auto:num: the range a trajectory or plane direction file suggests (with num points, the origin one of them)")
	fs.StringVar(&f.y, "y", "", "y axis min:max:num (or auto, auto:num); absent for a 1D surface")
}

// config parses the axes; "auto" takes the axis the direction file
// dirs suggests, "auto:N" its range with N points (or a little more, so
// that one of them is the origin: see landscape.WithOrigin).
func (f *gridFlags) config(dirs string) (grid.Grid, error) {
	var g grid.Grid
	var meta normalize.Meta
	isAuto := func(s string) bool { return s == "auto" || strings.HasPrefix(s, "auto:") }
	if isAuto(f.x) || isAuto(f.y) {
		if dirs == "" {
			return g, usagef("--x=auto and --y=auto take their range from a direction file written by 'landscape trajectory' or 'landscape plane': give it with --directions")
		}
		var err error
		if meta, err = normalize.ReadMeta(dirs); err != nil {
			return g, err
		}
	}
	axis := func(name, s, suggested string) (grid.Axis, error) {
		auto := isAuto(s)
		if auto {
			if suggested == "" {
				return grid.Axis{}, usagef("--%s=%s: %s suggests no grid; give the axis as min:max:num", name, s, dirs)
			}
			if num, ok := strings.CutPrefix(s, "auto:"); ok {
				lo, hi, _ := strings.Cut(suggested, ":")
				hi, _, _ = strings.Cut(hi, ":")
				suggested = lo + ":" + hi + ":" + num
			}
			s = suggested
		}
		a, err := grid.ParseAxis(s)
		if err != nil {
			return a, usagef("--%s: %v", name, err)
		}
		if auto {
			a = landscape.WithOrigin(a) // auto:N's points may miss the centre
		}
		return a, nil
	}
	var err error
	if g.X, err = axis("x", f.x, meta.SuggestedX); err != nil {
		return g, err
	}
	if f.y != "" {
		y, err := axis("y", f.y, meta.SuggestedY)
		if err != nil {
			return g, err
		}
		g.Y = &y
	}
	if err := g.Validate(); err != nil {
		return g, usageError{err}
	}
	return g, nil
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

// envSettings are the process settings the environment gives, read once
// in main and passed down as options: library packages read none.
type envSettings struct {
	genericCPU     bool   // LANDSCAPE_CPU=generic: im2col + SGEMM instead of the micro-kernels
	noWinograd     bool   // LANDSCAPE_WINOGRAD=0: every convolution computed directly
	blas           string // LANDSCAPE_BLAS: gonum, or the path of an OpenBLAS library
	cudnnBenchmark bool   // LANDSCAPE_CUDNN_BENCHMARK=1: time cuDNN's algorithms
	profile        bool   // LANDSCAPE_PROFILE=1: the GPU graph interpreter's time by operator, on stderr
}

func readEnv(getenv func(string) string) envSettings {
	return envSettings{
		genericCPU:     getenv("LANDSCAPE_CPU") == "generic",
		noWinograd:     getenv("LANDSCAPE_WINOGRAD") == "0",
		blas:           getenv("LANDSCAPE_BLAS"),
		cudnnBenchmark: getenv("LANDSCAPE_CUDNN_BENCHMARK") == "1",
		profile:        getenv("LANDSCAPE_PROFILE") == "1",
	}
}

// flagSet reports whether the command line set the flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
