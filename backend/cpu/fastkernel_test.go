package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestKernelsMatchDefinition checks the matrix kernels of every
// instruction set this machine has, at every block size, against the
// definition in kernelArgs, with and without bias, residual, ReLU,
// accumulation and batches, on taps that overlap and k that are not
// multiples of 4.
func TestKernelsMatchDefinition(t *testing.T) {
	if kernelSets == nil {
		t.Skip("no micro-kernels on this machine")
	}
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	for _, ks := range kernelSets {
		for v := 1; v < len(ks.gemm); v++ {
			maxR := len(ks.gemm[v]) - 1
			cases := []struct{ rows, k, taps, aStride, batch int }{
				{2*maxR + 3, 16, 9, 16, 1}, {37, 3, 9, 3, 1}, {5, 64, 1, 64, 1}, {maxR + 1, 6, 1, 40, 3},
			}
			for r := 1; r <= maxR; r++ { // every block size on its own
				cases = append(cases, struct{ rows, k, taps, aStride, batch int }{r, 7, 3, 9, 1})
			}
			for _, tc := range cases {
				for _, fl := range []struct{ bias, res, relu, accum bool }{{}, {true, true, true, false}, {false, true, false, true}, {true, false, true, true}} {
					t.Run(fmt.Sprintf("%s/v%d/%+v/%+v", ks.name, v, tc, fl), func(t *testing.T) {
						n := 16 * v
						offs := make([]int64, tc.taps)
						maxOff := 0
						for i := range offs {
							o := rng.IntN(40)
							offs[i] = int64(4 * o)
							maxOff = max(maxOff, o)
						}
						const aBatch = 5 // floats; batches of C follow each other
						cBatch := tc.rows * n
						a := randSlice(rng, tc.rows*tc.aStride+maxOff+tc.k+aBatch*tc.batch)
						b := randSlice(rng, tc.batch*tc.taps*tc.k*n)
						c := randSlice(rng, tc.batch*cBatch)
						bias := randSlice(rng, n)
						res := randSlice(rng, len(c))
						want := make([]float64, len(c))
						for bt := range tc.batch {
							for i := range tc.rows {
								for co := range n {
									o := bt*cBatch + i*n + co
									s := 0.0
									if fl.accum {
										s = float64(c[o])
									}
									for tp := range tc.taps {
										for k := range tc.k {
											s += float64(a[bt*aBatch+i*tc.aStride+int(offs[tp])/4+k]) * float64(b[((bt*tc.taps+tp)*tc.k+k)*n+co])
										}
									}
									if fl.bias {
										s += float64(bias[co])
									}
									if fl.res {
										s += float64(res[o])
									}
									if fl.relu {
										s = max(s, 0)
									}
									want[o] = s
								}
							}
						}
						args := &kernelArgs{a: unsafe.Pointer(&a[0]), k: int64(tc.k), aStride: int64(4 * tc.aStride),
							b: unsafe.Pointer(&b[0]), c: unsafe.Pointer(&c[0]), cStride: int64(4 * n),
							batch: int64(tc.batch), aBatch: 4 * aBatch, cBatch: int64(4 * cBatch)}
						args.setOffs(offs)
						if fl.bias {
							args.bias = unsafe.Pointer(&bias[0])
						}
						if fl.res {
							args.res = unsafe.Pointer(&res[0])
						}
						if fl.relu {
							args.relu = 1
						}
						if fl.accum {
							args.accum = 1
						}
						runRows(ks, args, tc.rows, v)
						for i := range want {
							if math.Abs(float64(c[i])-want[i]) > 1e-4*(1+math.Abs(want[i])) {
								t.Fatalf("batch %d row %d channel %d: %g, want %g", i/cBatch, i%cBatch/n, i%n, c[i], want[i])
							}
						}
					})
				}
			}
		}
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}
