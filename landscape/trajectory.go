package landscape

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"time"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape/surface"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/normalize"
)

// TrajectoryConfig describes the PCA of a training trajectory and, with
// Data set, the losses along it. Zero fields mean the documented defaults.
type TrajectoryConfig struct {
	// Model is a zoo name; required. ModelConfig sets input channels,
	// image size and classes; zero fields come from the data if any, else
	// from the zoo's CIFAR-10 defaults.
	Model       string
	ModelConfig nets.Config
	// Checkpoints lists the checkpoint files in training order; at least
	// three, the final one included.
	Checkpoints []string
	// Final is the model the path ends at, the origin of the directions
	// (the model the surface is then computed around). Empty means the last
	// of Checkpoints; a Final not among them is appended, since the
	// reference's rows always include the final model.
	Final string
	// PCA selects the entries covered: the zero value is weights mode with
	// biases and batch norm ignored, the reference's recommendation.
	PCA normalize.PCAOptions
	// Directions, if set, is a direction file (another run's PCA, say) to
	// project the checkpoints on instead of fitting their own components,
	// so that several runs can be drawn on one surface around Final.
	Directions string

	// Data, if its Kind is set, is evaluated at every checkpoint and at
	// its projected point; Splits lists the splits (nil means train).
	Data        data.Spec
	Splits      []string
	DataOptions data.Options
	// BatchSize is the samples per forward pass on the CPU; 0 means 128.
	BatchSize int
}

// Trajectory is the outcome of [RunTrajectory]: PCA directions around the
// final model and the path of the checkpoints in their plane.
type Trajectory struct {
	Model surface.ModelInfo
	Final surface.FileInfo
	// PCA holds the directions (X = PC1, Y = PC2, unit norm) and
	// scikit-learn's variance statistics.
	PCA *normalize.PCAResult
	// Options are the options the PCA ran with; Values is the number of
	// scalars it covered.
	Options normalize.PCAOptions
	Values  int
	// Directions describes the directions for provenance: Kind "pca" and
	// their hash.
	Directions surface.DirectionsInfo
	// Data describes the evaluated data; nil without data. Metrics names
	// the values of each point (train_loss, train_acc, ...).
	Data    *surface.DataInfo
	Metrics []string
	// Points follows the checkpoints in order; the final model's is last
	// or where it appears in Checkpoints.
	Points []TrajectoryPoint
	// Started is when the computation began, WallSeconds how long it took.
	Started     time.Time
	WallSeconds float64
}

// TrajectoryPoint is one checkpoint of a trajectory.
type TrajectoryPoint struct {
	Checkpoint string
	// Projection places the checkpoint in the plane: (X, Y) and its
	// distance from the plane.
	normalize.Projection
	// Values holds the metrics at the checkpoint itself and Projected
	// those at its projected point, final + X·pc1 + Y·pc2 (with the final
	// model's batch-norm statistics where the directions do not move
	// them); both nil without data.
	Values, Projected []float64
}

// RunTrajectory reads the checkpoints one at a time, keeping only their
// differences from the final model (as float32 rows), fits the PCA and,
// with data, evaluates every checkpoint and every projected point on
// opts.Device. On cancellation it returns the context's error.
func RunTrajectory(ctx context.Context, cfg TrajectoryConfig, opts *Options) (*Trajectory, error) {
	start := time.Now()
	if opts == nil {
		opts = &Options{}
	}
	if cfg.Model == "" {
		return nil, errors.New("landscape: trajectory: no model given")
	}
	paths := append([]string(nil), cfg.Checkpoints...)
	if len(paths) == 0 {
		return nil, errors.New("landscape: trajectory: no checkpoints given")
	}
	final := cfg.Final
	if final == "" {
		final = paths[len(paths)-1]
	}
	finalAt := -1
	for i, p := range paths {
		if filepath.Clean(p) == filepath.Clean(final) {
			finalAt = i
		}
	}
	// A final model outside the run is a point of its path, as in the
	// reference, unless the path is projected on another run's plane: then
	// it is only that plane's origin, another run's model.
	if finalAt < 0 && cfg.Directions == "" {
		paths = append(paths, final)
		finalAt = len(paths) - 1
	}
	withData := cfg.Data.Kind != 0
	splits := cfg.Splits
	if len(splits) == 0 {
		splits = []string{"train"}
	}
	mc := cfg.ModelConfig
	var sets []*data.Dataset
	if withData {
		var err error
		if sets, mc, err = loadSets(cfg.Data, splits, &cfg.DataOptions, mc); err != nil {
			return nil, err
		}
		for _, d := range sets {
			opts.logf("data: %s %s, %d samples of %dx%dx%d", cfg.Data, d.Split, d.N, d.C, d.H, d.W)
		}
	}
	w, err := LoadWeights(final, cfg.Model, mc)
	if err != nil {
		return nil, err
	}
	net, finalSD := w.Net, w.State
	pca, err := normalize.NewPCA(net, finalSD, &cfg.PCA)
	if err != nil {
		return nil, err
	}
	opts.logf("trajectory: %d checkpoints ending at %s; PCA over %d values (%s mode, ignore %s)",
		len(paths), final, pca.Dim(), cfg.PCA.Mode, cfg.PCA.Ignore)

	var prob *backend.Problem
	if withData {
		prob = &backend.Problem{Net: net, Center: finalSD, BatchSize: cfg.BatchSize}
		for _, d := range sets {
			prob.Data = append(prob.Data, backendData(net, d))
		}
	}
	total := len(paths)
	if withData {
		total *= 2
	}
	done := 0
	step := func() {
		done++
		if opts.Progress != nil {
			opts.Progress(done, total)
		}
	}

	tr := &Trajectory{
		Model:   modelInfo(net),
		Final:   w.File,
		Options: cfg.PCA,
		Values:  pca.Dim(),
		Points:  make([]TrajectoryPoint, len(paths)),
	}
	for i, path := range paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sd := finalSD
		if i != finalAt {
			if sd, _, err = loadWeightsOf(path, net); err != nil {
				return nil, err
			}
		}
		if err := pca.Add(sd, path); err != nil {
			return nil, err
		}
		tr.Points[i].Checkpoint = path
		if withData {
			own := *prob
			own.Center = sd
			values, err := evaluate(ctx, &own, opts.Device, []backend.Coord{{}})
			if err != nil {
				return nil, err
			}
			tr.Points[i].Values = values[0]
		}
		step()
	}
	pcaOpts := cfg.PCA
	if cfg.Directions != "" {
		x, y, err := normalize.ReadFile(cfg.Directions, net)
		if err != nil {
			return nil, err
		}
		points, err := pca.ProjectOn(x, y)
		if err != nil {
			return nil, fmt.Errorf("landscape: trajectory on %s: %w", cfg.Directions, err)
		}
		tr.PCA = &normalize.PCAResult{X: x, Y: y, Points: points}
		tr.Directions = surface.DirectionsInfo{Kind: "file", File: cfg.Directions, Norm: "as in file", Ignore: pcaOpts.Ignore.String(),
			Mode: pcaOpts.Mode.String(), SHA256: normalize.Hash(x, y)}
		opts.logf("trajectory: projected on the directions of %s", cfg.Directions)
	} else {
		if tr.PCA, err = pca.Fit(); err != nil {
			return nil, err
		}
		tr.Directions = surface.DirectionsInfo{Kind: "pca", Norm: "none", Ignore: pcaOpts.Ignore.String(), Mode: pcaOpts.Mode.String(),
			SHA256: normalize.Hash(tr.PCA.X, tr.PCA.Y)}
		opts.logf("trajectory: PC1 %.2f%%, PC2 %.2f%% of the variance", 100*tr.PCA.ExplainedVarianceRatio[0], 100*tr.PCA.ExplainedVarianceRatio[1])
	}
	for i, p := range tr.PCA.Points {
		tr.Points[i].Projection = p
	}

	if withData {
		prob.X, prob.Y = tr.PCA.X, tr.PCA.Y
		coords := make([]backend.Coord, len(paths))
		for i, p := range tr.Points {
			coords[i] = backend.Coord{X: p.X, Y: p.Y}
		}
		values, err := evaluate(ctx, prob, opts.Device, coords, step)
		if err != nil {
			return nil, err
		}
		for i := range tr.Points {
			tr.Points[i].Projected = values[i]
		}
		first := sets[0]
		var samples []int
		for _, d := range sets {
			samples = append(samples, d.N)
		}
		tr.Data = &surface.DataInfo{Name: cfg.Data.Kind.String(), Path: cfg.Data.Path, Splits: splits, Samples: samples,
			SampleSeed: cfg.DataOptions.SampleSeed, Mean: first.Mean, Std: first.Std}
		tr.Metrics = surface.Metrics(splits)
	}
	tr.Started, tr.WallSeconds = start, time.Since(start).Seconds()
	return tr, nil
}

// AxesCovering returns grid axes of num points each that cover the points
// (xs[i], ys[i]) and the origin with a margin, with the origin a point of
// each grid, so that the surface holds the model it is centred on. Each
// range is widened by margin times its span on both sides (a span of zero
// counts as 1, and is −0.5 to 0.5 with no margin), then its ends are
// rounded outward to two significant digits of the span. If no point of
// that axis is exactly 0 as [grid.Axis.At] computes it, the step is chosen
// instead: the range over num − 2 steps rounded up to two significant
// digits (or a little more, for 0 to come out exactly), the axis starting
// a whole number of steps below 0. An axis of 2 points, which cannot hold
// the origin and both sides, has the rounded ends; one of 1 point is the
// origin. It suits the path of a trajectory or the three models of a
// plane.
func AxesCovering(xs, ys []float64, margin float64, num int) (x, y grid.Axis) {
	return axisCovering(xs, margin, num), axisCovering(ys, margin, num)
}

func axisCovering(v []float64, margin float64, num int) grid.Axis {
	lo, hi := 0.0, 0.0
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	span := hi - lo
	if span == 0 {
		span = 1
	}
	lo -= margin * span
	hi += margin * span
	if lo == hi { // no margin around no range
		lo, hi = -span/2, span/2
	}
	if num == 1 {
		return grid.Axis{Num: 1}
	}
	// decimal returns n·10^e, dividing by the power of ten's reciprocal
	// when e < 0 to keep results like -0.3 exact.
	decimal := func(n, e int) float64 {
		if e < 0 {
			return float64(n) / math.Pow(10, float64(-e))
		}
		return float64(n) * math.Pow(10, float64(e))
	}
	e := int(math.Floor(math.Log10(hi-lo))) - 1
	q := decimal(1, e)
	a := grid.Axis{Min: decimal(int(math.Floor(lo/q)), e), Max: decimal(int(math.Ceil(hi/q)), e), Num: num}
	if num == 2 || holdsOrigin(a) {
		return a
	}
	raw := (hi - lo) / float64(num-2)
	e = int(math.Floor(math.Log10(raw))) - 1
	d := int(math.Ceil(raw / decimal(1, e))) // 10 to 100: the step is d·10^e
	// The first axis, by length then by its start, whose k-th point comes
	// to 0 exactly in floating point: most do.
	for ; d < 1000; d++ {
		step := decimal(d, e)
		for k := int(math.Ceil(-lo / step)); k < num && float64(num-1-k)*step >= hi; k++ {
			a = grid.Axis{Min: decimal(-k*d, e), Max: decimal((num-1-k)*d, e), Num: num}
			if a.At(k) == 0 {
				return a
			}
		}
	}
	return a
}

// WithOrigin returns a, an axis whose range holds 0, where one of its
// points is exactly 0 or it has fewer than 3; else the axis of as many
// points that [AxesCovering] gives over a's range with no margin, one of
// whose points is 0. It is the grid of --x=auto:N, a suggested range with
// another number of points, so that the surface still holds its centre.
func WithOrigin(a grid.Axis) grid.Axis {
	if a.Num < 3 || holdsOrigin(a) {
		return a
	}
	return axisCovering([]float64{a.Min, a.Max}, 0, a.Num)
}

// holdsOrigin reports whether a point of a, an axis of 2 points or more,
// is exactly 0.
func holdsOrigin(a grid.Axis) bool {
	k := int(math.Round(-a.Min / (a.Max - a.Min) * float64(a.Num-1)))
	return k >= 0 && k < a.Num && a.At(k) == 0
}
