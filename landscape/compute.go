package landscape

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape/surface"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/normalize"
)

// Input is a surface computation from values in memory: a network with
// its weights, the data, and the directions or how to draw them. It is
// what [Run] builds from files, for Go programs that hold the weights
// already (trained in Go, or through the Gorgonia adapter).
type Input struct {
	Net     *nets.Net
	Weights *nets.StateDict // θ, with batch-norm running statistics
	// Data lists the datasets evaluated at every point (one per split), in
	// memory and normalised, as data.Load returns them.
	Data []*data.Dataset
	// X and Y are the directions u and v. If X is nil, both are drawn
	// from Seed and normalised as Directions say (filter normalisation,
	// biases and batch norm ignored, by default).
	X, Y       *nets.StateDict
	Seed       uint64
	Directions normalize.Options
	// Grid, Shard, BatchSize, GradNorm and Curvature are as in [Spec].
	Grid      grid.Grid
	Shard     grid.Shard
	BatchSize int
	GradNorm  *GradNorm
	Curvature *Curvature
}

// Compute computes the surface of in, with its provenance: the weights
// and directions are identified by hashes of their values. On
// cancellation it returns the points finished so far with the context's
// error.
func Compute(ctx context.Context, in *Input, opts *Options) (*surface.Surface, error) {
	start := time.Now()
	if opts == nil {
		opts = &Options{}
	}
	if in.Net == nil || in.Weights == nil || len(in.Data) == 0 {
		return nil, errors.New("landscape: an input needs a network, its weights and data")
	}
	if err := checkGrid(in.Grid, &in.Shard); err != nil {
		return nil, err
	}
	if err := in.Net.Check(in.Weights); err != nil {
		return nil, fmt.Errorf("landscape: weights: %w", err)
	}
	if bad := in.Weights.NonFinite(); len(bad) > 0 {
		return nil, fmt.Errorf("landscape: weights: %w: NaN or Inf in %s", ErrNonFinite, bad[0])
	}
	twoD := in.Grid.Y != nil
	c := *in
	info := surface.DirectionsInfo{Kind: "memory", Norm: "as given", Ignore: "as given", Mode: "as given"}
	if c.X == nil {
		var err error
		if c.X, c.Y, err = randomDirections(c.Net, c.Weights, c.Seed, c.Directions, twoD); err != nil {
			return nil, err
		}
		o := c.Directions
		info = surface.DirectionsInfo{Kind: "random", Seed: c.Seed, Norm: o.Norm.String(), Ignore: o.Ignore.String(), Mode: o.Mode.String()}
	}
	if twoD && c.Y == nil {
		return nil, errors.New("landscape: the grid has a y axis but the input has no y direction")
	}
	if !twoD {
		c.Y = nil
	}
	info.SHA256 = normalize.Hash(c.X, c.Y)
	prov := provenance(&c)
	prov.Checkpoint = surface.FileInfo{Path: "(memory)", SHA256: normalize.Hash(c.Weights, nil)}
	prov.Directions = info
	job, err := prepare(&c, prov, opts)
	if err != nil {
		return nil, err
	}
	defer job.Close()
	return job.run(ctx, start)
}

// provenance describes in: model, data and grid (the files it came from,
// if any, are the caller's to add).
func provenance(in *Input) surface.Provenance {
	first := in.Data[0]
	p := surface.Provenance{
		Tool: "landscape", Version: Version,
		Model: modelInfo(in.Net),
		Data:  surface.DataInfo{Name: first.Name, Mean: first.Mean, Std: first.Std},
		Grid:  in.Grid, Shard: in.Shard,
	}
	for _, d := range in.Data {
		p.Data.Splits = append(p.Data.Splits, d.Split)
		p.Data.Samples = append(p.Data.Samples, d.N)
	}
	p.Data.SHA256 = dataHash(in.Data)
	return p
}

// dataHash is the SHA-256 of the datasets' values as evaluated: for each
// in order, its shape, its normalised images (float32 bits, little-endian)
// and its labels.
func dataHash(sets []*data.Dataset) string {
	h := sha256.New()
	var buf []byte
	for _, d := range sets {
		buf = binary.LittleEndian.AppendUint64(buf[:0], uint64(d.N))
		for _, n := range []int{d.C, d.H, d.W} {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(n))
		}
		h.Write(buf)
		for start := 0; start < len(d.X); start += 1 << 14 {
			buf = buf[:0]
			for _, v := range d.X[start:min(start+1<<14, len(d.X))] {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			}
			h.Write(buf)
		}
		buf = buf[:0]
		for _, y := range d.Y {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(y))
		}
		h.Write(buf)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Job is a prepared run: model, weights, directions and data loaded and
// checked, evaluator built. Close releases the evaluator.
type Job struct {
	Input      *Input
	Problem    *backend.Problem
	Evaluator  backend.Evaluator
	Provenance surface.Provenance
	Indices    []int // the grid points of the shard
	// Resumed is the number of points Run took from Options.Store instead
	// of computing them.
	Resumed int
	opts    *Options
}

// prepare builds the evaluator of in and the job's provenance.
func prepare(in *Input, prov surface.Provenance, opts *Options) (*Job, error) {
	prob := &backend.Problem{Net: in.Net, Center: in.Weights, X: in.X, Y: in.Y, BatchSize: in.BatchSize}
	for _, d := range in.Data {
		prob.Data = append(prob.Data, backendData(in.Net, d))
	}
	device := opts.Device
	derivatives := in.GradNorm != nil || in.Curvature != nil
	if derivatives {
		split := in.Data[0].Split
		if in.GradNorm != nil {
			prov.GradNorm = &surface.GradNormInfo{Split: split, Params: in.GradNorm.Params.String()}
		}
		if in.Curvature != nil {
			prov.Curvature = in.Curvature.info(split)
		}
	}
	ev, kind, err := newEvaluator(prob, device, opts.logf)
	if err != nil {
		return nil, err
	}
	if derivatives {
		dev, err := newDerivativeEvaluator(ev, prob, in.GradNorm, in.Curvature, prov, device, opts.logf, opts.warnf)
		if err != nil {
			ev.Close()
			return nil, err
		}
		ev = dev
	}
	prov.BatchSize = ev.BatchSize()
	prov.Backend, prov.Device, prov.Arithmetic = kind, ev.Describe(), ev.Arithmetic()
	opts.logf("backend: %s", ev.Describe())
	return &Job{Input: in, Problem: prob, Evaluator: ev, Provenance: prov, Indices: in.Grid.Indices(in.Shard), opts: opts}, nil
}

// logCentre evaluates the centre, the trained model itself, and logs its
// loss and accuracy before the grid, warning when the accuracy is near
// chance: then the data is likely normalised otherwise than in training,
// or the checkpoint is not what it should be, and the whole surface would
// be meaningless.
func (j *Job) logCentre(ctx context.Context) error {
	var values []float64
	ev := j.Evaluator
	if d, ok := ev.(*derivativeEvaluator); ok {
		ev = d.Evaluator // the loss alone, not the centre's derivatives too
	}
	err := ev.Evaluate(ctx, []backend.Coord{{}}, func(_ int, v []float64) { values = v })
	if err != nil {
		return err
	}
	chance := 100 / float64(j.Input.Net.Config.Classes)
	for k, split := range j.Provenance.Data.Splits {
		loss, acc := values[2*k], values[2*k+1]
		j.opts.logf("centre (the checkpoint itself): %s loss %.4g, accuracy %.2f%% (chance %.2g%%)", split, loss, acc, chance)
		if !(acc >= 1.5*chance) {
			j.opts.warnf("the checkpoint is near chance on the %s data (accuracy %.2f%%, chance %.2g%%): is the data normalised as in training (--mean, --std), and is it the right checkpoint?", split, acc, chance)
		}
	}
	return nil
}

// Close releases the job's evaluator.
func (j *Job) Close() error { return j.Evaluator.Close() }

// Run computes the job's points, resuming from Options.Store, and
// returns the surface of its shard. On cancellation it returns the points
// done so far, saved to the store if there is one, with the context's
// error.
func (j *Job) Run(ctx context.Context) (*surface.Surface, error) {
	return j.run(ctx, time.Now())
}

// run is Run for a job whose run began at start (loading included).
func (j *Job) run(ctx context.Context, start time.Time) (*surface.Surface, error) {
	opts := j.opts
	g := j.Input.Grid
	total := len(j.Indices)
	prev, err := resume(opts, j.Provenance, total)
	if err != nil {
		return nil, err
	}
	s := &surface.Surface{Metrics: j.Provenance.Metrics(), Provenance: j.Provenance}
	s.Provenance.Created = start.UTC().Format(time.RFC3339)
	var earlier float64
	have := map[int]bool{}
	if prev != nil {
		for _, p := range prev.Points {
			have[p.Index] = true
		}
		s.Points = slices.Clone(prev.Points)
		j.Resumed = len(prev.Points)
		s.Provenance.Created, earlier = prev.Provenance.Created, prev.Provenance.WallSeconds
	}
	var pending []int
	for _, i := range j.Indices {
		if !have[i] {
			pending = append(pending, i)
		}
	}
	if prev != nil && len(pending) == 0 && prev.Provenance.Progress.Complete() {
		return prev, nil // finished before: the store is left as it is, its times included
	}
	if opts.Log != nil || opts.Warn != nil {
		if err := j.logCentre(ctx); err != nil {
			return nil, err
		}
	}
	coords := make([]backend.Coord, len(pending))
	for k, i := range pending {
		x, y := g.Point(i)
		if math.IsNaN(y) {
			y = 0
		}
		coords[k] = backend.Coord{X: x, Y: y}
	}
	snapshot := func() *surface.Surface {
		c := *s
		c.Points = slices.Clone(s.Points)
		slices.SortFunc(c.Points, func(a, b surface.Point) int { return a.Index - b.Index })
		c.Provenance.WallSeconds = earlier + time.Since(start).Seconds()
		c.Provenance.Progress = surface.Progress{Done: len(c.Points), Total: total}
		return &c
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	every := opts.SaveEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	lastSave := time.Now()
	err = j.Evaluator.Evaluate(ctx, coords, func(k int, values []float64) {
		i := pending[k]
		x, y := g.Point(i)
		s.Points = append(s.Points, surface.Point{Index: i, X: x, Y: y, Values: values})
		if opts.Progress != nil {
			opts.Progress(len(s.Points), total)
		}
		if opts.Store != nil && time.Since(lastSave) >= every && len(s.Points) < total {
			if err := opts.Store.Save(snapshot()); err != nil {
				cancel(err)
			}
			lastSave = time.Now()
		}
	})
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) && !errors.Is(cause, context.DeadlineExceeded) {
		return nil, cause // a failed save
	}
	out := snapshot()
	if opts.Store == nil || (err != nil && (ctx.Err() == nil || len(out.Points) == 0)) {
		return out, err
	}
	if serr := opts.Store.Save(out); serr != nil {
		if err != nil {
			return out, fmt.Errorf("%w; saving the %d points done to %s failed too: %v", err, len(out.Points), opts.Store, serr)
		}
		return out, serr
	}
	return out, err
}

// backendData hands a dataset to a backend. A network that takes its
// images flattened (an MLP exported with an N x F input) gets them as
// F x 1 x 1 samples: the same values in the same order.
func backendData(net *nets.Net, d *data.Dataset) *backend.Data {
	c, h, w := d.C, d.H, d.W
	if cfg := net.Config; cfg.Height == 1 && cfg.Width == 1 && c*h*w == cfg.InChannels {
		c, h, w = c*h*w, 1, 1
	}
	return &backend.Data{Name: d.Split, N: d.N, C: c, H: h, W: w, X: d.X, Y: d.Y, Seq: d.Seq}
}
