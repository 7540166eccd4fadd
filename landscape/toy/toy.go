// Package toy holds analytic loss functions of one or two variables with
// exact gradients, for teaching how optimizers move: each optimizer of
// package optim runs on the function from the same start, and its path is
// drawn on the function's contours, or along its curve. No network is
// needed, and the pictures are those of the textbooks: momentum
// overshooting down Rosenbrock's valley, Adam's steady steps, plain
// gradient descent stalling on a saddle, a learning rate too small to
// arrive and one large enough to bounce across the minimum.
package toy

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape/optim"
	"github.com/landscape-go/landscape/landscape/surface"
)

// Function is a loss of two variables, or of one (see [Function.Is1D]),
// with its gradient, a start and a window to draw it in.
type Function struct {
	Name, Formula string
	F             func(x, y float64) float64
	Grad          func(x, y float64) (gx, gy float64)
	// StartX, StartY is where every optimizer starts; Minima lists the
	// function's minima in the window (none for the saddle).
	StartX, StartY float64
	Minima         [][2]float64
	// X and Y are the axes the function is drawn over (Y of no points for
	// a function of one variable, which ignores y: its gradient's y part
	// is 0, and its runs move x alone); Levels its contour levels, and
	// Log whether its colour scale is logarithmic.
	X, Y   grid.Axis
	Levels []float64
	Log    bool
	// LR is a learning rate at which plain gradient descent makes progress
	// without diverging, the default of SGD in [Race]; Steps are enough for
	// the instructive part of the race.
	LR    float64
	Steps int
	// Runs is the race drawn when none is asked for, as optim.ParseRuns
	// reads it; "" is [DefaultRuns].
	Runs string
}

// DefaultRuns is the race of a function whose Runs is "": the classic
// optimizers at their default rates (SGD's the function's LR).
const DefaultRuns = "sgd,momentum,nesterov,rmsprop,adam"

// Is1D reports whether f is a function of x alone.
func (f Function) Is1D() bool { return f.Y.Num == 0 }

// Race returns the runs drawn when none is asked for (see Runs).
func (f Function) Race() string { return cmp.Or(f.Runs, DefaultRuns) }

// Functions returns the functions of the package: rosenbrock, himmelblau,
// saddle and bowl of two variables, ripple and hills of one.
func Functions() []Function {
	return []Function{
		{
			Name: "rosenbrock", Formula: "(1 − x)² + 100·(y − x²)²",
			F: func(x, y float64) float64 { return sq(1-x) + 100*sq(y-x*x) },
			Grad: func(x, y float64) (float64, float64) {
				return -2*(1-x) - 400*x*(y-x*x), 200 * (y - x*x)
			},
			StartX: -1.5, StartY: 2, Minima: [][2]float64{{1, 1}},
			X: grid.Axis{Min: -2, Max: 2, Num: 201}, Y: grid.Axis{Min: -1, Max: 3, Num: 201},
			Levels: roundLevels(0.1, 2000), Log: true, LR: 1e-3, Steps: 1000,
		},
		{
			Name: "himmelblau", Formula: "(x² + y − 11)² + (x + y² − 7)²",
			F: func(x, y float64) float64 { return sq(x*x+y-11) + sq(x+y*y-7) },
			Grad: func(x, y float64) (float64, float64) {
				a, b := x*x+y-11, x+y*y-7
				return 4*x*a + 2*b, 2*a + 4*y*b
			},
			StartX: -0.5, StartY: -0.5,
			Minima: [][2]float64{{3, 2}, {-2.805118, 3.131312}, {-3.779310, -3.283186}, {3.584428, -1.848126}},
			X:      grid.Axis{Min: -5, Max: 5, Num: 201}, Y: grid.Axis{Min: -5, Max: 5, Num: 201},
			Levels: roundLevels(0.5, 500), Log: true, LR: 5e-3, Steps: 200,
		},
		{
			Name: "saddle", Formula: "x² − y²  (a saddle at 0; the start is almost on its ridge)",
			F:      func(x, y float64) float64 { return x*x - y*y },
			Grad:   func(x, y float64) (float64, float64) { return 2 * x, -2 * y },
			StartX: 1.5, StartY: 1e-3,
			X: grid.Axis{Min: -2, Max: 2, Num: 201}, Y: grid.Axis{Min: -2, Max: 2, Num: 201},
			Levels: linLevels(-4, 4, 17), LR: 0.05, Steps: 40,
		},
		{
			Name: "bowl", Formula: "x²/10 + 2·y²  (an elongated bowl: condition number 20)",
			F:      func(x, y float64) float64 { return x*x/10 + 2*y*y },
			Grad:   func(x, y float64) (float64, float64) { return x / 5, 4 * y },
			StartX: -4.5, StartY: 1.5, Minima: [][2]float64{{0, 0}},
			X: grid.Axis{Min: -5, Max: 5, Num: 201}, Y: grid.Axis{Min: -2, Max: 2, Num: 201},
			Levels: linLevels(0.25, 8, 16), LR: 0.4, Steps: 100,
		},
		{
			// The learning rate's three regimes at one minimum, whose
			// curvature is √3: lr 1 bounces across it (each step
			// multiplies the distance by 1 − √3), 0.1 walks in, 0.01
			// has not arrived after 50 steps.
			Name: "ripple", Formula: "x + 2·sin(x)  (one variable: a minimum at 4π/3)",
			F:      func(x, _ float64) float64 { return x + 2*math.Sin(x) },
			Grad:   func(x, _ float64) (float64, float64) { return 1 + 2*math.Cos(x), 0 },
			StartX: 2.5, Minima: [][2]float64{{4 * math.Pi / 3, 0}},
			X: grid.Axis{Min: 2, Max: 5, Num: 301}, LR: 0.1, Steps: 50, Runs: "sgd:0.01,sgd:0.1,sgd:1",
		},
		{
			// Unbounded below outside its hills: gradient descent
			// settles in the nearest valley, momentum carries on over
			// the next hill and out of the window.
			Name: "hills", Formula: "25·sin(x) − x²  (one variable: valleys among hills)",
			F:      func(x, _ float64) float64 { return 25*math.Sin(x) - x*x },
			Grad:   func(x, _ float64) (float64, float64) { return 25*math.Cos(x) - 2*x, 0 },
			StartX: 2, Minima: [][2]float64{{-8.6142873, 0}, {-1.7078533, 0}, {5.1357896, 0}},
			X: grid.Axis{Min: -10, Max: 10, Num: 801}, LR: 0.01, Steps: 100, Runs: "sgd:0.01,momentum:0.01,adam:0.1",
		},
	}
}

// Lookup returns the function called name.
func Lookup(name string) (Function, error) {
	fs := Functions()
	if i := slices.IndexFunc(fs, func(f Function) bool { return f.Name == name }); i >= 0 {
		return fs[i], nil
	}
	var names []string
	for _, f := range fs {
		names = append(names, f.Name)
	}
	return Function{}, fmt.Errorf("toy: unknown function %q; want %s", name, strings.Join(names, ", "))
}

func sq(x float64) float64 { return x * x }

// roundLevels returns the numbers 1, 2 and 5 times a power of ten from lo
// to hi: contour levels evenly spaced in log, easy to read.
func roundLevels(lo, hi float64) []float64 {
	var l []float64
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for _, m := range []float64{1, 2, 5} {
			if v := m * math.Pow(10, e); v >= lo*(1-1e-12) && v <= hi*(1+1e-12) {
				l = append(l, v)
			}
		}
	}
	return l
}

// linLevels returns n levels spaced evenly from lo to hi.
func linLevels(lo, hi float64, n int) []float64 {
	l := make([]float64, n)
	for i := range l {
		l[i] = lo + (hi-lo)*float64(i)/float64(n-1)
	}
	return l
}

// Path is the points a run visited, the start first, and its label.
type Path struct {
	Label string
	X, Y  []float64
	// Final is the loss at the last point.
	Final float64
}

// Race runs each optimizer for steps steps (0: f.Steps) from the
// function's start, in float32 as torch.optim would on a two-element
// parameter (one-element for a function of one variable, whose paths'
// Y is nil), and returns their paths. A run whose point leaves the finite
// numbers stops there, labelled diverged; one that ends outside the
// function's window says where.
func Race(f Function, runs []optim.Run, steps int) ([]Path, error) {
	if steps == 0 {
		steps = f.Steps
	}
	var paths []Path
	for _, r := range runs {
		lr := r.LR
		if lr == 0 && optim.NeedsLR(r.Optimizer) {
			lr = f.LR
		}
		// A function of one variable runs on a one-element parameter: its
		// y stays at 0, and its paths drop Y at the end.
		start := []float32{float32(f.StartX), float32(f.StartY)}
		if f.Is1D() {
			start = start[:1]
		}
		p := optim.Param{Name: "xy", Data: start, Grad: make([]float32, len(start))}
		opt, err := optim.New(r.Optimizer, []*optim.Group{{Params: []optim.Param{p}}}, lr)
		if err != nil {
			return nil, err
		}
		lrUsed := opt.Groups()[0].LR
		path := Path{Label: fmt.Sprintf("%s, lr %g", r.Optimizer, lrUsed), X: []float64{f.StartX}, Y: []float64{f.StartY}}
		at := func() (x, y float64) {
			if len(p.Data) == 2 {
				y = float64(p.Data[1])
			}
			return float64(p.Data[0]), y
		}
		diverged := false
		for range steps {
			gx, gy := f.Grad(at())
			copy(p.Grad, []float32{float32(gx), float32(gy)})
			opt.Step()
			x, y := at()
			if diverged = math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0); diverged {
				path.Label += " (diverged)"
				break
			}
			path.X, path.Y = append(path.X, x), append(path.Y, y)
		}
		x, y := path.X[len(path.X)-1], path.Y[len(path.Y)-1]
		switch {
		case diverged:
		case f.Is1D() && (x < f.X.Min || x > f.X.Max):
			path.Label += fmt.Sprintf(" (ends off the plot, at x = %.3g)", x)
		case !f.Is1D() && (x < f.X.Min || x > f.X.Max || y < f.Y.Min || y > f.Y.Max):
			// The figure draws the path up to the plot's edge: say
			// where it went.
			path.Label += fmt.Sprintf(" (ends off the plot, at (%.3g, %.3g))", x, y)
		}
		if f.Is1D() {
			path.Y = nil
		}
		path.Final = f.F(x, y)
		paths = append(paths, path)
	}
	return paths, nil
}

// Surface evaluates f over its axes, as a surface with the one metric
// "loss", so that the figures of package export draw it: a 1D surface for
// a function of one variable.
func Surface(f Function) *surface.Surface {
	g := grid.Grid{X: f.X, Y: &f.Y}
	ys := f.Y.Values()
	if f.Is1D() {
		g.Y, ys = nil, []float64{0}
	}
	s := &surface.Surface{Metrics: []string{"loss"}}
	s.Provenance.Tool = "landscape"
	s.Provenance.Model.Name = f.Name
	s.Provenance.Grid = g
	s.Provenance.Directions.Kind = "analytic"
	xs := f.X.Values()
	for j, y := range ys {
		for i, x := range xs {
			s.Points = append(s.Points, surface.Point{Index: j*len(xs) + i, X: x, Y: y, Values: []float64{f.F(x, y)}})
		}
	}
	return s
}
