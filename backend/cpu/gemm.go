package cpu

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// sgemmFunc computes C = A·B + beta·C for row-major A (m×k, lda), B (k×n,
// ldb) and C (m×n, ldc), single-threaded: the engine parallelises over
// batches and grid points itself.
type sgemmFunc func(m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// gonumSgemm is the pure-Go fallback.
func gonumSgemm(m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}
