//go:build amd64

package cpu

import "golang.org/x/sys/cpu"

// vectorPasses reports whether the differentiator's element-wise passes
// run diff_vector_amd64.s's AVX2 loops.
var vectorPasses = cpu.X86.HasAVX2

//go:noescape
func affineAVX2(dst, x *float32, n int64, a, b float32, relu bool)

//go:noescape
func bnTangentAVX2(dst, rx, x *float32, n int64, scale, m, k, b float32)

//go:noescape
func axpyAVX2(dst, x *float32, n int64, a float32)

//go:noescape
func axpy2AVX2(dst, x, y *float32, n int64, a, b float32)

//go:noescape
func sumAVX2(dst, a, b *float32, n int64)

//go:noescape
func reluAVX2(y, x *float32, n int64)

//go:noescape
func maskedAVX2(dst, src, y *float32, n, add int64)

//go:noescape
func centredDotAVX2(a, x, gs, rs *float32, n int64, m float32, sums *[16]float64)

// The ...Vec functions below do the first values of their pass, a whole
// number of vectors, and return how many; the caller's loop does the
// rest, rounding alike. Their slices are as long as dst (the caller's
// reslicing checks it).

func vecBody(n int) int {
	if !vectorPasses {
		return 0
	}
	return n &^ 7
}

func affineVec(dst, x []float32, a, b float32, relu bool) int {
	n := vecBody(len(dst))
	if n > 0 {
		affineAVX2(&dst[0], &x[0], int64(n), a, b, relu)
	}
	return n
}

func bnTangentVec(dst, rx, x []float32, scale, m, k, b float32) int {
	n := vecBody(len(dst))
	if n > 0 {
		bnTangentAVX2(&dst[0], &rx[0], &x[0], int64(n), scale, m, k, b)
	}
	return n
}

func axpyVec(dst, x []float32, a float32) int {
	n := vecBody(len(dst))
	if n > 0 {
		axpyAVX2(&dst[0], &x[0], int64(n), a)
	}
	return n
}

func axpy2Vec(dst, x, y []float32, a, b float32) int {
	n := vecBody(len(dst))
	if n > 0 {
		axpy2AVX2(&dst[0], &x[0], &y[0], int64(n), a, b)
	}
	return n
}

func sumVec(dst, a, b []float32) int {
	n := vecBody(len(dst))
	if n > 0 {
		sumAVX2(&dst[0], &a[0], &b[0], int64(n))
	}
	return n
}

func reluVec(y, x []float32) int {
	n := vecBody(len(y))
	if n > 0 {
		reluAVX2(&y[0], &x[0], int64(n))
	}
	return n
}

func maskedVec(dst, src, y []float32, add bool) int {
	n := vecBody(len(dst))
	if n > 0 {
		flag := int64(0)
		if add {
			flag = 1
		}
		maskedAVX2(&dst[0], &src[0], &y[0], int64(n), flag)
	}
	return n
}

func centredDotVec(a, x []float32, m float32, g, r []float32, sums *[16]float64) int {
	n := vecBody(len(a))
	if n > 0 {
		var gp, rp *float32
		if g != nil {
			gp, rp = &g[0], &r[0]
		}
		centredDotAVX2(&a[0], &x[0], gp, rp, int64(n), m, sums)
	}
	return n
}

//go:noescape
func moments64AVX2(x *float32, n int64, mean float64, sums *[8]float64, centred int64)

//go:noescape
func bnTrainSumsAVX2(gy, x *float32, n int64, mean float64, sums *[16]float64)

//go:noescape
func bnTrainGradAVX2(gx, gy, x *float32, n int64, c *[4]float64, set bool)

func moments64Vec(x []float32, mean float64, centred bool, sums *[8]float64) int {
	n := vecBody(len(x))
	if n > 0 {
		flag := int64(0)
		if centred {
			flag = 1
		}
		moments64AVX2(&x[0], int64(n), mean, sums, flag)
	}
	return n
}

func bnTrainSumsVec(gy, x []float32, mean float64, sums *[16]float64) int {
	n := vecBody(len(gy))
	if n > 0 {
		bnTrainSumsAVX2(&gy[0], &x[0], int64(n), mean, sums)
	}
	return n
}

func bnTrainGradVec(gx, gy, x []float32, c *[4]float64, set bool) int {
	n := vecBody(len(gx))
	if n > 0 {
		bnTrainGradAVX2(&gx[0], &gy[0], &x[0], int64(n), c, set)
	}
	return n
}
