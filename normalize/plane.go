package normalize

import (
	"fmt"
	"math"

	"github.com/landscape-go/landscape/nets"
)

// Plane is the plane through three models A, B and C in weight space,
// with origin A and an orthonormal basis made by Gram–Schmidt:
//
//	u = (B − A)/‖B − A‖
//	v = (C − A − ⟨C − A, u⟩u)/‖C − A − ⟨C − A, u⟩u‖
//
// computed in float64 and stored in float32. Coordinates along u and v are
// Euclidean distances in weight space, so A is at (0, 0), B at
// (‖B − A‖, 0) and C at (⟨C − A, u⟩, ⟨C − A, v⟩).
type Plane struct {
	// X and Y are u and v as directions keyed by state-dict name
	// (counters absent).
	X, Y *nets.StateDict
	// Points holds A, B and C placed in the plane.
	Points [3]PlanePoint
}

// PlanePoint is a model's place in a [Plane]: X = ⟨M − A, u⟩ and
// Y = ⟨M − A, v⟩ with u and v as stored in float32, and Residual the
// distance ‖(M − A) − (X·u + Y·v)‖ from M to that point, zero but for
// float32 rounding.
type PlanePoint struct {
	X, Y, Residual float64
}

// NewPlane returns the plane through a, b and c, over the entries mode
// covers: in Weights mode the parameters, so that batch-norm running
// statistics stay at A's everywhere and B and C are reproduced only in
// their parameters; in States mode every entry, statistics included, so
// that evaluating at B's and C's coordinates gives their own losses (to
// float32 rounding). No entry is ignored or normalised, as for [Target]:
// the plane must pass through the models. num_batches_tracked counters are
// left out: a counter that differs by thousands of steps would otherwise
// be the whole of u.
//
// It returns an error wrapping [ErrDegenerate] if B equals A or C lies on
// the line through A and B.
func NewPlane(net *nets.Net, a, b, c *nets.StateDict, mode Mode) (*Plane, error) {
	entries, dim := layout(net, mode, nil)
	flat := make([][]float32, 3)
	for i, sd := range []*nets.StateDict{a, b, c} {
		flat[i] = make([]float32, dim)
		if err := flatten(flat[i], sd, entries, "model "+string(rune('A'+i))); err != nil {
			return nil, err
		}
	}
	// Differences of float32 values are exact in float64.
	diff := func(m int) []float64 {
		d := make([]float64, dim)
		for k := range d {
			d[k] = float64(flat[m][k]) - float64(flat[0][k])
		}
		return d
	}
	u, w := diff(1), diff(2)
	nb := norm64(u)
	if nb == 0 {
		return nil, fmt.Errorf("normalize: plane: B equals A over the %d values %s mode covers: %w", dim, mode, ErrDegenerate)
	}
	for k := range u {
		u[k] /= nb
	}
	nc := norm64(w)
	if nc == 0 {
		return nil, fmt.Errorf("normalize: plane: C equals A over the %d values %s mode covers: %w", dim, mode, ErrDegenerate)
	}
	for range 2 { // Gram–Schmidt twice, for orthogonality to rounding
		s := dot64(w, u)
		for k := range w {
			w[k] -= s * u[k]
		}
	}
	nv := norm64(w)
	if !(nv > 1e-6*nc) {
		return nil, fmt.Errorf("normalize: plane: C lies on the line through A and B (its distance from the line is %.3g, from A %.3g): %w", nv, nc, ErrDegenerate)
	}
	for k := range w {
		w[k] /= nv
	}
	p := &Plane{X: unflatten(u, entries), Y: unflatten(w, entries)}
	u32, v32 := rounded(u), rounded(w)
	for m := range 3 {
		pr := projectRow(diff(m), u32, v32)
		p.Points[m] = PlanePoint{X: pr.X, Y: pr.Y, Residual: pr.Residual}
	}
	return p, nil
}

func dot64(x, y []float64) float64 {
	var s float64
	for i, v := range x {
		s += v * y[i]
	}
	return s
}

func norm64(x []float64) float64 { return math.Sqrt(dot64(x, x)) }
