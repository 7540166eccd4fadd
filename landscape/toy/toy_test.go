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
