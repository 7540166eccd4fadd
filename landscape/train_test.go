package landscape

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/backend/backendtest/traintest"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/internal/fixture"
	"github.com/landscape-go/landscape/landscape/optim"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/checkpoint"
)

// TestTrainingFollowsPyTorch trains resnet20, vgg9 and an MLP (lowered
// from its ONNX export) on the CPU with every optimizer and compares the
// runs with PyTorch's (see traintest.FollowsPyTorch).
func TestTrainingFollowsPyTorch(t *testing.T) {
	t.Parallel()
	for _, name := range traintest.Nets {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			traintest.FollowsPyTorch(t, name, nil, func(_ *testing.T, net *nets.Net, init *nets.StateDict, ds *data.Dataset, opt string, lr float64) (traintest.Run, error) {
				return NewTrainer(net, init, ds, opt, lr, nil)
			})
		})
	}
}

// A run whose loss leaves the finite numbers (SGD at lr 1e30) stops there
// with ErrDiverged, naming the batch, and writes no checkpoint past the
// last finite one: it had gone on writing NaN weights no command reads.
func TestTrainStopsWhereTheRunDiverges(t *testing.T) {
	t.Parallel()
	spec := TrainSpec{Source: fixtureSource(t), Optimizer: "sgd", LR: 1e30, BatchSize: 8, Epochs: 2}
	out := t.TempDir()
	eps, err := Train(context.Background(), spec, out, nil)
	if !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "of epoch 1: loss ") || !strings.Contains(err.Error(), "last checkpoint is model_0") {
		t.Fatalf("lr 1e30: epochs %+v, error %v; want ErrDiverged in epoch 1", eps, err)
	}
	if _, err := os.Stat(filepath.Join(out, "model_0.safetensors")); err != nil {
		t.Errorf("the initialisation: %v", err)
	}
	for _, name := range []string{"model_1.safetensors", "optimizer_1.safetensors", "model_2.safetensors"} {
		if _, err := os.Stat(filepath.Join(out, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after the run diverged: %v", name, err)
		}
	}
}

// A run stopped after two epochs and started again for four gives the
// checkpoints of a run of four, bit for bit, its learning-rate schedule
// included; the checkpoints are a trajectory.
func TestTrainResumesWhereItStopped(t *testing.T) {
	t.Parallel()
	c := fixture.Load(t, "resnet20")
	spec := TrainSpec{Source: fixtureSource(t), Optimizer: "momentum", LR: 0.01, BatchSize: 8, Seed: 3, Schedule: "warmup:1,cosine"}
	whole, parts := t.TempDir(), t.TempDir()
	spec.Epochs = 4
	if _, err := Train(context.Background(), spec, whole, nil); err != nil {
		t.Fatal(err)
	}
	spec.Epochs = 2
	if _, err := Train(context.Background(), spec, parts, nil); err != nil {
		t.Fatal(err)
	}
	spec.Epochs = 4
	eps, err := Train(context.Background(), spec, parts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 2 || eps[0].Epoch != 3 {
		t.Fatalf("the second run trained epochs %+v, want 3 and 4", eps)
	}
	// The schedule resumes too: epoch 1 warms up, epochs 2 to 4 anneal
	// over 3, so epoch 3 is the cosine's second.
	if want := 0.01 * 0.5 * (1 + math.Cos(math.Pi/3)); math.Abs(eps[0].LR-want) > 1e-12 {
		t.Errorf("epoch 3 at lr %g, want %g", eps[0].LR, want)
	}
	a, _, err := checkpoint.Load(filepath.Join(whole, "model_4.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := checkpoint.Load(filepath.Join(parts, "model_4.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range a.Names() {
		ta, _ := a.Get(k)
		tb, _ := b.Get(k)
		if !slices.Equal(ta.Data, tb.Data) {
			t.Fatalf("%s differs between the whole run and the resumed one", k)
		}
	}
	before, _ := c.Weights(t).Get("bn1.num_batches_tracked")
	if nbt, _ := a.Get("bn1.num_batches_tracked"); nbt.Data[0] != before.Data[0]+12 {
		t.Errorf("num_batches_tracked %v after 12 batches from %v", nbt.Data, before.Data)
	}
	files, err := GlobCheckpoints(filepath.Join(whole, "model_*.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := RunTrajectory(context.Background(), TrajectoryConfig{Model: c.Model, ModelConfig: c.Config, Checkpoints: files}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Points) != 5 {
		t.Errorf("trajectory of %d points, want 5", len(tr.Points))
	}
}

// A folder holding another run's checkpoints (another optimizer, other
// data) is not resumed as if it were this run's: it is refused, naming
// what differs, or with Overwrite emptied and trained anew; a folder of
// checkpoints that records no run is refused too.
func TestTrainRefusesAnotherRunsFolder(t *testing.T) {
	t.Parallel()
	c := fixture.Load(t, "resnet20")
	spec := TrainSpec{Source: Source{Model: c.Model, ModelConfig: c.Config, Checkpoint: c.CheckpointFile(t, "zip"),
		Data: data.Spec{Kind: data.NPZ, Path: c.Data}, DataOptions: data.Options{Samples: 16}}, Optimizer: "momentum", LR: 0.01, BatchSize: 8, Epochs: 2}
	dir := t.TempDir()
	if _, err := Train(context.Background(), spec, dir, nil); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "model_2.safetensors"))
	for _, tc := range []struct {
		change func(*TrainSpec)
		want   string
	}{
		{func(s *TrainSpec) { s.Optimizer = "adam" }, `optimizer differs: "momentum" in it, "adam" in this run`},
		{func(s *TrainSpec) { s.LR = 0.1 }, "learning rate differs: 0.01 in it, 0.1 in this run"},
		{func(s *TrainSpec) { s.DataOptions.Samples = 8 }, "data differs"},
		{func(s *TrainSpec) { s.Schedule = "cosine" }, "schedule differs"},
	} {
		other := spec
		tc.change(&other)
		other.Epochs = 3
		_, err := Train(context.Background(), other, dir, nil)
		if !errors.Is(err, ErrOtherComputation) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.want, err)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "model_2.safetensors")); string(after) != string(before) {
		t.Error("a refused run changed the folder's checkpoints")
	}
	if _, err := os.Stat(filepath.Join(dir, "model_3.safetensors")); err == nil {
		t.Error("a refused run wrote an epoch")
	}
	other := spec
	other.Optimizer, other.Epochs = "adam", 1
	eps, err := Train(context.Background(), other, dir, &Options{Overwrite: true})
	if err != nil || len(eps) != 1 {
		t.Fatalf("overwrite: %v, %+v", err, eps)
	}
	if _, err := os.Stat(filepath.Join(dir, "model_2.safetensors")); err == nil {
		t.Error("overwrite left the other run's model_2")
	}
	if _, err := Train(context.Background(), other, dir, nil); err != nil {
		t.Errorf("the run resumed in its own folder: %v", err)
	}
	// The default rate and the same rate given are one run.
	byDefault := spec
	byDefault.Optimizer, byDefault.LR, byDefault.Epochs = "adam", 0, 1
	fresh := t.TempDir()
	if _, err := Train(context.Background(), byDefault, fresh, nil); err != nil {
		t.Fatal(err)
	}
	byDefault.LR, byDefault.Epochs = 0.001, 2
	if _, err := Train(context.Background(), byDefault, fresh, nil); err != nil {
		t.Errorf("adam at its default rate resumed with --lr 0.001: %v", err)
	}
	bare := t.TempDir()
	if err := os.WriteFile(filepath.Join(bare, "model_1.safetensors"), before, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Train(context.Background(), spec, bare, nil); !errors.Is(err, ErrOtherComputation) || !strings.Contains(err.Error(), "no train.json") {
		t.Errorf("a folder of checkpoints without a record: %v", err)
	}
	// A cosine schedule is drawn over the epochs asked: a run of 2
	// continued for 3 had another rate in its second epoch, so it is not
	// extended (TestTrainResumesWhereItStopped extends one whose epochs
	// trained keep their rates).
	cosine := spec
	cosine.Schedule, cosine.Epochs = "cosine", 2
	curve := t.TempDir()
	if _, err := Train(context.Background(), cosine, curve, nil); err != nil {
		t.Fatal(err)
	}
	cosine.Epochs = 3
	if _, err := Train(context.Background(), cosine, curve, nil); !errors.Is(err, ErrOtherComputation) ||
		!strings.Contains(err.Error(), "its 2 epochs trained on a cosine schedule over 2 epochs; over 3, epoch 2 would have had lr 0.0075, not 0.005") {
		t.Errorf("a cosine run of 2 epochs extended to 3: %v", err)
	}
	// A run refused for its settings leaves no record that would refuse
	// the corrected run.
	for _, bad := range []func(*TrainSpec){
		func(s *TrainSpec) { s.LR = math.NaN() },
		func(s *TrainSpec) { s.LR = math.Inf(1) },
		func(s *TrainSpec) { s.Schedule = "step:0:0.5" },
		func(s *TrainSpec) { s.Optimizer = "adamax" },
	} {
		empty, wrong := t.TempDir(), spec
		bad(&wrong)
		if _, err := Train(context.Background(), wrong, empty, nil); err == nil {
			t.Errorf("%+v trained", wrong)
		}
		if _, err := os.Stat(filepath.Join(empty, TrainRecordFile)); err == nil {
			t.Errorf("optimizer %s, lr %g, schedule %q: refused, but wrote %s", wrong.Optimizer, wrong.LR, wrong.Schedule, TrainRecordFile)
		}
	}
}

// A race trains each optimizer from the same weights, so every path starts
// at one point; the first run's path ends at the centre of the surface,
// which covers every path.
func TestRaceDrawsEveryRunOnOneSurface(t *testing.T) {
	t.Parallel()
	c := fixture.Load(t, "resnet20")
	// held is, per plane, the spread of every run's points about their
	// mean: what a plane fitted to all the paths holds the most of.
	var held [2]float64
	for i, all := range []bool{false, true} {
		out := t.TempDir()
		mc := c.Config
		if all { // the input's shape left to the data (1x28x28), as the command line leaves it without --channels
			mc.InChannels, mc.Height, mc.Width = 0, 0, 0
		}
		res, err := Race(context.Background(), RaceSpec{
			Source: Source{Model: c.Model, ModelConfig: mc, Checkpoint: c.CheckpointFile(t, "zip"), Data: data.Spec{Kind: data.NPZ, Path: c.Data}},
			Runs:   []optim.Run{{Optimizer: "sgd", LR: 0.05}, {Optimizer: "adam", LR: 0.001}}, Epochs: 2, BatchSize: 10, Num: 5,
			AllPaths: all,
		}, out, []string{"png"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Paths) != 2 || res.Paths[1].Label != "adam, lr 0.001" || len(res.Paths[0].X) != 3 || len(res.Paths[1].X) != 3 {
			t.Fatalf("all paths %v: paths %+v", all, res.Paths)
		}
		a, b := res.Paths[0], res.Paths[1]
		if math.Abs(a.X[0]-b.X[0]) > 1e-9 || math.Abs(a.Y[0]-b.Y[0]) > 1e-9 {
			t.Errorf("all paths %v: the paths start at (%g, %g) and (%g, %g)", all, a.X[0], a.Y[0], b.X[0], b.Y[0])
		}
		if math.Hypot(a.X[2], a.Y[2]) > 1e-6 {
			t.Errorf("all paths %v: the first run ends at (%g, %g), not the centre", all, a.X[2], a.Y[2])
		}
		g := res.Surface.Provenance.Grid
		var xs, ys []float64
		for _, p := range res.Paths {
			for k := range p.X {
				if p.X[k] < g.X.Min || p.X[k] > g.X.Max || p.Y[k] < g.Y.Min || p.Y[k] > g.Y.Max {
					t.Errorf("all paths %v: %s point %d (%g, %g) outside the grid %v × %v", all, p.Label, k, p.X[k], p.Y[k], g.X, *g.Y)
				}
			}
			xs, ys = append(xs, p.X...), append(ys, p.Y...)
		}
		mx, my := mean(xs), mean(ys)
		for k := range xs {
			held[i] += (xs[k]-mx)*(xs[k]-mx) + (ys[k]-my)*(ys[k]-my)
		}
		if len(res.Surface.Points) != 25 || len(res.Files) != 2 {
			t.Errorf("all paths %v: %d points, files %v", all, len(res.Surface.Points), res.Files)
		}
		// Each run's path lies beside the plane's directions, for plot
		// --path over a surface on them: the race's own, for one.
		for k, name := range []string{"sgd_lr0.05", "adam_lr0.001"} {
			p, err := ReadPath(filepath.Join(out, "plane", name+".csv"))
			if err != nil {
				t.Fatal(err)
			}
			if p.Directions != res.Surface.Provenance.Directions.SHA256 || len(p.X) < len(res.Paths[k].X) || p.X[0] != res.Paths[k].X[0] || p.Y[0] != res.Paths[k].Y[0] {
				t.Errorf("all paths %v: %s.csv %+v, drawn %+v", all, name, p, res.Paths[k])
			}
			if err := CheckPaths("race.parquet", res.Surface, []export.Path{p}); err != nil {
				t.Errorf("all paths %v: %s.csv over the race's surface: %v", all, name, err)
			}
		}
	}
	if held[1] < held[0]*(1-1e-6) {
		t.Errorf("the plane of all the paths holds %g of their spread, the first run's plane more: %g", held[1], held[0])
	}
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// train.json records where the data came from, as a surface's provenance
// does: the path it was given.
func TestTrainRecordsTheDataPath(t *testing.T) {
	t.Parallel()
	spec := TrainSpec{Source: fixtureSource(t), Optimizer: "sgd", LR: 0.01, BatchSize: 20, Epochs: 1}
	out := t.TempDir()
	if _, err := Train(context.Background(), spec, out, nil); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(out, TrainRecordFile))
	if err != nil {
		t.Fatal(err)
	}
	var rec trainRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Data.Path != spec.Data.Path || rec.Data.SHA256 == "" {
		t.Errorf("train.json's data: %+v, want path %s", rec.Data, spec.Data.Path)
	}
}

// fixtureSource is the resnet20 fixture's weights and data, as training
// tests start from them.
func fixtureSource(t *testing.T) Source {
	t.Helper()
	c := fixture.Load(t, "resnet20")
	return Source{Model: c.Model, ModelConfig: c.Config, Checkpoint: c.CheckpointFile(t, "zip"), Data: data.Spec{Kind: data.NPZ, Path: c.Data}}
}
