package landscape

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/internal/clip"
	"github.com/landscape-go/landscape/landscape/surface"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/checkpoint"
	"github.com/landscape-go/landscape/normalize"
)

// Version is the tool version recorded in every output's provenance.
var Version = "0.1.0-dev"

// Config describes one surface computation. Zero fields mean the documented
// defaults, which are the reference's recommended settings.
type Config struct {
	// Model is a zoo name (see nets.Models); required.
	Model string
	// ModelConfig sets input channels, image size and classes; zero fields
	// are taken from the dataset.
	ModelConfig nets.Config
	// Checkpoint is the weights file θ; required.
	Checkpoint string

	// Data names the dataset; Splits lists the splits evaluated at every
	// point (nil means train, as the reference).
	Data        data.Spec
	Splits      []string
	DataOptions data.Options

	// DirectionFile, if set, holds final directions (x.<key>, y.<key>);
	// otherwise directions are drawn from Seed and normalised per
	// Directions, or, with Target set, x is Target − Checkpoint.
	DirectionFile string
	Target        string
	Seed          uint64
	Directions    normalize.Options

	// Grid gives the axes; Grid.Y nil makes a 1D surface.
	Grid grid.Grid
	// Shard restricts the run to a share of the points; zero means all.
	Shard grid.Shard

	// BatchSize is the samples per forward pass on the CPU; 0 means 128.
	// A GPU chooses its own from free memory.
	BatchSize int
	// Workers is the number of CPU workers; 0 means all cores.
	Workers int
	// Device is where the forward passes run (see [Device]); "" is the
	// CPU. TF32 lets a GPU compute convolutions in TF32.
	Device string
	TF32   bool

	// Resume holds the points an earlier, interrupted run of the same
	// computation and shard saved; they are kept and not recomputed. Its
	// provenance must be compatible (see surface.Provenance.Compatible).
	Resume *surface.Surface
	// Save, if set, is called with the points computed so far (a complete
	// Surface of the shard's points done) at most every SaveEvery while the
	// run goes on (0 means 5 seconds), so that a killed run loses little. An
	// error from Save stops the run.
	Save      func(*surface.Surface) error
	SaveEvery time.Duration

	// Progress, if set, is called after each point with the number done
	// and the total, from one goroutine at a time.
	Progress func(done, total int)
	// Log, if set, receives one-line notes (what was loaded, the backend).
	Log io.Writer
}

// Run computes the surface cfg describes. On cancellation it returns the
// points finished so far together with the context's error.
func Run(ctx context.Context, cfg Config) (*surface.Surface, error) {
	start := time.Now()
	job, err := Prepare(cfg)
	if err != nil {
		return nil, err
	}
	defer job.Evaluator.Close()
	return job.Evaluate(ctx, start)
}

// Job is a prepared run: model, weights, directions and data loaded and
// checked, evaluator built. It lets callers inspect what will run.
type Job struct {
	Config     Config
	Net        *nets.Net
	Problem    *backend.Problem
	Evaluator  backend.Evaluator
	Provenance surface.Provenance
	Indices    []int // grid points to compute
}

// Prepare loads and checks everything cfg names.
func Prepare(cfg Config) (*Job, error) {
	if cfg.Model == "" {
		return nil, errors.New("landscape: no model given")
	}
	if cfg.Checkpoint == "" {
		return nil, errors.New("landscape: no checkpoint given: without one the surface would be that of an untrained network")
	}
	if err := cfg.Grid.Validate(); err != nil {
		return nil, err
	}
	if cfg.Shard == (grid.Shard{}) {
		cfg.Shard = grid.Whole()
	}
	if err := cfg.Shard.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.Splits) == 0 {
		cfg.Splits = []string{"train"}
	}
	logf := func(format string, a ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format+"\n", a...)
		}
	}

	// The checkpoint is read first: it is the likelier input to be wrong,
	// and data can take a while to load.
	center, _, err := checkpoint.Load(cfg.Checkpoint)
	if err != nil {
		return nil, err
	}
	sets, mc, err := loadSets(cfg.Data, cfg.Splits, &cfg.DataOptions, cfg.ModelConfig)
	if err != nil {
		return nil, err
	}
	for _, d := range sets {
		logf("data: %s %s, %d samples of %dx%dx%d", cfg.Data, d.Split, d.N, d.C, d.H, d.W)
	}
	first := sets[0]
	if cfg.ModelConfig.Classes == 0 {
		// The checkpoint's classifier says how many classes the network
		// has; labels beyond them are then reported as such.
		if n := nets.ClassesOf(cfg.Model, center); n > 0 {
			mc.Classes = n
		}
	}
	net, err := nets.New(cfg.Model, mc)
	if err != nil {
		return nil, err
	}

	sum, err := checkWeights(cfg.Checkpoint, center, net)
	if err != nil {
		return nil, err
	}
	logf("model: %s, %d parameters, weights from %s", net.Name, net.NumParams(), cfg.Checkpoint)

	x, y, dinfo, err := directions(cfg, net, center)
	if err != nil {
		return nil, err
	}

	prob := &backend.Problem{Net: net, Center: center, X: x, Y: y, BatchSize: cfg.BatchSize}
	if cfg.Grid.Y == nil {
		prob.Y = nil
	}
	var samples []int
	for _, d := range sets {
		prob.Data = append(prob.Data, &backend.Data{Name: d.Split, N: d.N, C: d.C, H: d.H, W: d.W, X: d.X, Y: d.Y})
		samples = append(samples, d.N)
	}
	ev, kind, err := newEvaluator(prob, Device{Name: cfg.Device, TF32: cfg.TF32, Workers: cfg.Workers}, logf)
	if err != nil {
		return nil, err
	}
	batch := cfg.BatchSize
	if batch <= 0 {
		batch = 128
	}
	job := &Job{
		Config: cfg, Net: net, Problem: prob, Evaluator: ev,
		Indices: cfg.Grid.Indices(cfg.Shard),
		Provenance: surface.Provenance{
			Tool: "landscape", Version: Version,
			Model:      surface.ModelInfo{Name: net.Name, InChannels: mc.InChannels, Height: mc.Height, Width: mc.Width, Classes: mc.Classes},
			Checkpoint: surface.FileInfo{Path: cfg.Checkpoint, SHA256: sum},
			Directions: dinfo,
			Data: surface.DataInfo{Name: cfg.Data.Kind.String(), Path: cfg.Data.Path, Splits: cfg.Splits, Samples: samples,
				SampleSeed: cfg.DataOptions.SampleSeed, Mean: first.Mean, Std: first.Std},
			Grid:      cfg.Grid,
			Shard:     cfg.Shard,
			BatchSize: batch,
			Backend:   kind,
			Device:    ev.Describe(),
		},
	}
	logf("backend: %s", ev.Describe())
	return job, nil
}

// Evaluate computes the job's points that Config.Resume does not hold.
// start is when the run began, for the wall time in the provenance. On
// cancellation it returns the points done so far with the context's error.
func (j *Job) Evaluate(ctx context.Context, start time.Time) (*surface.Surface, error) {
	cfg := j.Config
	g := cfg.Grid
	s := &surface.Surface{Metrics: surface.Metrics(cfg.Splits), Provenance: j.Provenance}
	s.Provenance.Created = start.UTC().Format(time.RFC3339)
	var earlier float64
	have := map[int]bool{}
	if r := cfg.Resume; r != nil {
		if err := r.Provenance.Compatible(j.Provenance, true); err != nil {
			return nil, fmt.Errorf("landscape: cannot resume: %w", err)
		}
		if !slices.Equal(r.Metrics, s.Metrics) {
			return nil, fmt.Errorf("landscape: cannot resume: saved metrics %v, this run's %v", r.Metrics, s.Metrics)
		}
		for _, p := range r.Points {
			have[p.Index] = true
		}
		s.Points = slices.Clone(r.Points)
		s.Provenance.Created, earlier = r.Provenance.Created, r.Provenance.WallSeconds
	}
	var pending []int
	for _, i := range j.Indices {
		if !have[i] {
			pending = append(pending, i)
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

	total := len(j.Indices)
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
	every := cfg.SaveEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	lastSave := time.Now()
	err := j.Evaluator.Evaluate(ctx, coords, func(k int, values []float64) {
		i := pending[k]
		x, y := g.Point(i)
		s.Points = append(s.Points, surface.Point{Index: i, X: x, Y: y, Values: values})
		if cfg.Progress != nil {
			cfg.Progress(len(s.Points), total)
		}
		if cfg.Save != nil && time.Since(lastSave) >= every && len(s.Points) < total {
			if err := cfg.Save(snapshot()); err != nil {
				cancel(err)
			}
			lastSave = time.Now()
		}
	})
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) && !errors.Is(cause, context.DeadlineExceeded) {
		err = cause // a failed save
	}
	return snapshot(), err
}

// loadWeights reads a checkpoint and checks it (see checkWeights).
func loadWeights(path string, net *nets.Net) (*nets.StateDict, string, error) {
	sd, _, err := checkpoint.Load(path)
	if err != nil {
		return nil, "", err
	}
	sum, err := checkWeights(path, sd, net)
	return sd, sum, err
}

// checkWeights checks that the weights read from path fit net and are all
// finite, and returns the file's SHA-256.
func checkWeights(path string, sd *nets.StateDict, net *nets.Net) (string, error) {
	if err := net.Check(sd); err != nil {
		if fits := nets.Identify(sd, net.Config); len(fits) > 0 {
			return "", fmt.Errorf("landscape: checkpoint %s: %w\n  (the checkpoint fits model %s)", path, err, strings.Join(fits, ", "))
		}
		return "", fmt.Errorf("landscape: checkpoint %s: %w", path, err)
	}
	bad := sd.NonFinite()
	if len(bad) > 0 {
		return "", fmt.Errorf("landscape: checkpoint %s: %w: NaN or Inf in %s", path, ErrNonFinite, clip.Join(bad))
	}
	return fileSHA256(path)
}

// ErrNonFinite is wrapped by the error for weights holding NaN or Inf.
var ErrNonFinite = errors.New("weights are not finite")

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("landscape: hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// directions makes or reads u and v as cfg says.
func directions(cfg Config, net *nets.Net, center *nets.StateDict) (x, y *nets.StateDict, info surface.DirectionsInfo, err error) {
	opts := cfg.Directions
	info = surface.DirectionsInfo{Seed: cfg.Seed, Norm: opts.Norm.String(), Ignore: opts.Ignore.String(), Mode: opts.Mode.String()}
	switch {
	case cfg.DirectionFile != "":
		f, err := normalize.Load(cfg.DirectionFile, net)
		if err != nil {
			return nil, nil, info, err
		}
		x, y = f.X, f.Y
		// The recipe, as the file records it (files written by other tools
		// may not say).
		info = surface.DirectionsInfo{Kind: "file", File: cfg.DirectionFile, Norm: f.Meta["norm"], Ignore: f.Meta["ignore"], Mode: f.Meta["mode"]}
		info.Seed, _ = strconv.ParseUint(f.Meta["seed"], 10, 64)
		if cfg.Grid.Y != nil && y == nil {
			return nil, nil, info, fmt.Errorf("landscape: direction file %s has no y direction, but the grid has a y axis", cfg.DirectionFile)
		}
	case cfg.Target != "":
		info.Kind, info.File, info.Norm, info.Ignore = "target", cfg.Target, "none", "none"
		target, _, err := loadWeights(cfg.Target, net)
		if err != nil {
			return nil, nil, info, err
		}
		if x, err = normalize.Target(net, center, target, opts.Mode); err != nil {
			return nil, nil, info, err
		}
		if cfg.Grid.Y != nil {
			rng := normalize.NewRand(cfg.Seed)
			if y, err = normalize.Random(net, center, &opts, rng); err != nil {
				return nil, nil, info, err
			}
		}
	default:
		info.Kind = "random"
		rng := normalize.NewRand(cfg.Seed)
		if x, err = normalize.Random(net, center, &opts, rng); err != nil {
			return nil, nil, info, err
		}
		if y, err = normalize.Random(net, center, &opts, rng); err != nil {
			return nil, nil, info, err
		}
	}
	if cfg.Grid.Y == nil {
		y = nil
	}
	info.SHA256 = normalize.Hash(x, y)
	return x, y, info, nil
}
