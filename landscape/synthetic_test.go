package landscape

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/backend/backendtest"
	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/internal/npy"
	"github.com/landscape-go/landscape/nets"
)

// syntheticWeights generates the weights of scripts/fixtures/make_synthetic.py:
// every value is a function of its state-dict key and position (FNV-1a of the
// key, splitmix64), so the fixture stores only inputs and PyTorch's logits,
// yet covers every zoo architecture, including the 50M-parameter ones.
func syntheticWeights(net *nets.Net) *nets.StateDict {
	sd := &nets.StateDict{}
	for _, p := range net.Params {
		t := nets.NewTensor(p.Shape...)
		h := fnv.New64a()
		h.Write([]byte(p.Name))
		s := h.Sum64()
		fanIn := 1.0
		if len(p.Shape) >= 2 {
			fanIn = float64(len(t.Data) / p.Shape[0])
		}
		for j := range t.Data {
			z := s + uint64(j+1)*0x9E3779B97F4A7C15
			z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
			z = (z ^ (z >> 27)) * 0x94D049BB133111EB
			z ^= z >> 31
			u := float64(z>>11) * 0x1p-53
			var v float64
			switch {
			case len(p.Shape) >= 2:
				v = (2*u - 1) * math.Sqrt(6/fanIn)
			case strings.HasSuffix(p.Name, ".running_mean"):
				v = (2*u - 1) * 0.1
			case strings.HasSuffix(p.Name, ".running_var"), strings.HasSuffix(p.Name, ".weight"):
				v = 0.5 + u
			case strings.HasSuffix(p.Name, ".bias"):
				v = (2*u - 1) * 0.1
			}
			t.Data[j] = float32(v)
		}
		sd.Set(p.Name, t)
	}
	return sd
}

// TestEveryZooModelMatchesPyTorch runs all 29 architectures, at 32x32 and at
// odd sizes, channel and class counts, on weights both sides generate, and
// compares the cross-entropy of PyTorch's logits for several labels with
// ours: each label's loss pins a different combination of the logits.
func TestEveryZooModelMatchesPyTorch(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "testdata", "zoo", "synthetic")
	b, err := os.ReadFile(filepath.Join(dir, "synthetic.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fix struct {
		Cases []struct {
			Case, Model            string
			InChannels             int `json:"in_channels"`
			Height, Width, Classes int
			X, Logits              string
			WeightsSum             float64 `json:"weights_sum"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &fix); err != nil {
		t.Fatal(err)
	}
	arrays, err := npy.ReadNPZ(filepath.Join(dir, "synthetic.npz"))
	if err != nil {
		t.Fatal(err)
	}
	if len(fix.Cases) < 29 {
		t.Fatalf("only %d synthetic cases", len(fix.Cases))
	}
	forEachDevice(t, func(t *testing.T, device string) {
		for _, c := range fix.Cases {
			t.Run(c.Case, func(t *testing.T) {
				parallelOnCPU(t, device)
				net, err := nets.New(c.Model, nets.Config{InChannels: c.InChannels, Height: c.Height, Width: c.Width, Classes: c.Classes})
				if err != nil {
					t.Fatal(err)
				}
				w := syntheticWeights(net)
				var sum float64
				for _, name := range w.Names() {
					tt, _ := w.Get(name)
					for _, v := range tt.Data {
						sum += float64(v)
					}
				}
				if math.Abs(sum-c.WeightsSum) > 1e-6*math.Max(1, math.Abs(c.WeightsSum)) {
					t.Fatalf("generated weights sum to %.9g, PyTorch's to %.9g", sum, c.WeightsSum)
				}
				xa, _ := arrays.Get(c.X)
				la, _ := arrays.Get(c.Logits)
				x, err1 := xa.Float32()
				logits, err2 := la.Float32()
				if err1 != nil || err2 != nil {
					t.Fatal(err1, err2)
				}
				n := xa.Shape[0]
				labels := []int{0, c.Classes / 2, c.Classes - 1}
				p := &backend.Problem{Net: net, Center: w, BatchSize: n}
				for _, label := range labels {
					y := make([]int32, n)
					for i := range y {
						y[i] = int32(label)
					}
					p.Data = append(p.Data, &backend.Data{Name: "synthetic", N: n, C: c.InChannels, H: c.Height, W: c.Width, X: x, Y: y})
				}
				ev, _, err := newEvaluator(p, Device{Name: device, CPU: cpu.Options{Workers: 1}}, t.Logf)
				if err != nil {
					t.Fatal(err)
				}
				defer ev.Close()
				var got []float64
				if err := ev.Evaluate(context.Background(), []backend.Coord{{}}, func(_ int, v []float64) { got = v }); err != nil {
					t.Fatal(err)
				}
				// A loss is log-sum-exp(z) − z_label, the difference of two
				// logit-sized numbers, so float32 rounding in the logits
				// shows in it relative to the logits' spread, not to the
				// loss: the bound is 1e-4 of the larger. (On the deep
				// networks without shortcuts synthetic weights give logits
				// hundreds apart.)
				var spread float64
				for i := range n {
					z := logits[i*c.Classes : (i+1)*c.Classes]
					lo, hi := math.Inf(1), math.Inf(-1)
					for _, v := range z {
						lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
					}
					spread += (hi - lo) / float64(n)
				}
				for k, label := range labels {
					var want float64
					for i := range n {
						want += backendtest.CrossEntropy(logits[i*c.Classes:(i+1)*c.Classes], label) / float64(n)
					}
					if diff := math.Abs(got[2*k] - want); diff > 1e-4*max(1, math.Abs(want), spread) {
						t.Errorf("label %d: loss %.9g, from PyTorch's logits %.9g", label, got[2*k], want)
					}
				}
			})
		}
	})
}
