package toy

import (
	"math"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/landscape/optim"
)

// Every gradient is the function's: central differences agree to 1e-6 of
// the gradient's size, at points all over each window, and every minimum
// listed has a zero gradient.
func TestGradientsAreExact(t *testing.T) {
	t.Parallel()
	for _, f := range Functions() {
		for _, p := range [][2]float64{{0.3, -0.7}, {-1.1, 1.9}, {1.7, 0.2}, {f.StartX, f.StartY}} {
			gx, gy := f.Grad(p[0], p[1])
			const h = 1e-6
			nx := (f.F(p[0]+h, p[1]) - f.F(p[0]-h, p[1])) / (2 * h)
			ny := (f.F(p[0], p[1]+h) - f.F(p[0], p[1]-h)) / (2 * h)
			if scale := math.Hypot(gx, gy) + 1; math.Abs(nx-gx) > 1e-6*scale*100 || math.Abs(ny-gy) > 1e-6*scale*100 {
				t.Errorf("%s at %v: gradient (%g, %g), differences (%g, %g)", f.Name, p, gx, gy, nx, ny)
			}
		}
		for _, m := range f.Minima {
			if gx, gy := f.Grad(m[0], m[1]); math.Hypot(gx, gy) > 1e-4 {
				t.Errorf("%s: minimum %v has gradient (%g, %g)", f.Name, m, gx, gy)
			}
		}
	}
}

// Gradient descent on the bowl x²/10 + 2y² is x ← x·(1 − lr/5), y ←
// y·(1 − 4·lr): the path follows the closed form, in float32.
func TestGradientDescentFollowsTheClosedForm(t *testing.T) {
	t.Parallel()
	f, err := Lookup("bowl")
	if err != nil {
		t.Fatal(err)
	}
	const lr = 0.1
	paths, err := Race(f, []optim.Run{{Optimizer: "sgd", LR: lr}}, 50)
	if err != nil {
		t.Fatal(err)
	}
	p := paths[0]
	if len(p.X) != 51 {
		t.Fatalf("%d points, want 51", len(p.X))
	}
	for k := range p.X {
		x, y := f.StartX*math.Pow(1-lr/5, float64(k)), f.StartY*math.Pow(1-4*lr, float64(k))
		if math.Abs(p.X[k]-x) > 1e-5 || math.Abs(p.Y[k]-y) > 1e-5 {
			t.Fatalf("step %d at (%g, %g), closed form (%g, %g)", k, p.X[k], p.Y[k], x, y)
		}
	}
}

// The textbook race on Rosenbrock's valley: in 1000 steps at lr 1e-3,
// momentum reaches the minimum (1, 1) and plain gradient descent does not;
// a learning rate too large diverges and says so.
func TestMomentumBeatsGradientDescentOnRosenbrock(t *testing.T) {
	t.Parallel()
	f, err := Lookup("rosenbrock")
	if err != nil {
		t.Fatal(err)
	}
	paths, err := Race(f, []optim.Run{{Optimizer: "sgd"}, {Optimizer: "momentum"}, {Optimizer: "sgd", LR: 0.1}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	dist := func(p Path) float64 { return math.Hypot(p.X[len(p.X)-1]-1, p.Y[len(p.Y)-1]-1) }
	if d := dist(paths[1]); d > 0.05 {
		t.Errorf("momentum ends %.3g from the minimum", d)
	}
	if d := dist(paths[0]); d < 0.5 {
		t.Errorf("gradient descent ends %.3g from the minimum: the race shows nothing", d)
	}
	if p := paths[2]; p.Label != "sgd, lr 0.1 (diverged)" || len(p.X) > 100 {
		t.Errorf("lr 0.1: %q after %d points", p.Label, len(p.X))
	}
	if _, err := Race(f, []optim.Run{{Optimizer: "lbfgs"}}, 1); err == nil {
		t.Error("an unknown optimizer raced")
	}
}

// A run that leaves the function's window without overflowing (Nesterov
// at lr 0.4 on the bowl grows to 8e17 in 100 steps) says where it ended:
// the figure can only draw it up to the edge.
func TestARunOffThePlotSaysWhereItEnded(t *testing.T) {
	t.Parallel()
	f, err := Lookup("bowl")
	if err != nil {
		t.Fatal(err)
	}
	paths, err := Race(f, []optim.Run{{Optimizer: "sgd"}, {Optimizer: "nesterov"}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if l := paths[0].Label; l != "sgd, lr 0.4" {
		t.Errorf("gradient descent, which converges: label %q", l)
	}
	if l := paths[1].Label; !strings.HasPrefix(l, "nesterov, lr 0.4 (ends off the plot, at (") {
		t.Errorf("nesterov, which leaves the window: label %q", l)
	}
}

// On ripple, x + 2·sin(x), gradient descent is x ← x − lr·(1 + 2·cos x)
// in float32, each run moving x alone; the three rates show the three
// regimes at the minimum 4π/3, of curvature √3: lr 1 bounces across it,
// 0.1 walks in from one side, 0.01 is still on its way after 50 steps.
func TestLearningRatesOnTheRipple(t *testing.T) {
	t.Parallel()
	f, err := Lookup("ripple")
	if err != nil {
		t.Fatal(err)
	}
	runs, err := optim.ParseRuns(f.Race(), 0)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := Race(f, runs, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Is1D() || len(paths) != 3 {
		t.Fatalf("ripple: 1D %t, %d paths", f.Is1D(), len(paths))
	}
	min := 4 * math.Pi / 3
	for i, lr := range []float32{0.01, 0.1, 1} {
		p := paths[i]
		if p.Y != nil || len(p.X) != 51 {
			t.Fatalf("lr %g: %d points, y %v", lr, len(p.X), p.Y)
		}
		x := float32(f.StartX)
		for k := range p.X {
			if float64(x) != p.X[k] {
				t.Fatalf("lr %g, step %d: x %g, the recurrence %g", lr, k, p.X[k], x)
			}
			g := float32(1 + 2*math.Cos(float64(x)))
			x -= lr * g
		}
		if got := f.F(p.X[50], 0); p.Final != got {
			t.Errorf("lr %g: final loss %g, f at the end %g", lr, p.Final, got)
		}
	}
	crossed := func(p Path) (n int) {
		for k := 1; k < len(p.X); k++ {
			if (p.X[k-1]-min)*(p.X[k]-min) < 0 {
				n++
			}
		}
		return n
	}
	if n := crossed(paths[2]); n < 5 || math.Abs(paths[2].X[50]-min) > 1e-3 {
		t.Errorf("lr 1 crosses the minimum %d times and ends %g from it: want a bounce that settles", n, paths[2].X[50]-min)
	}
	if n := crossed(paths[1]); n != 0 || math.Abs(paths[1].X[50]-min) > 1e-2 {
		t.Errorf("lr 0.1 crosses the minimum %d times and ends %g from it: want a walk in from one side", n, paths[1].X[50]-min)
	}
	if d := min - paths[0].X[50]; d < 1 {
		t.Errorf("lr 0.01 ends %g short of the minimum: want it still on its way", d)
	}
}

// On hills, 25·sin(x) − x², unbounded below beyond its valleys, gradient
// descent settles in the valley below the start, and momentum at the same
// rate carries over the next hill and out of the window, which its label
// says.
func TestMomentumLeavesTheValleyOfTheHills(t *testing.T) {
	t.Parallel()
	f, err := Lookup("hills")
	if err != nil {
		t.Fatal(err)
	}
	paths, err := Race(f, []optim.Run{{Optimizer: "sgd"}, {Optimizer: "momentum", LR: f.LR}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if x := paths[0].X[len(paths[0].X)-1]; math.Abs(x-f.Minima[2][0]) > 1e-3 {
		t.Errorf("gradient descent ends at %g, not in the valley at %g", x, f.Minima[2][0])
	}
	if l := paths[1].Label; !strings.HasPrefix(l, "momentum, lr 0.01 (ends off the plot, at x = ") {
		t.Errorf("momentum: label %q", l)
	}
}
