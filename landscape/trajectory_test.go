package landscape

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/internal/fixture"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/checkpoint"
	"github.com/landscape-go/landscape/nets/safetensors"
)

// planeTrajectory writes checkpoints final + a·u + b·v of the resnet20
// fixture to dir, with u and v the fixture's two directions, one
// per (a, b); the checkpoint at noisy also gets N(0, sigma²) noise on every
// weight. It returns their paths and the noise's norm.
func planeTrajectory(t *testing.T, dir string, ab [][2]float64, noisy int, sigma float64) ([]string, float64) {
	t.Helper()
	final, _, err := checkpoint.Load(interpA)
	if err != nil {
		t.Fatal(err)
	}
	u, v := fixture.Load(t, "resnet20").Directions(t)
	rng := rand.New(rand.NewPCG(3, 4))
	var paths []string
	var noise float64
	for i, c := range ab {
		sd := &nets.StateDict{}
		for _, name := range final.Names() {
			w, _ := final.Get(name)
			w = w.Clone()
			du, okU := u.Get(name)
			dv, _ := v.Get(name)
			for k := range w.Data {
				if okU {
					w.Data[k] += float32(c[0])*du.Data[k] + float32(c[1])*dv.Data[k]
				}
				if i == noisy && w.Rank() > 1 {
					e := float32(sigma * rng.NormFloat64())
					before := w.Data[k]
					w.Data[k] += e
					d := float64(w.Data[k] - before)
					noise += d * d
				}
			}
			sd.Set(name, w)
		}
		path := filepath.Join(dir, fmt.Sprintf("model_%d.safetensors", i))
		if err := safetensors.Write(path, sd, nil); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	return paths, math.Sqrt(noise)
}

// TestTrajectoryOnAKnownPlane runs the whole trajectory pipeline on
// checkpoints that lie on a plane through the final model (one of them
// pushed off it by noise): the in-plane ones must project with zero
// residual (to float32 rounding) and a loss at their projected point equal
// to their own, the noisy one with a residual the size of its noise, and
// the final model at the origin with identical losses.
func TestTrajectoryOnAKnownPlane(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ab := [][2]float64{{0.3, 0.2}, {0.25, -0.1}, {0.1, 0.12}, {0.05, -0.03}, {0.02, 0.01}}
	paths, _ := planeTrajectory(t, dir, ab, -1, 0)
	final := interpA
	var progress []int
	tr, err := RunTrajectory(context.Background(), TrajectoryConfig{
		Model: "resnet20", ModelConfig: interpNet, Checkpoints: paths, Final: final,
		Data: interpData, BatchSize: 8,
	}, &Options{Device: Device{CPU: cpu.Options{Workers: 2}}, Progress: func(done, total int) { progress = append(progress, done, total) }})
	if err != nil {
		t.Fatal(err)
	}
	n := len(paths) + 1
	if len(tr.Points) != n || tr.Points[n-1].Checkpoint != final {
		t.Fatalf("%d points, last %q; want %d ending with the final model", len(tr.Points), tr.Points[len(tr.Points)-1].Checkpoint, n)
	}
	if len(progress) != 4*n || progress[len(progress)-2] != 2*n {
		t.Errorf("progress calls %v, want %d steps", progress, 2*n)
	}
	if r := tr.PCA.ExplainedVarianceRatio; !(r[0] >= r[1] && r[0]+r[1] > 0.99 && r[0]+r[1] <= 1+1e-12) {
		t.Errorf("explained variance ratio %v: the path is nearly planar, want a sum close to 1", r)
	}
	if tr.Values != 270608 || tr.Directions.Kind != "pca" || tr.Directions.SHA256 == "" || tr.Final.SHA256 == "" {
		t.Errorf("trajectory description: values %d, directions %+v, final %+v", tr.Values, tr.Directions, tr.Final)
	}
	if fmt.Sprint(tr.Metrics) != "[train_loss train_acc]" || tr.Data == nil || tr.Data.Samples[0] != 20 {
		t.Errorf("metrics %v, data %+v", tr.Metrics, tr.Data)
	}
	for i, p := range tr.Points {
		switch {
		case i == n-1:
			if p.X != 0 || p.Y != 0 || p.Residual != 0 || p.Values[0] != p.Projected[0] {
				t.Errorf("final model at (%g, %g), residual %g, loss %g, projected %g", p.X, p.Y, p.Residual, p.Values[0], p.Projected[0])
			}
		default:
			// The rows are exact in the plane but for the float32 rounding
			// of the weights, ‖w‖·6e-8 ≈ 1e-6.
			if p.Residual > 1e-5 {
				t.Errorf("%s: residual %g for a distance %g", p.Checkpoint, p.Residual, p.Distance)
			}
			if d := math.Abs(p.Values[0]-p.Projected[0]) / p.Values[0]; d > 1e-4 {
				t.Errorf("%s: loss %g, at its projection %g", p.Checkpoint, p.Values[0], p.Projected[0])
			}
		}
	}

	// Without data: the same path, no values.
	bare, err := RunTrajectory(context.Background(), TrajectoryConfig{Model: "resnet20", ModelConfig: interpNet, Checkpoints: append(paths, final)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range bare.Points {
		if p.Values != nil || p.Projected != nil || p.X != tr.Points[i].X || p.Y != tr.Points[i].Y {
			t.Errorf("without data, point %d is %+v; with data %+v", i, p, tr.Points[i])
		}
	}

	// Noise on one checkpoint takes it off the plane by about its norm
	// (less, as the fitted plane tilts towards it) and the others by less.
	noisy, noise := planeTrajectory(t, t.TempDir(), ab, 2, 1e-4)
	off, err := RunTrajectory(context.Background(), TrajectoryConfig{Model: "resnet20", ModelConfig: interpNet, Checkpoints: noisy, Final: final}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range off.Points {
		if i == 2 && (p.Residual < 0.5*noise || p.Residual > 1.01*noise) || i != 2 && p.Residual >= off.Points[2].Residual {
			t.Errorf("checkpoint %d: residual %g, the noise on checkpoint 2 has norm %g", i, p.Residual, noise)
		}
	}
}

func TestTrajectoryErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  TrajectoryConfig
		want string
	}{
		{"no model", TrajectoryConfig{Checkpoints: []string{interpA}}, "no model"},
		{"no checkpoints", TrajectoryConfig{Model: "resnet20"}, "no checkpoints"},
		{"too few", TrajectoryConfig{Model: "resnet20", ModelConfig: interpNet, Checkpoints: []string{filepath.Join(trajDir, "resnet20_b.safetensors"), interpA}}, "at least 3"},
		{"wrong model", TrajectoryConfig{Model: "resnet20_noshort", ModelConfig: interpNet, Checkpoints: []string{interpA}}, "shortcut"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := RunTrajectory(context.Background(), tc.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// TestAxesCovering checks suggested axes: the range of the points and the
// origin with the margin, on ends of two significant digits where 0 is a
// point of that axis, else on a step of two significant digits that has
// 0 on the grid.
func TestAxesCovering(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		xs     []float64
		margin float64
		num    int
		want   grid.Axis
	}{
		// The rounded range, -3.6:0.5:51, has no point at 0 (its step is
		// 0.082); one of step 0.081 has, 44 steps above its start.
		{[]float64{-3.2, 0.1}, 0.1, 51, grid.Axis{Min: -3.564, Max: 0.486, Num: 51}},
		{[]float64{0, 0}, 0.2, 51, grid.Axis{Min: -0.2, Max: 0.2, Num: 51}},
		{[]float64{12, 31}, 0, 51, grid.Axis{Min: 0, Max: 31, Num: 51}},
		{[]float64{-0.0123, 0.0456}, 0.25, 51, grid.Axis{Min: -0.027, Max: 0.063, Num: 51}},
		{[]float64{math.NaN(), 1}, 0, 51, grid.Axis{Min: 0, Max: 1, Num: 51}},
		{nil, 0, 51, grid.Axis{Min: -0.5, Max: 0.5, Num: 51}},
		{[]float64{-1, 1}, 0.25, 41, grid.Axis{Min: -1.5, Max: 1.5, Num: 41}},
		{[]float64{-3.2, 0.1}, 0.1, 2, grid.Axis{Min: -3.6, Max: 0.5, Num: 2}},
		{[]float64{-3.2, 0.1}, 0.1, 1, grid.Axis{Num: 1}},
	} {
		got, _ := AxesCovering(tc.xs, nil, tc.margin, tc.num)
		if got != tc.want {
			t.Errorf("AxesCovering(%v, margin %g, %d) = %s, want %s", tc.xs, tc.margin, tc.num, got, tc.want)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("%s: %v", got, err)
		}
	}
}

// WithOrigin keeps an axis whose points hold 0 (or of fewer than 3
// points), and otherwise gives one of as many points over at least its
// range, one of them exactly 0: --x=auto:N's grid.
func TestWithOriginPutsTheCentreOnTheGrid(t *testing.T) {
	t.Parallel()
	for _, a := range []grid.Axis{
		{Min: -3, Max: 17, Num: 51}, {Min: -3, Max: 17, Num: 50}, {Min: -1, Max: 1, Num: 3}, {Min: -0.33, Max: 0.67, Num: 4},
		{Min: -1, Max: 2, Num: 3}, {Min: -3, Max: 17, Num: 2}, {Min: -0.984, Max: 0.216, Num: 7},
	} {
		got := WithOrigin(a)
		switch {
		case a.Num < 3 || holdsOrigin(a):
			if got != a {
				t.Errorf("WithOrigin(%v) = %v: want it kept", a, got)
			}
		case got.Num != a.Num || got.Min > a.Min || got.Max < a.Max || !holdsOrigin(got):
			t.Errorf("WithOrigin(%v) = %v: want %d points over at least its range, one of them 0", a, got, a.Num)
		}
	}
}

// TestAxesCoveringHoldTheOrigin checks, over paths of many scales, that a
// suggested axis of 3 or more points has a point exactly at 0, the model
// the surface is centred on, covers the path with its margin, and is not
// much wider than that range.
func TestAxesCoveringHoldTheOrigin(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		scale := math.Pow(10, -6+9*rng.Float64())
		xs := make([]float64, 2+rng.IntN(5))
		for i := range xs {
			xs[i] = scale * (rng.Float64()*2 - 0.5 - rng.Float64())
		}
		margin := []float64{0, 0.1, 0.2, 0.5}[rng.IntN(4)]
		num := []int{3, 7, 11, 21, 50, 51, 101}[rng.IntN(7)]
		a, b := AxesCovering(xs, nil, margin, num)
		if b.Validate() != nil || !slices.Contains(b.Values(), 0) {
			t.Fatalf("AxesCovering with no y, margin %g, %d: y %s", margin, num, b)
		}
		lo, hi := 0.0, 0.0
		for _, x := range xs {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
		lo, hi = lo-margin*(hi-lo), hi+margin*(hi-lo)
		vs := a.Values()
		if a.Num != num || a.Validate() != nil || !slices.Contains(vs, 0) {
			t.Fatalf("AxesCovering(%v, margin %g, %d) = %s: want %d points, one of them 0: %v", xs, margin, num, a, num, vs)
		}
		// Two digits of the step widen by up to a tenth, the ends by up to
		// a step each, and a step whose points miss 0 by rounding is
		// passed over for the next.
		step := (a.Max - a.Min) / float64(num-1)
		if eps := 1e-9 * (hi - lo); a.Min > lo+eps || a.Max < hi-eps || a.Max-a.Min > 1.25*(hi-lo)+2*step {
			t.Fatalf("AxesCovering(%v, margin %g, %d) = %s, for the range %g to %g", xs, margin, num, a, lo, hi)
		}
	}
}
