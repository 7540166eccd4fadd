// Package toy holds analytic loss functions of two variables with exact
// gradients, for teaching how optimizers move: each optimizer of package
// optim runs on the function from the same start, and its path is drawn
// on the function's contours. No network is needed, and the pictures are
// those of the textbooks: momentum overshooting down Rosenbrock's valley,
// Adam's steady steps, plain gradient descent stalling on a saddle.
package toy

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape/optim"
	"github.com/landscape-go/landscape/landscape/surface"
)

// Function is a loss of two variables with its gradient, a start and a
// window to draw it in.
type Function struct {
	Name, Formula string
	F             func(x, y float64) float64
	Grad          func(x, y float64) (gx, gy float64)
	// StartX, StartY is where every optimizer starts; Minima lists the
	// function's minima in the window (none for the saddle).
	StartX, StartY float64
	Minima         [][2]float64
	// X and Y are the axes the function is drawn over; Levels its contour
	// levels, and Log whether its colour scale is logarithmic.
	X, Y   grid.Axis
	Levels []float64
	Log    bool
	// LR is a learning rate at which plain gradient descent makes progress
	// without diverging, the default of SGD in [Race]; Steps are enough for
	// the instructive part of the race.
	LR    float64
	Steps int
}

// Functions returns the functions of the package: rosenbrock, himmelblau,
// saddle and bowl.
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
// parameter, and returns their paths. A run whose point leaves the finite
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
		p := optim.Param{Name: "xy", Data: []float32{float32(f.StartX), float32(f.StartY)}, Grad: make([]float32, 2)}
		opt, err := optim.New(r.Optimizer, []*optim.Group{{Params: []optim.Param{p}}}, lr)
		if err != nil {
			return nil, err
		}
		lrUsed := opt.Groups()[0].LR
		path := Path{Label: fmt.Sprintf("%s, lr %g", r.Optimizer, lrUsed), X: []float64{f.StartX}, Y: []float64{f.StartY}}
		diverged := false
		for range steps {
			gx, gy := f.Grad(float64(p.Data[0]), float64(p.Data[1]))
			p.Grad[0], p.Grad[1] = float32(gx), float32(gy)
			opt.Step()
			x, y := float64(p.Data[0]), float64(p.Data[1])
			if diverged = math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0); diverged {
				path.Label += " (diverged)"
				break
			}
			path.X, path.Y = append(path.X, x), append(path.Y, y)
		}
		x, y := path.X[len(path.X)-1], path.Y[len(path.Y)-1]
		if !diverged && (x < f.X.Min || x > f.X.Max || y < f.Y.Min || y > f.Y.Max) {
			// The figure draws the path up to the plot's edge: say
			// where it went.
			path.Label += fmt.Sprintf(" (ends off the plot, at (%.3g, %.3g))", x, y)
		}
		path.Final = f.F(x, y)
		paths = append(paths, path)
	}
	return paths, nil
}

// Surface evaluates f over its axes, as a surface with the one metric
// "loss", so that the figures of package export draw it.
func Surface(f Function) *surface.Surface {
	g := grid.Grid{X: f.X, Y: &f.Y}
	s := &surface.Surface{Metrics: []string{"loss"}}
	s.Provenance.Tool = "landscape"
	s.Provenance.Model.Name = f.Name
	s.Provenance.Grid = g
	s.Provenance.Directions.Kind = "analytic"
	xs, ys := f.X.Values(), f.Y.Values()
	for j, y := range ys {
		for i, x := range xs {
			s.Points = append(s.Points, surface.Point{Index: j*len(xs) + i, X: x, Y: y, Values: []float64{f.F(x, y)}})
		}
	}
	return s
}
