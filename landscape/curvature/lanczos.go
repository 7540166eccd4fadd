package curvature

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/gonum"
)

// Decomposition is the result of m steps of [Lanczos]: an orthonormal
// basis Q = [q₁ … q_m] of the Krylov space span{v, Av, …, A^(m-1)v} and the
// tridiagonal T = QᵀAQ, with
//
//	A·Q = Q·T + β_m·q_{m+1}·e_mᵀ.
//
// The Ritz pairs (θᵢ, Q·sᵢ), from the eigenpairs (θᵢ, sᵢ) of T, approximate
// eigenpairs of A, and ‖A·Q·sᵢ − θᵢ·Q·sᵢ‖ = β_m·|e_mᵀsᵢ|, which [Ritz]
// reports without a further product.
type Decomposition struct {
	// Alpha is the diagonal of T, Beta[j] the entry below Alpha[j];
	// Beta[m-1] is β_m, the norm of the part of A·q_m outside the basis.
	Alpha, Beta []float64
	// Basis holds q₁ … q_m, each of length n.
	Basis [][]float64
	// Invariant is true if the iteration stopped because the Krylov space
	// is invariant under A (β_m is rounding noise): its Ritz pairs are
	// then exact eigenpairs.
	Invariant bool
	// Applies is the number of products with A.
	Applies int
}

// LanczosOptions sets how [Lanczos] runs. If a *LanczosOptions is nil, its
// zero value is used.
type LanczosOptions struct {
	// Steps is the number of Lanczos steps, the dimension of the Krylov
	// space. Zero means min(n, 100); it is capped at n.
	Steps int
	// Start is the start vector; nil means a Gaussian draw from Seed.
	Start []float64
	// Seed seeds the PCG generator of the start vector.
	Seed uint64
}

// Lanczos runs the Lanczos iteration with full reorthogonalisation on op:
// every new basis vector is made orthogonal to all earlier ones by
// classical Gram–Schmidt done twice, so the basis stays orthonormal to
// rounding and no spurious copies ("ghosts") of converged eigenvalues
// appear. It stops early if the Krylov space becomes invariant.
//
// The basis costs m·n float64s; the iteration m products with A.
func Lanczos(ctx context.Context, op Operator, opts *LanczosOptions) (*Decomposition, error) {
	if opts == nil {
		opts = &LanczosOptions{}
	}
	n, err := checkDim(op, 1, "lanczos")
	if err != nil {
		return nil, err
	}
	steps := min(orDefault(opts.Steps, 100), n)
	start := make([]float64, n)
	if opts.Start != nil {
		if len(opts.Start) != n {
			return nil, fmt.Errorf("curvature: lanczos: start vector of length %d, operator of dimension %d: %w", len(opts.Start), n, ErrInvalid)
		}
		copy(start, opts.Start)
	} else {
		gaussianTo(start, newRand(opts.Seed))
	}
	if norm(start) == 0 {
		return nil, fmt.Errorf("curvature: lanczos: zero start vector: %w", ErrInvalid)
	}
	return lanczos(ctx, op, "lanczos", start, nil, steps, nil)
}

// lanczos runs at most steps steps from start, keeping the basis
// orthogonal to the orthonormal vectors of locked as well (the iteration
// then works on A restricted to their orthogonal complement). After each
// step done(d) may end the iteration. start is overwritten; what names
// the computation in errors.
func lanczos(ctx context.Context, op Operator, what string, start []float64, locked [][]float64, steps int, done func(*Decomposition) bool) (*Decomposition, error) {
	d := &Decomposition{}
	q := start
	orthogonalize(q, locked)
	b := norm(q)
	if b == 0 {
		return d, nil
	}
	scaleTo(q, 1/b)
	var anorm float64 // running estimate of ‖A‖ from T's rows
	for j := range steps {
		d.Basis = append(d.Basis, q)
		w := make([]float64, len(q))
		if err := apply(ctx, op, w, q, &d.Applies, fmt.Sprintf("%s: lanczos step %d", what, j+1)); err != nil {
			return d, err
		}
		a := dot(q, w)
		addScaledTo(w, -a, q)
		if j > 0 {
			addScaledTo(w, -d.Beta[j-1], d.Basis[j-1])
		}
		orthogonalize(w, locked, d.Basis)
		b := norm(w)
		d.Alpha = append(d.Alpha, a)
		d.Beta = append(d.Beta, b)
		prev := 0.0
		if j > 0 {
			prev = d.Beta[j-1]
		}
		anorm = max(anorm, math.Abs(a)+prev+b)
		// After full reorthogonalisation an invariant space leaves w at
		// rounding level, about ε·‖A‖ times a small factor.
		if b <= 1e3*epsilon*anorm || b == 0 {
			d.Invariant = true
			return d, nil
		}
		if done != nil && done(d) {
			return d, nil
		}
		q = w
		scaleTo(q, 1/b)
	}
	return d, nil
}

const epsilon = 0x1p-52

// Ritz returns the Ritz values of d in ascending order, the coefficients
// S of the Ritz vectors in the basis (column i of the m×m row-major S
// belongs to value i; the Ritz vector is Σ_j S[j·m+i]·q_j) and the
// residual norms β_m·|S[(m-1)·m+i]|.
func (d *Decomposition) Ritz() (values, s, residuals []float64) {
	m := len(d.Alpha)
	values, s = tridiagEigen(d.Alpha, d.Beta[:max(m-1, 0)])
	residuals = make([]float64, m)
	if m == 0 {
		return values, s, residuals
	}
	bm := d.Beta[m-1]
	if d.Invariant {
		bm = 0
	}
	for i := range m {
		residuals[i] = bm * math.Abs(s[(m-1)*m+i])
	}
	return values, s, residuals
}

// RitzVector returns the Ritz vector Σ_j s[j·m+i]·q_j for the
// coefficients s from [Decomposition.Ritz].
func (d *Decomposition) RitzVector(s []float64, i int) []float64 {
	m := len(d.Basis)
	y := make([]float64, len(d.Basis[0]))
	for j, q := range d.Basis {
		addScaledTo(y, s[j*m+i], q)
	}
	return y
}

// tridiagEigen returns the eigenvalues, ascending, and the row-major
// eigenvector matrix of the symmetric tridiagonal matrix with diagonal a
// and off-diagonal b, by implicit QL/QR (LAPACK's dsteqr).
func tridiagEigen(a, b []float64) (values, vectors []float64) {
	m := len(a)
	values = append([]float64(nil), a...)
	e := append([]float64(nil), b...)
	vectors = make([]float64, m*m)
	if m == 0 {
		return values, vectors
	}
	work := make([]float64, max(1, 2*m-2))
	if !(gonum.Implementation{}).Dsteqr(lapack.EVTridiag, m, values, e, vectors, max(m, 1), work) {
		// dsteqr fails only after 30·m sweeps without a split, which does
		// not happen for finite input; NaNs make the failure visible.
		for i := range values {
			values[i] = math.NaN()
		}
	}
	return values, vectors
}
