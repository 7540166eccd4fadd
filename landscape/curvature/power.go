package curvature

import (
	"context"
	"fmt"
	"math"
)

// PowerOptions sets how [PowerIteration] runs. If a *PowerOptions is nil,
// its zero value is used; the defaults are PyHessian's.
type PowerOptions struct {
	// MaxIter caps the products per eigenpair. Zero means 100.
	MaxIter int
	// Tol stops the iteration for an eigenpair when the Rayleigh quotient
	// changes by less than Tol relative: |θ_i − θ_{i−1}| <
	// Tol·(|θ_{i−1}| + 1e-6). Zero means 1e-3.
	Tol float64
	// Seed seeds the PCG generator of the start vectors.
	Seed uint64
}

// PowerIteration returns k eigenpairs of op of largest magnitude, as
// PyHessian's hessian.eigenvalues computes them, for parity with its
// numbers: for each pair, a Gaussian start vector is normalised and
// iterated, v ← A·v/‖A·v‖, after projecting out the pairs already found
// (deflation by projection), with θ = vᵀA·v as the estimate, until θ
// changes by less than Tol relative or MaxIter products.
//
// PowerIteration converges at the rate |λ_{i+1}/λ_i| per product and
// stops on a small change of θ, not on a small residual, so its values
// are accurate to about Tol and its vectors less; [Eigs] with
// [LargestMagnitude] finds the same pairs to a residual tolerance in
// fewer products. Each Pair's Residual is ‖A·v − θ·v‖ for the v whose
// product gave θ. If a pair reaches MaxIter the result comes with an error
// wrapping [ErrNotConverged] (PyHessian returns the estimate silently).
func PowerIteration(ctx context.Context, op Operator, k int, opts *PowerOptions) (*Result, error) {
	n, err := checkDim(op, k, fmt.Sprintf("power iteration (%d)", k))
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &PowerOptions{}
	}
	maxIter, tol := orDefault(opts.MaxIter, 100), orDefault(opts.Tol, 1e-3)
	rng := newRand(opts.Seed)
	res := &Result{}
	var found [][]float64
	var stuck []int
	for p := range k {
		res.Runs++
		v := make([]float64, n)
		gaussianTo(v, rng)
		scaleTo(v, 1/norm(v))
		av := make([]float64, n)
		pair := Pair{Value: math.NaN()}
		done := false
		for it := 0; it < maxIter && !done; it++ {
			orthogonalize(v, found)
			scaleTo(v, 1/norm(v))
			if err := apply(ctx, op, av, v, &res.Applies, fmt.Sprintf("power iteration pair %d step %d", p+1, it+1)); err != nil {
				return res, err
			}
			theta := dot(av, v)
			done = it > 0 && math.Abs(pair.Value-theta) < tol*(math.Abs(pair.Value)+1e-6)
			pair.Value = theta
			r := append([]float64(nil), av...)
			addScaledTo(r, -theta, v)
			pair.Residual = norm(r)
			pair.Vector = append(pair.Vector[:0], v...)
			nav := norm(av)
			if nav == 0 {
				done = true // v is in A's null space: θ = 0 exactly
				break
			}
			copy(v, av)
			scaleTo(v, 1/nav)
		}
		if !done {
			stuck = append(stuck, p+1)
		}
		res.Pairs = append(res.Pairs, pair)
		found = append(found, pair.Vector)
	}
	if len(stuck) > 0 {
		return res, fmt.Errorf("curvature: power iteration: pairs %v changed by more than %g relative after %d products: %w", stuck, tol, maxIter, ErrNotConverged)
	}
	return res, nil
}
