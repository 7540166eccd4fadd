package cpu

import "math"

// The differentiator's element-wise passes over activations. Each runs
// its vector loop (diff_vector_amd64.s) over whole vectors, and the loop
// here over the rest, or over everything where there is no vector code;
// the two round alike (a multiply, then an add), so the bits do not
// depend on the machine.

// affineTo sets dst = x·a + b, or with relu max(x·a + b, 0): a batch
// norm and the ReLU after it in one pass.
func affineTo(dst, x []float32, a, b float32, relu bool) {
	x = x[:len(dst)]
	j := affineVec(dst, x, a, b, relu)
	if relu {
		for ; j < len(dst); j++ {
			dst[j] = max(x[j]*a+b, 0)
		}
		return
	}
	for ; j < len(dst); j++ {
		dst[j] = x[j]*a + b
	}
}

// bnTangentTo sets dst = (rx·scale + (x − m)·k) + b.
func bnTangentTo(dst, rx, x []float32, scale, m, k, b float32) {
	rx, x = rx[:len(dst)], x[:len(dst)]
	for j := bnTangentVec(dst, rx, x, scale, m, k, b); j < len(dst); j++ {
		dst[j] = rx[j]*scale + (x[j]-m)*k + b
	}
}

// axpyTo adds x·a to dst.
func axpyTo(dst, x []float32, a float32) {
	x = x[:len(dst)]
	for j := axpyVec(dst, x, a); j < len(dst); j++ {
		dst[j] += x[j] * a
	}
}

// axpy2To adds x·a + y·b to dst.
func axpy2To(dst, x, y []float32, a, b float32) {
	x, y = x[:len(dst)], y[:len(dst)]
	for j := axpy2Vec(dst, x, y, a, b); j < len(dst); j++ {
		dst[j] += x[j]*a + y[j]*b
	}
}

// sumInto sets dst = a + b.
func sumInto(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for j := sumVec(dst, a, b); j < len(dst); j++ {
		dst[j] = a[j] + b[j]
	}
}

// addInto adds src to dst.
func addInto(dst, src []float32) { sumInto(dst[:len(src)], dst, src) }

// reluForward: y = max(x, 0), Ry = Rx where y ≠ 0 (ry nil: no tangent).
// NaN stays NaN. The loops have no branches: the signs of activations are
// a coin toss the branch predictor would lose, five times slower.
func reluForward(y, x, ry, rx []float32) {
	x = x[:len(y)]
	for j := reluVec(y, x); j < len(y); j++ {
		y[j] = max(x[j], 0)
	}
	if ry != nil {
		masked(ry, rx, y, false)
	}
}

// reluBackward: gx += gy where y ≠ 0 (y > 0 or NaN), and Rgx += Rgy
// there; with set, gx = gy there and 0 elsewhere (Rgx likewise).
func reluBackward(gx, gy, y, rgx, rgy []float32, set bool) {
	masked(gx, gy, y, !set)
	if rgx != nil {
		masked(rgx, rgy, y, !set)
	}
}

// masked sets dst = src (adds src to dst, with add) where the ReLU output
// y is not +0, and dst = +0 (adds nothing) where it is.
func masked(dst, src, y []float32, add bool) {
	src, y = src[:len(dst)], y[:len(dst)]
	j := maskedVec(dst, src, y, add)
	if add {
		for ; j < len(dst); j++ {
			dst[j] += math.Float32frombits(math.Float32bits(src[j]) & nonZero(y[j]))
		}
		return
	}
	for ; j < len(dst); j++ {
		dst[j] = math.Float32frombits(math.Float32bits(src[j]) & nonZero(y[j]))
	}
}

// centredDot64 returns Σ a[j]·(x[j] − m) (+ g[j]·r[j] where g is not
// nil), each term in float32, and Σ a[j], summed in float64: over whole
// groups of eight in eight running sums (term j in sum j mod 8; one sum's
// additions wait on each other, eight overlap), then the rest in order.
func centredDot64(a, x []float32, m float32, g, r []float32) (dot, sum float64) {
	x = x[:len(a)]
	if g != nil {
		g, r = g[:len(a)], r[:len(a)]
	}
	var s [16]float64 // the running sums of the terms, then of a
	j := centredDotVec(a, x, m, g, r, &s)
	term := func(j int) float32 {
		t := a[j] * (x[j] - m)
		if g != nil {
			t += g[j] * r[j]
		}
		return t
	}
	for ; j+8 <= len(a); j += 8 {
		for l := range 8 {
			s[l] += float64(term(j + l))
			s[8+l] += float64(a[j+l])
		}
	}
	dot = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))
	sum = ((s[8] + s[12]) + (s[9] + s[13])) + ((s[10] + s[14]) + (s[11] + s[15]))
	for ; j < len(a); j++ {
		dot += float64(term(j))
		sum += float64(a[j])
	}
	return dot, sum
}

// The passes of batch norm in training mode compute in float64, as
// PyTorch's CPU kernels do; their sums run as centredDot64's.

// moments64 returns Σ x[j], or with centred Σ (x[j] − mean)², in float64.
func moments64(x []float32, mean float64, centred bool) float64 {
	var s [8]float64
	j := moments64Vec(x, mean, centred, &s)
	term := func(a float32) float64 {
		if centred {
			d := float64(a) - mean
			return d * d
		}
		return float64(a)
	}
	for ; j+8 <= len(x); j += 8 {
		for l := range 8 {
			s[l] += term(x[j+l])
		}
	}
	sum := ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))
	for ; j < len(x); j++ {
		sum += term(x[j])
	}
	return sum
}

// bnTrainSums returns Σ gy[j] and Σ gy[j]·(x[j] − mean), in float64.
func bnTrainSums(gy, x []float32, mean float64) (sum, dot float64) {
	x = x[:len(gy)]
	var s [16]float64 // the running sums of gy, then of the products
	j := bnTrainSumsVec(gy, x, mean, &s)
	for ; j+8 <= len(gy); j += 8 {
		for l := range 8 {
			a := float64(gy[j+l])
			s[l] += a
			s[8+l] += a * (float64(x[j+l]) - mean)
		}
	}
	sum = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))
	dot = ((s[8] + s[12]) + (s[9] + s[13])) + ((s[10] + s[14]) + (s[11] + s[15]))
	for ; j < len(gy); j++ {
		a := float64(gy[j])
		sum += a
		dot += a * (float64(x[j]) - mean)
	}
	return sum, dot
}

// bnTrainGrad adds float32(((gy − meanDy) − (x − mean)·k)·scale), computed
// in float64, to gx, or sets gx to it with set.
func bnTrainGrad(gx, gy, x []float32, meanDy, mean, k, scale float64, set bool) {
	gy, x = gy[:len(gx)], x[:len(gx)]
	c := [4]float64{meanDy, mean, k, scale}
	for j := bnTrainGradVec(gx, gy, x, &c, set); j < len(gx); j++ {
		v := float32((float64(gy[j]) - meanDy - (float64(x[j])-mean)*k) * scale)
		if set {
			gx[j] = v
		} else {
			gx[j] += v
		}
	}
}
