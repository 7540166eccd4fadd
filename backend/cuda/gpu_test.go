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
	"github.com/landscape-go/landscape/backend/backendtest"
	"github.com/landscape-go/landscape/backend/backendtest/gradtest"
	"github.com/landscape-go/landscape/backend/backendtest/traintest"
	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/internal/fixture"
	"github.com/landscape-go/landscape/landscape/optim"
	"github.com/landscape-go/landscape/nets"
)

// requireGPU skips t unless this machine has a GPU the evaluator can use
// (fails it instead under LANDSCAPE_REQUIRE_GPU=1).
func requireGPU(t testing.TB) {
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

// TestGPUDifferentiatorMatchesPyTorch holds the differentiator to
// torch.autograd's gradients and Hessian-vector products on every zoo
// fixture (see gradtest.MatchPyTorch).
func TestGPUDifferentiatorMatchesPyTorch(t *testing.T) {
	requireGPU(t)
	for _, c := range fixture.All(t) {
		t.Run(c.Name, func(t *testing.T) {
			gradtest.MatchPyTorch(t, c, func(p *backend.Problem) (backend.Differentiator, error) {
				d, err := NewDifferentiator(p, nil, nil)
				if err == nil {
					t.Log(d.Describe())
				}
				return d, err
			})
		})
	}
}

// TestGPUDifferentiatorMatchesTheCPUs is TestHostDifferentiatorMatchesTheCPUs
// on the GPU: several chunks, some parameters, points off the centre, the
// same bits twice.
func TestGPUDifferentiatorMatchesTheCPUs(t *testing.T) {
	requireGPU(t)
	differentiatorMatchesTheCPUs(t, NewDifferentiator)
}

// relErr is ‖got − want‖/‖want‖ in float64.
func relErr(got, want []float32) float64 {
	var d, w float64
	for i := range want {
		e := float64(got[i]) - float64(want[i])
		d += e * e
		w += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(d / w)
}

// differentiatorMatchesTheCPUs is TestHostDifferentiatorMatchesTheCPUs
// for the differentiators newDiff makes.
func differentiatorMatchesTheCPUs(t *testing.T, newDiff func(*backend.Problem, []string, *Options) (*Differentiator, error)) {
	for _, c := range []struct {
		model    string
		cfg      nets.Config
		n, chunk int
		rank2    bool // differentiate the tensors of rank > 1 only
	}{
		{"resnet20", nets.Config{Height: 8, Width: 8}, 68, 64, false}, // two chunks, the second mostly padding
		{"resnet20_noshort", nets.Config{InChannels: 1, Height: 12, Width: 12}, 5, 0, true},
		{"vgg9", nets.Config{Height: 9, Width: 7}, 5, 0, true},
	} {
		t.Run(c.model, func(t *testing.T) {
			p := backendtest.Problem(t, c.model, c.cfg, c.n, true)
			var params []string
			if c.rank2 {
				for _, prm := range p.Net.Params {
					if prm.Kind == nets.Weight && len(prm.Shape) > 1 {
						params = append(params, prm.Name)
					}
				}
			}
			want, err := cpu.NewDifferentiator(p, params, &cpu.Options{Generic: true})
			if err != nil {
				t.Fatal(err)
			}
			got, err := newDiff(p, params, &Options{MaxBatch: c.chunk})
			if err != nil {
				t.Fatal(err)
			}
			defer got.Close()
			if got.Dim() != want.Dim() || len(got.Params()) != len(want.Params()) {
				t.Fatalf("%d parameters in %d tensors, want %d in %d", got.Dim(), len(got.Params()), want.Dim(), len(want.Params()))
			}
			if c.chunk > 0 && got.chunks < 2 {
				t.Fatalf("%d samples in chunks of %d: %d chunk", c.n, got.chunk, got.chunks)
			}
			ctx := context.Background()
			at := backend.Coord{X: 0.3, Y: -0.2}
			dim := want.Dim()
			g, gWant := make([]float32, dim), make([]float32, dim)
			loss, err := got.Gradient(ctx, at, g)
			if err != nil {
				t.Fatal(err)
			}
			lossWant, err := want.Gradient(ctx, at, gWant)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(loss-lossWant) > 1e-6*lossWant {
				t.Errorf("loss %g, the CPU's %g", loss, lossWant)
			}
			// Within the CPU's two engines' own difference (they agree
			// to 2.4e-6 on resnet20's 68 samples, 1.5e-6 on 5): float32
			// rounding, summed in other orders.
			if e := relErr(g, gWant); !(e < 1e-5) {
				t.Errorf("gradient %g from the CPU's", e)
			}
			r := rand.New(rand.NewPCG(13, 14))
			v := make([]float32, dim)
			for i := range v {
				v[i] = float32(r.NormFloat64())
			}
			hv, hvWant := make([]float32, dim), make([]float32, dim)
			if _, err := got.HVP(ctx, at, v, hv); err != nil {
				t.Fatal(err)
			}
			if _, err := want.HVP(ctx, at, v, hvWant); err != nil {
				t.Fatal(err)
			}
			if e := relErr(hv, hvWant); !(e < 1e-4) {
				t.Errorf("H·v %g from the CPU's", e)
			}
			again := make([]float32, dim)
			if _, err := got.HVP(ctx, at, v, again); err != nil {
				t.Fatal(err)
			}
			for i := range again {
				if math.Float32bits(again[i]) != math.Float32bits(hv[i]) {
					t.Fatalf("H·v[%d] is %g, then %g", i, hv[i], again[i])
				}
			}
		})
	}
}

// TestGPUTrainingFollowsPyTorch trains on the GPU with every optimizer the
// training fixtures record and compares the runs with PyTorch's (see
// traintest.FollowsPyTorch).
func TestGPUTrainingFollowsPyTorch(t *testing.T) {
	requireGPU(t)
	for _, name := range traintest.Nets {
		t.Run(name, func(t *testing.T) {
			traintest.FollowsPyTorch(t, name, nil, func(_ *testing.T, net *nets.Net, init *nets.StateDict, ds *data.Dataset, opt string, lr float64) (traintest.Run, error) {
				return newTrainRun(net, init, ds, opt, lr, NewDifferentiator)
			})
		})
	}
}

// trainRun is landscape.Trainer's loop (which this package's tests cannot
// import) on the differentiator: the step's passes on the device, the
// optimizer's update on the host.
type trainRun struct {
	d       *Differentiator
	net     *nets.Net
	w, grad []float32
	opt     optim.Optimizer
}

func newTrainRun(net *nets.Net, init *nets.StateDict, ds *data.Dataset, opt string, lr float64,
	newDiff func(*backend.Problem, []string, *Options) (*Differentiator, error)) (*trainRun, error) {
	p := &backend.Problem{Net: net, Center: init, Data: []*backend.Data{{Name: "train", N: ds.N, C: ds.C, H: ds.H, W: ds.W, X: ds.X, Y: ds.Y}}}
	d, err := newDiff(p, nil, nil)
	if err != nil {
		return nil, err
	}
	r := &trainRun{d: d, net: net, w: d.Flatten(init)}
	r.grad = make([]float32, len(r.w))
	var params []optim.Param
	for _, p := range net.Params {
		if p.Kind == nets.Weight {
			params = append(params, optim.Param{Name: p.Name, Data: d.Entry(r.w, p.Name), Grad: d.Entry(r.grad, p.Name)})
		}
	}
	if r.opt, err = optim.New(opt, []*optim.Group{{Params: params}}, lr); err != nil {
		d.Close()
		return nil, err
	}
	return r, nil
}

func (r *trainRun) Step(x []float32, y []int32) (float64, int, error) {
	loss, correct, err := r.d.TrainStep(r.w, x, y, r.grad)
	if err == nil {
		r.opt.Step()
	}
	return loss, correct, err
}

func (r *trainRun) Weights() *nets.StateDict {
	sd := &nets.StateDict{}
	for _, p := range r.net.Params {
		sd.Set(p.Name, &nets.Tensor{Shape: p.Shape, Data: slices.Clone(r.d.Entry(r.w, p.Name))})
	}
	return sd
}

func (r *trainRun) Close() error { return r.d.Close() }

// TestGPUDifferentiatorMatchesPyTorchOnMobileOps is
// TestHostDifferentiatorMatchesPyTorchOnMobileOps on the GPU.
func TestGPUDifferentiatorMatchesPyTorchOnMobileOps(t *testing.T) {
	requireGPU(t)
	gradtest.MobileMatchesPyTorch(t, func(p *backend.Problem) (backend.Differentiator, error) {
		return NewDifferentiator(p, nil, nil)
	})
}
