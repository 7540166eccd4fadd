// Package curvature turns a Hessian-vector product into curvature
// figures: extreme eigenvalues and their eigenvectors, the trace, and the
// spectral density of the Hessian of a network's loss, as the reference
// code of Li et al. (2018) (plot_hessian_eigen.py, for its |λmin/λmax|
// maps) and PyHessian (Yao et al. 2020) compute them.
//
// # Overview
//
// Every method sees the Hessian only through an [Operator], a symmetric
// linear map given by its product with a vector, and needs no backend:
// the CPU engine's Hessian-vector product, a dense matrix ([Func] wraps a
// function) or a float32 product through [FromFloat32].
//
//   - [Extremes] returns λmin and λmax, and so the ratio |λmin/λmax|, from
//     one Lanczos run.
//   - [Eigs] returns the k eigenpairs at one end of the spectrum
//     ([Largest], [Smallest], [LargestMagnitude]), repeated eigenvalues
//     included.
//   - [PowerIteration] computes PyHessian's top-k eigenvalues by its own
//     method, for parity with its numbers.
//   - [Trace] estimates tr(A) by Hutchinson's method, with a standard
//     error.
//   - [SLQ] computes the spectral density by stochastic Lanczos
//     quadrature; [Spectrum.Density] draws it on a grid as PyHessian's
//     density_generate does.
//   - [Lanczos] exposes the underlying decomposition.
//
// Each result counts its products with the operator (Applies), the cost
// that matters when a product is a forward and backward pass over the
// data. Each method draws its random vectors from a PCG generator seeded
// by its options' Seed, so one seed gives one result; a context cancels
// between products, and is passed to the operator for cancelling within
// one.
//
// # Precision
//
// Vectors are float64. A network's Hessian-vector products come in
// float32, but what this package does with them is reductions: dot
// products over millions of weights, norms, Gram–Schmidt against up to a
// hundred basis vectors, the eigenproblem of T. In float32 the basis would
// lose orthogonality at about 1e-7·√n and the eigenvalues a digit or two
// of what the product itself carries. [FromFloat32] converts at the
// boundary, one O(n) pass per product, which is nothing beside the
// product. The price is memory: a Lanczos basis of m vectors costs 8·m·n
// bytes, 680 MB for 100 steps on ResNet-56's 0.85 M weights.
//
// # Lanczos
//
// From a unit start vector q₁, the Lanczos iteration builds an
// orthonormal basis Q of the Krylov space span{q₁, Aq₁, …, A^(m−1)q₁} in
// which A is tridiagonal,
//
//	w = A·q_j − α_j·q_j − β_{j−1}·q_{j−1},  α_j = q_jᵀA·q_j,
//	β_j = ‖w‖,  q_{j+1} = w/β_j,  T = QᵀAQ = tridiag(β, α, β),
//
// and the eigenpairs (θ, s) of T give Ritz pairs (θ, Qs) whose residual
// ‖A·Qs − θ·Qs‖ = β_m·|e_mᵀs| costs no product. The extreme Ritz values
// converge first, at a rate set by the gap to the next eigenvalue relative
// to the width of the spectrum.
//
// In floating point the three-term recurrence loses orthogonality as
// soon as a Ritz value converges, and copies ("ghosts") of it appear. This
// package reorthogonalises every new vector against the whole basis by
// classical Gram–Schmidt done twice ("twice is enough", Giraud et al.
// 2005): as accurate as modified Gram–Schmidt with reorthogonalisation,
// while each pass is two matrix–vector products with the basis rather
// than a sequence of dependent updates, which is what a GPU or a blocked
// kernel wants. Its cost, 4·m·n flops at step m, is small beside a
// Hessian-vector product for the step counts used here.
//
// A pair is accepted when ‖Av − θv‖ ≤ Tol·‖A‖, with ‖A‖ estimated by the
// largest |θ|; the eigenvalue's error is then at most that, and about its
// square over the gap. A run stops when the wanted pairs are accepted,
// when the Krylov space becomes invariant (its Ritz pairs are then exact),
// or at Options.MaxIter steps.
//
// A Krylov space from one start vector holds one copy of each repeated
// eigenvalue. [Eigs] therefore locks the accepted pairs and starts
// another run in their orthogonal complement, until a run finds nothing
// that belongs among the k; for k = 1 one run suffices, since the value,
// if not the vector, of λmax does not depend on its multiplicity.
//
// # Why Lanczos
//
// The reference code calls scipy's eigsh, an implicitly restarted
// Lanczos method (ARPACK), and needs two calls and a shift for λmin and
// λmax. PyHessian uses power iteration with deflation. Power iteration
// converges at the rate |λ₂/λ₁| per product, slowly when the top of a
// Hessian's spectrum is clustered, as it usually is, and finds only the
// eigenvalues of largest magnitude, so the smallest one needs a shift
// whose size must be guessed. Lanczos takes the optimal polynomial in the
// same Krylov space that power iteration explores: for a relative gap γ
// it converges like exp(−2m√γ) where power iteration goes like exp(−mγ)
// (Kaniel–Paige–Saad), so it needs about √ of the products when the gap
// is small, and it gives both ends of the spectrum at once. [PowerIteration] is here to reproduce
// PyHessian's numbers, with its defaults (100 products, relative change
// 1e-3 of the Rayleigh quotient).
//
// # Trace
//
// For z with independent Rademacher entries (±1, equally likely),
// E[zᵀAz] = tr(A) and Var[zᵀAz] = 2·Σ_{i≠j} A_ij², the least variance of
// any such distribution (Hutchinson 1990). [Trace] averages the samples,
// reports the standard error s/√N, and stops when it falls below a
// relative tolerance or at a sample cap.
//
// # Spectral density
//
// A run of Lanczos from a unit vector v gives the m-point Gauss quadrature
// of the measure Σ_j (vᵀu_j)²·δ(λ − λ_j): nodes θ_i, the eigenvalues of
// T, and weights w_i = (e₁ᵀs_i)². For a normalised Rademacher v its
// expectation is the spectral density (1/n)·Σ_j δ(λ − λ_j), so the mean
// over R runs estimates it and tr f(A)/n ≈ (1/R)·Σ_r Σ_i w_{r,i}·f(θ_{r,i})
// (Lin, Saad and Yang 2016; Ghorbani, Krishnan and Xiao 2019). PyHessian
// draws it by putting a Gaussian of variance σ² = 1e-5·max(1, width) at
// each node, on a grid of 10000 points, normalised to unit Riemann sum;
// [Spectrum.Density] does the same, with the same defaults.
package curvature
