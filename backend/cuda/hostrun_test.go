//go:build linux && !android && (amd64 || arm64)

package cuda

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/backend/backendtest"
	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/nets"
)

// The evaluator and the differentiator run here on the host device
// (hostAPI): every kernel launch, cuDNN and cuBLAS call and copy they make
// on a GPU, in the same order on the same buffers. Their results must be
// the CPU backend's.

// TestHostEvaluatorConforms runs the backend conformance suite on the
// evaluator, on the host.
func TestHostEvaluatorConforms(t *testing.T) {
	a := hostAPI(t)
	backendtest.Run(t,
		func(p *backend.Problem) (backend.Evaluator, error) { return cpu.New(p, &cpu.Options{Generic: true}) },
		backendtest.Candidate{Name: "cuda-on-the-host", New: func(p *backend.Problem) (backend.Evaluator, error) {
			pl, err := compile(p.Net)
			if err != nil {
				return nil, err
			}
			return newEvaluator(p, pl, &Options{}, a)
		}},
	)
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

// TestHostDifferentiatorMatchesTheCPUs compares the gradient and H·v of
// the differentiator with the CPU differentiator's, which the derivative
// fixtures hold to PyTorch's, on the architectures of the derivatives'
// fixtures: residual and plain blocks, max pooling (VGG), concatenation and
// average pooling (DenseNet), a 1-channel input and 100 classes.
func TestHostDifferentiatorMatchesTheCPUs(t *testing.T) {
	a := hostAPI(t)
	for _, c := range []struct {
		model    string
		cfg      nets.Config
		n, chunk int
		rank2    bool // differentiate the tensors of rank > 1 only
	}{
		{"resnet20", nets.Config{Height: 8, Width: 8}, 68, 64, false}, // two chunks, the second mostly padding
		{"resnet20_noshort", nets.Config{InChannels: 1, Height: 12, Width: 12}, 5, 0, true},
		{"vgg9", nets.Config{Height: 17, Width: 15}, 5, 0, false},
		{"densenet121", nets.Config{Height: 8, Width: 8}, 3, 0, true},
		{"wrn56_2", nets.Config{Height: 8, Width: 8, Classes: 100}, 3, 0, false},
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
			got, err := newDifferentiator(p, params, &Options{MaxBatch: c.chunk}, a)
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
