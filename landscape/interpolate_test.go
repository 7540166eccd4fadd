package landscape

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/checkpoint"
	"github.com/landscape-go/landscape/normalize"
)

// interpFixture is testdata/trajectory/interp.json, written by
// scripts/fixtures/make_trajectory.py: the resnet20 fixture A, a copy B
// trained 10 more SGD steps (weights and BN statistics moved), and the
// losses PyTorch computes at both and along the line between them.
type interpFixture struct {
	B         string  `json:"b"`
	BatchSize int     `json:"batch_size"`
	AtA       metric  `json:"at_a"`
	AtB       metric  `json:"at_b"`
	States    []point `json:"states"`
	Weights   []point `json:"weights"`
}

type metric struct{ Loss, Acc float64 }

type point struct {
	Alpha     float64 `json:"alpha"`
	Loss, Acc float64
}

const trajDir = "../testdata/trajectory"

var (
	interpA    = filepath.Join(zooDir, "resnet20.pt")
	interpData = data.Spec{Kind: data.NPZ, Path: filepath.Join(zooDir, "resnet20.data.npz")}
	interpNet  = nets.Config{InChannels: 1, Height: 28, Width: 28, Classes: 10}
)

func loadInterp(t *testing.T) interpFixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(trajDir, "interp.json"))
	if err != nil {
		t.Fatalf("%v (run scripts/fixtures/make_trajectory.py)", err)
	}
	var fx interpFixture
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	return fx
}

// evalAt evaluates the model with the given weights at its own centre.
func evalAt(t *testing.T, job *Job, center *nets.StateDict) []float64 {
	t.Helper()
	p := *job.Problem
	p.Center, p.X, p.Y = center, nil, nil
	v, err := evaluate(context.Background(), &p, Device{CPU: cpu.Options{Workers: 1}}, []backend.Coord{{}})
	if err != nil {
		t.Fatal(err)
	}
	return v[0]
}

// TestAxisPutsCheckpointsAtZeroAndOne checks that --x=-0.5:1.5:401, the
// reference's interpolation grid, has exactly 0 and 1 among its points.
func TestAxisPutsCheckpointsAtZeroAndOne(t *testing.T) {
	t.Parallel()
	ax, err := grid.ParseAxis("-0.5:1.5:401")
	if err != nil {
		t.Fatal(err)
	}
	if ax.At(100) != 0 || ax.At(300) != 1 {
		t.Errorf("points 100 and 300 of %s are %v and %v, want exactly 0 and 1", ax, ax.At(100), ax.At(300))
	}
}

// TestInterpolationReproducesCheckpoints interpolates from A to B (the
// direction B − A, unnormalised) and checks:
//
//   - at α = 0 the loss is A's own, bit for bit (A + 0·d is A);
//   - in states mode, at α = 1 the loss is B's own. The weights there are
//     A + fl(B − A) in float32, which equals B exactly wherever B/2 ≤ A ≤
//     2B (Sterbenz) and may differ by an ulp elsewhere; the test counts
//     those entries and asks for equal losses bit for bit when there are
//     none, within 1e-6 relative otherwise;
//   - in weights mode, at α = 1 the parameters are B's but the batch-norm
//     running statistics stay A's, so the loss is that of B's parameters
//     with A's statistics, not B's own loss (here 0.137 against 0.035);
//   - every value matches what PyTorch computes (interp.json) to 1e-4.
func TestInterpolationReproducesCheckpoints(t *testing.T) {
	t.Parallel()
	fx := loadInterp(t)
	bPath := filepath.Join(trajDir, fx.B)
	run := func(mode normalize.Mode) (*Job, map[float64][]float64) {
		job, err := Prepare(Spec{
			Model: "resnet20", ModelConfig: interpNet, Checkpoint: interpA,
			Directions: Directions{Target: bPath, Options: normalize.Options{Mode: mode}},
			Data:       interpData, Grid: grid.Grid{X: grid.Axis{Min: -0.5, Max: 1.5, Num: 5}},
			BatchSize: fx.BatchSize,
		}, &Options{Device: Device{CPU: cpu.Options{Workers: 2}}})
		if err != nil {
			t.Fatal(err)
		}
		s, err := job.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if s.Provenance.Directions.Kind != "target" || s.Provenance.Directions.Mode != mode.String() {
			t.Errorf("provenance directions %+v", s.Provenance.Directions)
		}
		at := map[float64][]float64{}
		for _, p := range s.Points {
			at[p.X] = p.Values
		}
		if at[0] == nil || at[1] == nil {
			t.Fatalf("grid -0.5:1.5:5 misses 0 or 1: %v", s.Points)
		}
		return job, at
	}
	states, atS := run(normalize.States)
	_, atW := run(normalize.Weights)

	a, _, err := checkpoint.Load(interpA)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := checkpoint.Load(bPath)
	if err != nil {
		t.Fatal(err)
	}
	ownA, ownB := evalAt(t, states, a), evalAt(t, states, b)
	check := func(what string, got, want []float64, tol float64) {
		t.Helper()
		if d := math.Abs(got[0]-want[0]) / want[0]; !(d <= tol) || got[1] != want[1] {
			t.Errorf("%s: loss %.10g acc %g, want %.10g acc %g (relative difference %.2g, tolerance %g)", what, got[0], got[1], want[0], want[1], d, tol)
		}
	}
	check("states mode at 0 against A's own loss", atS[0], ownA, 0)
	check("weights mode at 0 against A's own loss", atW[0], ownA, 0)

	// Count the entries where A + fl(B − A) is not B.
	off := 0
	for _, name := range b.Names() {
		ta, _ := a.Get(name)
		tb, _ := b.Get(name)
		for i := range tb.Data {
			d := tb.Data[i] - ta.Data[i]
			if ta.Data[i]+d != tb.Data[i] {
				off++
			}
		}
	}
	t.Logf("A + fl(B − A) differs from B in %d entries; states mode at 1: loss %.10g, B's own %.10g", off, atS[1][0], ownB[0])
	tol := 0.0
	if off > 0 {
		tol = 1e-6
	}
	check("states mode at 1 against B's own loss", atS[1], ownB, tol)

	// Weights mode: B's parameters, A's running statistics.
	hybrid := &nets.StateDict{}
	for _, p := range states.Input.Net.Params {
		src := b
		if p.Kind == nets.Buffer {
			src = a
		}
		if v, ok := src.Get(p.Name); ok {
			hybrid.Set(p.Name, v)
		}
	}
	check("weights mode at 1 against B's parameters with A's BN statistics", atW[1], evalAt(t, states, hybrid), 1e-6)
	if d := math.Abs(atW[1][0]-ownB[0]) / ownB[0]; d < 0.1 {
		t.Errorf("weights mode at 1: loss %g is within %.2g of B's own %g; the fixture's BN statistics should differ", atW[1][0], d, ownB[0])
	}

	// PyTorch, as the reference computes these.
	check("A against PyTorch", ownA, []float64{fx.AtA.Loss, fx.AtA.Acc}, 1e-4)
	check("B against PyTorch", ownB, []float64{fx.AtB.Loss, fx.AtB.Acc}, 1e-4)
	for _, ref := range []struct {
		name string
		at   map[float64][]float64
		pts  []point
	}{{"states", atS, fx.States}, {"weights", atW, fx.Weights}} {
		for _, p := range ref.pts {
			check(ref.name+" mode against PyTorch", ref.at[p.Alpha], []float64{p.Loss, p.Acc}, 1e-4)
		}
	}
}
