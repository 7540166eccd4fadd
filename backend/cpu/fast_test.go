package cpu

import (
	"context"
	"math"
	"sync"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/nets"
)

// fastCases are zoo networks at input sizes that keep the tests short but
// reach every op and layout case of the fast engine: residual and plain
// blocks, strided and 1x1 convolutions, Winograd and not (sizes not
// multiples of 4), bottlenecks (without the final ReLU), max pooling with ceil mode and a spatial
// Linear (VGG), concatenation and average pooling (DenseNet), channel
// counts that are not multiples of 16 (DenseNet, 1-channel inputs) and more
// than 100 classes.
var fastCases = []struct {
	model string
	cfg   nets.Config
}{
	{"resnet20", nets.Config{}},
	{"resnet20_noshort", nets.Config{InChannels: 1, Height: 28, Width: 28}},
	{"resnet56", nets.Config{Height: 12, Width: 12}},
	{"wrn56_2", nets.Config{Height: 8, Width: 8, Classes: 100}},
	{"vgg9", nets.Config{Height: 17, Width: 15}},
	{"resnet18", nets.Config{Height: 8, Width: 12}},
	{"resnet50_noshort", nets.Config{Height: 5, Width: 3}},
	{"densenet121", nets.Config{Height: 8, Width: 8}},
}

// evaluate runs e at coords and returns the values of each point.
func evaluate(t *testing.T, e *Evaluator, coords []backend.Coord) [][]float64 {
	t.Helper()
	got := make([][]float64, len(coords))
	if err := e.Evaluate(context.Background(), coords, func(i int, v []float64) { got[i] = v }); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestFastMatchesGeneric evaluates zoo networks with the micro-kernel
// engine, with and without Winograd convolutions, and with the im2col +
// SGEMM engine, and asks for the same losses (1e-4 relative) and
// accuracies. Every kernel buffer is surrounded by NaN guards and starts
// as NaN, so reading past a buffer or a value never written shows as a NaN
// loss, and writing past one as a changed guard.
func TestFastMatchesGeneric(t *testing.T) {
	if kernelSets == nil {
		t.Skip("no micro-kernels on this machine")
	}
	guardFloats = 1 << 12
	defer func() { guardFloats = 0 }()
	coords := []backend.Coord{{X: 0, Y: 0}, {X: 0.5, Y: -0.25}, {X: -1, Y: 1}}
	type variant struct {
		ks     *kernelSet
		direct bool
	}
	var variants []variant
	for _, ks := range kernelSets {
		variants = append(variants, variant{ks, false}, variant{ks, true})
	}
	for _, tc := range fastCases {
		t.Run(tc.model, func(t *testing.T) {
			p := syntheticProblem(t, tc.model, tc.cfg, 11, true)
			p.BatchSize = 7
			gen, err := New(p, &Options{Generic: true})
			if err != nil {
				t.Fatal(err)
			}
			want := evaluate(t, gen, coords)
			for _, vr := range variants {
				fast, err := New(p, &Options{kernels: vr.ks, direct: vr.direct})
				if err != nil {
					t.Fatal(err)
				}
				if fast.fast == nil {
					t.Fatalf("%s: no fast plan", tc.model)
				}
				got := evaluate(t, fast, coords)
				if err := guardsIntact(); err != nil {
					t.Fatalf("%s, direct %v: %v", vr.ks.name, vr.direct, err)
				}
				for i := range coords {
					loss, wloss := got[i][0], want[i][0]
					if rel := math.Abs(loss-wloss) / math.Abs(wloss); !(rel <= 1e-4) {
						t.Errorf("%s, direct %v, point %v: loss %.7g, generic engine %.7g (relative difference %.2g)",
							vr.ks.name, vr.direct, coords[i], loss, wloss, rel)
					}
					if got[i][1] != want[i][1] {
						t.Errorf("%s, direct %v, point %v: accuracy %g, generic engine %g", vr.ks.name, vr.direct, coords[i], got[i][1], want[i][1])
					}
				}
			}
		})
	}
}

// TestFastWorkersAgree checks that the numbers do not depend on the
// number of workers: each batch is computed the same way whoever computes
// it, and batch sums are added in batch order.
func TestFastWorkersAgree(t *testing.T) {
	t.Parallel()
	p := syntheticProblem(t, "resnet20", nets.Config{Height: 8, Width: 8}, 45, true)
	p.BatchSize = 6
	coords := []backend.Coord{{X: 0, Y: 0}, {X: 0.5, Y: -0.25}, {X: -1, Y: 1}, {X: 0.25, Y: 0.75}, {X: 1, Y: 1}}
	var want [][]float64
	for _, workers := range []int{1, 2, 3, 7} {
		e, err := New(p, &Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		got := evaluate(t, e, coords)
		if want == nil {
			want = got
			continue
		}
		for i := range got {
			for k := range got[i] {
				if got[i][k] != want[i][k] {
					t.Errorf("%d workers, point %v: value %d is %.17g, with 1 worker %.17g", workers, coords[i], k, got[i][k], want[i][k])
				}
			}
		}
	}
}

// TestPackCacheShares checks that workers at the same point share one
// preparation and that every point gets the weights it asked for.
func TestPackCacheShares(t *testing.T) {
	t.Parallel()
	if fastKernels == nil {
		t.Skip("no micro-kernels on this machine")
	}
	p := syntheticProblem(t, "resnet20", nets.Config{Height: 4, Width: 4}, 1, true)
	e, err := New(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	const workers = 4
	c := e.newPackCache(workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var pp *pointPack
			for i := range 20 {
				pt := i / 2 // pairs of jobs at each point
				if pp != nil {
					c.release(pp)
				}
				pp = c.acquire(pt, backend.Coord{X: float64(pt)})
				if pp.coord.X != float64(pt) {
					t.Errorf("worker %d: asked for point %d, got the weights of %g", w, pt, pp.coord.X)
				}
			}
			c.release(pp)
		}()
	}
	wg.Wait()
	if len(c.slots) > workers {
		t.Errorf("%d slots for %d workers", len(c.slots), workers)
	}
}

// TestFastForwardAllocatesNothing checks that a batch allocates no memory:
// buffers belong to the worker and the weights to the point.
func TestFastForwardAllocatesNothing(t *testing.T) {
	if fastKernels == nil {
		t.Skip("no micro-kernels on this machine")
	}
	p := syntheticProblem(t, "resnet20", nets.Config{Height: 8, Width: 8}, 20, true)
	e, err := New(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := e.newFastWorker(e.newPackCache(1))
	w.setPoint(0, backend.Coord{X: 0.5})
	if n := testing.AllocsPerRun(5, func() { w.forward(p.Data[0], 3, 20) }); n != 0 {
		t.Errorf("a batch allocates %g times", n)
	}
}
