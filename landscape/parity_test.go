package landscape

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/internal/fixture"
	"github.com/landscape-go/landscape/nets"
)

// zooDir holds the PyTorch parity fixtures (scripts/fixtures); the zoo
// cases are read through internal/fixture, which also computes their
// directions and generated weights.
const zooDir = "../testdata/zoo"

// TestZooKeysMatchPyTorch checks the Go architectures declare exactly the
// state-dict keys, shapes and parameter/buffer split of the PyTorch ones.
func TestZooKeysMatchPyTorch(t *testing.T) {
	t.Parallel()
	for _, c := range fixture.All(t) {
		name, net := c.Name, c.Net(t)
		if len(net.Params) != len(c.StateDict) {
			t.Errorf("%s: Go has %d state-dict entries, PyTorch %d", name, len(net.Params), len(c.StateDict))
			continue
		}
		for i, want := range c.StateDict {
			got := net.Params[i]
			if got.Name != want.Key || !slices.Equal(got.Shape, want.Shape) || (got.Kind == nets.Weight) != want.Parameter {
				t.Errorf("%s: entry %d is %s %v (weight %v), PyTorch has %s %v (parameter %v)",
					name, i, got.Name, got.Shape, got.Kind == nets.Weight, want.Key, want.Shape, want.Parameter)
			}
		}
	}
}

// TestLossMatchesPyTorch evaluates every fixture network, from every
// checkpoint format it was saved in, at the points PyTorch evaluated, and
// asks for the same loss within 1e-4 relative and the same accuracy.
// On a machine with a usable GPU it runs again on the CUDA backend, which
// must meet the same bounds: the backend conformance suite. Each subtest
// writes its direction file (and the checkpoint of generated weights).
func TestLossMatchesPyTorch(t *testing.T) {
	t.Parallel()
	cases := fixture.All(t)
	forEachDevice(t, func(t *testing.T, device string) {
		for _, c := range cases {
			for _, format := range c.Formats() {
				t.Run(c.Name+"/"+format, func(t *testing.T) {
					parallelOnCPU(t, device)
					testLossMatchesPyTorch(t, c, c.Model, c.CheckpointFile(t, format), c.DirectionFile(t), device)
				})
			}
		}
	})
}

// testLossMatchesPyTorch evaluates model (c's architecture, or an export
// of it) with the weights in file at the points of c.
func testLossMatchesPyTorch(t *testing.T, c *fixture.Case, model, file, dirs, device string) {
	ax := grid.Axis{Min: -1, Max: 1, Num: 2}
	job, err := Prepare(Spec{
		Model:       model,
		ModelConfig: c.Config,
		Checkpoint:  file,
		Data:        data.Spec{Kind: data.NPZ, Path: c.Data},
		Directions:  Directions{File: dirs},
		Grid:        grid.Grid{X: ax, Y: &ax},
		BatchSize:   c.BatchSize,
	}, &Options{Device: Device{Name: device, CPU: cpu.Options{Workers: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	refs := append(append([]fixture.Point(nil), c.Points...), c.Points1D...)
	coords := make([]backend.Coord, len(refs))
	for i, p := range refs {
		coords[i].X = p.X
		if p.Y != nil {
			coords[i].Y = *p.Y
		}
	}
	got := make([][]float64, len(refs))
	if err := job.Evaluator.Evaluate(context.Background(), coords, func(i int, v []float64) { got[i] = v }); err != nil {
		t.Fatal(err)
	}
	for i, p := range refs {
		loss, acc := got[i][0], got[i][1]
		if rel := math.Abs(loss-p.Loss) / math.Abs(p.Loss); !(rel <= 1e-4) {
			t.Errorf("at (%g, %v): loss %.9g, PyTorch %.9g (relative difference %.2g)", p.X, coords[i].Y, loss, p.Loss, rel)
		}
		if math.Abs(acc-p.Acc) > 1e-9 {
			t.Errorf("at (%g, %v): accuracy %.6g%%, PyTorch %.6g%%", p.X, coords[i].Y, acc, p.Acc)
		}
	}
}
