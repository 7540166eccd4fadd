package curvature

import (
	"cmp"
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// dense is an Operator backed by a symmetric matrix; it counts its
// products and can cancel a context after a number of them.
type dense struct {
	a        *mat.SymDense
	applies  int
	cancel   func() // called when applies reaches cancelAt
	cancelAt int
}

func (d *dense) Dim() int { return d.a.SymmetricDim() }

func (d *dense) Apply(ctx context.Context, dst, v []float64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.applies++
	if d.cancel != nil && d.applies == d.cancelAt {
		d.cancel()
	}
	mat.NewVecDense(len(dst), dst).MulVec(d.a, mat.NewVecDense(len(v), v))
	return nil
}

// withSpectrum returns Q·diag(values)·Qᵀ for a random orthogonal Q drawn
// from seed (the Q factor of a Gaussian matrix).
func withSpectrum(values []float64, seed uint64) *mat.SymDense {
	n := len(values)
	rng := rand.New(rand.NewPCG(seed, 1))
	g := mat.NewDense(n, n, nil)
	for i := range n {
		for j := range n {
			g.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(g)
	var q mat.Dense
	qr.QTo(&q)
	var qd mat.Dense
	qd.Mul(&q, mat.NewDiagDense(n, values))
	var a mat.Dense
	a.Mul(&qd, q.T())
	s := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			s.SetSym(i, j, (a.At(i, j)+a.At(j, i))/2)
		}
	}
	return s
}

func diagonal(values []float64) *mat.SymDense {
	s := mat.NewSymDense(len(values), nil)
	for i, v := range values {
		s.SetSym(i, i, v)
	}
	return s
}

// reference returns the eigenvalues of a, ascending, and its eigenvectors
// as columns, from gonum's dense solver.
func reference(t testing.TB, a *mat.SymDense) ([]float64, *mat.Dense) {
	t.Helper()
	var e mat.EigenSym
	if !e.Factorize(a, true) {
		t.Fatal("mat.EigenSym failed")
	}
	var v mat.Dense
	e.VectorsTo(&v)
	return e.Values(nil), &v
}

// trueResidual returns ‖A·v − λ·v‖ computed densely.
func trueResidual(a *mat.SymDense, p Pair) float64 {
	n := len(p.Vector)
	var r mat.VecDense
	r.MulVec(a, mat.NewVecDense(n, p.Vector))
	r.AddScaledVec(&r, -p.Value, mat.NewVecDense(n, p.Vector))
	return r.Norm(2)
}

func linspace(lo, hi float64, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = lo + (hi-lo)*float64(i)/float64(n-1)
	}
	return x
}

// byKey returns values sorted best first by which.
func byKey(values []float64, which Which) []float64 {
	v := slices.Clone(values)
	slices.SortStableFunc(v, func(a, b float64) int { return -cmp.Compare(which.key(a), which.key(b)) })
	return v
}
