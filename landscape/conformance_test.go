package landscape

import (
	"context"
	"math"
	"os"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/backend/cuda"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/internal/fixture"
)

// The backend conformance suite: the tests that compare with PyTorch run
// once per backend, and a GPU must also give the CPU's numbers over a whole
// grid. Without a usable GPU the CUDA runs are skipped, saying why; with
// LANDSCAPE_REQUIRE_GPU=1 (the GPU check script sets it) that is a failure.

// forEachDevice runs f as subtest "cpu" and, where a GPU is usable, "cuda".
func forEachDevice(t *testing.T, f func(t *testing.T, device string)) {
	for _, device := range []string{"cpu", "cuda"} {
		t.Run(device, func(t *testing.T) {
			if device == "cuda" {
				requireGPU(t)
			}
			f(t, device)
		})
	}
}

// parallelOnCPU marks a CPU subtest parallel. GPU subtests run one at a
// time: they share one device, and each would size its batch from the
// memory the others leave.
func parallelOnCPU(t *testing.T, device string) {
	if device == "cpu" {
		t.Parallel()
	}
}

// requireGPU skips t unless the CUDA backend can run here.
func requireGPU(t *testing.T) {
	t.Helper()
	r := cuda.Probe()
	why := r.Why
	if len(r.Devices) > 0 {
		_, err := cuda.Libraries()
		if err == nil {
			return
		}
		why = err.Error()
	}
	if os.Getenv("LANDSCAPE_REQUIRE_GPU") == "1" {
		t.Fatalf("LANDSCAPE_REQUIRE_GPU=1 but the CUDA backend cannot run: %s", why)
	}
	t.Skipf("no usable GPU, the CUDA backend is not tested here: %s", why)
}

// prepareFixture prepares the ResNet-20 fixture's surface on a grid.
func prepareFixture(t *testing.T, g grid.Grid, device string, tf32, benchmark bool) *Job {
	t.Helper()
	c := fixture.Load(t, "resnet20")
	job, err := Prepare(Spec{
		Model:       c.Model,
		ModelConfig: c.Config,
		Checkpoint:  c.Checkpoints["zip"],
		Data:        data.Spec{Kind: data.NPZ, Path: c.Data},
		Directions:  Directions{File: c.DirectionFile(t)},
		Grid:        g,
	}, &Options{Device: Device{Name: device, CPU: cpu.Options{Workers: 1}, CUDA: cuda.Options{TF32: tf32, Benchmark: benchmark}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { job.Evaluator.Close() })
	return job
}

// evaluateAll returns the values of every grid point of job.
func evaluateAll(t *testing.T, job *Job) [][]float64 {
	t.Helper()
	g := job.Input.Grid
	coords := make([]backend.Coord, g.Len())
	for i := range coords {
		x, y := g.Point(i)
		coords[i] = backend.Coord{X: x, Y: y}
	}
	got := make([][]float64, len(coords))
	if err := job.Evaluator.Evaluate(context.Background(), coords, func(i int, v []float64) { got[i] = v }); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestGPUMatchesCPU compares the two backends over a 7x7 grid reaching far
// enough out for the loss to blow up: finite losses within 1e-4 relative,
// accuracies within one sample, and Inf or NaN at the same points.
func TestGPUMatchesCPU(t *testing.T) {
	requireGPU(t)
	ax := grid.Axis{Min: -3, Max: 3, Num: 7}
	g := grid.Grid{X: ax, Y: &ax}
	want := evaluateAll(t, prepareFixture(t, g, "cpu", false, false))
	gpu := prepareFixture(t, g, "cuda", false, false)
	t.Logf("GPU: %s", gpu.Evaluator.Describe())
	got := evaluateAll(t, gpu)
	n := float64(gpu.Problem.Data[0].N)
	worst := 0.0
	for i := range want {
		x, y := g.Point(i)
		lg, lw := got[i][0], want[i][0]
		switch {
		case math.IsInf(lw, 0) || math.IsNaN(lw):
			if !(math.IsInf(lg, 0) || math.IsNaN(lg)) {
				t.Errorf("at (%g, %g): GPU loss %g, CPU %g", x, y, lg, lw)
			}
			continue
		case math.Abs(lg-lw) > 1e-4*math.Abs(lw):
			t.Errorf("at (%g, %g): GPU loss %.9g, CPU %.9g", x, y, lg, lw)
		}
		worst = math.Max(worst, math.Abs(lg-lw)/math.Abs(lw))
		if math.Abs(got[i][1]-want[i][1]) > 100/n+1e-9 {
			t.Errorf("at (%g, %g): GPU accuracy %g%%, CPU %g%%", x, y, got[i][1], want[i][1])
		}
	}
	t.Logf("largest relative loss difference over %d points: %.2g", len(want), worst)
}

// TestGPUIsDeterministic asks for the same bits from the same point on a
// fresh evaluator: every reduction has a fixed order and cuDNN's algorithms
// come from its heuristics, not from timings. Shards and resumed runs
// depend on it.
func TestGPUIsDeterministic(t *testing.T) {
	requireGPU(t)
	ax := grid.Axis{Min: -0.5, Max: 0.5, Num: 3}
	g := grid.Grid{X: ax, Y: &ax}
	a := evaluateAll(t, prepareFixture(t, g, "cuda", false, false))
	b := evaluateAll(t, prepareFixture(t, g, "cuda", false, false))
	for i := range a {
		for k := range a[i] {
			if math.Float64bits(a[i][k]) != math.Float64bits(b[i][k]) {
				t.Errorf("point %d value %d: %v, then %v", i, k, a[i][k], b[i][k])
			}
		}
	}
}

// TestGPUAllIsOneGPU evaluates a grid with --device cuda:all, the points
// dealt among every GPU, and asks for the bits of cuda:0 alone (with one
// GPU, the pool of one; with several, each point wherever it fell).
func TestGPUAllIsOneGPU(t *testing.T) {
	requireGPU(t)
	ax := grid.Axis{Min: -0.5, Max: 0.5, Num: 5}
	g := grid.Grid{X: ax, Y: &ax}
	pool := prepareFixture(t, g, "cuda:all", false, false)
	t.Logf("cuda:all: %s", pool.Evaluator.Describe())
	a := evaluateAll(t, pool)
	pool.Evaluator.Close() // its memory back, for cuda:0 to size the same batch
	one := prepareFixture(t, g, "cuda:0", false, false)
	if one.Evaluator.BatchSize() != pool.Evaluator.BatchSize() {
		t.Skipf("cuda:0 alone takes batches of %d, the pool %d: the bits may differ", one.Evaluator.BatchSize(), pool.Evaluator.BatchSize())
	}
	b := evaluateAll(t, one)
	for i := range a {
		for k := range a[i] {
			if math.Float64bits(a[i][k]) != math.Float64bits(b[i][k]) {
				t.Errorf("point %d value %d: %v on cuda:all, %v on cuda:0", i, k, a[i][k], b[i][k])
			}
		}
	}
}

// TestGPUTF32 checks that TF32 convolutions stay close to FP32 (they keep
// 10 of float32's 23 mantissa bits in each product) and reports how close.
func TestGPUTF32(t *testing.T) {
	requireGPU(t)
	ax := grid.Axis{Min: -0.5, Max: 0.5, Num: 3}
	g := grid.Grid{X: ax, Y: &ax}
	want := evaluateAll(t, prepareFixture(t, g, "cpu", false, false))
	job := prepareFixture(t, g, "cuda", true, false)
	got := evaluateAll(t, job)
	worst := 0.0
	for i := range want {
		d := math.Abs(got[i][0]-want[i][0]) / math.Abs(want[i][0])
		worst = math.Max(worst, d)
		if !(d < 2e-2) {
			t.Errorf("point %d: TF32 loss %.7g, FP32 on the CPU %.7g", i, got[i][0], want[i][0])
		}
	}
	t.Logf("%s: largest relative loss difference from FP32: %.2g", job.Evaluator.Describe(), worst)
}

// TestGPUBenchmarkedAlgorithms checks the timed choice of convolution
// algorithms (LANDSCAPE_CUDNN_BENCHMARK=1): the same bits for a point
// evaluated twice by one evaluator, and the heuristic choice's values to
// float32 rounding.
func TestGPUBenchmarkedAlgorithms(t *testing.T) {
	requireGPU(t)
	ax := grid.Axis{Min: -0.5, Max: 0.5, Num: 3}
	g := grid.Grid{X: ax, Y: &ax}
	want := evaluateAll(t, prepareFixture(t, g, "cuda", false, false))
	job := prepareFixture(t, g, "cuda", false, true)
	t.Log(job.Evaluator.Describe())
	coords := []backend.Coord{{X: 0.5, Y: -0.5}, {}, {X: 0.5, Y: -0.5}}
	got := make([][]float64, len(coords))
	if err := job.Evaluator.Evaluate(context.Background(), coords, func(i int, v []float64) { got[i] = v }); err != nil {
		t.Fatal(err)
	}
	if math.Float64bits(got[0][0]) != math.Float64bits(got[2][0]) {
		t.Errorf("one point twice: loss %v, then %v", got[0][0], got[2][0])
	}
	for i, c := range coords[:2] {
		k := 0
		for x, y := g.Point(k); (x != c.X || y != c.Y) && k < g.Len()-1; x, y = g.Point(k) {
			k++
		}
		if d := math.Abs(got[i][0]-want[k][0]) / want[k][0]; d > 1e-5 {
			t.Errorf("at (%g, %g): loss %v, heuristic algorithms %v", c.X, c.Y, got[i][0], want[k][0])
		}
	}
}
