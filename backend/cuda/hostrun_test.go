//go:build linux && !android && (amd64 || arm64)

package cuda

import (
	"context"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/backend/backendtest"
	"github.com/landscape-go/landscape/backend/backendtest/gradtest"
	"github.com/landscape-go/landscape/backend/backendtest/traintest"
	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/internal/fixture"
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

// TestHostDifferentiatorMatchesTheCPUs compares the gradient and H·v of
// the differentiator with the CPU differentiator's where the fixtures
// (TestHostDifferentiatorMatchesPyTorch) do not reach: several chunks, the
// last padded; some parameters only (the tensors of rank > 1); a 1-channel
// input; points off the centre. A second product must be the same bits.
func TestHostDifferentiatorMatchesTheCPUs(t *testing.T) {
	a := hostAPI(t)
	differentiatorMatchesTheCPUs(t, func(p *backend.Problem, params []string, opts *Options) (*Differentiator, error) {
		return newDifferentiator(p, params, opts, a)
	})
}

// TestHostDifferentiatorMatchesPyTorch holds the differentiator, run on
// the host device, to torch.autograd's gradients and Hessian-vector
// products (see gradtest.MatchPyTorch) on the fixtures of
// each kind of network: residual, plain, VGG, DenseNet and wide. The
// deeper resnet56 and resnet18 repeat their ops at several times the
// host's time: the GPU check (TestGPUDifferentiatorMatchesPyTorch) runs
// them.
func TestHostDifferentiatorMatchesPyTorch(t *testing.T) {
	for _, c := range fixture.All(t) {
		if !slices.Contains([]string{"resnet20", "resnet20_noshort", "vgg9", "densenet121", "wrn56_2"}, c.Name) {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			a := hostAPI(t)
			gradtest.MatchPyTorch(t, c, func(p *backend.Problem) (backend.Differentiator, error) {
				return newDifferentiator(p, nil, nil, a)
			})
		})
	}
}

// TestHostEvaluatorRunsMobileOps runs testdata/onnx/mobile.onnx, whose ops
// the zoo lacks (grouped and depthwise convolutions, ReLU6, sigmoid, SiLU,
// hard-sigmoid, hard-swish, squeeze-and-excitation's product, ShuffleNet's
// chunk and channel shuffle), on the host device, at the centre and off
// it, against the CPU backend.
func TestHostEvaluatorRunsMobileOps(t *testing.T) {
	a := hostAPI(t)
	net, sd := mobileNet(t)
	p := backendtest.ProblemFor(net, 5, true)
	p.Center = sd
	coords := []backend.Coord{{}, {X: 0.5, Y: -0.25}, {X: -1, Y: 1}}
	want, err := cpu.New(p, &cpu.Options{Generic: true})
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	pl, err := compile(net)
	if err != nil {
		t.Fatal(err)
	}
	got, err := newEvaluator(p, pl, &Options{}, a)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	backendtest.Compare(t, coords, backendtest.Evaluate(t, got, coords), backendtest.Evaluate(t, want, coords))
}

// TestHostTrainingFollowsPyTorch trains on the host device and compares
// the runs with PyTorch's (see traintest.FollowsPyTorch): the MLP with
// every optimizer, resnet20 and vgg9 (batch norm in training mode) with
// SGD and momentum: the optimizers' updates run on the host, as on the
// CPU, and what the device computes, the step's gradient, is the same
// for every optimizer.
func TestHostTrainingFollowsPyTorch(t *testing.T) {
	for _, name := range traintest.Nets {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			only := func(opt string) bool { return name == "mlp" || opt == "momentum" }
			traintest.FollowsPyTorch(t, name, only, func(t *testing.T, net *nets.Net, init *nets.StateDict, ds *data.Dataset, opt string, lr float64) (traintest.Run, error) {
				a := hostAPI(t)
				return newTrainRun(net, init, ds, opt, lr, func(p *backend.Problem, params []string, o *Options) (*Differentiator, error) {
					return newDifferentiator(p, params, o, a)
				})
			})
		})
	}
}

// TestHostDifferentiatorMatchesPyTorchOnMobileOps holds the differentiator,
// on the host device, to PyTorch's double backward on the ops of mobile
// networks (see gradtest.MobileMatchesPyTorch).
func TestHostDifferentiatorMatchesPyTorchOnMobileOps(t *testing.T) {
	a := hostAPI(t)
	gradtest.MobileMatchesPyTorch(t, func(p *backend.Problem) (backend.Differentiator, error) {
		return newDifferentiator(p, nil, nil, a)
	})
}

// TestHostPoolOfTwoDevicesIsOneDevice deals a grid's points between two
// evaluators, each on a host device of its own, each on its own thread
// (as --device cuda:all does with two GPUs), and asks for the bits one of
// them gives alone.
func TestHostPoolOfTwoDevicesIsOneDevice(t *testing.T) {
	p := backendtest.Problem(t, "resnet20", nets.Config{Height: 8, Width: 8}, 5, true)
	var coords []backend.Coord
	for i := range 9 {
		coords = append(coords, backend.Coord{X: float64(i%3) - 1, Y: float64(i/3)/2 - 0.5})
	}
	open := func() backend.Evaluator {
		pl, err := compile(p.Net)
		if err != nil {
			t.Fatal(err)
		}
		e, err := newEvaluator(p, pl, &Options{}, hostAPI(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	want := backendtest.Evaluate(t, open(), coords)
	pool, err := backend.NewPool(open(), open())
	if err != nil {
		t.Fatal(err)
	}
	got := backendtest.Evaluate(t, pool, coords)
	for i := range coords {
		for k := range want[i] {
			if math.Float64bits(got[i][k]) != math.Float64bits(want[i][k]) {
				t.Errorf("point %v: %v from the pool, %v from one device", coords[i], got[i], want[i])
			}
		}
	}
}

// TestHostTrainStepTakesABatchLargerThanAChunk trains one step on a batch
// larger than the differentiator's chunk (its tape grows to hold it) and
// compares the loss, the gradient and the running statistics with the
// CPU's step, then checks that H·v still runs in chunks after it.
func TestHostTrainStepTakesABatchLargerThanAChunk(t *testing.T) {
	p := backendtest.Problem(t, "resnet20", nets.Config{Height: 8, Width: 8}, 100, true)
	d, err := newDifferentiator(p, nil, &Options{MaxBatch: 40}, hostAPI(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.chunk >= 100 {
		t.Fatalf("chunks of %d: the batch must be larger", d.chunk)
	}
	c, err := cpu.NewDifferentiator(p, nil, &cpu.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	x, y := p.Data[0].X, p.Data[0].Y
	w, wc := d.Flatten(p.Center), c.Flatten(p.Center)
	g, gc := make([]float32, len(w)), make([]float32, len(wc))
	loss, correct, err := d.TrainStep(w, x, y, g)
	if err != nil {
		t.Fatal(err)
	}
	lossc, correctc, err := c.TrainStep(wc, x, y, gc)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(loss-lossc) > 1e-6*lossc || correct != correctc {
		t.Errorf("loss %g, %d correct; the CPU's %g, %d", loss, correct, lossc, correctc)
	}
	for _, prm := range p.Net.Params {
		got, want := d.Entry(g, prm.Name), c.Entry(gc, prm.Name)
		if prm.Kind == nets.Buffer {
			got, want = d.Entry(w, prm.Name), c.Entry(wc, prm.Name)
		}
		if e := relErr(got, want); !(e < 1e-5) {
			t.Errorf("%s: %g from the CPU's", prm.Name, e)
		}
	}
	v := make([]float32, d.Dim())
	for i := range v {
		v[i] = float32(i%5) - 2
	}
	if _, err := d.HVP(context.Background(), backend.Coord{}, v, make([]float32, d.Dim())); err != nil {
		t.Fatal(err)
	}
}

// TestHostGraphInterpreterMatchesTheCPU holds the graph interpreter, run
// on the host device, to the CPU's reference evaluator within 1e-6
// relative (measured: 5e-8 at most), where a 1% error in one softmax
// moves the loss by 1e-4.
func TestHostGraphInterpreterMatchesTheCPU(t *testing.T) {
	a := hostAPI(t)
	graphInterpreterMatchesTheCPU(t, func(p *backend.Problem, opts *Options) (*Evaluator, error) {
		return newEvaluator(p, nil, opts, a)
	}, 1e-6)
}

// TestHostGraphInterpreterMatchesPyTorch holds the graph interpreter, run
// on the host device, to PyTorch on the full-size convnext_tiny and
// vit_b_16 exports and the causal language model.
func TestHostGraphInterpreterMatchesPyTorch(t *testing.T) {
	a := hostAPI(t)
	graphInterpreterMatchesPyTorch(t, func(p *backend.Problem) (*Evaluator, error) { return newEvaluator(p, nil, &Options{}, a) })
}

// TestHostGraphNodesMatchTheCPU compares every value the graph
// interpreter computes on a batch, node by node, with the reference
// evaluator's, on the host device.
func TestHostGraphNodesMatchTheCPU(t *testing.T) {
	a := hostAPI(t)
	graphNodesMatchTheCPU(t, func(p *backend.Problem, opts *Options) (*Evaluator, error) {
		return newEvaluator(p, nil, opts, a)
	}, 1e-6)
}

// TestHostGraphProfileNamesWhereTheTimeGoes: with Options.Profile the
// graph interpreter computes the same bits, and on Close reports every
// operator type of the graph's batch work with its nodes, once per
// evaluator.
func TestHostGraphProfileNamesWhereTheTimeGoes(t *testing.T) {
	a := hostAPI(t)
	g := graphOfGelu()
	p := graphProblem(t, "gelu", g, 7)
	coords := []backend.Coord{{}, {X: 0.5, Y: -0.25}}
	plain, err := newEvaluator(p, nil, &Options{MaxBatch: 3}, a)
	if err != nil {
		t.Fatal(err)
	}
	want := backendtest.Evaluate(t, plain, coords)
	plain.Close()
	var report strings.Builder
	e, err := newEvaluator(p, nil, &Options{MaxBatch: 3, Profile: &report}, a)
	if err != nil {
		t.Fatal(err)
	}
	got := backendtest.Evaluate(t, e, coords)
	if report.Len() != 0 {
		t.Errorf("a report before Close:\n%s", report.String())
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range coords {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("point %v: %v profiled, %v not", coords[i], got[i], want[i])
		}
	}
	out := report.String()
	t.Logf("\n%s", out)
	// 2 points × 3 batches (7 samples, 3 a batch).
	if !strings.Contains(out, "over 6 batches") {
		t.Errorf("report does not count 6 batches:\n%s", out)
	}
	nodes := map[string]int{}
	for _, m := range e.run.marks {
		nodes[m.node.OpType]++
	}
	if len(nodes) == 0 {
		t.Fatal("the plan marks no node")
	}
	for op, n := range nodes {
		if !regexp.MustCompile(`(?m)^  ` + op + ` +[0-9.]+ ms +[0-9.]+%  +` + strconv.Itoa(n) + ` nodes$`).MatchString(out) {
			t.Errorf("report has no line for %s's %d nodes:\n%s", op, n, out)
		}
	}
	// Then the nodes by name, with their time a batch.
	for _, m := range e.run.marks {
		if !regexp.MustCompile(`(?m)^ +[0-9.]+ ms  ` + regexp.QuoteMeta(m.node.Label()) + `$`).MatchString(out) {
			t.Errorf("report does not list node %s:\n%s", m.node.Label(), out)
		}
	}
}
