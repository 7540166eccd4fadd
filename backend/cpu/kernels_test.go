package cpu

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// naiveIm2col is the definition of the im2col matrix, element by element.
func naiveIm2col(x []float32, c, n, h, w, k, stride, pad, oh, ow, r0, r1 int) []float32 {
	cols := (r1 - r0) * ow
	col := make([]float32, c*k*k*cols)
	for ci := range c {
		for kh := range k {
			for kw := range k {
				for r := r0; r < r1; r++ {
					s, oy := r/oh, r%oh
					for ox := range ow {
						iy, ix := oy*stride-pad+kh, ox*stride-pad+kw
						var v float32
						if iy >= 0 && iy < h && ix >= 0 && ix < w {
							v = x[((ci*n+s)*h+iy)*w+ix]
						}
						col[((ci*k+kh)*k+kw)*cols+(r-r0)*ow+ox] = v
					}
				}
			}
		}
	}
	return col
}

func TestIm2colMatchesDefinition(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tc := range []struct{ c, n, h, w, k, stride, pad int }{
		{3, 2, 5, 4, 3, 1, 1}, {2, 3, 7, 7, 3, 2, 1}, {4, 2, 6, 6, 1, 2, 0}, {1, 1, 1, 1, 3, 1, 1}, {2, 2, 4, 3, 3, 1, 0}, {1, 2, 6, 5, 5, 1, 2},
	} {
		oh, ow := (tc.h+2*tc.pad-tc.k)/tc.stride+1, (tc.w+2*tc.pad-tc.k)/tc.stride+1
		x := make([]float32, tc.c*tc.n*tc.h*tc.w)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		rows := tc.n * oh
		for _, chunk := range [][2]int{{0, rows}, {1, rows - 1}, {rows / 2, rows}} {
			if chunk[1] <= chunk[0] {
				continue
			}
			want := naiveIm2col(x, tc.c, tc.n, tc.h, tc.w, tc.k, tc.stride, tc.pad, oh, ow, chunk[0], chunk[1])
			got := make([]float32, len(want))
			for i := range got {
				got[i] = 99 // stale contents must be overwritten
			}
			im2colRows(got, x, tc.c, tc.n, tc.h, tc.w, tc.k, tc.stride, tc.pad, oh, ow, chunk[0], chunk[1])
			if !slices.Equal(got, want) {
				t.Errorf("%+v rows %v: im2col differs from its definition", tc, chunk)
			}
		}
	}
}

// The depthwise convolution is its definition, to the bit (each output
// summed over its taps in filter order), for every kernel size, stride
// and padding PyTorch allows, on maps down to 1x1, stale output overwritten.
func TestDepthwiseMatchesDefinition(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(2, 3))
	for k := 1; k <= 5; k++ {
		for stride := 1; stride <= 3; stride++ {
			for pad := 0; 2*pad <= k; pad++ {
				for _, hw := range [][2]int{{1, 1}, {2, 3}, {5, 4}, {9, 7}} {
					h, w := hw[0], hw[1]
					oh, ow := (h+2*pad-k)/stride+1, (w+2*pad-k)/stride+1
					if h+2*pad < k || w+2*pad < k {
						continue
					}
					const c, n = 3, 2
					x := make([]float32, c*n*h*w)
					f := make([]float32, c*k*k)
					for i := range x {
						x[i] = float32(rng.NormFloat64())
					}
					for i := range f {
						f[i] = float32(rng.NormFloat64())
					}
					want := make([]float32, c*n*oh*ow)
					for p := range c * n {
						for oy := range oh {
							for ox := range ow {
								var s float32
								for ky := range k {
									for kx := range k {
										iy, ix := oy*stride-pad+ky, ox*stride-pad+kx
										if iy >= 0 && iy < h && ix >= 0 && ix < w {
											s += f[(p/n)*k*k+ky*k+kx] * x[(p*h+iy)*w+ix]
										}
									}
								}
								want[(p*oh+oy)*ow+ox] = s
							}
						}
					}
					got := make([]float32, len(want))
					for i := range got {
						got[i] = 99
					}
					depthwise(got, x, f, c*n, h, w, k, stride, pad, oh, ow, n)
					if !slices.Equal(got, want) {
						t.Errorf("k %d, stride %d, pad %d, %dx%d: differs from the definition", k, stride, pad, h, w)
					}
				}
			}
		}
	}
}

// clampTo is min(max(v, lo), hi) with NaN staying NaN, in its vector body
// and its tail alike.
func TestClampKeepsNaN(t *testing.T) {
	t.Parallel()
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	src := []float32{-7, -0.5, 0, 0.5, 5.99, 6, 6.01, nan, inf, -inf, 3, nan, -1e30, 1e30, 2, 1, nan, -2, 7}
	dst := make([]float32, len(src))
	clampTo(dst, src, 0, 6)
	for i, v := range src {
		want := v
		if v < 0 {
			want = 0
		} else if v > 6 {
			want = 6
		}
		if got := dst[i]; !(got == want || got != got && v != v) {
			t.Errorf("clamp(%g) to [0, 6] = %g, want %g", v, got, want)
		}
	}
}

// The vectorised sigmoid of the micro-kernel engine is within 2 units in
// the last place of the correctly rounded sigmoid, flushes it to 0 from
// -87 down (where it nears the denormal floats), saturates to 1, and
// keeps NaN.
func TestSigmoidIsAccurate(t *testing.T) {
	t.Parallel()
	var src []float32
	for x := -88.0; x <= 100; x += 0.0137 {
		src = append(src, float32(x))
	}
	nan := float32(math.NaN())
	src = append(src, 0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 1e30, float32(math.Inf(1)), nan, float32(math.Inf(-1)),
		-87.5, -90, -200, -1e30)
	got := make([]float32, len(src))
	sigmoidTo(got, src, false)
	for i, x := range src {
		want := float32(1 / (1 + math.Exp(-float64(x))))
		switch {
		case x != x:
			if got[i] == got[i] {
				t.Errorf("sigmoid(NaN) = %g", got[i])
			}
		case x <= -87:
			if got[i] != 0 {
				t.Errorf("sigmoid(%g) = %g, want it flushed to 0", x, got[i])
			}
		default:
			ulp := math.Abs(float64(math.Nextafter32(want, 2) - want))
			if d := math.Abs(float64(got[i] - want)); d > 2*ulp {
				t.Errorf("sigmoid(%g) = %.9g, want %.9g (%.1f ulp)", x, got[i], want, d/ulp)
			}
		}
	}
}

// The max pool's window maximum is NaN in every channel where a pixel of
// the window holds NaN, whichever pixel it is, and the maximum elsewhere,
// -Inf included; in its vector units and its scalar channels alike.
func TestMaxWindowKeepsNaN(t *testing.T) {
	t.Parallel()
	const c, taps = 40, 3 // two units of 16 and 8 channels one by one
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	in := make([]float32, taps*c)
	rng := rand.New(rand.NewPCG(4, 5))
	for i := range in {
		in[i] = float32(rng.NormFloat64())
	}
	for _, i := range []int{0*c + 1, 1*c + 17, 2*c + 33, 2*c + 3, 0*c + 39} {
		in[i] = nan
	}
	in[1*c+5], in[0*c+6], in[1*c+6], in[2*c+6] = inf, -inf, -inf, -inf
	offs := []int64{0, 4 * c, 8 * c}
	dst := make([]float32, c)
	for i := range dst {
		dst[i] = 99
	}
	units := maxWindowUnits(dst, in, 0, offs, c)
	if fastKernels != nil && units != 32 {
		t.Fatalf("%d channels set, want the 32 of two units", units)
	}
	for ch := range c {
		want, anyNaN := float32(math.Inf(-1)), false
		for tp := range taps {
			v := in[tp*c+ch]
			anyNaN = anyNaN || v != v
			want = max(want, v)
		}
		switch got := dst[ch]; {
		case ch >= units:
			if got != 99 {
				t.Errorf("channel %d, past the units, was set to %g", ch, got)
			}
		case anyNaN && got == got:
			t.Errorf("channel %d: %g, want NaN", ch, got)
		case !anyNaN && got != want:
			t.Errorf("channel %d: %g, want %g", ch, got, want)
		}
	}
}
