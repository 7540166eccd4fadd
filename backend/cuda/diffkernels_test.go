//go:build linux && !android && (amd64 || arm64)

package cuda

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// The differentiator's kernels (diff.cu), run on the host (see
// hostkernels_test.go) against the formulas of the CPU differentiator
// written out in float64, and each backward kernel against its forward
// kernel: a backward pass is the adjoint of the forward tangent, so
// ⟨R{y}, gy⟩ = ⟨R{x}, gx⟩ (plus the parameters' terms) for any R{x} and gy.

type ptrT = unsafe.Pointer

func randVec(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func dot64(a, b []float32) float64 {
	s := 0.0
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// near reports whether got is within tol of want, relative to scale.
func near(got, want, scale, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(scale, 1e-30)
}

func TestHostKernelsMaxPoolingRecordsTheMaximumAndSendsGradientsBack(t *testing.T) {
	k := compileHostKernels(t)
	var fwd func(y ptrT, idx ptrT, ry, x, rx ptrT, planes int64, h, w, ks, s, p, oh, ow int32)
	var bwd func(gx, gy, idx ptrT, planes int64, h, w, ks, s, p, oh, ow int32)
	var plain func(y, x ptrT, planes int64, h, w, ks, s, p, oh, ow int32)
	k.fn(&fwd, "maxpool_forward")
	k.fn(&bwd, "maxpool_backward")
	k.fn(&plain, "maxpool")
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ h, w, k, s, p, oh, ow int }{
		{7, 7, 3, 2, 1, 4, 4}, // overlapping windows, padded (torchvision's stem)
		{8, 6, 2, 2, 0, 4, 3}, // VGG's
		{7, 5, 2, 2, 0, 3, 2}, // floor mode: the last row and column unread
		{5, 5, 3, 1, 1, 5, 5}, // every value in nine windows
		{5, 5, 3, 2, 0, 3, 3}, // ceil mode: the last windows cut short
	} {
		planes := 3
		x := make([]float32, planes*c.h*c.w)
		for i := range x {
			x[i] = float32(r.IntN(5)) // ties, which the first in window order wins
		}
		rx := randVec(r, len(x))
		no := planes * c.oh * c.ow
		y, ry, y2 := make([]float32, no), make([]float32, no), make([]float32, no)
		idx := make([]int32, no)
		k.launch(3, func() {
			fwd(at(y), at(idx), at(ry), at(x), at(rx), int64(planes), int32(c.h), int32(c.w), int32(c.k), int32(c.s), int32(c.p), int32(c.oh), int32(c.ow))
		})
		k.launch(2, func() {
			plain(at(y2), at(x), int64(planes), int32(c.h), int32(c.w), int32(c.k), int32(c.s), int32(c.p), int32(c.oh), int32(c.ow))
		})
		gy := randVec(r, no)
		g0 := randVec(r, len(x))
		gx := append([]float32(nil), g0...)
		want := make([]float64, len(x))
		for i := range want {
			want[i] = float64(g0[i])
		}
		for pl := range planes {
			for oy := range c.oh {
				for ox := range c.ow {
					j := (pl*c.oh+oy)*c.ow + ox
					best, first := float32(math.Inf(-1)), -1
					for yy := max(oy*c.s-c.p, 0); yy < min(oy*c.s-c.p+c.k, c.h); yy++ {
						for xx := max(ox*c.s-c.p, 0); xx < min(ox*c.s-c.p+c.k, c.w); xx++ {
							if v := x[(pl*c.h+yy)*c.w+xx]; first < 0 || v > best {
								best, first = v, yy*c.w+xx
							}
						}
					}
					if y[j] != best || y2[j] != best || int(idx[j]) != first || ry[j] != rx[pl*c.h*c.w+first] {
						t.Fatalf("%+v: output %d: max %g (evaluator's %g) at %d, tangent %g; want %g at %d, %g",
							c, j, y[j], y2[j], idx[j], ry[j], best, first, rx[pl*c.h*c.w+first])
					}
					want[pl*c.h*c.w+first] += float64(gy[j])
				}
			}
		}
		k.launch(4, func() {
			bwd(at(gx), at(gy), at(idx), int64(planes), int32(c.h), int32(c.w), int32(c.k), int32(c.s), int32(c.p), int32(c.oh), int32(c.ow))
		})
		for i := range gx {
			if !near(float64(gx[i]), want[i], 4, 1e-6) {
				t.Fatalf("%+v: input gradient %d is %g, want %g", c, i, gx[i], want[i])
			}
		}
	}
}

func TestHostKernelsAveragePoolingBackwardIsTheAdjoint(t *testing.T) {
	k := compileHostKernels(t)
	var avg func(y, x ptrT, planes int64, h, w, ks, s, oh, ow int32)
	var avgBack func(gx, gy ptrT, planes int64, h, w, ks, s, oh, ow int32)
	var gavg func(y, x ptrT, planes int64, hw int32)
	var gavgBack func(gx, gy ptrT, planes int64, hw int32)
	k.fn(&avg, "avgpool")
	k.fn(&avgBack, "avgpool_backward")
	k.fn(&gavg, "gavgpool")
	k.fn(&gavgBack, "gavgpool_backward")
	r := rand.New(rand.NewPCG(3, 4))
	planes := 4
	for _, c := range []struct{ h, w, k, s, oh, ow int }{
		{8, 8, 2, 2, 4, 4}, // DenseNet's transitions
		{7, 6, 3, 1, 5, 4}, // overlapping
		{7, 7, 3, 2, 3, 3}, // overlapping, the last row and column unread
		{6, 6, 6, 1, 1, 1}, // one window
	} {
		x := randVec(r, planes*c.h*c.w)
		no := planes * c.oh * c.ow
		y, gy := make([]float32, no), randVec(r, no)
		gx := make([]float32, len(x))
		k.launch(3, func() {
			avg(at(y), at(x), int64(planes), int32(c.h), int32(c.w), int32(c.k), int32(c.s), int32(c.oh), int32(c.ow))
		})
		k.launch(2, func() {
			avgBack(at(gx), at(gy), int64(planes), int32(c.h), int32(c.w), int32(c.k), int32(c.s), int32(c.oh), int32(c.ow))
		})
		if a, b := dot64(y, gy), dot64(x, gx); !near(a, b, math.Abs(a)+1, 1e-5) {
			t.Errorf("%+v: ⟨pool(x), gy⟩ = %g, ⟨x, poolᵀ(gy)⟩ = %g", c, a, b)
		}
	}
	hw := 13
	x := randVec(r, planes*hw)
	y, gy := make([]float32, planes), randVec(r, planes)
	gx := randVec(r, len(x))
	g0 := append([]float32(nil), gx...)
	k.launch(2, func() { gavg(at(y), at(x), int64(planes), int32(hw)) })
	k.launch(3, func() { gavgBack(at(gx), at(gy), int64(planes), int32(hw)) })
	for i := range gx {
		if want := g0[i] + gy[i/hw]/float32(hw); gx[i] != want {
			t.Fatalf("global average pooling: gradient %d is %g, want %g", i, gx[i], want)
		}
	}
	for i := range gx {
		gx[i] -= g0[i]
	}
	if a, b := dot64(y, gy), dot64(x, gx); !near(a, b, math.Abs(a)+1, 1e-5) {
		t.Errorf("global average pooling: ⟨pool(x), gy⟩ = %g, ⟨x, poolᵀ(gy)⟩ = %g", a, b)
	}
}

func TestHostKernelsConcatenationBackwardTakesEachInputsChannels(t *testing.T) {
	k := compileHostKernels(t)
	var place, take func(y, x ptrT, total int64, c, C, off, hw int32)
	k.fn(&place, "place")
	k.fn(&take, "take")
	r := rand.New(rand.NewPCG(5, 6))
	n, hw, cs := 3, 5, []int{2, 3, 1}
	C := 6
	y := make([]float32, n*C*hw)
	var xs [][]float32
	off := 0
	for _, c := range cs {
		x := randVec(r, n*c*hw)
		xs = append(xs, x)
		k.launch(2, func() { place(at(y), at(x), int64(len(x)), int32(c), int32(C), int32(off), int32(hw)) })
		off += c
	}
	off = 0
	for i, c := range cs {
		g := make([]float32, n*c*hw)
		for j := range g {
			g[j] = 0.25 // gradients are added to
		}
		k.launch(3, func() { take(at(g), at(y), int64(len(g)), int32(c), int32(C), int32(off), int32(hw)) })
		for j := range g {
			if want := 0.25 + xs[i][j]; g[j] != want {
				t.Fatalf("input %d: value %d came back as %g, want 0.25 + %g", i, j, g[j], xs[i][j])
			}
		}
		off += c
	}
}

func TestHostKernelsBatchNormBackwardIsTheAdjointOfItsTangent(t *testing.T) {
	k := compileHostKernels(t)
	var fwd func(y, ry, x, rx, gamma, beta, mean, vr, vgamma, vbeta ptrT, eps float32, n int64, C, hw int32)
	var bwdX func(gx, rgx, gy, rgy, gamma, vr, vgamma ptrT, eps float32, n int64, C, hw int32)
	var sums func(sum, dot, a, x, g, rr, mean, vr ptrT, eps float32, n, C, hw int32)
	k.fn(&fwd, "bn_forward")
	k.fn(&bwdX, "bn_backward_x")
	k.fn(&sums, "channel_sums")
	r := rand.New(rand.NewPCG(7, 8))
	n, C, hw := 3, 4, 10
	eps := float32(1e-5)
	size := n * C * hw
	x, rx := randVec(r, size), randVec(r, size)
	gamma, beta, mean := randVec(r, C), randVec(r, C), randVec(r, C)
	vr := make([]float32, C)
	for c := range vr {
		vr[c] = 0.5 + r.Float32()
	}
	vgamma, vbeta := randVec(r, C), randVec(r, C)
	y, ry := make([]float32, size), make([]float32, size)
	k.launch(3, func() {
		fwd(at(y), at(ry), at(x), at(rx), at(gamma), at(beta), at(mean), at(vr), at(vgamma), at(vbeta), eps, int64(size), int32(C), int32(hw))
	})
	sigma := func(c int) float64 { return float64(float32(math.Sqrt(float64(vr[c] + eps)))) }
	for i := range y {
		c := i / hw % C
		a := float64(gamma[c]) / sigma(c)
		wantY := float64(x[i])*a + float64(beta[c]) - float64(mean[c])*a
		wantR := float64(rx[i])*a + (float64(x[i])-float64(mean[c]))*float64(vgamma[c])/sigma(c) + float64(vbeta[c])
		if !near(float64(y[i]), wantY, math.Abs(wantY)+1, 1e-6) || !near(float64(ry[i]), wantR, math.Abs(wantR)+1, 1e-6) {
			t.Fatalf("value %d: y %g, R{y} %g; want %g, %g", i, y[i], ry[i], wantY, wantR)
		}
	}

	// The backward pass of the tangent's linear map (rx, vγ, vβ) ↦ R{y}.
	gy, rgy := randVec(r, size), randVec(r, size)
	gx, rgx := make([]float32, size), make([]float32, size)
	gg, gb := make([]float32, C), make([]float32, C)
	k.launch(2, func() {
		bwdX(at(gx), at(rgx), at(gy), at(rgy), at(gamma), at(vr), at(vgamma), eps, int64(size), int32(C), int32(hw))
	})
	k.launch(C, func() {
		sums(at(gb), at(gg), at(gy), at(x), nil, nil, at(mean), at(vr), eps, int32(n), int32(C), int32(hw))
	})
	lhs := dot64(ry, gy)
	rhs := dot64(rx, gx) + dot64(vgamma, gg) + dot64(vbeta, gb)
	if !near(lhs, rhs, math.Abs(lhs)+1, 1e-5) {
		t.Errorf("⟨R{y}, gy⟩ = %g; ⟨R{x}, gx⟩ + ⟨vγ, gγ⟩ + ⟨vβ, gβ⟩ = %g", lhs, rhs)
	}
	// R{gx} = R{gy}·γ/σ + gy·vγ/σ, and the parameters' R-sums, from the
	// formulas.
	rg, rb := make([]float32, C), make([]float32, C)
	rg[1], rb[2] = 0.25, -0.5 // sums are added to
	k.launch(C, func() {
		sums(at(rb), at(rg), at(rgy), at(x), at(gy), at(rx), at(mean), at(vr), eps, int32(n), int32(C), int32(hw))
	})
	rg[1] -= 0.25
	rb[2] += 0.5
	for c := range C {
		var wantG, wantB float64
		for s := range n {
			for p := range hw {
				i := (s*C+c)*hw + p
				wantG += float64(rgy[i])*(float64(x[i])-float64(mean[c])) + float64(gy[i])*float64(rx[i])
				wantB += float64(rgy[i])
			}
		}
		wantG /= sigma(c)
		if !near(float64(rg[c]), wantG, math.Abs(wantG)+1, 1e-5) || !near(float64(rb[c]), wantB, math.Abs(wantB)+1, 1e-5) {
			t.Errorf("channel %d: R-sums %g, %g; want %g, %g", c, rg[c], rb[c], wantG, wantB)
		}
	}
	for i := range rgx {
		c := i / hw % C
		want := (float64(rgy[i])*float64(gamma[c]) + float64(gy[i])*float64(vgamma[c])) / sigma(c)
		if !near(float64(rgx[i]), want, math.Abs(want)+1, 1e-6) {
			t.Fatalf("R{gx}[%d] = %g, want %g", i, rgx[i], want)
		}
	}
}

func TestHostKernelsReLUPassesWhatItsOutputPassed(t *testing.T) {
	k := compileHostKernels(t)
	var fwd func(y, ry, x, rx ptrT, n int64)
	var bwd func(gx, rgx, gy, rgy, y ptrT, n int64)
	k.fn(&fwd, "relu_forward")
	k.fn(&bwd, "relu_backward")
	nan := float32(math.NaN())
	negZero := float32(math.Copysign(0, -1))
	x := []float32{1.5, -2, 0, negZero, nan, 3e-39, -3e-39}
	rx := []float32{1, 2, 3, 4, 5, 6, 7}
	y, ry := make([]float32, len(x)), make([]float32, len(x))
	k.launch(2, func() { fwd(at(y), at(ry), at(x), at(rx), int64(len(x))) })
	wantY := []float32{1.5, 0, 0, 0, nan, 3e-39, 0}
	wantR := []float32{1, 0, 0, 0, 5, 6, 0}
	for i := range x {
		same := y[i] == wantY[i] || math.IsNaN(float64(y[i])) && math.IsNaN(float64(wantY[i]))
		if !same || math.Signbit(float64(y[i])) || ry[i] != wantR[i] {
			t.Errorf("ReLU(%g) = %g with tangent %g; want %g, %g", x[i], y[i], ry[i], wantY[i], wantR[i])
		}
	}
	gx, rgx := []float32{10, 10, 10, 10, 10, 10, 10}, make([]float32, len(x))
	gy := []float32{1, 2, 3, 4, 5, 6, 7}
	k.launch(3, func() { bwd(at(gx), at(rgx), at(gy), at(gy), at(y), int64(len(x))) })
	for i := range x {
		if want := 10 + wantR[i]; gx[i] != want || rgx[i] != wantR[i] {
			t.Errorf("ReLU backward at %g: gx %g, R{gx} %g; want %g, %g", x[i], gx[i], rgx[i], want, wantR[i])
		}
	}
}

func TestHostKernelsLossGradientAndItsTangent(t *testing.T) {
	k := compileHostKernels(t)
	var xg func(loss, hit, gz, rgz, z, rz, label ptrT, count, n, K int32, lo int64, inv float64)
	k.fn(&xg, "xent_grad")
	r := rand.New(rand.NewPCG(9, 10))
	n, count, K, lo := 4, 3, 5, 2
	z, rz := randVec(r, n*K), randVec(r, n*K)
	z[1*K+3] = 40 // a confident sample
	labels := []int32{9, 9, 1, 3, 0, 4}
	loss, hit := make([]float64, lo+n), make([]int32, lo+n)
	gz, rgz := randVec(r, n*K), randVec(r, n*K) // stale values, all overwritten
	inv := 1.0 / 7
	k.launch(2, func() {
		xg(at(loss), at(hit), at(gz), at(rgz), at(z), at(rz), at(labels), int32(count), int32(n), int32(K), int64(lo), inv)
	})
	for i := range n {
		for c := range K {
			if i >= count && (gz[i*K+c] != 0 || rgz[i*K+c] != 0) {
				t.Fatalf("padding sample %d: gradient %g, tangent %g; want 0", i, gz[i*K+c], rgz[i*K+c])
			}
		}
		if i >= count {
			continue
		}
		row := z[i*K : (i+1)*K]
		m := math.Inf(-1)
		best := 0
		for c, v := range row {
			if float64(v) > m {
				m, best = float64(v), c
			}
		}
		p := make([]float64, K)
		total := 0.0
		for c, v := range row {
			p[c] = math.Exp(float64(v) - m)
			total += p[c]
		}
		y := int(labels[lo+i])
		if want := math.Log(total) + m - float64(row[y]); !near(loss[lo+i], want, want, 1e-12) || (hit[lo+i] == 1) != (best == y) {
			t.Errorf("sample %d: loss %g, hit %d; want %g, %v", i, loss[lo+i], hit[lo+i], want, best == y)
		}
		dot := 0.0
		for c := range p {
			p[c] /= total
			dot += p[c] * float64(rz[i*K+c])
		}
		for c := range p {
			want := p[c] * inv
			if c == y {
				want -= inv
			}
			wantR := p[c] * (float64(rz[i*K+c]) - dot) * inv
			if !near(float64(gz[i*K+c]), want, inv, 1e-6) || !near(float64(rgz[i*K+c]), wantR, inv, 1e-6) {
				t.Errorf("sample %d, class %d: gradient %g, tangent %g; want %g, %g", i, c, gz[i*K+c], rgz[i*K+c], want, wantR)
			}
		}
	}
	if loss[0] != 0 || loss[lo+count] != 0 {
		t.Errorf("losses written outside the chunk's samples: %v", loss)
	}
}

func TestHostKernelsBiasesAndSums(t *testing.T) {
	k := compileHostKernels(t)
	var addChannel func(y, b ptrT, n int64, C, hw int32)
	var sum2 func(y, a, b ptrT, n int64)
	var acc func(y, x ptrT, n int64)
	var sums func(sum, dot, a, x, g, rr, mean, vr ptrT, eps float32, n, C, hw int32)
	k.fn(&addChannel, "add_channel")
	k.fn(&sum2, "sum2")
	k.fn(&acc, "accumulate")
	k.fn(&sums, "channel_sums")
	r := rand.New(rand.NewPCG(11, 12))
	n, C, hw := 3, 5, 7
	size := n * C * hw
	y0, b := randVec(r, size), randVec(r, C)
	y := append([]float32(nil), y0...)
	k.launch(3, func() { addChannel(at(y), at(b), int64(size), int32(C), int32(hw)) })
	for i := range y {
		if want := y0[i] + b[i/hw%C]; y[i] != want {
			t.Fatalf("add_channel: %d is %g, want %g", i, y[i], want)
		}
	}
	a2, b2 := randVec(r, size), randVec(r, size)
	k.launch(2, func() { sum2(at(y), at(a2), at(b2), int64(size)) })
	k.launch(2, func() { acc(at(y), at(a2), int64(size)) })
	for i := range y {
		if want := a2[i] + b2[i] + a2[i]; y[i] != want {
			t.Fatalf("sum2 then accumulate: %d is %g, want %g", i, y[i], want)
		}
	}
	gb := randVec(r, C)
	g0 := append([]float32(nil), gb...)
	k.launch(C, func() { sums(at(gb), nil, at(a2), nil, nil, nil, nil, nil, 0, int32(n), int32(C), int32(hw)) })
	for c := range C {
		want := float64(g0[c])
		for s := range n {
			for p := range hw {
				want += float64(a2[(s*C+c)*hw+p])
			}
		}
		if !near(float64(gb[c]), want, math.Abs(want)+1, 1e-6) {
			t.Errorf("bias gradient of channel %d: %g, want %g", c, gb[c], want)
		}
	}
}
