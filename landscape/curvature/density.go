package curvature

import (
	"context"
	"fmt"
	"math"
)

// DensityOptions sets how [SLQ] runs. If a *DensityOptions is nil, its
// zero value is used; the defaults are PyHessian's.
type DensityOptions struct {
	// Runs is the number of Lanczos runs, each from its own random start
	// (PyHessian's n_v). Zero means 1.
	Runs int
	// Steps is the number of Lanczos steps per run, the number of
	// quadrature nodes (PyHessian's iter). Zero means 100; it is capped at
	// the dimension.
	Steps int
	// Seed seeds the PCG generator of the start vectors.
	Seed uint64
}

// Spectrum is a stochastic Lanczos quadrature of an operator's spectral
// density: run r gives nodes θ_{r,i} and weights w_{r,i}, summing to 1,
// such that for smooth f
//
//	tr f(A) / n ≈ (1/R) Σ_r Σ_i w_{r,i}·f(θ_{r,i}).
type Spectrum struct {
	Nodes, Weights [][]float64
	// Dim is the operator's dimension n; Applies the number of products.
	Dim, Applies int
}

// SLQ computes a [Spectrum] of op by stochastic Lanczos quadrature (Lin,
// Saad and Yang 2016; Ghorbani, Krishnan and Xiao 2019; PyHessian's
// hessian.density): each run starts Lanczos with full
// reorthogonalisation from a normalised Rademacher vector v; the
// eigenvalues of T are the nodes of the Gauss quadrature of the measure
// Σ_j (vᵀu_j)² δ(λ − λ_j) and the squared first components of T's
// eigenvectors its weights. The mean over runs of that measure is an
// unbiased estimate of the spectral density (1/n) Σ_j δ(λ − λ_j). A run
// whose Krylov space becomes invariant stops there: its quadrature is
// then exact.
func SLQ(ctx context.Context, op Operator, opts *DensityOptions) (*Spectrum, error) {
	n, err := checkDim(op, 1, "slq")
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &DensityOptions{}
	}
	runs, steps := orDefault(opts.Runs, 1), min(orDefault(opts.Steps, 100), n)
	rng := newRand(opts.Seed)
	sp := &Spectrum{Dim: n}
	for r := range runs {
		start := make([]float64, n)
		rademacherTo(start, rng)
		d, err := lanczos(ctx, op, fmt.Sprintf("slq run %d", r+1), start, nil, steps, nil)
		sp.Applies += d.Applies
		if err != nil {
			return sp, err
		}
		m := len(d.Alpha)
		nodes, s := tridiagEigen(d.Alpha, d.Beta[:m-1])
		weights := make([]float64, m)
		for i := range m {
			weights[i] = s[i] * s[i]
		}
		sp.Nodes = append(sp.Nodes, nodes)
		sp.Weights = append(sp.Weights, weights)
	}
	return sp, nil
}

// Mean returns (1/R) Σ_r Σ_i w_{r,i}·f(θ_{r,i}), the estimate of
// tr f(A)/n.
func (sp *Spectrum) Mean(f func(float64) float64) float64 {
	var s float64
	for r, nodes := range sp.Nodes {
		for i, x := range nodes {
			s += sp.Weights[r][i] * f(x)
		}
	}
	return s / float64(len(sp.Nodes))
}

// GridOptions sets how [Spectrum.Density] draws the density. If a
// *GridOptions is nil, its zero value is used; the defaults are those of
// PyHessian's density_generate.
type GridOptions struct {
	// Bins is the number of grid points. Zero means 10000.
	Bins int
	// SigmaSquared sets the variance of the Gaussians,
	// SigmaSquared·max(1, λ_hi − λ_lo). Zero means 1e-5.
	SigmaSquared float64
	// Overhead widens the grid beyond the mean extreme nodes on both
	// sides. Zero means 0.01.
	Overhead float64
}

// Density returns the spectral density broadened by Gaussians on a grid,
// as PyHessian's density_generate: the grid runs evenly, both ends
// included, from λ_lo = mean_r min_i θ_{r,i} − Overhead to λ_hi = mean_r
// max_i θ_{r,i} + Overhead; at each grid point x
//
//	ρ(x) = (1/R) Σ_r Σ_i w_{r,i}·exp(−(x−θ_{r,i})²/(2σ²))/√(2πσ²),
//
// with σ² = SigmaSquared·max(1, λ_hi − λ_lo), and ρ is then divided by
// Σ_j ρ(x_j)·Δx so that its Riemann sum over the grid is 1.
func (sp *Spectrum) Density(opts *GridOptions) (x, rho []float64) {
	if opts == nil {
		opts = &GridOptions{}
	}
	bins := orDefault(opts.Bins, 10000)
	if bins == 1 {
		bins = 2 // a grid has both ends
	}
	s2, over := orDefault(opts.SigmaSquared, 1e-5), orDefault(opts.Overhead, 0.01)
	runs := float64(len(sp.Nodes))
	var lo, hi float64
	for _, nodes := range sp.Nodes {
		lo += nodes[0] / runs // the nodes are ascending
		hi += nodes[len(nodes)-1] / runs
	}
	lo, hi = lo-over, hi+over
	variance := s2 * max(1, hi-lo)
	x = make([]float64, bins)
	rho = make([]float64, bins)
	step := (hi - lo) / float64(bins-1)
	c := 1 / math.Sqrt(2*math.Pi*variance)
	var total float64
	for j := range x {
		x[j] = lo + float64(j)*step
		rho[j] = sp.Mean(func(t float64) float64 {
			return c * math.Exp(-(x[j]-t)*(x[j]-t)/(2*variance))
		})
		total += rho[j] * step
	}
	for j := range rho {
		rho[j] /= total
	}
	return x, rho
}
