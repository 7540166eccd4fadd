package curvature

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
)

// Operator is a symmetric linear operator A on ℝⁿ, given only by its
// product with a vector: a Hessian-vector product, or a dense matrix in
// tests. Apply writes A·v into dst; both have length Dim. Apply must not
// keep v or dst, and must return ctx's error if it stops early.
//
// The methods of this package call Apply one vector at a time, from one
// goroutine, and count the calls in their results.
type Operator interface {
	Dim() int
	Apply(ctx context.Context, dst, v []float64) error
}

// ErrNotConverged is returned, wrapped, when an iteration reaches its cap
// before its tolerance. The result returned with it holds the last
// estimates, with their residuals.
var ErrNotConverged = errors.New("not converged")

// ErrInvalid is returned, wrapped, for arguments out of range: a k larger
// than the operator's dimension, an empty operator.
var ErrInvalid = errors.New("invalid argument")

// Func adapts a function to an [Operator] of dimension N.
type Func struct {
	N int
	F func(ctx context.Context, dst, v []float64) error
}

var _ Operator = Func{}

// Dim returns f.N.
func (f Func) Dim() int { return f.N }

// Apply calls f.F.
func (f Func) Apply(ctx context.Context, dst, v []float64) error { return f.F(ctx, dst, v) }

// FromFloat32 adapts a float32 product, such as the Hessian-vector product
// of a network whose weights are float32, to an [Operator]: v is rounded to
// float32 on the way in and the product widened on the way out, so that
// every reduction of this package (dot products, norms,
// reorthogonalisation, the tridiagonal eigenproblem) runs in float64. The
// operator it returns keeps two float32 buffers of length n and is not
// safe for concurrent use.
func FromFloat32(n int, apply func(ctx context.Context, dst, v []float32) error) Operator {
	return &float32Op{n: n, apply: apply, v: make([]float32, n), dst: make([]float32, n)}
}

type float32Op struct {
	n      int
	apply  func(ctx context.Context, dst, v []float32) error
	v, dst []float32
}

func (o *float32Op) Dim() int { return o.n }

func (o *float32Op) Apply(ctx context.Context, dst, v []float64) error {
	for i, x := range v {
		o.v[i] = float32(x)
	}
	if err := o.apply(ctx, o.dst, o.v); err != nil {
		return err
	}
	for i, x := range o.dst {
		dst[i] = float64(x)
	}
	return nil
}

// apply calls op.Apply after checking ctx, counts the call and wraps its
// error with what was being computed.
func apply(ctx context.Context, op Operator, dst, v []float64, count *int, what string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("curvature: %s: %w", what, err)
	}
	*count++
	if err := op.Apply(ctx, dst, v); err != nil {
		return fmt.Errorf("curvature: %s: apply: %w", what, err)
	}
	return nil
}

// checkDim returns an error if op has no dimension or k is outside [1, n].
func checkDim(op Operator, k int, what string) (int, error) {
	n := op.Dim()
	if n < 1 {
		return 0, fmt.Errorf("curvature: %s: operator of dimension %d: %w", what, n, ErrInvalid)
	}
	if k < 1 || k > n {
		return 0, fmt.Errorf("curvature: %s: k = %d outside [1, %d], the operator's dimension: %w", what, k, n, ErrInvalid)
	}
	return n, nil
}

// orDefault returns x, or d if x is zero or negative: the options' zero
// values stand for their defaults.
func orDefault[T int | float64](x, d T) T {
	if x <= 0 {
		return d
	}
	return x
}

// newRand returns the PCG generator for seed; the second PCG word is a
// fixed constant so that one seed names one stream.
func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
}

// gaussianTo fills dst with standard normal draws.
func gaussianTo(dst []float64, rng *rand.Rand) {
	for i := range dst {
		dst[i] = rng.NormFloat64()
	}
}

// rademacherTo fills dst with independent ±1 draws of equal probability.
func rademacherTo(dst []float64, rng *rand.Rand) {
	var bits uint64
	for i := range dst {
		if i%64 == 0 {
			bits = rng.Uint64()
		}
		dst[i] = float64(int64(bits&1)*2 - 1)
		bits >>= 1
	}
}

// dot, addScaledTo and scaleTo are gonum's assembly kernels under the
// names of this package's style.
var (
	dot         = floats.Dot
	addScaledTo = floats.AddScaled
	scaleTo     = func(dst []float64, a float64) { floats.Scale(a, dst) }
)

func norm(x []float64) float64 { return math.Sqrt(dot(x, x)) }

// orthogonalize removes from w its components along the orthonormal
// vectors of each set, by classical Gram–Schmidt done twice ("twice is
// enough"): all coefficients of a pass are dot products with the same w,
// then subtracted together; the second pass removes what rounding left.
func orthogonalize(w []float64, sets ...[][]float64) {
	for range 2 {
		for _, set := range sets {
			c := make([]float64, len(set))
			for i, q := range set {
				c[i] = dot(q, w)
			}
			for i, q := range set {
				addScaledTo(w, -c[i], q)
			}
		}
	}
}
