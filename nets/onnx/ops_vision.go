package onnx

// This file holds the image operators beyond convolution and pooling:
// ConvTranspose, LRN, DepthToSpace and SpaceToDepth, plus Hardmax, OneHot
// and Round.

import (
	"fmt"
	"math"
	"slices"

	"github.com/landscape-go/landscape/nets"
)

// opConvTranspose is the transposed (fractionally strided) convolution of
// decoders and GAN generators: each input element scatters its kernel into
// the output.
func opConvTranspose(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := needFloat(in, 0)
	if err != nil {
		return nil, err
	}
	wt, err := needFloat(in, 1)
	if err != nil {
		return nil, err
	}
	b := opt(in, 2)
	nd := len(x.Shape) - 2
	if nd < 1 || len(wt.Shape) != len(x.Shape) {
		return nil, fmt.Errorf("input %v and weight %v: %w", x.Shape, wt.Shape, ErrFormat)
	}
	g64, err := c.int("group", 1)
	if err != nil {
		return nil, err
	}
	G := int(g64)
	N, C := x.Shape[0], x.Shape[1]
	if G < 1 || C%G != 0 || wt.Shape[0] != C {
		return nil, fmt.Errorf("input %v, weight %v, %d groups: %w", x.Shape, wt.Shape, G, ErrFormat)
	}
	Mg := wt.Shape[1]
	M := Mg * G
	if b != nil && (!b.DType.IsFloat() || b.Len() != M) {
		return nil, fmt.Errorf("bias %v for %d channels: %w", b.Shape, M, ErrFormat)
	}
	sl, err := c.slide(nd)
	if err != nil {
		return nil, err
	}
	strides, dil, pads, auto := sl.strides, sl.dil, sl.pads, sl.auto
	outPad, _, err := c.spatialInts("output_padding", 0, nd, nd)
	if err != nil {
		return nil, err
	}
	outShape, haveOut, err := c.spatialInts("output_shape", 0, nd, nd)
	if err != nil {
		return nil, err
	}
	inS, kernel := x.Shape[2:], wt.Shape[2:]
	out := make([]int, nd)
	for i := range nd {
		full := strides[i]*(inS[i]-1) + outPad[i] + (kernel[i]-1)*dil[i] + 1
		switch {
		case haveOut || auto == "SAME_UPPER" || auto == "SAME_LOWER":
			o := inS[i] * strides[i]
			if haveOut {
				o = outShape[i]
			}
			total := full - o
			half := total / 2 // floor, as ONNX's Python reference divides
			if total < 0 && total%2 != 0 {
				half--
			}
			if auto == "SAME_UPPER" {
				pads[i], pads[nd+i] = half, total-half
			} else {
				pads[i], pads[nd+i] = total-half, half
			}
		case auto == "VALID":
			pads[i], pads[nd+i] = 0, 0
		}
		out[i] = full - pads[i] - pads[nd+i]
		if out[i] < 0 {
			return nil, fmt.Errorf("output size %d: %w", out[i], ErrFormat)
		}
	}
	shape := append([]int{N, M}, out...)
	if err := checkElements(shape); err != nil {
		return nil, err
	}
	y := newTensor(x.DType, shape)
	nIn, nOut, nK := nets.NumElements(inS), nets.NumElements(out), nets.NumElements(kernel)
	// tab[i*nK+k] is the flat output position input position i and
	// kernel position k write, or -1.
	tab := make([]int, nIn*nK)
	ic, kc := make([]int, nd), make([]int, nd)
	os := stridesOf(out)
	for i := range nIn {
		rem := i
		for a := nd - 1; a >= 0; a-- {
			ic[a] = rem % inS[a]
			rem /= inS[a]
		}
		for k := range nK {
			rem := k
			for a := nd - 1; a >= 0; a-- {
				kc[a] = rem % kernel[a]
				rem /= kernel[a]
			}
			o := 0
			for a := range nd {
				p := ic[a]*strides[a] + kc[a]*dil[a] - pads[a]
				if p < 0 || p >= out[a] {
					o = -1
					break
				}
				o += p * os[a]
			}
			tab[i*nK+k] = o
		}
	}
	Cg := C / G
	for n := range N {
		for m := range M {
			ys := y.F[(n*M+m)*nOut : (n*M+m+1)*nOut]
			if b != nil {
				for i := range ys {
					ys[i] = b.F[m]
				}
			}
			g, ml := m/Mg, m%Mg
			for cc := range Cg {
				ch := g*Cg + cc
				xs := x.F[(n*C+ch)*nIn : (n*C+ch+1)*nIn]
				ws := wt.F[(ch*Mg+ml)*nK : (ch*Mg+ml+1)*nK]
				for i, xv := range xs {
					for k, wv := range ws {
						if o := tab[i*nK+k]; o >= 0 {
							ys[o] += xv * wv
						}
					}
				}
			}
		}
	}
	return []*Tensor{y}, nil
}

// opLRN is local response normalisation across channels (AlexNet,
// GoogLeNet).
func opLRN(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := needFloat(in, 0)
	if err != nil {
		return nil, err
	}
	size, err := c.int("size", 0)
	if err != nil {
		return nil, err
	}
	alpha, err := c.float("alpha", 1e-4)
	if err != nil {
		return nil, err
	}
	beta, err := c.float("beta", 0.75)
	if err != nil {
		return nil, err
	}
	bias, err := c.float("bias", 1)
	if err != nil {
		return nil, err
	}
	if size < 1 || len(x.Shape) < 2 {
		return nil, fmt.Errorf("size %d for input %v: %w", size, x.Shape, ErrFormat)
	}
	C := x.Shape[1]
	inner := nets.NumElements(x.Shape[2:])
	lo, hi := int((size-1)/2), int((size-1+1)/2) // floor and ceil of (size-1)/2
	out := newTensor(x.DType, x.Shape)
	for n := range x.Shape[0] {
		for ch := range C {
			for i := range inner {
				var s float32
				for k := max(0, ch-lo); k <= min(C-1, ch+hi); k++ {
					v := x.F[(n*C+k)*inner+i]
					s += v * v
				}
				j := (n*C+ch)*inner + i
				out.F[j] = x.F[j] / float32(math.Pow(float64(bias+alpha/float32(size)*s), float64(beta)))
			}
		}
	}
	return []*Tensor{out}, nil
}

// depthSpace computes DepthToSpace (toSpace) or SpaceToDepth on NCHW.
func depthSpace(toSpace bool) opFunc {
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		bs64, err := c.int("blocksize", 0)
		if err != nil {
			return nil, err
		}
		mode, err := c.str("mode", "DCR")
		if err != nil {
			return nil, err
		}
		if len(x.Shape) != 4 || bs64 < 1 || bs64 > 1<<16 {
			return nil, fmt.Errorf("input %v, blocksize %d: %w", x.Shape, bs64, ErrFormat)
		}
		bs := int(bs64)
		N, C, H, W := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
		if toSpace {
			if C%(bs*bs) != 0 {
				return nil, fmt.Errorf("%d channels, blocksize %d: %w", C, bs, ErrFormat)
			}
			var v *Tensor
			var perm []int
			switch mode {
			case "DCR":
				v = reshaped(x, []int{N, bs, bs, C / (bs * bs), H, W})
				perm = []int{0, 3, 4, 1, 5, 2}
			case "CRD":
				v = reshaped(x, []int{N, C / (bs * bs), bs, bs, H, W})
				perm = []int{0, 1, 4, 2, 5, 3}
			default:
				return nil, fmt.Errorf("mode %q: %w", mode, ErrFormat)
			}
			t := permute(v, perm)
			return []*Tensor{reshaped(t, []int{N, C / (bs * bs), H * bs, W * bs})}, nil
		}
		if H%bs != 0 || W%bs != 0 {
			return nil, fmt.Errorf("input %v, blocksize %d: %w", x.Shape, bs, ErrFormat)
		}
		v := reshaped(x, []int{N, C, H / bs, bs, W / bs, bs})
		t := permute(v, []int{0, 3, 5, 1, 2, 4})
		return []*Tensor{reshaped(t, []int{N, C * bs * bs, H / bs, W / bs})}, nil
	}
}

// permute transposes t by perm, which the caller has checked.
func permute(t *Tensor, perm []int) *Tensor {
	st := stridesOf(t.Shape)
	shape := make([]int, len(perm))
	strides := make([]int, len(perm))
	for i, p := range perm {
		shape[i], strides[i] = t.Shape[p], st[p]
	}
	return strided(t, shape, 0, strides)
}

func opHardmax(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := needFloat(in, 0)
	if err != nil {
		return nil, err
	}
	def := int64(-1)
	if c.opset < 13 {
		def = 1
	}
	axis, err := c.axis(def, len(x.Shape))
	if err != nil {
		return nil, err
	}
	outer, n, inner := aroundAxis(x.Shape, axis)
	if c.opset < 13 {
		n, inner = nets.NumElements(x.Shape[axis:]), 1
	}
	out := newTensor(x.DType, x.Shape)
	for o := range outer {
		for j := range inner {
			best := -1
			for k := range n {
				i := (o*n+k)*inner + j
				if best < 0 || x.F[i] > x.F[best] {
					best = i
				}
			}
			if best >= 0 {
				out.F[best] = 1
			}
		}
	}
	return []*Tensor{out}, nil
}

func opOneHot(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	it, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	dt, err := need(in, 1)
	if err != nil {
		return nil, err
	}
	vt, err := need(in, 2)
	if err != nil {
		return nil, err
	}
	depth, err := scalar(dt)
	if err != nil {
		return nil, err
	}
	if depth < 1 || depth > MaxElements || vt.Len() != 2 {
		return nil, fmt.Errorf("depth %v, values %v: %w", depth, vt.Shape, ErrFormat)
	}
	D := int(depth)
	axis, err := c.axis(-1, len(it.Shape)+1)
	if err != nil {
		return nil, err
	}
	shape := slices.Insert(slices.Clone(it.Shape), axis, D)
	if err := checkElements(shape); err != nil {
		return nil, err
	}
	idx := castTo(it, Int64).I
	outer, inner := nets.NumElements(it.Shape[:axis]), nets.NumElements(it.Shape[axis:])
	// Start from all "off" values, then set the "on" ones.
	off := take(vt, shape, make([]int, nets.NumElements(shape)))
	for o := range outer {
		for j := range inner {
			k := idx[o*inner+j]
			if k < 0 {
				k += int64(D)
			}
			if k < 0 || k >= int64(D) {
				continue
			}
			p := (o*D+int(k))*inner + j
			if off.F != nil {
				off.F[p] = vt.F[1]
			} else {
				off.I[p] = vt.I[1]
			}
		}
	}
	return []*Tensor{off}, nil
}

func roundEven(x float32) float32 { return float32(math.RoundToEven(float64(x))) }
