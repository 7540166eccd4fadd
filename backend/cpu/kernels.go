package cpu

import (
	"fmt"
	"math"

	"github.com/landscape-go/landscape/nets"
)

// Values are stored channel-major across the batch, [C][N][H][W] (CNHW):
// a convolution is then one GEMM, W[O × I·K·K] · col[I·K·K × N·OH·OW], whose
// result is already the CNHW output, batch norm and bias act on contiguous
// rows, and concatenation along channels is a copy of whole blocks.

// im2colRows fills col with the im2col matrix of input x (CNHW, c channels,
// n samples of h×w) for output rows r0 ≤ r < r1 of the flattened (n, oh)
// index, each row holding ow columns: col[(ci·k+kh)·k+kw][(r-r0)·ow+ox].
func im2colRows(col, x []float32, c, n, h, w, k, stride, pad, oh, ow, r0, r1 int) {
	if stride == 1 && oh == h && ow == w {
		im2colSame(col, x, c, n, h, w, k, pad, r0, r1)
		return
	}
	cols := (r1 - r0) * ow
	for ci := range c {
		for kh := range k {
			for kw := range k {
				dst := col[((ci*k+kh)*k+kw)*cols:][:cols]
				for r := r0; r < r1; r++ {
					s, oy := r/oh, r%oh
					row := dst[(r-r0)*ow:][:ow]
					iy := oy*stride - pad + kh
					if iy < 0 || iy >= h {
						clear(row)
						continue
					}
					src := x[((ci*n+s)*h+iy)*w:][:w]
					if stride == 1 {
						// ix = ox - pad + kw: a shifted copy with zero edges.
						lo := max(0, pad-kw)
						hi := min(ow, w+pad-kw)
						clear(row[:lo])
						if hi > lo {
							copy(row[lo:hi], src[lo-pad+kw:hi-pad+kw])
						} else {
							hi = lo
						}
						clear(row[hi:])
						continue
					}
					for ox := range ow {
						ix := ox*stride - pad + kw
						if ix < 0 || ix >= w {
							row[ox] = 0
						} else {
							row[ox] = src[ix]
						}
					}
				}
			}
		}
	}
}

// im2colSame is im2colRows for the common stride-1 "same" convolution,
// where output and input planes have the same size. Rows (sample, y) are
// then consecutive in both the input and the im2col matrix, so each
// (channel, kh, kw) row of col is one shifted copy of the input channel,
// after which the entries that fell outside a sample's plane (its first or
// last rows, its left or right columns) are zeroed.
func im2colSame(col, x []float32, c, n, h, w, k, pad, r0, r1 int) {
	cols := (r1 - r0) * w
	plane := n * h * w // one channel of the whole batch
	for ci := range c {
		src := x[ci*plane:][:plane]
		for kh := range k {
			dy := kh - pad
			for kw := range k {
				dx := kw - pad
				dst := col[((ci*k+kh)*k+kw)*cols:][:cols]
				// dst[j] = src[r0*w + j + dy*w + dx], zero where out of range.
				off := r0*w + dy*w + dx
				lo := min(max(0, -off), cols)
				hi := max(min(cols, plane-off), lo)
				clear(dst[:lo])
				if hi > lo {
					copy(dst[lo:hi], src[off+lo:off+hi])
				}
				clear(dst[hi:])
				// Rows whose source row y+dy leaves the sample's plane.
				if dy != 0 {
					for r := r0; r < r1; r++ {
						if y := r%h + dy; y < 0 || y >= h {
							clear(dst[(r-r0)*w:][:w])
						}
					}
				}
				// Columns whose source column x+dx leaves the row.
				switch e := min(abs(dx), w); {
				case dx < 0:
					for r := range r1 - r0 {
						clear(dst[r*w:][:e])
					}
				case dx > 0:
					for r := range r1 - r0 {
						clear(dst[r*w+w-e:][:e])
					}
				}
			}
		}
	}
}

func abs(a int) int {
	if a < 0 {
		return -a
	}
	return a
}

// clamp is the bounds of a ReLU, [0, +Inf], or of a Clip.
type clamp struct{ lo, hi float32 }

var relu = clamp{0, float32(math.Inf(1))}

// epilogue applies, in place to each of the c rows of x (each rowLen long),
// the conv or linear bias, then the batch norm's y = x·scale + shift, then
// a ReLU or Clip, in one pass; nil slices and a nil clamp skip a stage.
// NaN passes the clamp, as in PyTorch.
func epilogue(x []float32, c, rowLen int, bias, scale, shift []float32, cl *clamp) {
	if bias == nil && scale == nil && cl == nil {
		return
	}
	for ch := range c {
		a, b := float32(1), float32(0)
		if bias != nil {
			b = bias[ch]
		}
		if scale != nil {
			a, b = scale[ch], b*scale[ch]+shift[ch]
		}
		row := x[ch*rowLen:][:rowLen]
		switch {
		case cl == &relu && a == 1 && b == 0:
			for i, v := range row {
				row[i] = max(v, 0)
			}
		case cl == &relu:
			for i, v := range row {
				row[i] = max(v*a+b, 0)
			}
		case cl != nil:
			lo, hi := cl.lo, cl.hi
			for i, v := range row {
				row[i] = min(max(v*a+b, lo), hi)
			}
		default:
			for i, v := range row {
				row[i] = v*a + b
			}
		}
	}
}

// bnScaleShift computes eval-mode batch norm as a per-channel scale and
// shift, the way PyTorch's CPU inference kernel does in float32:
// scale = weight / sqrt(var + eps), shift = bias − mean·scale.
func bnScaleShift(scale, shift, weight, bias, mean, variance []float32, eps float32) {
	for i := range scale {
		invstd := 1 / float32(math.Sqrt(float64(variance[i]+eps)))
		scale[i] = weight[i] * invstd
		shift[i] = bias[i] - mean[i]*scale[i]
	}
}

// addTo sets dst = a + b.
func addTo(dst, a, b []float32) {
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

// maxPool pools each of the planes (c·n of them, h×w) of x into oh×ow
// planes of dst; windows that reach past the input (padding, ceil mode)
// cover only its valid part.
func maxPool(dst, x []float32, planes, h, w, k, stride, pad, oh, ow int) {
	for p := range planes {
		src := x[p*h*w:][:h*w]
		out := dst[p*oh*ow:][:oh*ow]
		for oy := range oh {
			y0, y1 := window(oy, k, stride, pad, h)
			for ox := range ow {
				x0, x1 := window(ox, k, stride, pad, w)
				m := float32(math.Inf(-1))
				for y := y0; y < y1; y++ {
					for _, v := range src[y*w+x0 : y*w+x1] {
						if v > m || v != v { // NaN propagates, as in PyTorch
							m = v
						}
					}
				}
				out[oy*ow+ox] = m
			}
		}
	}
}

// window returns the valid input rows (or columns) [lo, hi) of the
// pooling window at output position o: kernel k, stride s, padding p,
// input size n.
func window(o, k, s, p, n int) (lo, hi int) {
	lo = o*s - p
	return max(lo, 0), min(lo+k, n)
}

// windowTaps returns the taps [lo, hi) of the window at output position o
// (kernel k, stride s, padding p) that fall inside an input of size n.
func windowTaps(o, k, s, p, n int) (lo, hi int) {
	start := o*s - p
	lo, hi = window(o, k, s, p, n)
	return lo - start, hi - start
}

// avgPool averages k×k windows (floor mode, no padding, so every window
// is whole) of each plane.
func avgPool(dst, x []float32, planes, h, w, k, stride, oh, ow int) {
	inv := 1 / float32(k*k)
	for p := range planes {
		src := x[p*h*w:][:h*w]
		out := dst[p*oh*ow:][:oh*ow]
		for oy := range oh {
			for ox := range ow {
				var s float32
				for y := oy * stride; y < oy*stride+k; y++ {
					for _, v := range src[y*w+ox*stride : y*w+ox*stride+k] {
						s += v
					}
				}
				out[oy*ow+ox] = s * inv
			}
		}
	}
}

// globalAvgPool averages each plane of hw values.
func globalAvgPool(dst, x []float32, planes, hw int) {
	for p := range planes {
		var s float32
		for _, v := range x[p*hw:][:hw] {
			s += v
		}
		dst[p] = s / float32(hw)
	}
}

// crossEntropy returns the summed cross-entropy and the number of correct
// argmax predictions of the logits (classes × n, CNHW with H=W=1) for
// labels y. Sums are in float64.
func crossEntropy(logits []float32, classes, n int, y []int32) (loss float64, correct int) {
	for s := range n {
		m := math.Inf(-1)
		best := 0
		for c := range classes {
			v := float64(logits[c*n+s])
			if v > m || (v != v && m == m) {
				m, best = v, c
			}
		}
		var sum float64
		for c := range classes {
			sum += math.Exp(float64(logits[c*n+s]) - m)
		}
		loss += m + math.Log(sum) - float64(logits[int(y[s])*n+s])
		if best == int(y[s]) {
			correct++
		}
	}
	return loss, correct
}

// activate sets dst to o's element-wise function of x: Clip, Sigmoid,
// HardSigmoid or HardSwish, each rounded as PyTorch's CPU kernels round
// it (the sigmoid correctly rounded, from float64). NaN stays NaN.
func activate(dst, x []float32, o *nets.Op) {
	switch o.Kind {
	case nets.Clip:
		clampScalar(dst, x, o.Lo, o.Hi)
	case nets.Sigmoid:
		sigmoidScalar(dst, x, false)
	case nets.HardSigmoid:
		for i, v := range x {
			dst[i] = min(max(v+3, 0), 6) / 6
		}
	case nets.HardSwish:
		for i, v := range x {
			dst[i] = v * min(max(v+3, 0), 6) / 6
		}
	default:
		panic(fmt.Sprintf("cpu: %v is not an activation", o.Kind))
	}
}

// clampScalar sets dst = min(max(src, lo), hi), NaN staying NaN, a value
// at a time (clampTo's tail, or all of it where there is no vector code).
func clampScalar(dst, src []float32, lo, hi float32) {
	for i, v := range src[:len(dst)] {
		dst[i] = min(max(v, lo), hi)
	}
}

// sigmoidScalar sets dst to the sigmoid of src, or with silu to src times
// it, a value at a time (sigmoidTo's tail, or all of it where there is no
// vector code).
func sigmoidScalar(dst, src []float32, silu bool) {
	for i, v := range src[:len(dst)] {
		dst[i] = sigmoid(v)
		if silu {
			dst[i] *= v
		}
	}
}

// sigmoid is correctly rounded, and 0 for v ≤ -87 (below 1.7e-38, near
// the smallest normal float): denormal values would slow every later
// operation on them many times, and the vectorised sigmoid flushes them
// too.
func sigmoid(v float32) float32 {
	if v <= -87 {
		return 0
	}
	return float32(1 / (1 + math.Exp(-float64(v))))
}

// mulTo sets dst = a·b, where b holds one value per run of `each`
// consecutive values of a (each = 1: the same shape; the pixels of a plane:
// a per-channel scale).
func mulTo(dst, a, b []float32, each int) {
	if each == 1 {
		for i := range dst {
			dst[i] = a[i] * b[i]
		}
		return
	}
	for p, s := range b {
		row := a[p*each:][:each]
		out := dst[p*each:][:each]
		for i, v := range row {
			out[i] = v * s
		}
	}
}

// depthwise computes a depthwise convolution (one input and one output
// channel per group) of planes h×w into oh×ow planes: plane p uses the
// k×k filter of channel p/n (planes are channel-major, n per channel).
// Each output is summed over its taps in filter order, the ones outside
// the input skipped, in a register: pixels whose window lies inside the
// input take every tap at fixed offsets, the others check each.
func depthwise(dst, x, weight []float32, planes, h, w, k, stride, pad, oh, ow, n int) {
	offs := make([]int, k*k)
	for ky := range k {
		for kx := range k {
			offs[ky*k+kx] = ky*w + kx
		}
	}
	// Output columns [x0, x1) have windows inside the input's columns.
	x0 := min(ow, (pad+stride-1)/stride)
	x1 := x0
	if last := w - k + pad; last >= 0 {
		x1 = max(x0, min(ow, last/stride+1))
	}
	for p := range planes {
		f := weight[(p/n)*k*k:][:k*k]
		src := x[p*h*w:][:h*w]
		out := dst[p*oh*ow:][:oh*ow]
		for oy := range oh {
			iy := oy*stride - pad
			orow := out[oy*ow:][:ow]
			if iy < 0 || iy+k > h {
				depthwiseEdge(orow, src, f, 0, ow, iy, h, w, k, stride, pad)
				continue
			}
			depthwiseEdge(orow, src, f, 0, x0, iy, h, w, k, stride, pad)
			if k == 3 {
				f0, f1, f2, f3, f4, f5, f6, f7, f8 := f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8]
				r0, r1, r2 := src[iy*w:][:w], src[(iy+1)*w:][:w], src[(iy+2)*w:][:w]
				for ox := x0; ox < x1; ox++ {
					ix := ox*stride - pad
					a, b, c := r0[ix:ix+3], r1[ix:ix+3], r2[ix:ix+3]
					var s float32
					s += f0 * a[0]
					s += f1 * a[1]
					s += f2 * a[2]
					s += f3 * b[0]
					s += f4 * b[1]
					s += f5 * b[2]
					s += f6 * c[0]
					s += f7 * c[1]
					s += f8 * c[2]
					orow[ox] = s
				}
			} else {
				for ox := x0; ox < x1; ox++ {
					win := src[iy*w+ox*stride-pad:]
					var s float32
					for t, off := range offs {
						s += f[t] * win[off]
					}
					orow[ox] = s
				}
			}
			depthwiseEdge(orow, src, f, x1, ow, iy, h, w, k, stride, pad)
		}
	}
}

// depthwiseEdge computes output columns [lo, hi) of the output row whose
// window starts at input row iy, skipping taps outside the input.
func depthwiseEdge(orow, src, f []float32, lo, hi, iy, h, w, k, stride, pad int) {
	ky0, ky1 := max(0, -iy), min(k, h-iy)
	for ox := lo; ox < hi; ox++ {
		ix := ox*stride - pad
		kx0, kx1 := max(0, -ix), min(k, w-ix)
		var s float32
		for ky := ky0; ky < ky1; ky++ {
			row, fr := src[(iy+ky)*w:][:w], f[ky*k:][:k]
			for kx := kx0; kx < kx1; kx++ {
				s += fr[kx] * row[ix+kx]
			}
		}
		orow[ox] = s
	}
}

// sourceChannel is the input channel that output channel j of a
// ChannelShuffle or Slice copies.
func sourceChannel(o *nets.Op, j int) int {
	if o.Kind == nets.Slice {
		return o.From + j
	}
	g := o.Groups
	return j%g*(o.C/g) + j/g
}
