package curvature

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
)

// Which says which end of the spectrum [Eigs] and [PowerIteration] look
// for.
type Which int

const (
	// Largest asks for the algebraically largest eigenvalues, λmax first.
	Largest Which = iota
	// Smallest asks for the algebraically smallest eigenvalues, λmin
	// first.
	Smallest
	// LargestMagnitude asks for the eigenvalues of largest |λ|, as
	// scipy's eigsh does by default and power iteration finds.
	LargestMagnitude
)

func (w Which) String() string {
	switch w {
	case Largest:
		return "largest"
	case Smallest:
		return "smallest"
	case LargestMagnitude:
		return "largest magnitude"
	}
	return fmt.Sprintf("Which(%d)", int(w))
}

// key orders eigenvalues: the wanted ones have the largest keys.
func (w Which) key(x float64) float64 {
	switch w {
	case Smallest:
		return -x
	case LargestMagnitude:
		return math.Abs(x)
	}
	return x
}

// Pair is an approximate eigenpair of an operator A.
type Pair struct {
	Value float64
	// Vector has unit norm; its sign is arbitrary.
	Vector []float64
	// Residual is ‖A·Vector − Value·Vector‖. The error in Value is at
	// most Residual, and about Residual²/gap where gap is the distance to
	// the rest of the spectrum.
	Residual float64
}

// Result is what [Eigs], [Extremes] and [PowerIteration] return.
type Result struct {
	Pairs []Pair
	// Applies is the number of products with the operator; Runs the
	// number of Lanczos or power iterations started.
	Applies, Runs int
}

// Options sets how [Eigs] and [Extremes] run. If an *Options is nil, its
// zero value is used.
type Options struct {
	// MaxIter caps the dimension of each Lanczos run's Krylov space. Zero
	// means max(100, 4k); it is capped at the operator's dimension.
	MaxIter int
	// Tol is the relative residual at which a Ritz pair is accepted:
	// ‖Av − θv‖ ≤ Tol·‖A‖, with ‖A‖ estimated by the largest |θ| seen.
	// Zero means 1e-10.
	Tol float64
	// Seed seeds the PCG generator of the start vectors.
	Seed uint64
}

func (o *Options) defaults(n, k int) (maxIter int, tol float64) {
	if o == nil {
		o = &Options{}
	}
	return min(orDefault(o.MaxIter, max(100, 4*k)), n), orDefault(o.Tol, 1e-10)
}

func (o *Options) seed() uint64 {
	if o == nil {
		return 0
	}
	return o.Seed
}

// Eigs returns the k eigenpairs of op at the end of the spectrum given by
// which, in that order (for [Largest], λmax first), by Lanczos with full
// reorthogonalisation and locking.
//
// A Krylov space from one start vector holds one copy of each repeated
// eigenvalue, so for k > 1 Eigs locks the converged pairs and runs Lanczos
// again from a random start in their orthogonal complement, until a run
// finds nothing that belongs among the k: repeated eigenvalues are
// returned as often as they occur, at the price of at least two runs. For
// k = 1 one run suffices. If that last run reaches MaxIter before its best
// Ritz value converges (the complement's top is then clustered), the k
// pairs are accepted when that value lies below the k-th by more than its
// residual: a copy of an eigenvalue hidden in such a cluster can then be
// missed, as by any Krylov method from random starts.
//
// If a run reaches Options.MaxIter before its wanted pairs converge, Eigs
// returns the pairs it has with an error wrapping [ErrNotConverged]. A k
// outside [1, n] is an error wrapping [ErrInvalid].
func Eigs(ctx context.Context, op Operator, k int, which Which, opts *Options) (*Result, error) {
	what := fmt.Sprintf("eigs (%d %s)", k, which)
	n, err := checkDim(op, k, what)
	if err != nil {
		return nil, err
	}
	if which < Largest || which > LargestMagnitude {
		return nil, fmt.Errorf("curvature: %s: %w", what, ErrInvalid)
	}
	maxIter, tol := opts.defaults(n, k)
	rng := newRand(opts.seed())
	res := &Result{}
	var locked []Pair
	var anorm float64
	verified := false
	for !verified && res.Runs < 2*k+2 {
		res.Runs++
		need := max(k-len(locked), 1)
		basis := lockedVectors(locked)
		steps := min(maxIter, n-len(locked))
		if steps == 0 {
			verified = true // the locked vectors span the space
			break
		}
		start := make([]float64, n)
		gaussianTo(start, rng)
		var values, s, resid []float64
		order := func() []int { return wanted(values, which) }
		d, err := lanczos(ctx, op, fmt.Sprintf("%s: run %d", what, res.Runs), start, basis, steps, func(d *Decomposition) bool {
			m := len(d.Alpha)
			if m < need || (m > 50 && m%(m/10) != 0) {
				return false // T's eigenproblem every step would cost O(m⁴)
			}
			values, s, resid = d.Ritz()
			return converged(values, resid, order()[:need], tol, max(anorm, maxAbs(values)))
		})
		res.Applies += d.Applies
		if err != nil {
			return res, err
		}
		if len(d.Alpha) == 0 {
			verified = true // the start vector lay in the span of the locked vectors
			break
		}
		values, s, resid = d.Ritz()
		anorm = max(anorm, maxAbs(values))
		var found []Pair
		for _, i := range order() {
			if len(found) == need || resid[i] > tol*anorm {
				break
			}
			found = append(found, Pair{Value: values[i], Vector: d.RitzVector(s, i), Residual: resid[i]})
		}
		if best := order()[0]; len(found) == 0 && len(locked) >= k &&
			which.key(values[best])+resid[best] < which.key(locked[k-1].Value) {
			verified = true // an unconverged check that stays below the k-th
			break
		}
		if len(found) == 0 {
			res.Pairs = append(res.Pairs, locked...)
			if i := order()[0]; len(locked) < k {
				res.Pairs = append(res.Pairs, Pair{Value: values[i], Vector: d.RitzVector(s, i), Residual: resid[i]})
			}
			return res, fmt.Errorf("curvature: %s: run %d: no Ritz pair reached relative residual %g in %d steps: %w",
				what, res.Runs, tol, len(d.Alpha), ErrNotConverged)
		}
		full := len(locked) >= k
		entered := !full || which.key(found[0].Value) > which.key(locked[k-1].Value)+tol*anorm
		locked = append(locked, found...)
		slices.SortStableFunc(locked, func(a, b Pair) int {
			return -cmp.Compare(which.key(a.Value), which.key(b.Value))
		})
		locked = locked[:min(len(locked), k)]
		verified = (len(locked) == k && k == 1) || (full && !entered)
	}
	res.Pairs = locked
	if len(locked) < k || !verified {
		return res, fmt.Errorf("curvature: %s: %d of %d pairs, unconfirmed, after %d runs: %w", what, len(locked), k, res.Runs, ErrNotConverged)
	}
	return res, nil
}

// Extremes returns the smallest and the largest eigenpair of op, λmin and
// λmax, as Pairs[0] and Pairs[1], from one Lanczos run that continues
// until both ends converge: the two ends of the spectrum are the first
// Ritz values to converge, and the same Krylov space serves both.
//
// The ratio |λmin/λmax| is the curvature figure of Li et al. (2018).
// Their plot_hessian_eigen.py takes "max" to be the eigenvalue of largest
// magnitude (eigsh's default) and finds the other end by shifting A by
// 0.51·max, at tolerance 1e-2; near a minimum, where λmax ≥ |λmin|, the
// two agree with Extremes within that tolerance.
func Extremes(ctx context.Context, op Operator, opts *Options) (*Result, error) {
	n, err := checkDim(op, 1, "extremes")
	if err != nil {
		return nil, err
	}
	maxIter, tol := opts.defaults(n, 1)
	start := make([]float64, n)
	gaussianTo(start, newRand(opts.seed()))
	ok := func(values, resid []float64) bool {
		return converged(values, resid, []int{0, len(values) - 1}, tol, maxAbs(values))
	}
	d, err := lanczos(ctx, op, "extremes", start, nil, maxIter, func(d *Decomposition) bool {
		m := len(d.Alpha)
		if m > 50 && m%(m/10) != 0 {
			return false
		}
		values, _, resid := d.Ritz()
		return ok(values, resid)
	})
	res := &Result{Applies: d.Applies, Runs: 1}
	if err != nil {
		return res, err
	}
	values, s, resid := d.Ritz()
	for _, i := range []int{0, len(values) - 1} {
		res.Pairs = append(res.Pairs, Pair{Value: values[i], Vector: d.RitzVector(s, i), Residual: resid[i]})
	}
	if !ok(values, resid) {
		return res, fmt.Errorf("curvature: extremes: relative residuals %g, %g above %g after %d steps: %w",
			resid[0]/maxAbs(values), resid[len(resid)-1]/maxAbs(values), tol, len(values), ErrNotConverged)
	}
	return res, nil
}

// wanted returns the indices of values, best first by which.
func wanted(values []float64, which Which) []int {
	idx := make([]int, len(values))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		return -cmp.Compare(which.key(values[a]), which.key(values[b]))
	})
	return idx
}

func converged(values, resid []float64, idx []int, tol, anorm float64) bool {
	for _, i := range idx {
		if resid[i] > tol*anorm {
			return false
		}
	}
	return len(values) > 0
}

func lockedVectors(pairs []Pair) [][]float64 {
	v := make([][]float64, len(pairs))
	for i, p := range pairs {
		v[i] = p.Vector
	}
	return v
}

func maxAbs(x []float64) float64 {
	var m float64
	for _, v := range x {
		m = max(m, math.Abs(v))
	}
	return m
}
