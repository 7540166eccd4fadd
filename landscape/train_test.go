package landscape

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/internal/fixture"
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
// probe) with PyTorch's: within 1e-5 relative (1e-4 for the losses), or
// where PyTorch's own float32 run is further from its float64 run than
// that (training is chaotic: rounding differences grow with the steps),
// within four times PyTorch's float32 error. The MLP trains for all 100
// steps, the CNNs for 10 (100 take minutes on two cores).
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
				tr, err := NewTrainer(net, init, ds, opt, want.Settings.LR, nil)
				if err != nil {
					t.Fatal(err)
				}
				bad := 0
				steps := fix.Steps
				if name != "mlp" {
					steps = 10
				}
				for step := 1; step <= steps; step++ {
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
						tol := max(1e-5, 4*want.Err32.After[strconv.Itoa(step)][key])
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
