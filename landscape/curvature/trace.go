package curvature

import (
	"context"
	"fmt"
	"math"
)

// TraceOptions sets how [Trace] runs. If a *TraceOptions is nil, its zero
// value is used.
type TraceOptions struct {
	// MaxSamples caps the number of products. Zero means 100 (PyHessian's
	// maxIter).
	MaxSamples int
	// MinSamples is the number of samples before Tol is tested, since a
	// standard error from a few samples is itself unreliable. Zero means
	// 10.
	MinSamples int
	// Tol stops the estimate once its standard error is at most Tol·|mean|.
	// Zero means no early stop: MaxSamples samples are drawn.
	Tol float64
	// Seed seeds the PCG generator of the Rademacher vectors.
	Seed uint64
}

// TraceEstimate is the result of [Trace].
type TraceEstimate struct {
	// Mean estimates tr(A); StdErr is its standard error, s/√Samples with
	// s the sample standard deviation of the zᵀAz.
	Mean, StdErr float64
	// Samples is the number of products with A.
	Samples int
}

// Trace estimates the trace of op by Hutchinson's method with Rademacher
// vectors: for z with independent ±1 entries E[zᵀAz] = tr(A), and the
// variance of one sample, 2·Σ_{i≠j} A_ij², is the least of any
// distribution of z with independent entries. The samples are drawn until
// the standard error falls to opts.Tol·|mean| (after MinSamples) or
// MaxSamples are drawn. PyHessian's hessian.trace stops instead when the
// mean changes by less than tol relative; the standard error is a stopping
// rule with a meaning, and is returned for error bars.
func Trace(ctx context.Context, op Operator, opts *TraceOptions) (TraceEstimate, error) {
	n, err := checkDim(op, 1, "trace")
	if err != nil {
		return TraceEstimate{}, err
	}
	if opts == nil {
		opts = &TraceOptions{}
	}
	maxSamples, minSamples := orDefault(opts.MaxSamples, 100), orDefault(opts.MinSamples, 10)
	rng := newRand(opts.Seed)
	z := make([]float64, n)
	az := make([]float64, n)
	var est TraceEstimate
	var m2 float64  // Welford's sum of squared deviations
	var applies int // the products started, Samples those finished
	for est.Samples < maxSamples {
		rademacherTo(z, rng)
		if err := apply(ctx, op, az, z, &applies, fmt.Sprintf("trace sample %d", est.Samples+1)); err != nil {
			return est, err
		}
		est.Samples++
		x := dot(z, az)
		delta := x - est.Mean
		est.Mean += delta / float64(est.Samples)
		m2 += delta * (x - est.Mean)
		if est.Samples > 1 {
			est.StdErr = math.Sqrt(m2 / float64(est.Samples-1) / float64(est.Samples))
		}
		if opts.Tol > 0 && est.Samples >= minSamples && est.StdErr <= opts.Tol*math.Abs(est.Mean) {
			break
		}
	}
	return est, nil
}

// ExactTrace returns the trace of op from its diagonal, eᵢᵀAeᵢ for each
// of its n unit vectors: n products, no error (StdErr 0). For an operator
// of fewer dimensions than the samples [Trace] would draw (a bias's or a
// batch norm's block of a Hessian), it is the cheaper of the two too.
func ExactTrace(ctx context.Context, op Operator) (TraceEstimate, error) {
	n, err := checkDim(op, 1, "trace")
	if err != nil {
		return TraceEstimate{}, err
	}
	e := make([]float64, n)
	ae := make([]float64, n)
	var est TraceEstimate
	var applies int
	for i := range n {
		e[i] = 1
		if err := apply(ctx, op, ae, e, &applies, fmt.Sprintf("diagonal entry %d", i+1)); err != nil {
			return est, err
		}
		e[i] = 0
		est.Mean += ae[i]
		est.Samples++
	}
	return est, nil
}
