package landscape

import (
	"context"
	"encoding/json"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/internal/fixture"
	"github.com/landscape-go/landscape/landscape/optim"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/checkpoint"
)

// trainFixture is testdata/train/<net>.json (scripts/fixtures/make_train.py).
type trainFixture struct {
	Steps, Batch int
	Record       []int
	Optimizers   map[string]struct {
		Settings struct{ LR float64 }
		Loss     []float64
		After    map[string]map[string][2]float64 // step → key → norm, probe
		// Err32 is PyTorch's own float32 error against float64.
		Err32 struct {
			Loss  []float64
			After map[string]map[string]float64
		}
	}
}

// probeDot is the dot product of t with make_grad.py's probe of key.
func probeDot(key string, t *nets.Tensor) float64 {
	s := 0.0
	for i, l := range fixture.Levels("probe."+key, len(t.Data)) {
		s += float64(t.Data[i]) * float64(l) / 6
	}
	return s
}

// TestTrainingFollowsPyTorch trains resnet20, vgg9 and an MLP (lowered
// from its ONNX export) with every optimizer, on the batches PyTorch
// trained on, batch norm in training mode, and compares the loss of every
// step and every state-dict entry after steps 1, 10 and 100 (norm and
// probe) with PyTorch's: within 1e-4 relative for the losses and 1e-5 for
// the entries, or where PyTorch's own float32 run is further from its
// float64 run than that, within four times PyTorch's float32 error (the
// largest over the entries at that step: a conv bias before a batch norm
// has a gradient of pure rounding noise, which an adaptive optimizer turns
// into full steps). Training is chaotic, and once PyTorch's own float32
// loss is 1e-4 from its float64 one, rounding soon decides the path: the
// comparison of a run stops there. The MLP trains for 100 steps, the CNNs
// for 10.
func TestTrainingFollowsPyTorch(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"resnet20", "vgg9", "mlp"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(filepath.Join("..", "testdata", "train", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var fix trainFixture
			if err := json.Unmarshal(b, &fix); err != nil {
				t.Fatal(err)
			}
			src := name
			if name == "mlp" {
				src = "resnet20"
			}
			c := fixture.Load(t, src)
			ds, err := data.Load(data.Spec{Kind: data.NPZ, Path: c.Data}, "train", nil)
			if err != nil {
				t.Fatal(err)
			}
			var net *nets.Net
			var init *nets.StateDict
			if name == "mlp" {
				model := filepath.Join("..", "testdata", "train", "mlp.onnx")
				if net, err = NewNet(model, nets.Config{}, nil); err != nil {
					t.Fatal(err)
				}
				if init, _, err = checkpoint.Load(model); err != nil {
					t.Fatal(err)
				}
			} else {
				net, init = c.Net(t), c.Weights(t)
			}
			per := ds.C * ds.H * ds.W
			for opt, want := range fix.Optimizers {
				if len(want.Err32.Loss) != len(want.Loss) {
					t.Fatalf("%s: the fixture has no float32 errors: remake it (scripts/fixtures/make_train.py)", opt)
				}
				tr, err := NewTrainer(net, init, ds, opt, want.Settings.LR, nil)
				if err != nil {
					t.Fatal(err)
				}
				bad := 0
				horizon := fix.Steps
				for i, e := range want.Err32.Loss {
					if e > 1e-4 {
						horizon = i // the last step before PyTorch's own float32 run drifted
						t.Logf("%s %s: compared for %d steps: PyTorch's float32 loss is %.2g from float64 at step %d", name, opt, horizon, e, i+1)
						break
					}
				}
				for step := 1; step <= horizon; step++ {
					lo := ((step - 1) * fix.Batch) % ds.N
					loss, _, err := tr.Step(ds.X[lo*per:(lo+fix.Batch)*per], ds.Y[lo:lo+fix.Batch])
					if err != nil {
						t.Fatal(err)
					}
					if w, tol := want.Loss[step-1], max(1e-4, 4*want.Err32.Loss[step-1]); math.Abs(loss-w) > tol*math.Abs(w)+1e-6 && bad < 3 {
						bad++
						t.Errorf("%s step %d: loss %.7g, PyTorch %.7g", opt, step, loss, w)
					}
					snap, ok := want.After[strconv.Itoa(step)]
					if !ok {
						continue
					}
					got := tr.Weights()
					for key, w := range snap {
						g, ok := got.Get(key)
						if !ok {
							t.Fatalf("%s: no %s", opt, key)
						}
						norm, dot := 0.0, probeDot(key, g)
						for _, v := range g.Data {
							norm += float64(v) * float64(v)
						}
						norm = math.Sqrt(norm)
						pn := 0.0 // the probe's norm
						for _, l := range fixture.Levels("probe."+key, len(g.Data)) {
							pn += float64(l) * float64(l) / 36
						}
						pn = math.Sqrt(pn)
						tol := max(1e-5, 4*slices.Max(slices.Collect(maps.Values(want.Err32.After[strconv.Itoa(step)]))))
						if (math.Abs(norm-w[0]) > tol*w[0]+1e-7 || math.Abs(dot-w[1]) > tol*w[0]*pn+1e-7) && bad < 6 {
							bad++
							t.Errorf("%s after step %d: %s norm %.8g (PyTorch %.8g), probe %.8g (PyTorch %.8g); tolerance %.2g", opt, step, key, norm, w[0], dot, w[1], tol)
						}
					}
				}
			}
		})
	}
}

// A run stopped after two epochs and started again for four gives the
// checkpoints of a run of four, bit for bit, its learning-rate schedule
// included; the checkpoints are a trajectory.
func TestTrainResumesWhereItStopped(t *testing.T) {
	t.Parallel()
	c := fixture.Load(t, "resnet20")
	spec := TrainSpec{Source: Source{Model: c.Model, ModelConfig: c.Config, Checkpoint: c.CheckpointFile(t, "zip"),
		Data: data.Spec{Kind: data.NPZ, Path: c.Data}}, Optimizer: "momentum", LR: 0.01, BatchSize: 8, Seed: 3, Schedule: "warmup:1,cosine"}
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

// A race trains each optimizer from the same weights, so every path starts
// at one point; the first run's path ends at the centre of the surface,
// which covers every path.
func TestRaceDrawsEveryRunOnOneSurface(t *testing.T) {
	t.Parallel()
	c := fixture.Load(t, "resnet20")
	out := t.TempDir()
	res, err := Race(context.Background(), RaceSpec{
		Source: Source{Model: c.Model, ModelConfig: c.Config, Checkpoint: c.CheckpointFile(t, "zip"), Data: data.Spec{Kind: data.NPZ, Path: c.Data}},
		Runs:   []optim.Run{{Optimizer: "sgd", LR: 0.05}, {Optimizer: "adam", LR: 0.001}}, Epochs: 2, BatchSize: 10, Num: 5,
	}, out, []string{"png"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Paths) != 2 || res.Paths[1].Label != "adam, lr 0.001" || len(res.Paths[0].X) != 3 || len(res.Paths[1].X) != 3 {
		t.Fatalf("paths %+v", res.Paths)
	}
	a, b := res.Paths[0], res.Paths[1]
	if math.Abs(a.X[0]-b.X[0]) > 1e-9 || math.Abs(a.Y[0]-b.Y[0]) > 1e-9 {
		t.Errorf("the paths start at (%g, %g) and (%g, %g)", a.X[0], a.Y[0], b.X[0], b.Y[0])
	}
	if math.Hypot(a.X[2], a.Y[2]) > 1e-6 {
		t.Errorf("the first run ends at (%g, %g), not the centre", a.X[2], a.Y[2])
	}
	g := res.Surface.Provenance.Grid
	for _, p := range res.Paths {
		for k := range p.X {
			if p.X[k] < g.X.Min || p.X[k] > g.X.Max || p.Y[k] < g.Y.Min || p.Y[k] > g.Y.Max {
				t.Errorf("%s point %d (%g, %g) outside the grid %v × %v", p.Label, k, p.X[k], p.Y[k], g.X, *g.Y)
			}
		}
	}
	if len(res.Surface.Points) != 25 || len(res.Files) != 2 {
		t.Errorf("%d points, files %v", len(res.Surface.Points), res.Files)
	}
}
