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

// sgemmTFunc computes C = op(A)·op(B) + beta·C for row-major matrices,
// op transposing where tA or tB is set: op(A) is m×k, op(B) k×n, C m×n.
// Single-threaded, as sgemmFunc.
type sgemmTFunc func(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// loadSgemmT returns the transposing SGEMM for a choice of Options.BLAS
// (see loadSgemm) and its name.
func loadSgemmT(choice string) (sgemmTFunc, string) {
	_, name := loadSgemm(choice)
	if name == gonumName {
		return gonumSgemmT, name
	}
	return openBLASSgemmT, name
}

func gonumSgemmT(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gonum.Implementation{}.Sgemm(blasTrans(tA), blasTrans(tB), m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}

func blasTrans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}
