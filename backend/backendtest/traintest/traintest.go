// Package traintest holds a backend's training to PyTorch's on the
// training fixtures (testdata/train, made by
// scripts/fixtures/make_train.py): every optimizer of torch.optim the
// fixtures record, on resnet20, vgg9 and an MLP.
package traintest

import (
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
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/checkpoint"
	"github.com/landscape-go/landscape/nets/onnx"
)

// Run is a training run in memory: one step on a batch, and the weights
// after it.
type Run interface {
	Step(x []float32, y []int32) (loss float64, correct int, err error)
	Weights() *nets.StateDict
	Close() error
}

// NewRun starts a run of net from init on batches of ds with the
// optimizer called optimizer at learning rate lr.
type NewRun func(t *testing.T, net *nets.Net, init *nets.StateDict, ds *data.Dataset, optimizer string, lr float64) (Run, error)

// fixtureFile is testdata/train/<net>.json.
type fixtureFile struct {
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

// Nets are the fixtures' networks.
var Nets = []string{"resnet20", "vgg9", "mlp"}

// FollowsPyTorch trains network name (one of [Nets]) with each optimizer
// the fixture records that only accepts (nil: all), on the batches
// PyTorch trained on, batch norm in training mode, and compares the loss
// of every step and every state-dict entry after steps 1, 10 and 100
// (norm and probe) with PyTorch's: within 1e-4 relative for the losses and
// 1e-5 for the entries, or where PyTorch's own float32 run is further from
// its float64 run than that, within four times PyTorch's float32 error
// (the largest over the entries at that step: a conv bias before a batch
// norm has a gradient of pure rounding noise, which an adaptive optimizer
// turns into full steps). Training is chaotic, and once PyTorch's own
// float32 loss is 1e-4 from its float64 one, rounding soon decides the
// path: the comparison of a run stops there. It stops too where an entry
// is off by no more than one parameter's full step taken the other way:
// an adaptive optimizer's first steps are lr·sign(g) for every gradient
// above its eps, so a gradient of rounding noise (summed in another order
// on a GPU, say) moves its parameter by a full step, either way, which
// PyTorch's own float32 run need not show. The MLP trains for 100 steps,
// the CNNs for 10.
func FollowsPyTorch(t *testing.T, name string, only func(optimizer string) bool, newRun NewRun) {
	t.Helper()
	dir := filepath.Dir(fixture.Dir(t))
	b, err := os.ReadFile(filepath.Join(dir, "train", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var fix fixtureFile
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
		model := filepath.Join(dir, "train", "mlp.onnx")
		m, err := onnx.Read(model, nil)
		if err != nil {
			t.Fatal(err)
		}
		if net, _, err = m.Graph.Net("mlp", nets.Config{}); err != nil {
			t.Fatal(err)
		}
		if init, _, err = checkpoint.Load(model); err != nil {
			t.Fatal(err)
		}
	} else {
		net, init = c.Net(t), c.Weights(t)
	}
	per := ds.C * ds.H * ds.W
	for _, opt := range slices.Sorted(maps.Keys(fix.Optimizers)) {
		if only != nil && !only(opt) {
			continue
		}
		want := fix.Optimizers[opt]
		if len(want.Err32.Loss) != len(want.Loss) {
			t.Fatalf("%s: the fixture has no float32 errors: remake it (scripts/fixtures/make_train.py)", opt)
		}
		run, err := newRun(t, net, init, ds, opt, want.Settings.LR)
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
			snap, recorded := want.After[strconv.Itoa(step)]
			var before map[string][]float32 // the recorded entries before the step
			if recorded {
				before = map[string][]float32{}
				w := run.Weights()
				for key := range snap {
					if g, ok := w.Get(key); ok {
						before[key] = slices.Clone(g.Data)
					}
				}
			}
			lo := ((step - 1) * fix.Batch) % ds.N
			loss, _, err := run.Step(ds.X[lo*per:(lo+fix.Batch)*per], ds.Y[lo:lo+fix.Batch])
			if err != nil {
				t.Fatal(err)
			}
			if w, tol := want.Loss[step-1], max(1e-4, 4*want.Err32.Loss[step-1]); math.Abs(loss-w) > tol*math.Abs(w)+1e-6 && bad < 3 {
				bad++
				t.Errorf("%s step %d: loss %.7g, PyTorch %.7g", opt, step, loss, w)
			}
			if !recorded {
				continue
			}
			got := run.Weights()
			tol := max(1e-5, 4*slices.Max(slices.Collect(maps.Values(want.Err32.After[strconv.Itoa(step)]))))
			for _, key := range slices.Sorted(maps.Keys(snap)) {
				w := snap[key]
				g, ok := got.Get(key)
				if !ok {
					t.Fatalf("%s: no %s", opt, key)
				}
				// flip is how far one entry moves if it steps the other
				// way: twice the largest step of the tensor's entries.
				norm, dot, pn, pmax, flip := 0.0, 0.0, 0.0, 0.0, 0.0 // pn, pmax: the probe's norm and largest entry
				for i, l := range fixture.Levels("probe."+key, len(g.Data)) {
					p := float64(l) / 6
					norm += float64(g.Data[i]) * float64(g.Data[i])
					dot += float64(g.Data[i]) * p
					pn += p * p
					pmax = max(pmax, math.Abs(p))
					flip = max(flip, 2*math.Abs(float64(g.Data[i])-float64(before[key][i])))
				}
				norm, pn = math.Sqrt(norm), math.Sqrt(pn)
				dNorm, dDot := math.Abs(norm-w[0]), math.Abs(dot-w[1])
				switch {
				case dNorm <= tol*w[0]+1e-7 && dDot <= tol*w[0]*pn+1e-7:
				case dNorm <= tol*w[0]+1e-7+flip && dDot <= tol*w[0]*pn+1e-7+flip*pmax:
					t.Logf("%s %s after step %d: %s is one full step (%.2g) from PyTorch's (norm %.8g, PyTorch %.8g; probe %.8g, PyTorch %.8g): a gradient of rounding noise stepped the other way; compared up to here",
						name, opt, step, key, flip/2, norm, w[0], dot, w[1])
					horizon = step
				case bad < 6:
					bad++
					t.Errorf("%s after step %d: %s norm %.8g (PyTorch %.8g), probe %.8g (PyTorch %.8g); tolerance %.2g", opt, step, key, norm, w[0], dot, w[1], tol)
				}
			}
		}
		if err := run.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
