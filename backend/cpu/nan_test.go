package cpu

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/backend"
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
		es = append(es, engine{ks.name, Options{kernels: ks}}, engine{ks.name + "-direct", Options{kernels: ks, direct: true}})
	}
	return append(es, engine{"generic", Options{Generic: true}})
}

// farCoords are points so far from the centre that float32 activations
// overflow: PyTorch's forward pass gives NaN losses there.
var farCoords = []backend.Coord{{X: 1e12, Y: 1e12}, {X: -1e12, Y: 1e12}, {X: 1e12, Y: -1e12}}

// TestNaNPropagatesOnEveryEngine checks that no engine turns NaN into a
// plausible number, as the AVX ReLU once did (MAXPS returns its second
// source when either is NaN, so max(NaN, 0) was 0 and far points showed a
// fake plateau at ln 10): with trained networks on real images and with
// several zoo architectures, points where the activations overflow give
// NaN losses, and so does a negative batch-norm running variance, as in
// PyTorch (sqrt of a negative number).
func TestNaNPropagatesOnEveryEngine(t *testing.T) {
	t.Parallel()
	type problem struct {
		name   string
		p      *backend.Problem
		coords []backend.Coord
	}
	var problems []problem
	for _, tc := range fastCases[:5] {
		problems = append(problems, problem{tc.model + " far", syntheticProblem(t, tc.model, tc.cfg, 9, true), farCoords})
		p := syntheticProblem(t, tc.model, tc.cfg, 9, true)
		negativeVariance(t, p)
		problems = append(problems, problem{tc.model + " negative running_var", p, []backend.Coord{{}, {X: 0.5, Y: -0.5}}})
	}
	for _, m := range demo.Showcase {
		problems = append(problems, problem{m.Model + " trained, Fashion-MNIST, far", demoProblem(t, m), farCoords})
	}
	for _, pr := range problems {
		for _, e := range engines() {
			ev, err := New(pr.p, &e.opts)
			if err != nil {
				t.Fatal(err)
			}
			if e.opts.kernels != nil && ev.fast == nil {
				t.Fatalf("%s: no fast plan on %s", pr.name, e.name)
			}
			for i, v := range evaluate(t, ev, pr.coords) {
				if !math.IsNaN(v[0]) {
					t.Errorf("%s, %s engine, point %v: loss %g, accuracy %g%%, want a NaN loss", pr.name, e.name, pr.coords[i], v[0], v[1])
				}
			}
		}
	}
}

// negativeVariance makes the running variance of p's first batch norm
// negative in one channel.
func negativeVariance(t *testing.T, p *backend.Problem) {
	t.Helper()
	for _, prm := range p.Net.Params {
		if prm.Kind == nets.Buffer && strings.HasSuffix(prm.Name, ".running_var") {
			v, _ := p.Center.Get(prm.Name)
			v.Data[0] = -1
			return
		}
	}
	t.Fatalf("%s has no batch norm", p.Net.Name)
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
	net, err := nets.New(m.Model, nets.Config{InChannels: d.C, Height: d.H, Width: d.W, Classes: d.Classes})
	if err != nil {
		t.Fatal(err)
	}
	p := syntheticProblem(t, m.Model, net.Config, 1, true)
	p.Center = sd
	p.Data = []*backend.Data{{Name: "test", N: d.N, C: d.C, H: d.H, W: d.W, X: d.X, Y: d.Y}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}
