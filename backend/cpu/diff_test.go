package cpu

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/backend/backendtest/gradtest"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/internal/fixture"
	"github.com/landscape-go/landscape/nets"
)

// TestDerivativesMatchPyTorch computes, for every zoo fixture and on both
// engines (the micro-kernels where this machine has them, and im2col and
// SGEMM), the gradient of the mean loss over its 20 samples and the
// product of the Hessian with the fixture's x direction, and compares each
// parameter's with torch.autograd's (double backward, float64): the norms
// within a relative tol, the dot products with a probe within tol times
// the norms' product, tol being 1e-4, or where PyTorch's own float32
// computation is further from float64 than that (the deep nets on random
// data), four times PyTorch's float32 error. It takes the kernels' fine
// chunks of sums (see sumChunk): in chunks of 256, a ReLU input of vgg9
// turned from -3.1e-6 to +4.8e-7 and its derivatives came 2.7e-4 from
// float64.
func TestDerivativesMatchPyTorch(t *testing.T) {
	t.Parallel()
	engines := []struct {
		name string
		opts Options
	}{{"sgemm", Options{Workers: 2, Generic: true}}, {"kernels", Options{Workers: 2}}}
	if fastKernels == nil {
		engines = engines[:1] // the kernels' options would run SGEMMs too
	}
	for _, c := range fixture.All(t) {
		for _, engine := range engines {
			t.Run(c.Name+"/"+engine.name, func(t *testing.T) {
				t.Parallel()
				gradtest.MatchPyTorch(t, c, func(p *backend.Problem) (backend.Differentiator, error) {
					return NewDifferentiator(p, nil, &engine.opts)
				})
			})
		}
	}
}

// The derivatives are the same bits on one worker and on several, and the
// Hessian is symmetric: u·(H·v) = v·(H·u) to float32 rounding.
func TestDerivativesAreDeterministicAndSymmetric(t *testing.T) {
	t.Parallel()
	c := fixture.Load(t, "resnet20")
	ds, err := data.Load(data.Spec{Kind: data.NPZ, Path: c.Data}, "train", nil)
	if err != nil {
		t.Fatal(err)
	}
	x, y := c.Directions(t)
	p := &backend.Problem{Net: c.Net(t), Center: c.Weights(t), X: x, Y: y, BatchSize: 3,
		Data: []*backend.Data{{Name: "train", N: ds.N, C: ds.C, H: ds.H, W: ds.W, X: ds.X, Y: ds.Y}}}
	at := backend.Coord{X: 0.25, Y: -0.5} // off the centre: the directions move the weights
	var grads [][]float32
	for _, workers := range []int{1, 3} {
		d, err := NewDifferentiator(p, nil, &Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		g := make([]float32, d.Dim())
		if _, err := d.Gradient(context.Background(), at, g); err != nil {
			t.Fatal(err)
		}
		grads = append(grads, g)
	}
	if !slices.Equal(grads[0], grads[1]) {
		t.Error("the gradient on 1 worker differs from that on 3")
	}
	d, err := NewDifferentiator(p, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	flat := func(sd *nets.StateDict) []float32 {
		v := make([]float32, 0, d.Dim())
		for _, prm := range d.Params() {
			tt, _ := sd.Get(prm.Name)
			v = append(v, tt.Data...)
		}
		return v
	}
	u, v := flat(x), flat(y)
	hu, hv := make([]float32, d.Dim()), make([]float32, d.Dim())
	if _, err := d.HVP(context.Background(), at, u, hu); err != nil {
		t.Fatal(err)
	}
	if _, err := d.HVP(context.Background(), at, v, hv); err != nil {
		t.Fatal(err)
	}
	dot := func(a, b []float32) float64 {
		s := 0.0
		for i := range a {
			s += float64(a[i]) * float64(b[i])
		}
		return s
	}
	uHv, vHu := dot(u, hv), dot(v, hu)
	if scale := math.Sqrt(dot(u, u) * dot(hv, hv)); !(math.Abs(uHv-vHu) <= 1e-5*scale) {
		t.Errorf("u·Hv = %.7g, v·Hu = %.7g: not symmetric (scale %.3g)", uHv, vHu, scale)
	}
}

// A product split over workers is the same bits as the whole, for every
// transposition and for splits by columns and by rows.
func TestSplitGemmIsTheWholeProduct(t *testing.T) {
	t.Parallel()
	gemm, _ := loadSgemmT("")
	split := splitGemm(gemm, 3)
	for _, c := range []struct{ m, n, k int }{{16, 700, 40}, {700, 16, 40}, {64, 64, 64}, {3, 5, 7}} {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				a := make([]float32, c.m*c.k)
				b := make([]float32, c.k*c.n)
				for i := range a {
					a[i] = float32(i%13) - 6.5
				}
				for i := range b {
					b[i] = float32(i%7)*0.25 - 0.5
				}
				lda, ldb := c.k, c.n
				if tA {
					lda = c.m
				}
				if tB {
					ldb = c.k
				}
				want, got := make([]float32, c.m*c.n), make([]float32, c.m*c.n)
				for i := range want {
					want[i], got[i] = float32(i%3), float32(i%3)
				}
				gemm(tA, tB, c.m, c.n, c.k, a, lda, b, ldb, 0.5, want, c.n)
				split(tA, tB, c.m, c.n, c.k, a, lda, b, ldb, 0.5, got, c.n)
				if !slices.Equal(got, want) {
					t.Errorf("%dx%dx%d tA %v tB %v: the split product differs", c.m, c.n, c.k, tA, tB)
				}
			}
		}
	}
}

// TestSampleIm2colAndItsAdjoint holds the differentiator's im2col to its
// definition and col2im to its adjoint, ⟨im2col x, c⟩ = ⟨x, col2im c⟩,
// over strides, paddings and inputs smaller than the kernel.
func TestSampleIm2colAndItsAdjoint(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(2, 2))
	for _, tc := range []struct{ c, h, w, k, stride, pad int }{
		{3, 5, 4, 3, 1, 1}, {2, 7, 7, 3, 2, 1}, {4, 6, 6, 1, 2, 0}, {1, 1, 1, 3, 1, 1}, {1, 1, 1, 3, 2, 1},
		{2, 4, 3, 3, 1, 0}, {1, 6, 5, 5, 1, 2}, {2, 2, 9, 5, 3, 2}, {1, 8, 8, 7, 2, 3},
		{1, 1, 1, 5, 1, 2}, {2, 2, 2, 5, 1, 2}, {1, 3, 2, 7, 1, 3}, {3, 9, 9, 3, 1, 1},
	} {
		oh, ow := (tc.h+2*tc.pad-tc.k)/tc.stride+1, (tc.w+2*tc.pad-tc.k)/tc.stride+1
		o := &nets.Op{Kind: nets.Conv, Kernel: tc.k, Stride: tc.stride, Pad: tc.pad, H: oh, W: ow}
		ci := [3]int{tc.c, tc.h, tc.w}
		x := make([]float32, tc.c*tc.h*tc.w)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		want := naiveIm2col(x, tc.c, 1, tc.h, tc.w, tc.k, tc.stride, tc.pad, oh, ow, 0, oh)
		got := make([]float32, len(want))
		for i := range got {
			got[i] = 99 // stale contents must be overwritten
		}
		im2col(got, x, ci, o)
		if !slices.Equal(got, want) {
			t.Errorf("%+v: im2col differs from its definition", tc)
		}
		c := make([]float32, len(want))
		for i := range c {
			c[i] = float32(rng.NormFloat64())
		}
		back := make([]float32, len(x))
		col2im(back, c, ci, o)
		var lhs, rhs float64
		for i := range c {
			lhs += float64(want[i]) * float64(c[i])
		}
		for i := range x {
			rhs += float64(x[i]) * float64(back[i])
		}
		if math.Abs(lhs-rhs) > 1e-4*(1+math.Abs(lhs)) {
			t.Errorf("%+v: ⟨im2col x, c⟩ = %g, ⟨x, col2im c⟩ = %g", tc, lhs, rhs)
		}
	}
}

// Max pooling with padding and ceil mode, as torchvision's stems and
// densenet's pool0 export it, follows its definition: the maximum over
// the window of the input padded with -inf. The engines' kernel gives it,
// and the differentiator's forward gives it with the index of the
// element it came from (which the backward pass routes gradients to).
func TestPaddedMaxPoolIsItsDefinition(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 3))
	for _, tc := range []struct {
		c, h, w, k, stride, pad int
		ceil                    bool
	}{
		{2, 8, 8, 3, 2, 1, false}, {1, 7, 7, 3, 2, 1, true}, {3, 6, 5, 3, 2, 1, true}, {1, 1, 1, 3, 2, 1, true},
		{2, 5, 5, 2, 2, 1, true}, {1, 9, 4, 5, 3, 2, false}, {2, 4, 4, 2, 2, 0, true},
	} {
		b := nets.NewBuilder("pool", nets.Config{InChannels: tc.c, Height: tc.h, Width: tc.w})
		b.Op(nets.Op{Kind: nets.MaxPool, In: []int{0}, Kernel: tc.k, Stride: tc.stride, Pad: tc.pad, Ceil: tc.ceil})
		net, err := b.Net()
		if err != nil {
			t.Fatal(err)
		}
		o := net.Ops[0]
		x := make([]float32, tc.c*tc.h*tc.w)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		want := make([]float32, tc.c*o.H*o.W)
		for p := range tc.c {
			for oy := range o.H {
				for ox := range o.W {
					m := float32(math.Inf(-1))
					for ky := range tc.k {
						for kx := range tc.k {
							y, xx := oy*tc.stride-tc.pad+ky, ox*tc.stride-tc.pad+kx
							if y >= 0 && y < tc.h && xx >= 0 && xx < tc.w {
								m = max(m, x[(p*tc.h+y)*tc.w+xx])
							}
						}
					}
					want[(p*o.H+oy)*o.W+ox] = m
				}
			}
		}
		got := make([]float32, len(want))
		maxPool(got, x, tc.c, tc.h, tc.w, tc.k, tc.stride, tc.pad, o.H, o.W)
		if !slices.Equal(got, want) {
			t.Errorf("%+v: engine %v, definition %v", tc, got, want)
		}
		tp := &tape{n: 1}
		idx := make([]int32, len(want))
		tp.maxPoolForward(&o, [3]int{tc.c, tc.h, tc.w}, x, got, nil, nil, idx)
		for j, k := range idx {
			if got[j] != want[j] || x[k] != want[j] {
				t.Errorf("%+v: output %d: differentiator %v from input %d (%v), definition %v", tc, j, got[j], k, x[k], want[j])
			}
		}
	}
}

// A network the engines cannot run (given by its Forward function alone,
// as an ONNX language model is) has no ops to differentiate: the
// differentiator refuses it by name instead of differentiating nothing
// (it used to panic in the loss).
func TestDifferentiatorRefusesNetworksWithoutOps(t *testing.T) {
	t.Parallel()
	c := fixture.Load(t, "resnet20")
	ds, err := data.Load(data.Spec{Kind: data.NPZ, Path: c.Data}, "train", nil)
	if err != nil {
		t.Fatal(err)
	}
	net := *c.Net(t)
	net.Name = "opaque"
	net.Ops = nil
	net.Forward = func(x []float32, n int, w *nets.StateDict, _ *nets.Kernels) ([]float32, error) {
		return make([]float32, n*net.Config.Classes), nil
	}
	p := &backend.Problem{Net: &net, Center: c.Weights(t),
		Data: []*backend.Data{{Name: "train", N: ds.N, C: ds.C, H: ds.H, W: ds.W, X: ds.X, Y: ds.Y}}}
	_, err = NewDifferentiator(p, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "opaque") || !strings.Contains(err.Error(), "engines cannot run") {
		t.Fatalf("NewDifferentiator(network without ops) = %v, want an error naming the model and why", err)
	}
}

// The ops of mobile networks differentiate as PyTorch's double backward
// does (see gradtest.MobileMatchesPyTorch).
func TestDerivativesOfMobileOpsMatchPyTorch(t *testing.T) {
	t.Parallel()
	gradtest.MobileMatchesPyTorch(t, func(p *backend.Problem) (backend.Differentiator, error) {
		return NewDifferentiator(p, nil, &Options{Workers: 2})
	})
}
