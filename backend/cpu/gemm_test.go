package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSgemmAgreesWithGonum checks the loaded SGEMM (OpenBLAS where
// present) against gonum's on the shapes convolutions use, including
// column blocks of a wider output (ldc > n).
func TestSgemmAgreesWithGonum(t *testing.T) {
	t.Parallel()
	gemm, name := loadSgemm("")
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range []struct{ m, n, k, ldc int }{
		{16, 1568, 27, 1568}, {16, 100, 144, 300}, {10, 4, 64, 4}, {64, 6, 576, 64}, {1, 1, 1, 1}, {32, 37, 16, 40},
	} {
		a := make([]float32, s.m*s.k)
		b := make([]float32, s.k*s.n)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		for i := range b {
			b[i] = float32(rng.NormFloat64())
		}
		want := make([]float32, s.m*s.ldc)
		got := make([]float32, s.m*s.ldc)
		gonumSgemm(s.m, s.n, s.k, a, s.k, b, s.n, 0, want, s.ldc)
		gemm(s.m, s.n, s.k, a, s.k, b, s.n, 0, got, s.ldc)
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-4*math.Sqrt(float64(s.k)) {
				t.Fatalf("%s %+v: C[%d] = %g, gonum %g", name, s, i, got[i], want[i])
			}
		}
	}
}
