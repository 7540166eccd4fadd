//go:build linux && !android

package cuda

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/nets"
)

// requireGPU skips t unless this machine has a GPU the evaluator can use
// (fails it instead under LANDSCAPE_REQUIRE_GPU=1).
func requireGPU(t *testing.T) {
	t.Helper()
	r := Probe()
	why := r.Why
	if len(r.Devices) > 0 {
		libs, err := Libraries()
		if err == nil {
			t.Logf("%s; %s", r.Devices[0], libs)
			return
		}
		why = err.Error()
	}
	if os.Getenv("LANDSCAPE_REQUIRE_GPU") == "1" {
		t.Fatalf("LANDSCAPE_REQUIRE_GPU=1 but no usable GPU: %s", why)
	}
	t.Skipf("no usable GPU: %s", why)
}

// TestGPUStepsMatchHost runs small networks of every kind of op on the GPU
// and compares the output of every step with the plan run on the host, so
// that a wrong kernel or call is named by the first step it spoils.
func TestGPUStepsMatchHost(t *testing.T) {
	requireGPU(t)
	for _, name := range []string{"resnet20", "resnet20_noshort", "vgg9", "densenet121", "resnet18", "resnet50", "mobile.onnx"} {
		t.Run(name, func(t *testing.T) {
			const n = 5
			var net *nets.Net
			var sd *nets.StateDict
			if name == "mobile.onnx" { // grouped convolutions, ReLU6, SiLU, hard-swish...
				net, sd = mobileNet(t)
			} else {
				var err error
				net, err = nets.New(name, nets.Config{InChannels: 3, Height: 8, Width: 8, Classes: 7})
				if err != nil {
					t.Fatal(err)
				}
				sd = randomWeights(net, 11)
			}
			cfg := net.Config
			r := rand.New(rand.NewPCG(5, 6))
			x := make([]float32, n*cfg.InChannels*cfg.Height*cfg.Width)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			labels := []int32{0, 1, 2, 3, 6}
			p := &backend.Problem{Net: net, Center: sd, X: sd, Data: []*backend.Data{{Name: "x", N: n, C: cfg.InChannels, H: cfg.Height, W: cfg.Width, X: x, Y: labels}}}
			e, err := New(p, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			t.Log(e.Describe())
			var host [][]float32
			hostRun(e.plan, func(k string) []float32 { t, _ := sd.Get(k); return t.Data }, x, n, func(_ int, out []float32) {
				host = append(host, slices.Clone(out))
			})
			bad := 0
			e.afterStep = func(i, batch int) error {
				if batch != n {
					return fmt.Errorf("batch %d, want %d", batch, n)
				}
				want := host[i]
				got := make([]float32, len(want))
				if err := download(e.g, got, e.slots[e.plan.steps[i].out]); err != nil {
					return err
				}
				scale := 0.0
				for _, v := range want {
					scale = math.Max(scale, math.Abs(float64(v)))
				}
				for k := range want {
					if d := math.Abs(float64(got[k] - want[k])); !(d <= 1e-4*scale+1e-4*math.Abs(float64(want[k]))) {
						st := e.plan.steps[i]
						bad++
						if bad <= 3 {
							t.Errorf("step %d (%v %s, fold %d, residual %v, relu %v): value %d is %g, host %g (largest |value| %g)",
								i, st.op.Kind, st.op.Name, st.fold, st.res >= 0, st.relu, k, got[k], want[k], scale)
						}
						break
					}
				}
				return nil
			}
			// At (0, 0) the weights are the centre; the direction is the
			// centre itself, so (−1, 0) gives zero weights, which the
			// host need not see.
			if err := e.Evaluate(context.Background(), []backend.Coord{{}}, func(int, []float64) {}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
