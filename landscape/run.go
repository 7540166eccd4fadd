package landscape

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape/surface"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/normalize"
)

// ErrOtherComputation is wrapped by the error of a run whose [Store] holds
// the points of another computation (another checkpoint, directions, data
// or grid): they are never mixed with the run's own. Remove them, choose
// another store, or set Options.Overwrite.
var ErrOtherComputation = errors.New("holds another computation")

// ErrCannotResume is wrapped by the error of a run whose [Store] holds
// something it cannot read. Remove it or set Options.Overwrite.
var ErrCannotResume = errors.New("exists and cannot be resumed")

// Run computes the surface spec describes, from its files. On
// cancellation it returns the points finished so far (saved to
// opts.Store, if any) together with the context's error.
func Run(ctx context.Context, spec Spec, opts *Options) (*surface.Surface, error) {
	start := time.Now()
	job, err := Prepare(spec, opts)
	if err != nil {
		return nil, err
	}
	defer job.Close()
	return job.run(ctx, start)
}

// Prepare loads and checks everything spec names and builds the
// evaluator, for callers that want to look at a run before it starts;
// [Job.Run] then computes it.
func Prepare(spec Spec, opts *Options) (*Job, error) {
	if opts == nil {
		opts = &Options{}
	}
	if spec.Model == "" {
		return nil, errors.New("landscape: no model given")
	}
	spec.Checkpoint = CheckpointFor(spec.Model, spec.Checkpoint)
	if spec.Checkpoint == "" {
		return nil, errors.New("landscape: no checkpoint given: without one the surface would be that of an untrained network")
	}
	if err := checkGrid(spec.Grid, &spec.Shard); err != nil {
		return nil, err
	}
	if len(spec.Splits) == 0 {
		spec.Splits = []string{"train"}
	}
	// The model and the checkpoint are checked first: they are the likelier
	// inputs to be wrong, and data can take a while to load. The network's
	// input size comes from the data, so the fit is checked after it.
	if !slices.Contains(nets.Models(), spec.Model) && !IsONNX(spec.Model) {
		_, err := nets.New(spec.Model, spec.ModelConfig) // names the known models
		return nil, err
	}
	if IsONNX(spec.Model) {
		if _, err := os.Stat(spec.Model); err != nil {
			if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
				err = pe.Err // "no such file or directory", the path being named
			}
			return nil, fmt.Errorf("landscape: model %s: %w", spec.Model, err)
		}
	}
	// The checkpoint's hash and the direction file are read on the other
	// cores while the model is decoded (for resnet18, 45 MB hashed and
	// 90 MB of directions read and checked, in less time than its ONNX
	// file takes to decode).
	sum := fileHash(spec.Checkpoint)
	var dirFile func() (*normalize.Unfitted, error)
	if spec.Directions.File != "" {
		dirFile = async(func() (*normalize.Unfitted, error) { return normalize.Read(spec.Directions.File) })
	}
	sd, decoded, err := readCheckpoint(spec.Checkpoint, spec.Model)
	if err != nil {
		return nil, err
	}
	sets, mc, err := loadSets(spec.Data, spec.Splits, &spec.DataOptions, spec.ModelConfig)
	if err != nil {
		return nil, err
	}
	for _, d := range sets {
		if d.Seq > 0 {
			opts.logf("data: %s %s, %d sequences of %d tokens and their next tokens, ids below %d", spec.Data, d.Split, d.N, d.Seq, d.Classes)
			continue
		}
		opts.logf("data: %s %s, %d samples of %dx%dx%d%s", spec.Data, d.Split, d.N, d.C, d.H, d.W, normalisation(d))
	}
	w, err := checkWeightsOf(spec.Checkpoint, sd, decoded, spec.Model, mc, sum)
	if err := fits(w, err, sets[0], spec.Data, spec.ModelConfig); err != nil {
		return nil, err
	}
	opts.logf("model: %s, %d parameters, weights from %s", w.Net.Name, w.Net.NumParams(), spec.Checkpoint)
	if len(w.Net.Ops) == 0 {
		opts.logf("model: the engines cannot run %s ('landscape inspect %s' says why): on the CPU the reference evaluator computes it, many times more slowly; on a GPU the graph interpreter", w.Net.Name, spec.Model)
	}
	x, y, dinfo, err := directions(spec.Directions, dirFile, spec.Grid.Y != nil, w, opts.logf)
	if err != nil {
		return nil, err
	}
	// Their hash is taken on another core while the evaluator is made.
	dirSum := async(func() (string, error) { return normalize.Hash(x, y), nil })
	in := &Input{Net: w.Net, Weights: w.State, Data: sets, X: x, Y: y, Grid: spec.Grid, Shard: spec.Shard, BatchSize: spec.BatchSize, GradNorm: spec.GradNorm, Curvature: spec.Curvature}
	prov := provenance(in)
	prov.Checkpoint = w.File
	prov.Directions = dinfo
	prov.Data.Path = spec.Data.Path
	prov.Data.SampleSeed = spec.DataOptions.SampleSeed
	job, err := prepare(in, prov, opts)
	if err != nil {
		return nil, err
	}
	job.Provenance.Directions.SHA256, _ = dirSum() // no error
	return job, nil
}

// checkGrid checks the grid and the shard, the zero shard becoming the
// whole grid.
func checkGrid(g grid.Grid, s *grid.Shard) error {
	if err := g.Validate(); err != nil {
		return err
	}
	if *s == (grid.Shard{}) {
		*s = grid.Whole()
	}
	return s.Validate()
}

// directions makes or reads u and v as d says (v only for a 2D grid),
// and describes them, all but their hash; file gives d.File read.
func directions(d Directions, file func() (*normalize.Unfitted, error), twoD bool, w *Weights, logf func(string, ...any)) (x, y *nets.StateDict, info surface.DirectionsInfo, err error) {
	net, center := w.Net, w.State
	opts := d.Options
	info = surface.DirectionsInfo{Seed: d.Seed, Norm: opts.Norm.String(), Ignore: opts.Ignore.String(), Mode: opts.Mode.String()}
	switch {
	case d.File != "":
		u, err := file()
		if err != nil {
			return nil, nil, info, err
		}
		f, err := u.Fit(net)
		if err != nil {
			return nil, nil, info, err
		}
		x, y = f.X, f.Y
		if sum := f.Meta.CheckpointSHA256; sum != "" && w.File.SHA256 != "" && sum != w.File.SHA256 {
			// Legitimate (one plane for several checkpoints), but worth
			// saying: the normalisation is the other checkpoint's.
			logf("directions %s were made for checkpoint %s (SHA-256 %.12s…), not %s: their filter normalisation is that checkpoint's",
				d.File, f.Meta.Checkpoint, sum, w.File.Path)
		}
		// The recipe, as the file records it (files written by other tools
		// may not say).
		info = surface.DirectionsInfo{Kind: "file", File: d.File, Seed: f.Meta.Seed, Norm: f.Meta.Norm, Ignore: f.Meta.Ignore, Mode: f.Meta.Mode}
		if twoD && y == nil {
			return nil, nil, info, fmt.Errorf("landscape: direction file %s has no y direction, but the grid has a y axis", d.File)
		}
		if !twoD && y != nil {
			logf("directions: %s holds an x and a y direction, but the grid is 1D (no y axis): only x is used", d.File)
		}
	case d.Target != "":
		info.Kind, info.File, info.Norm, info.Ignore = "target", d.Target, "none", "none"
		target, _, err := loadWeightsOf(d.Target, net)
		if err != nil {
			return nil, nil, info, err
		}
		if x, err = normalize.Target(net, center, target, opts.Mode); err != nil {
			return nil, nil, info, err
		}
		if twoD {
			if y, err = normalize.Random(net, center, &opts, normalize.NewRand(d.Seed)); err != nil {
				return nil, nil, info, err
			}
		}
	default:
		info.Kind = "random"
		if x, y, err = randomDirections(net, center, d.Seed, opts, twoD); err != nil {
			return nil, nil, info, err
		}
	}
	if !twoD {
		y = nil
	}
	return x, y, info, nil
}

// randomDirections draws x, then y if twoD, from one generator seeded
// with seed: the directions of the directions command and of a surface
// without a direction file are the same for the same seed.
func randomDirections(net *nets.Net, center *nets.StateDict, seed uint64, opts normalize.Options, twoD bool) (x, y *nets.StateDict, err error) {
	rng := normalize.NewRand(seed)
	if x, err = normalize.Random(net, center, &opts, rng); err != nil || !twoD {
		return x, nil, err
	}
	y, err = normalize.Random(net, center, &opts, rng)
	return x, y, err
}

// loadSets loads the splits of spec and fills the zero input geometry of
// mc from the first.
func loadSets(spec data.Spec, splits []string, opts *data.Options, mc nets.Config) ([]*data.Dataset, nets.Config, error) {
	var sets []*data.Dataset
	for _, split := range splits {
		d, err := data.Load(spec, split, opts)
		if err != nil {
			return nil, mc, err
		}
		for _, e := range sets {
			if e.Arrays != "" && e.Arrays == d.Arrays {
				return nil, mc, fmt.Errorf("landscape: data %s: splits %s and %s would both be arrays %s, the archive's only split: "+
					"give one --split, or an npz with x_%s, y_%s, x_%s and y_%s", spec, e.Split, d.Split, d.Arrays, e.Split, e.Split, d.Split, d.Split)
			}
		}
		sets = append(sets, d)
	}
	return sets, fillFromData(mc, sets[0]), nil
}

// fits checks the network of w, loaded with error err, against the data d
// and the input asked (see fitsAsked and fitsData); a checkpoint that did
// not fit (err) is explained by the data where it looks channels-last
// (see withDataHint).
func fits(w *Weights, err error, d *data.Dataset, spec data.Spec, asked nets.Config) error {
	if err != nil {
		return withDataHint(err, d, spec)
	}
	return errors.Join(fitsAsked(w.Net, asked), fitsData(w.Net, d, spec))
}

// fitsAsked checks that net takes the input asked (--channels, --size;
// zero: any): an ONNX export may have fixed it otherwise.
func fitsAsked(net *nets.Net, asked nets.Config) error {
	c := net.Config
	if c.Height == 1 && c.Width == 1 {
		return nil // an N x F input takes images of F values flattened: fitsData checks them
	}
	for _, d := range []struct {
		what      string
		asked, is int
	}{{"channels", asked.InChannels, c.InChannels}, {"height", asked.Height, c.Height}, {"width", asked.Width, c.Width}} {
		if d.asked > 0 && d.asked != d.is {
			return fmt.Errorf("landscape: model %s takes %dx%dx%d inputs, fixed by its export: %d %s asked (--channels, --size)", net.Name, c.InChannels, c.Height, c.Width, d.asked, d.what)
		}
	}
	return nil
}

// fitsData checks that net takes what d holds: images or token ids, and
// sequences of its length.
func fitsData(net *nets.Net, d *data.Dataset, spec data.Spec) error {
	seq := net.Config.Seq
	switch {
	case d.Seq > 0 && seq == 0:
		return fmt.Errorf("landscape: data %s holds token ids (sequences of %d), but model %s takes images; a language model is an ONNX file whose input is token ids N x T", spec, d.Seq, net.Name)
	case d.Seq == 0 && seq > 0:
		return fmt.Errorf("landscape: model %s is a language model (token ids N x %d), but data %s holds images; give it integer token ids N x T in an npz", net.Name, seq, spec)
	case d.Seq != seq:
		return fmt.Errorf("landscape: data %s holds sequences of %d tokens (and their next tokens), but model %s takes %d", spec, d.Seq, net.Name, seq)
	}
	c := net.Config
	flat := c.Height == 1 && c.Width == 1 && c.InChannels == d.SampleLen() // an N x F input takes the image flattened
	if seq > 0 || flat || d.C == c.InChannels && d.H == c.Height && d.W == c.Width {
		return nil
	}
	hint := ""
	if d.C == c.Height && d.H == c.Width && d.W == c.InChannels {
		hint = "; its images look " + channelsLast
	}
	return fmt.Errorf("landscape: data %s holds %dx%dx%d images, but model %s takes %dx%dx%d%s", spec, d.C, d.H, d.W, net.Name, c.InChannels, c.Height, c.Width, hint)
}

// withDataHint adds to err, a zoo model's checkpoint that does not fit
// the network shaped for the data d, the likelier cause where d's images
// look channels-last (N x H x W x C, read as C = H and W of 1 or 3): the
// first convolution's input channels then disagree.
func withDataHint(err error, d *data.Dataset, spec data.Spec) error {
	if d.Seq == 0 && d.C == d.H && d.C >= 8 && (d.W == 1 || d.W == 3) {
		return fmt.Errorf("%w\n  (data %s holds %dx%dx%d images, which look %s)", err, spec, d.C, d.H, d.W, channelsLast)
	}
	return err
}

// channelsLast is what images that look channels-last are told.
const channelsLast = "channels-last, N x H x W x C: transpose them to N x C x H x W (numpy: x.transpose(0, 3, 1, 2))"

// fillFromData fills the zero input geometry of mc from the shape of d.
// The classes are left to the checkpoint's classifier (see
// [CheckWeights]): labels beyond them are then reported as such.
func fillFromData(mc nets.Config, d *data.Dataset) nets.Config {
	if mc.InChannels == 0 {
		mc.InChannels = d.C
	}
	if mc.Height == 0 {
		mc.Height = d.H
	}
	if mc.Width == 0 {
		mc.Width = d.W
	}
	if mc.Seq == 0 {
		mc.Seq = d.Seq
	}
	return mc
}

// resume returns what the store holds from an earlier run of the same
// computation, nil if it holds nothing, and an error wrapping
// [ErrOtherComputation] if it holds another's points.
func resume(opts *Options, prov surface.Provenance, total int) (*surface.Surface, error) {
	if opts.Store == nil || opts.Overwrite {
		return nil, nil
	}
	prev, err := opts.Store.Load()
	if err != nil {
		return nil, fmt.Errorf("%s %w: %w", opts.Store, ErrCannotResume, err)
	}
	if prev == nil {
		return nil, nil
	}
	// A finished file is only read, so it need only be of the same
	// surface and shard (a merge of parts of several batch sizes, say);
	// one to be resumed must have been computed as this run computes.
	complete := prev.Provenance.Progress.Complete()
	err = prev.Provenance.Compatible(prov, !complete)
	if err == nil && complete && prev.Provenance.Shard != prov.Shard {
		err = &surface.Mismatch{What: "shard", P: prev.Provenance.Shard, Q: prov.Shard}
	}
	if err != nil {
		if m := (*surface.Mismatch)(nil); errors.As(err, &m) {
			return nil, fmt.Errorf("%s %w: %s", opts.Store, ErrOtherComputation, m.Between("it", "this run"))
		}
		return nil, fmt.Errorf("%s %w: %w", opts.Store, ErrOtherComputation, err)
	}
	if !slices.Equal(prev.Metrics, prov.Metrics()) {
		return nil, fmt.Errorf("%s %w: it has metrics %v, this run %v", opts.Store, ErrOtherComputation, prev.Metrics, prov.Metrics())
	}
	opts.logf("resuming %s: %d of %d points already computed", opts.Store, len(prev.Points), total)
	return prev, nil
}

// WriteDirections draws random directions for the weights w as a surface
// with the same seed and options draws them (x, then y if twoD), and
// writes them to path with their recipe, so that every shard of a cluster
// run, or every surface of a comparison, uses the same u and v.
func WriteDirections(path string, w *Weights, seed uint64, opts normalize.Options, twoD bool) (normalize.Meta, error) {
	x, y, err := randomDirections(w.Net, w.State, seed, opts, twoD)
	if err != nil {
		return normalize.Meta{}, err
	}
	meta := normalize.Meta{
		Kind: "random", Model: w.Net.Name, Checkpoint: w.File.Path, CheckpointSHA256: w.File.SHA256, Seed: seed,
		Norm: opts.Norm.String(), Ignore: opts.Ignore.String(), Mode: opts.Mode.String(), SHA256: normalize.Hash(x, y),
	}
	return meta, normalize.WriteFile(path, x, y, meta)
}

// normalisation says how d was normalised, for the log: a network sees
// other numbers than it was trained on when this differs from its
// training's, and nothing else would show it.
func normalisation(d *data.Dataset) string {
	switch {
	case d.Mean == nil:
		return ", float values taken as normalised"
	case surface.ScaledOnly(d.Mean, d.Std):
		return ", scaled to [0, 1] and not normalised (--mean, --std)"
	}
	return fmt.Sprintf(", normalised with mean %.4g and std %.4g (--mean, --std)", d.Mean, d.Std)
}
