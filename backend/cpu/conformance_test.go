package cpu

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/backend/backendtest"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/demo"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/checkpoint"
)

// engine is one way this machine can evaluate a network.
type engine struct {
	name string
	opts Options
}

// engines lists every engine of this machine: the micro-kernels of each
// instruction set, with Winograd and with direct convolutions, and the
// portable im2col + SGEMM engine.
func engines() []engine {
	var es []engine
	for _, ks := range kernelSets {
		es = append(es, engine{ks.name, Options{kernels: ks}}, engine{ks.name + "-direct", Options{kernels: ks, NoWinograd: true}})
	}
	return append(es, engine{"generic", Options{Generic: true}})
}

// TestEveryEngineConforms runs the backend conformance suite on every
// engine of this machine against the portable engine: the same losses to
// 1e-4 relative and the same accuracies, NaN where PyTorch gives NaN, the
// same bits in any order. Every kernel buffer is surrounded by NaN guards
// and starts as NaN, so reading past a buffer or a value never written
// shows as a NaN loss, and writing past one as a changed guard.
func TestEveryEngineConforms(t *testing.T) {
	guardFloats = 1 << 12
	defer func() { guardFloats = 0 }()
	reference := func(p *backend.Problem) (backend.Evaluator, error) { return New(p, &Options{Generic: true}) }
	var cands []backendtest.Candidate
	for _, e := range engines() {
		cands = append(cands, backendtest.Candidate{Name: e.name, New: func(p *backend.Problem) (backend.Evaluator, error) {
			ev, err := New(p, &e.opts)
			if err == nil && e.opts.kernels != nil && ev.fast == nil {
				return nil, fmt.Errorf("%s: no fast plan on %s", p.Net.Name, e.name)
			}
			return ev, err
		}})
	}
	backendtest.Run(t, reference, cands...)
	if err := guardsIntact(); err != nil {
		t.Fatal(err)
	}
}

// TestTrainedNetsGiveNaNWhereActivationsOverflow evaluates the demo's
// trained ResNet-56 pair on real Fashion-MNIST images so far from the
// centre that activations overflow: every engine must give NaN there, as
// PyTorch does. (The AVX ReLU once returned 0 for NaN, because MAXPS
// returns its second source when either is NaN, and far points showed a
// plausible plateau at ln 10.)
func TestTrainedNetsGiveNaNWhereActivationsOverflow(t *testing.T) {
	t.Parallel()
	far := backendtest.Far()
	for _, m := range demo.Showcase() {
		p := demoProblem(t, m)
		for _, e := range engines() {
			ev, err := New(p, &e.opts)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range backendtest.Evaluate(t, ev, far) {
				if !math.IsNaN(v[0]) {
					t.Errorf("%s, %s engine, point %v: loss %g, accuracy %g%%, want a NaN loss", m.Model, e.name, far[i], v[0], v[1])
				}
			}
		}
	}
}

// demoProblem is an embedded trained network of the demo on 64 of the
// embedded Fashion-MNIST test images, with random directions.
func demoProblem(t *testing.T, m demo.Model) *backend.Problem {
	t.Helper()
	dir := t.TempDir()
	dataDir, err := demo.Extract(dir)
	if err != nil {
		t.Fatal(err)
	}
	sd, _, err := checkpoint.Load(filepath.Join(dir, m.Checkpoint))
	if err != nil {
		t.Fatal(err)
	}
	d, err := data.Load(data.Spec{Kind: data.FashionMNIST, Path: dataDir}, "test", &data.Options{Samples: 64})
	if err != nil {
		t.Fatal(err)
	}
	cfg := nets.Config{InChannels: d.C, Height: d.H, Width: d.W, Classes: d.Classes}
	p := backendtest.Problem(t, m.Model, cfg, 1, true)
	p.Center = sd
	p.Data = []*backend.Data{{Name: "test", N: d.N, C: d.C, H: d.H, W: d.W, X: d.X, Y: d.Y}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}
