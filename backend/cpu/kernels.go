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

// epilogue applies, in place to each of the c rows of x (each rowLen long),
// the conv or linear bias, then the batch norm's y = x·scale + shift, then
// a ReLU, in one pass; nil slices and relu=false skip a stage.
func epilogue(x []float32, c, rowLen int, bias, scale, shift []float32, relu bool) {
	if bias == nil && scale == nil && !relu {
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
		case relu && a == 1 && b == 0:
			for i, v := range row {
				row[i] = max(v, 0)
			}
		case relu:
			for i, v := range row {
				row[i] = max(v*a+b, 0)
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
		lo, hi := o.Lo, o.Hi
		for i, v := range x {
			if v < lo {
				v = lo
			} else if v > hi {
				v = hi
			}
			dst[i] = v
		}
	case nets.Sigmoid:
		for i, v := range x {
			dst[i] = sigmoid(v)
		}
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

func sigmoid(v float32) float32 { return float32(1 / (1 + math.Exp(-float64(v)))) }

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
func depthwise(dst, x, weight []float32, planes, h, w, k, stride, pad, oh, ow, n int) {
	for p := range planes {
		f := weight[(p/n)*k*k:][:k*k]
		src := x[p*h*w:][:h*w]
		out := dst[p*oh*ow:][:oh*ow]
		clear(out)
		for ky := range k {
			for oy := range oh {
				iy := oy*stride - pad + ky
				if iy < 0 || iy >= h {
					continue
				}
				row := src[iy*w:][:w]
				orow := out[oy*ow:][:ow]
				for kx := range k {
					c := f[ky*k+kx]
					// ix = ox·stride - pad + kx within [0, w).
					lo, hi := inside(ow, w, stride, pad-kx)
					for ox := lo; ox < hi; ox++ {
						orow[ox] += c * row[ox*stride-pad+kx]
					}
				}
			}
		}
	}
}
