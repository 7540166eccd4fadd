package landscape

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/internal/atomicfile"
	"github.com/landscape-go/landscape/landscape/optim"
	"github.com/landscape-go/landscape/landscape/surface"
	"github.com/landscape-go/landscape/normalize"
)

// RaceSpec is a race of optimizers from one initialisation, the source's
// checkpoint: each run trains for Epochs in batches of BatchSize (the
// batches of every run in the same order, shuffled by Seed), and the
// surface is drawn over a Num × Num grid that covers every path with a
// Margin, on the plane of the first run's PCA or, with AllPaths, of
// every run's checkpoints together.
type RaceSpec struct {
	Source
	Runs      []optim.Run // the contestants
	Epochs    int
	BatchSize int
	Seed      uint64
	Num       int     // 0 means 21
	Margin    float64 // 0 means 0.2
	// AllPaths fits the plane to every run's checkpoints, the first run's
	// final model still its centre: a plane that shows each path, where
	// the first run's alone may hold another run's little.
	AllPaths bool
}

// RaceResult is what [Race] wrote: each run's checkpoints and its path on
// the plane, the surface and its figures.
type RaceResult struct {
	Runs    []string      // each run's folder
	Paths   []export.Path // on the plane of the PCA (see RaceSpec.AllPaths)
	Surface *surface.Surface
	Files   []string // the surface file and the figures
}

// Race trains every run into out/NAME (see [Train]), fits the PCA of the
// first run's checkpoints, or of all of them (see RaceSpec.AllPaths), its
// final model the centre, projects every run's checkpoints on those
// directions, computes the loss surface over a
// grid covering all the paths, and draws the paths on its contours, each
// labelled with its optimizer: out/race.parquet and out/race_*.FORMAT.
func Race(ctx context.Context, spec RaceSpec, out string, formats []string, opts *Options) (*RaceResult, error) {
	if opts == nil {
		opts = &Options{}
	}
	if len(spec.Runs) == 0 || spec.Epochs < 2 {
		return nil, fmt.Errorf("landscape: a race of %d runs of %d epochs: want a run or more, of two epochs or more (the plane is a PCA of three checkpoints or more)", len(spec.Runs), spec.Epochs)
	}
	num, margin := spec.Num, spec.Margin
	if num == 0 {
		num = 21
	}
	if margin == 0 {
		margin = 0.2
	}
	// The input's shape left open (no --channels or --size) is the data's,
	// as Train takes it: the plane and the surface need it too.
	_, mc, err := loadSets(spec.Data, []string{spec.split()}, &spec.DataOptions, spec.ModelConfig)
	if err != nil {
		return nil, err
	}
	spec.ModelConfig = mc
	res := &RaceResult{}
	var runs [][]string
	for i, r := range spec.Runs {
		dir := filepath.Join(out, raceName(r))
		if _, err := Train(ctx, TrainSpec{Source: spec.Source, Optimizer: r.Optimizer, LR: r.LR, Epochs: spec.Epochs,
			BatchSize: spec.BatchSize, Seed: spec.Seed}, dir, raceProgress(opts, i, len(spec.Runs))); err != nil {
			return res, fmt.Errorf("landscape: race: %s: %w", raceName(r), err)
		}
		var files []string // this race's epochs: a run resumed from a longer one's folder has more
		for e := range spec.Epochs + 1 {
			ckpt, _ := trainFiles(dir, e, false)
			files = append(files, ckpt)
		}
		res.Runs, runs = append(res.Runs, dir), append(runs, files)
	}
	// The paths need no losses: the surface shows them.
	base := TrajectoryConfig{Model: spec.Model, ModelConfig: spec.ModelConfig}
	first := base
	first.Checkpoints = runs[0]
	if spec.AllPaths {
		first.Checkpoints, first.Final = slices.Concat(runs...), runs[0][len(runs[0])-1]
	}
	tr, err := RunTrajectory(ctx, first, opts)
	if err != nil {
		return res, err
	}
	plane := filepath.Join(out, "plane")
	if err := tr.Write(plane, SuggestedGrid{}); err != nil {
		return res, err
	}
	dirs := filepath.Join(plane, DirectionsFile)
	var xs, ys []float64
	for i, files := range runs {
		t := tr
		if i > 0 || spec.AllPaths { // projected on the plane
			cfg := base
			cfg.Checkpoints, cfg.Final, cfg.Directions = files, tr.Final.Path, dirs
			if t, err = RunTrajectory(ctx, cfg, opts); err != nil {
				return res, err
			}
		}
		// Each run's path beside the plane's directions, for
		// 'plot --path' over this or another surface on them.
		if err := atomicfile.Write(filepath.Join(plane, raceName(spec.Runs[i])+".csv"), t.WritePathCSV); err != nil {
			return res, err
		}
		p := export.Path{Label: raceLabel(spec.Runs[i])}
		for _, pt := range t.Points {
			if i > 0 && pt.Checkpoint == tr.Final.Path {
				continue // the first run's final model, the centre, added to the others
			}
			p.X, p.Y = append(p.X, pt.X), append(p.Y, pt.Y)
		}
		xs, ys = append(xs, p.X...), append(ys, p.Y...)
		res.Paths = append(res.Paths, p)
	}
	ax, ay := AxesCovering(xs, ys, margin, num)
	s, err := Run(ctx, Spec{
		Model: spec.Model, ModelConfig: spec.ModelConfig, Checkpoint: tr.Final.Path,
		Data: spec.Data, Splits: []string{spec.split()}, DataOptions: spec.DataOptions,
		Directions: Directions{File: dirs}, Grid: grid.Grid{X: ax, Y: &ay},
	}, opts)
	if err != nil {
		return res, err
	}
	res.Surface = s
	file := filepath.Join(out, "race.parquet")
	if err := export.WriteParquet(file, s); err != nil {
		return res, err
	}
	res.Files = append(res.Files, file)
	po := &export.PlotOptions{Paths: res.Paths}
	if meta, err := normalize.ReadMeta(dirs); err == nil {
		NameAxes(po, meta)
	}
	figs, err := export.WritePlots(out, "race", s, []export.PlotKind{export.ContourPlot}, formats, po)
	res.Files = append(res.Files, figs...)
	return res, err
}

// raceLabel is a run's legend entry.
func raceLabel(r optim.Run) string {
	if r.LR == 0 {
		return r.Optimizer
	}
	return fmt.Sprintf("%s, lr %g", r.Optimizer, r.LR)
}

// raceName names a run's folder by its optimizer, its settings and its
// learning rate: "adam_weight_decay0.0001_lr0.001", with no characters a
// shell would need quoted.
func raceName(r optim.Run) string {
	name, err := optim.Canonical(r.Optimizer)
	if err != nil {
		name = strings.ToLower(r.Optimizer)
	}
	name = strings.NewReplacer("(", "_", ")", "", ", ", "_", ",", "_", "=", "", " ", "").Replace(name)
	if r.LR == 0 {
		return name
	}
	return fmt.Sprintf("%s_lr%g", name, r.LR)
}

// raceProgress returns opts for run i of n, its progress reported as part
// of all n runs' (each as long as the others: the same data, epochs and
// batches), so that a progress bar fills once over the training rather
// than once a run.
func raceProgress(opts *Options, i, n int) *Options {
	if opts.Progress == nil {
		return opts
	}
	o := *opts
	o.Progress = func(done, total int) { opts.Progress(i*total+done, n*total) }
	return &o
}
