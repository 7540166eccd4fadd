// Package backendtest is the conformance suite of loss-surface backends:
// every implementation of backend.Evaluator runs it against a reference
// evaluator, so that a new backend (another instruction set, a GPU, a
// remote device) is held to the same numbers.
//
// # Overview
//
// [Run] evaluates zoo networks with random weights, batch-norm statistics
// and directions ([Problem]) at grid points near and far from the centre,
// with both the candidate and the reference, and checks that (the last
// three on the smaller networks)
//   - finite losses agree within 1e-4 relative and accuracies exactly;
//   - NaN and ±Inf losses are reproduced as such: overflow far from the
//     centre and a negative running variance give NaN, never a plausible
//     number;
//   - a point gives the same bits whenever and in whatever order it is
//     evaluated (determinism, independence of the other points);
//   - a cancelled context stops the evaluation with the context's error.
//
// The reference is normally the CPU backend's portable engine
// (cpu.Options{Generic: true}), which the landscape package's tests hold
// to PyTorch's numbers on committed fixtures.
package backendtest

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/nets"
)

// Factory builds an evaluator for a problem.
type Factory func(p *backend.Problem) (backend.Evaluator, error)

// Case is a zoo network at an input size that keeps the suite fast but
// reaches the ops and layout cases of the engines: residual and plain
// blocks, strided and 1x1 convolutions, sizes that are and are not
// multiples of 4 (Winograd), bottlenecks, max pooling with ceil mode and a
// spatial Linear (VGG), concatenation and average pooling (DenseNet),
// channel counts that are not multiples of 16, 1-channel inputs and more
// than 100 classes.
type Case struct {
	Model  string
	Config nets.Config
}

// Cases are the networks [Run] checks.
func Cases() []Case {
	return []Case{
		{"resnet20", nets.Config{}},
		{"resnet20_noshort", nets.Config{InChannels: 1, Height: 28, Width: 28}},
		{"resnet56", nets.Config{Height: 12, Width: 12}},
		{"wrn56_2", nets.Config{Height: 8, Width: 8, Classes: 100}},
		{"vgg9", nets.Config{Height: 17, Width: 15}},
		{"resnet18", nets.Config{Height: 8, Width: 12}},
		{"resnet50_noshort", nets.Config{Height: 5, Width: 3}},
		{"densenet121", nets.Config{Height: 8, Width: 8}},
	}
}

// Problem returns a problem for a zoo network with n random samples
// (N(0,1) pixels, uniform labels): He-scaled weights, batch-norm weights
// and running variances in [0.5, 1.5), and, with withDirs, two directions
// of 0.1 times the weights' scale over the parameters (not the buffers).
// The same arguments give the same problem.
func Problem(tb testing.TB, model string, cfg nets.Config, n int, withDirs bool) *backend.Problem {
	tb.Helper()
	net, err := nets.New(model, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return ProblemFor(net, n, withDirs)
}

// ProblemFor is [Problem] for a network built otherwise (nets.Builder).
func ProblemFor(net *nets.Net, n int, withDirs bool) *backend.Problem {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(sd *nets.StateDict, scale float64, weightsOnly bool) {
		for _, p := range net.Params {
			if weightsOnly && p.Kind != nets.Weight {
				continue
			}
			t := nets.NewTensor(p.Shape...)
			if len(p.Shape) <= 1 {
				for i := range t.Data {
					t.Data[i] = float32(0.5 + rng.Float64())
				}
			} else {
				std := scale * math.Sqrt(2/float64(nets.NumElements(p.Shape[1:])))
				for i := range t.Data {
					t.Data[i] = float32(rng.NormFloat64() * std)
				}
			}
			sd.Set(p.Name, t)
		}
	}
	center := &nets.StateDict{}
	random(center, 1, false)
	p := &backend.Problem{Net: net, Center: center}
	if withDirs {
		p.X, p.Y = &nets.StateDict{}, &nets.StateDict{}
		random(p.X, 0.1, true)
		random(p.Y, 0.1, true)
	}
	p.Data = []*backend.Data{RandomData(net, n, rng)}
	return p
}

// RandomData returns a dataset "synthetic" of n samples for net drawn
// from rng: N(0,1) pixels, uniform labels.
func RandomData(net *nets.Net, n int, rng *rand.Rand) *backend.Data {
	c := net.Config
	d := &backend.Data{Name: "synthetic", N: n, C: c.InChannels, H: c.Height, W: c.Width,
		X: make([]float32, n*c.InChannels*c.Height*c.Width), Y: make([]int32, n)}
	for i := range d.X {
		d.X[i] = float32(rng.NormFloat64())
	}
	for i := range d.Y {
		d.Y[i] = int32(rng.IntN(c.Classes))
	}
	return d
}

// NegativeVariance makes the running variance of p's first batch norm
// negative in one channel: PyTorch's eval-mode batch norm then gives NaN.
func NegativeVariance(tb testing.TB, p *backend.Problem) {
	tb.Helper()
	for _, prm := range p.Net.Params {
		if prm.Kind == nets.Buffer && strings.HasSuffix(prm.Name, ".running_var") {
			v, _ := p.Center.Get(prm.Name)
			v.Data[0] = -1
			return
		}
	}
	tb.Fatalf("%s has no batch norm", p.Net.Name)
}

// coords are the points [Run] evaluates: the centre, points near it, and
// then those of [Far].
var coords = append([]backend.Coord{{}, {X: 0.5, Y: -0.25}, {X: -1, Y: 1}}, Far()...)

// Far returns points so far from the centre (±1e12) that float32
// activations overflow: PyTorch gives NaN losses there.
func Far() []backend.Coord { return []backend.Coord{{X: 1e12, Y: 1e12}, {X: -1e12, Y: 1e12}} }

// Evaluate runs e at coords and returns the values of each point.
func Evaluate(tb testing.TB, e backend.Evaluator, coords []backend.Coord) [][]float64 {
	tb.Helper()
	got := make([][]float64, len(coords))
	if err := e.Evaluate(context.Background(), coords, func(i int, v []float64) { got[i] = v }); err != nil {
		tb.Fatal(err)
	}
	for i, v := range got {
		if v == nil {
			tb.Fatalf("point %d (%v) was never emitted", i, coords[i])
		}
	}
	return got
}

// Candidate is a backend under test, named for the subtests.
type Candidate struct {
	Name string
	New  Factory
	// TimedAlgorithms marks a backend whose algorithms are chosen by
	// timing them (cuDNN's benchmark mode). Where activations overflow,
	// whether a sum meets +Inf and -Inf (NaN) or one of them is clipped
	// by a ReLU first depends on the algorithm's order of operations:
	// on an H200, vgg9's far point gave a loss of 1.4e36 with timed
	// algorithms. Its far points must then be NaN, ±Inf or above
	// [Implausible], never a loss a network could have.
	TimedAlgorithms bool
}

// Implausible is a loss no network reaches by training or near its
// minimum: a point beyond it has overflowed.
const Implausible = 1e10

// Run checks each candidate against reference on every case of [Cases]
// (see the package documentation for what it checks). The reference is
// evaluated once per case.
func Run(t *testing.T, reference Factory, candidates ...Candidate) {
	build := func(t *testing.T, f Factory, p *backend.Problem) backend.Evaluator {
		t.Helper()
		e, err := f(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	for k, c := range Cases() {
		// Order and NaN checks cost as much as the comparison: they run on
		// the smaller networks, whose ops the larger ones repeat.
		thorough := k < 3
		t.Run(c.Model, func(t *testing.T) {
			p := Problem(t, c.Model, c.Config, 11, true)
			p.BatchSize = 7 // not a divisor of 11: a partial last batch
			want := Evaluate(t, build(t, reference, p), coords)
			bad := Problem(t, c.Model, c.Config, 11, true)
			bad.BatchSize = 7
			NegativeVariance(t, bad)
			for _, cand := range candidates {
				t.Run(cand.Name, func(t *testing.T) {
					e := build(t, cand.New, p)
					got := Evaluate(t, e, coords)
					near := len(coords) - len(Far())
					if cand.TimedAlgorithms {
						Compare(t, coords[:near], got[:near], want[:near])
					} else {
						Compare(t, coords, got, want)
					}
					for i, v := range got[near:] {
						switch {
						case math.IsNaN(v[0]):
						case cand.TimedAlgorithms && math.Abs(v[0]) > Implausible:
							t.Logf("point %v, where activations overflow: loss %g (NaN with deterministic algorithms)", coords[near+i], v[0])
						default:
							t.Errorf("point %v, where activations overflow: loss %g, want NaN as PyTorch gives", coords[near+i], v[0])
						}
					}
					if !thorough {
						return
					}
					// The same bits again, in reverse order and alone.
					rev := slices.Clone(coords)
					slices.Reverse(rev)
					again := Evaluate(t, e, rev)
					slices.Reverse(again)
					for i := range coords {
						if !sameBits(again[i], got[i]) {
							t.Errorf("point %v: %v, then in reverse order %v", coords[i], got[i], again[i])
						}
					}
					if single := Evaluate(t, e, coords[1:2]); !sameBits(single[0], got[1]) {
						t.Errorf("point %v: %v among others, %v alone", coords[1], got[1], single[0])
					}
					for i, v := range Evaluate(t, build(t, cand.New, bad), coords[:2]) {
						if !math.IsNaN(v[0]) {
							t.Errorf("negative running variance, point %v: loss %g, want NaN", coords[i], v[0])
						}
					}
				})
			}
		})
	}
	for _, cand := range candidates {
		t.Run("cancelled/"+cand.Name, func(t *testing.T) {
			c := Cases()[0]
			e := build(t, cand.New, Problem(t, c.Model, c.Config, 11, true))
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			err := e.Evaluate(ctx, coords, func(int, []float64) {})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Evaluate with a cancelled context: %v, want context.Canceled", err)
			}
		})
	}
}

// Compare checks got against want point by point: finite losses within
// 1e-4 relative, NaN and ±Inf alike, accuracies equal.
func Compare(t *testing.T, coords []backend.Coord, got, want [][]float64) {
	t.Helper()
	CompareWithin(t, coords, got, want, 1e-4)
}

// CompareWithin is [Compare] with finite losses within tol relative: for
// two computations that should differ by little more than float32
// rounding, where 1e-4 would let a small error through.
func CompareWithin(t *testing.T, coords []backend.Coord, got, want [][]float64, tol float64) {
	t.Helper()
	for i := range coords {
		for s := 0; s+1 < len(want[i]); s += 2 {
			loss, wloss := got[i][s], want[i][s]
			switch {
			case math.IsNaN(wloss) || math.IsInf(wloss, 0):
				if !(math.IsNaN(wloss) && math.IsNaN(loss)) && loss != wloss {
					t.Errorf("point %v, split %d: loss %g, reference %g", coords[i], s/2, loss, wloss)
				}
			case !(math.Abs(loss-wloss) <= tol*math.Abs(wloss)):
				t.Errorf("point %v, split %d: loss %.7g, reference %.7g (relative difference %.2g)", coords[i], s/2, loss, wloss, math.Abs(loss-wloss)/math.Abs(wloss))
			}
			if got[i][s+1] != want[i][s+1] && !math.IsNaN(wloss) {
				t.Errorf("point %v, split %d: accuracy %g%%, reference %g%%", coords[i], s/2, got[i][s+1], want[i][s+1])
			}
		}
	}
}

func sameBits(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

// CrossEntropy is the cross-entropy of logits z against label y,
// -log_softmax(z)[y], in float64: the loss the tests recompute from
// logits.
func CrossEntropy(z []float32, y int) float64 {
	m := float64(slices.Max(z))
	var sum float64
	for _, v := range z {
		sum += math.Exp(float64(v) - m)
	}
	return m + math.Log(sum) - float64(z[y])
}
