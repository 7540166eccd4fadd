package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/landscape-go/landscape/nets"
)

// eachTerm calls fn with every term of convolution o on inputs ci: the
// weight index w, the output index y and the input index x it joins.
func eachTerm(o *nets.Op, ci [3]int, fn func(w, y, x int)) {
	k := o.Kernel
	for co := range o.C {
		for oy := range o.H {
			for ox := range o.W {
				for c := range ci[0] {
					for ky := range k {
						for kx := range k {
							iy, ix := oy*o.Stride-o.Pad+ky, ox*o.Stride-o.Pad+kx
							if iy < 0 || ix < 0 || iy >= ci[1] || ix >= ci[2] {
								continue
							}
							fn(((co*ci[0]+c)*k+ky)*k+kx, (co*o.H+oy)*o.W+ox, (c*ci[1]+iy)*ci[2]+ix)
						}
					}
				}
			}
		}
	}
}

// exactSums returns, over the terms of convolution o on inputs ci, the
// sums of a·b into out[at] (float64) and of their magnitudes, where term
// picks a, b and at from a term's weight, output and input indexes.
func exactSums(n int, o *nets.Op, ci [3]int, term func(w, y, x int) (a, b float32, at int)) (out, mag []float64) {
	out, mag = make([]float64, n), make([]float64, n)
	eachTerm(o, ci, func(w, y, x int) {
		a, b, at := term(w, y, x)
		p := float64(a) * float64(b)
		out[at] += p
		mag[at] += math.Abs(p)
	})
	return out, mag
}

// conv64 returns W∗x + b of convolution o on one sample x (ci), exactly
// (float64), and the sum of the terms' magnitudes at every output.
func conv64(W, b, x []float32, o *nets.Op, ci [3]int) (y, mag []float64) {
	y, mag = exactSums(o.C*o.H*o.W, o, ci, func(w, y, xi int) (float32, float32, int) { return W[w], x[xi], y })
	if b != nil {
		for j := range y {
			bc := float64(b[j/(o.H*o.W)])
			y[j] += bc
			mag[j] += math.Abs(bc)
		}
	}
	return y, mag
}

// convT64 returns Wᵀ∗gy, the input gradient of conv64 for the output
// gradient gy, exactly, with the magnitudes of its terms.
func convT64(W, gy []float32, o *nets.Op, ci [3]int) (gx, mag []float64) {
	return exactSums(ci[0]*ci[1]*ci[2], o, ci, func(w, y, x int) (float32, float32, int) { return W[w], gy[y], x })
}

// weightGrad64 returns the gradient of conv64's W for the output
// gradient gy, Σ gy·x over the output pixels of each weight, exactly,
// with the magnitudes of its terms.
func weightGrad64(x, gy []float32, o *nets.Op, ci [3]int) (gw, mag []float64) {
	return exactSums(o.C*ci[0]*o.Kernel*o.Kernel, o, ci, func(w, y, xi int) (float32, float32, int) { return x[xi], gy[y], w })
}

// TestKernelConvolutionsAreExact holds the differentiator's convolutions
// on the micro-kernels, with every kernel set of this machine, to the
// exact (float64) products within float32 rounding of the sum of their
// terms' magnitudes: the forward product with its bias, the tangent's
// W∗Rx + V∗x + Vb, the input gradient Wᵀ∗gy and its tangent Wᵀ∗Rgy +
// Vᵀ∗gy, and the weights' gradient Σ x⋆gy. The shapes cover odd channel
// counts, strides, a 7x7 stem, pointwise convolutions, and sums long
// enough to be cut into chunks of taps, of channels and of pixels (see
// sumChunk); strided ones have their gradients by phases (see
// planPhases), but for the stem, whose kernel reaches too far.
func TestKernelConvolutionsAreExact(t *testing.T) {
	if len(kernelSets) == 0 {
		t.Skip("no micro-kernels on this machine: the differentiator runs SGEMMs only")
	}
	type shape struct {
		cin, cout, k, stride, pad, h, w int
	}
	shapes := []shape{
		{3, 16, 3, 1, 1, 8, 8},
		{20, 24, 3, 1, 1, 6, 5},
		{40, 70, 3, 2, 1, 9, 9},
		{64, 32, 3, 1, 1, 4, 4},   // 576 products: chunks of taps
		{300, 16, 1, 1, 0, 4, 4},  // 300 channels of one tap: chunks of channels
		{520, 20, 3, 1, 1, 2, 3},  // both
		{8, 16, 7, 2, 3, 11, 11},  // torchvision's stem, smaller
		{16, 32, 1, 2, 0, 8, 8},   // a strided shortcut
		{16, 80, 3, 1, 1, 1, 1},   // a 1x1 map
		{33, 17, 3, 1, 1, 5, 7},   // nothing a multiple of 16
		{12, 96, 5, 1, 2, 6, 6},   // a 5x5 kernel
		{128, 136, 3, 1, 1, 3, 3}, // more output blocks than a kernel takes
		// Strided convolutions, by phases:
		{16, 32, 3, 2, 1, 28, 28}, // resnet's downsampling
		{32, 64, 3, 2, 1, 14, 14},
		{5, 16, 3, 2, 1, 7, 8},   // odd and even sides
		{16, 24, 2, 2, 0, 7, 7},  // a phase reaching past gy's last row
		{4, 16, 3, 3, 1, 10, 11}, // stride 3
		{24, 8, 1, 3, 0, 7, 7},   // phases no tap reads
		{64, 80, 3, 2, 1, 5, 5},  // sums cut into chunks
	}
	rng := rand.New(rand.NewPCG(7, 8))
	normal := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	check := func(t *testing.T, what string, got []float32, want, mag []float64) {
		t.Helper()
		for i, g := range got {
			if d := math.Abs(float64(g) - want[i]); !(d <= 2e-6*mag[i]+1e-30) {
				t.Fatalf("%s[%d] = %.9g, exactly %.9g: off by %.3g of the terms' magnitude %.3g", what, i, g, want[i], d/mag[i], mag[i])
			}
		}
	}
	for _, ks := range kernelSets {
		for _, s := range shapes {
			o := &nets.Op{Kind: nets.Conv, Name: "conv", C: s.cout, Kernel: s.k, Stride: s.stride, Pad: s.pad,
				H: (s.h+2*s.pad-s.k)/s.stride + 1, W: (s.w+2*s.pad-s.k)/s.stride + 1}
			ci := [3]int{s.cin, s.h, s.w}
			t.Run(fmt.Sprintf("%s/%dx%dx%d->%d,k%ds%dp%d", ks.name, s.cin, s.h, s.w, s.cout, s.k, s.stride, s.pad), func(t *testing.T) {
				dc := planDirect(ks, o, ci)
				if dc == nil {
					t.Fatal("no plan")
				}
				nw, nx, ny := s.cout*s.cin*s.k*s.k, s.cin*s.h*s.w, s.cout*o.H*o.W
				W, V, b, vb := normal(nw), normal(nw), normal(s.cout), normal(s.cout)
				x, rx, gy, rgy := normal(nx), normal(nx), normal(ny), normal(ny)
				dc.pack(o, s.cin, W, b, V, vb)
				sc := newDirectScratch(ks, []*directConv{dc})
				y, ry := make([]float32, ny), make([]float32, ny)
				sc.forward(dc, x, y, rx, ry, true)
				want, mag := conv64(W, b, x, o, ci)
				check(t, "W∗x + b", y, want, mag)
				a, am := conv64(W, nil, rx, o, ci)
				c, cm := conv64(V, vb, x, o, ci)
				for i := range a {
					a[i], am[i] = a[i]+c[i], am[i]+cm[i]
				}
				check(t, "W∗Rx + V∗x + Vb", ry, a, am)
				if !dc.backward() {
					if transposable(o, ci) || o.Stride > 1 && o.Kernel-1-o.Pad < o.Stride {
						t.Fatal("a convolution without its gradients' plan on the kernels")
					}
					return
				}
				// The gradients are added to what is there, or set.
				for _, set := range []bool{false, true} {
					gx, rgx := normal(nx), normal(nx)
					gx0, rgx0 := append([]float32(nil), gx...), append([]float32(nil), rgx...)
					if set {
						gx0, rgx0 = make([]float32, nx), make([]float32, nx)
					}
					sc.gradsIn(dc, gy, rgy)
					sc.inputGrad(dc, gx, rgx, set)
					want, mag = convT64(W, gy, o, ci)
					for i := range want {
						want[i] += float64(gx0[i])
						mag[i] += math.Abs(float64(gx0[i]))
					}
					check(t, fmt.Sprintf("gx + Wᵀ∗gy (set %v)", set), gx, want, mag)
					a, am = convT64(W, rgy, o, ci)
					c, cm = convT64(V, gy, o, ci)
					for i := range a {
						a[i] += c[i] + float64(rgx0[i])
						am[i] += cm[i] + math.Abs(float64(rgx0[i]))
					}
					check(t, fmt.Sprintf("Rgx + Wᵀ∗Rgy + Vᵀ∗gy (set %v)", set), rgx, a, am)
				}
				// The weights' gradient Σ x⋆gy, added to what is there.
				taps, lanes := s.k*s.k, dc.gyG.cp
				acc := normal(taps * s.cin * lanes)
				acc0 := append([]float32(nil), acc...)
				xp, _ := sc.xPlanes(dc, x, nil)
				sc.gradsIn(dc, gy, nil)
				sc.weightGrad(dc, xp, sc.a, acc)
				gw := make([]float32, nw)
				addByTap(gw, acc, taps, s.cin, lanes)
				want, mag = weightGrad64(x, gy, o, ci)
				for co := range s.cout {
					for c := range s.cin {
						for tap := range taps {
							a0 := float64(acc0[(tap*s.cin+c)*lanes+co])
							want[(co*s.cin+c)*taps+tap] += a0
							mag[(co*s.cin+c)*taps+tap] += math.Abs(a0)
						}
					}
				}
				check(t, "Σ x⋆gy", gw, want, mag)
			})
		}
	}
}

// The layout copies put every value where the kernels' layout says, leave
// the border and the lanes past the channels as they were (zero), and
// copy back, or add back, exactly: on shapes the 16x16 tiles take whole,
// in part (runs of 16 pixels across image rows, remainders of pixels and
// of channels) and not at all.
func TestLayoutCopiesPlaceEveryValue(t *testing.T) {
	for _, c := range []int{1, 15, 16, 17, 33, 64} {
		for _, hw := range [][2]int{{1, 1}, {7, 8}, {8, 8}, {4, 4}, {3, 16}, {5, 20}, {2, 33}, {6, 32}, {7, 7}, {14, 14}, {28, 28}, {3, 5}} {
			for _, b := range []int{0, 1, 3} {
				g := geom{c: c, h: hw[0], w: hw[1], cp: roundUp16(c), b: b}
				x := make([]float32, c*g.h*g.w)
				for i := range x {
					x[i] = float32(i + 1)
				}
				dst := make([]float32, g.size(1))
				toChannelsLast(dst, x, g)
				want := make([]float32, len(dst))
				for ch := range c {
					for y := range g.h {
						for px := range g.w {
							want[g.at(0, y, px)+ch] = x[(ch*g.h+y)*g.w+px]
						}
					}
				}
				for i := range want {
					if dst[i] != want[i] {
						t.Fatalf("%+v: toChannelsLast put %g at %d, want %g", g, dst[i], i, want[i])
					}
				}
				back := make([]float32, len(x))
				fromChannelsLast(back, dst, g, false)
				fromChannelsLast(back, dst, g, true)
				for i := range x {
					if back[i] != 2*x[i] {
						t.Fatalf("%+v: copied and added back, value %d is %g, want %g", g, i, back[i], 2*x[i])
					}
				}
			}
		}
	}
}
