package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/landscape-go/landscape/nets"
)

// window is the geometry of a convolution or pooling window over the
// spatial axes of an N x C x spatial... value.
type window struct {
	in, kernel, out []int
	// tab[kp*nOut+o] is the flat spatial input index that kernel position
	// kp reads for output position o, or -1 for padding.
	tab []int
	// padded[o] counts the kernel positions of o inside the padded input,
	// for AveragePool with count_include_pad.
	padded []int
	nOut   int
	nK     int
}

// spatialInts reads the ints attribute name of a node over nd spatial axes:
// n values (nd, or 2*nd for pads), each in [0, 2^20] and not 0 where the
// default def is 1. If the attribute is absent, it returns n copies of def
// and ok false.
func (c *opCtx) spatialInts(name string, def, n, nd int) (vals []int, ok bool, err error) {
	v, ok, err := c.ints(name)
	if err != nil {
		return nil, false, err
	}
	out := make([]int, n)
	for i := range out {
		out[i] = def
	}
	if !ok {
		return out, false, nil
	}
	if len(v) != n {
		return nil, false, fmt.Errorf("%s %v for %d spatial axes: %w", name, v, nd, ErrFormat)
	}
	for i, d := range v {
		if d < 0 || d > 1<<20 || (def == 1 && d == 0) {
			return nil, false, fmt.Errorf("%s %v: %w", name, v, ErrFormat)
		}
		out[i] = int(d)
	}
	return out, true, nil
}

// slide is how a convolution or pooling window moves over the spatial
// axes, as a node's strides, dilations, pads and auto_pad attributes say.
type slide struct {
	strides, dil []int
	pads         []int // the begins of the spatial axes, then their ends
	auto         string
}

// slide reads the attributes of a window over nd spatial axes.
func (c *opCtx) slide(nd int) (slide, error) {
	var s slide
	var err error
	if s.strides, _, err = c.spatialInts("strides", 1, nd, nd); err != nil {
		return s, err
	}
	if s.dil, _, err = c.spatialInts("dilations", 1, nd, nd); err != nil {
		return s, err
	}
	if s.pads, _, err = c.spatialInts("pads", 0, 2*nd, nd); err != nil {
		return s, err
	}
	s.auto, err = c.str("auto_pad", "NOTSET")
	return s, err
}

// newWindow reads strides, dilations, pads and auto_pad from the node and
// computes the output size and index table for input spatial size in and
// kernel size kernel. With ceil, the output size rounds up as ceil_mode
// does, dropping a last window that would start in the end padding (as
// PyTorch does).
func (c *opCtx) newWindow(in, kernel []int, ceil bool) (*window, error) {
	nd := len(in)
	sl, err := c.slide(nd)
	if err != nil {
		return nil, err
	}
	strides, dil, pads, auto := sl.strides, sl.dil, sl.pads, sl.auto
	w := &window{in: in, kernel: kernel, out: make([]int, nd)}
	pb, pe := pads[:nd], pads[nd:]
	for i := range nd {
		ext := dil[i]*(kernel[i]-1) + 1
		switch auto {
		case "NOTSET", "":
		case "VALID":
			pb[i], pe[i] = 0, 0
		case "SAME_UPPER", "SAME_LOWER":
			o := (in[i] + strides[i] - 1) / strides[i]
			total := max(0, (o-1)*strides[i]+ext-in[i])
			pb[i] = total / 2
			if auto == "SAME_LOWER" {
				pb[i] = total - total/2
			}
			pe[i] = total - pb[i]
		default:
			return nil, fmt.Errorf("auto_pad %q: %w", auto, ErrFormat)
		}
		num := in[i] + pb[i] + pe[i] - ext
		if num < 0 {
			return nil, fmt.Errorf("window %d (dilated %d) larger than padded input %d: %w", kernel[i], ext, in[i]+pb[i]+pe[i], ErrFormat)
		}
		o := num/strides[i] + 1
		if ceil && num%strides[i] != 0 {
			o++
			if (o-1)*strides[i] >= in[i]+pb[i] {
				o--
			}
		}
		w.out[i] = o
	}
	w.nOut = nets.NumElements(w.out)
	w.nK = nets.NumElements(kernel)
	if err := checkElements([]int{w.nOut, w.nK}); err != nil {
		return nil, err
	}
	w.tab = make([]int, w.nOut*w.nK)
	w.padded = make([]int, w.nOut)
	inSt := stridesOf(in)
	oc := make([]int, nd)
	kc := make([]int, nd)
	for kp := range w.nK {
		rem := kp
		for i := nd - 1; i >= 0; i-- {
			kc[i] = rem % kernel[i]
			rem /= kernel[i]
		}
		for o := range w.nOut {
			rem := o
			for i := nd - 1; i >= 0; i-- {
				oc[i] = rem % w.out[i]
				rem /= w.out[i]
			}
			idx, inPad := 0, true
			for i := range nd {
				p := oc[i]*strides[i] - pb[i] + kc[i]*dil[i]
				if p < -pb[i] || p >= in[i]+pe[i] {
					inPad = false
				}
				if idx >= 0 && p >= 0 && p < in[i] {
					idx += p * inSt[i]
				} else {
					idx = -1
				}
			}
			w.tab[kp*w.nOut+o] = idx
			if inPad {
				w.padded[o]++
			}
		}
	}
	return w, nil
}

func opConv(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := needFloat(in, 0)
	if err != nil {
		return nil, err
	}
	wt, err := needFloat(in, 1)
	if err != nil {
		return nil, err
	}
	b := opt(in, 2)
	if len(x.Shape) < 3 || len(wt.Shape) != len(x.Shape) {
		return nil, fmt.Errorf("input %v and weight %v: %w", x.Shape, wt.Shape, ErrFormat)
	}
	groups, err := c.int("group", 1)
	if err != nil {
		return nil, err
	}
	N, C, M := x.Shape[0], x.Shape[1], wt.Shape[0]
	if groups < 1 || C%int(groups) != 0 || M%int(groups) != 0 || wt.Shape[1] != C/int(groups) {
		return nil, fmt.Errorf("input %v, weight %v, %d groups: %w", x.Shape, wt.Shape, groups, ErrFormat)
	}
	if b != nil && (!b.DType.IsFloat() || b.Len() != M) {
		return nil, fmt.Errorf("bias %v for %d channels: %w", b.Shape, M, ErrFormat)
	}
	kernel := wt.Shape[2:]
	if ks, ok, _ := c.ints("kernel_shape"); ok && !slices.Equal(ks, toInt64s(kernel)) {
		return nil, fmt.Errorf("kernel_shape %v, weight %v: %w", ks, wt.Shape, ErrFormat)
	}
	w, err := c.newWindow(x.Shape[2:], kernel, false)
	if err != nil {
		return nil, err
	}
	G := int(groups)
	Cg, Mg := C/G, M/G
	nIn := nets.NumElements(x.Shape[2:])
	shape := append([]int{N, M}, w.out...)
	out := newTensor(x.DType, shape)
	for n := range N {
		for m := range M {
			acc := out.F[(n*M+m)*w.nOut : (n*M+m+1)*w.nOut]
			if b != nil {
				for o := range acc {
					acc[o] = b.F[m]
				}
			}
			g := m / Mg
			for c := range Cg {
				xs := x.F[(n*C+g*Cg+c)*nIn : (n*C+g*Cg+c+1)*nIn]
				ws := wt.F[(m*Cg+c)*w.nK : (m*Cg+c+1)*w.nK]
				for kp, wv := range ws {
					tab := w.tab[kp*w.nOut : (kp+1)*w.nOut]
					for o, i := range tab {
						if i >= 0 {
							acc[o] += wv * xs[i]
						}
					}
				}
			}
		}
	}
	return []*Tensor{out}, nil
}

func toInt64s(v []int) []int64 {
	out := make([]int64, len(v))
	for i, d := range v {
		out[i] = int64(d)
	}
	return out
}

// poolWindow reads a MaxPool's or AveragePool's attributes for an input
// of shape N x C x spatial: the window, and whether an average counts the
// padding.
func (c *opCtx) poolWindow(shape []int) (w *window, include bool, err error) {
	if len(shape) < 3 {
		return nil, false, fmt.Errorf("input %v: %w", shape, ErrFormat)
	}
	ks, _, err := c.ints("kernel_shape")
	if err != nil {
		return nil, false, err
	}
	if len(ks) != len(shape)-2 {
		return nil, false, fmt.Errorf("kernel_shape %v for input %v: %w", ks, shape, ErrFormat)
	}
	kernel := make([]int, len(ks))
	for i, k := range ks {
		if k < 1 || k > 1<<20 {
			return nil, false, fmt.Errorf("kernel_shape %v: %w", ks, ErrFormat)
		}
		kernel[i] = int(k)
	}
	ceil, err := c.int("ceil_mode", 0)
	if err != nil {
		return nil, false, err
	}
	in, err := c.int("count_include_pad", 0)
	if err != nil {
		return nil, false, err
	}
	w, err = c.newWindow(shape[2:], kernel, ceil != 0)
	return w, in != 0, err
}

// pool computes MaxPool or AveragePool.
func pool(avg bool) opFunc {
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		x, err := needFloat(in, 0)
		if err != nil {
			return nil, err
		}
		w, include, err := c.poolWindow(x.Shape)
		if err != nil {
			return nil, err
		}
		NC := x.Shape[0] * x.Shape[1]
		nIn := nets.NumElements(x.Shape[2:])
		out := newTensor(x.DType, append(slices.Clone(x.Shape[:2]), w.out...))
		for nc := range NC {
			xs := x.F[nc*nIn : (nc+1)*nIn]
			for o := range w.nOut {
				v := float32(math.Inf(-1))
				if avg {
					v = 0
				}
				count := 0
				for kp := range w.nK {
					i := w.tab[kp*w.nOut+o]
					if i < 0 {
						continue
					}
					count++
					if avg {
						v += xs[i]
					} else if xs[i] > v || xs[i] != xs[i] {
						v = xs[i]
					}
				}
				if avg {
					if include {
						count = w.padded[o]
					}
					v /= float32(count)
				}
				out.F[nc*w.nOut+o] = v
			}
		}
		return []*Tensor{out}, nil
	}
}

// globalPool averages or takes the maximum over all spatial axes.
func globalPool(avg bool) opFunc {
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		x, err := needFloat(in, 0)
		if err != nil {
			return nil, err
		}
		if len(x.Shape) < 2 {
			return nil, fmt.Errorf("input %v: %w", x.Shape, ErrFormat)
		}
		shape := slices.Clone(x.Shape)
		for i := 2; i < len(shape); i++ {
			shape[i] = 1
		}
		NC := x.Shape[0] * x.Shape[1]
		nIn := nets.NumElements(x.Shape[2:])
		out := newTensor(x.DType, shape)
		for nc := range NC {
			xs := x.F[nc*nIn : (nc+1)*nIn]
			if avg {
				var s float32
				for _, v := range xs {
					s += v
				}
				out.F[nc] = s / float32(nIn)
			} else {
				m := float32(math.Inf(-1))
				for _, v := range xs {
					m = max(m, v)
				}
				out.F[nc] = m
			}
		}
		return []*Tensor{out}, nil
	}
}

// matmulTo computes dst[M,N] += a[M,K] · b[K,N], float32 accumulation.
func matmulTo(dst, a, b []float32, M, K, N int) {
	for i := range M {
		row := dst[i*N : (i+1)*N]
		for k := range K {
			av := a[i*K+k]
			if av == 0 {
				continue
			}
			bs := b[k*N : (k+1)*N]
			for j, bv := range bs {
				row[j] += av * bv
			}
		}
	}
}

func opMatMul(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	a, err := needFloat(in, 0)
	if err != nil {
		return nil, err
	}
	b, err := needFloat(in, 1)
	if err != nil {
		return nil, err
	}
	m, err := MatMulShapes(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	M, K, N := m.M, m.K, m.N
	ia := bcastIndexes(m.A[:len(m.A)-2], m.Lead)
	ib := bcastIndexes(m.B[:len(m.B)-2], m.Lead)
	out := newTensor(a.DType, m.Out)
	for p := range ia {
		c.matmul(out.F[p*M*N:(p+1)*M*N], a.F[ia[p]*M*K:], b.F[ib[p]*K*N:], M, K, N)
	}
	return []*Tensor{out}, nil
}

func opGemm(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	a, err := needFloat(in, 0)
	if err != nil {
		return nil, err
	}
	b, err := needFloat(in, 1)
	if err != nil {
		return nil, err
	}
	alpha, err := c.float("alpha", 1)
	if err != nil {
		return nil, err
	}
	beta, err := c.float("beta", 1)
	if err != nil {
		return nil, err
	}
	ta, err := c.int("transA", 0)
	if err != nil {
		return nil, err
	}
	tb, err := c.int("transB", 0)
	if err != nil {
		return nil, err
	}
	if len(a.Shape) != 2 || len(b.Shape) != 2 {
		return nil, fmt.Errorf("shapes %v and %v: %w", a.Shape, b.Shape, ErrFormat)
	}
	if ta != 0 {
		a = transpose2(a)
	}
	if tb != 0 {
		b = transpose2(b)
	}
	M, K, N := a.Shape[0], a.Shape[1], b.Shape[1]
	if b.Shape[0] != K {
		return nil, fmt.Errorf("shapes %v and %v: %w", a.Shape, b.Shape, ErrFormat)
	}
	out := newTensor(a.DType, []int{M, N})
	c.matmul(out.F, a.F, b.F, M, K, N)
	if alpha != 1 {
		for i := range out.F {
			out.F[i] *= alpha
		}
	}
	if cc := opt(in, 2); cc != nil {
		if !cc.DType.IsFloat() {
			return nil, fmt.Errorf("C of type %v: %w", cc.DType, ErrFormat)
		}
		shape, err := broadcast(cc.Shape, out.Shape)
		if err != nil || !slices.Equal(shape, out.Shape) {
			return nil, fmt.Errorf("C shape %v for output %v: %w", cc.Shape, out.Shape, ErrFormat)
		}
		ic := bcastIndexes(cc.Shape, out.Shape)
		for i, j := range ic {
			out.F[i] += beta * cc.F[j]
		}
	}
	return []*Tensor{out}, nil
}

func transpose2(t *Tensor) *Tensor {
	shape := []int{t.Shape[1], t.Shape[0]}
	return strided(t, shape, 0, []int{1, t.Shape[1]})
}

func opBatchNorm(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := needFloat(in, 0)
	if err != nil {
		return nil, err
	}
	var p [4]*Tensor
	for i := range p {
		if p[i], err = needFloat(in, i+1); err != nil {
			return nil, err
		}
	}
	eps, err := c.float("epsilon", 1e-5)
	if err != nil {
		return nil, err
	}
	if tm, _ := c.int("training_mode", 0); tm != 0 {
		return nil, fmt.Errorf("training mode (the model was exported in train mode; export model.eval()): %w", ErrUnsupported)
	}
	if len(x.Shape) < 2 {
		return nil, fmt.Errorf("input %v: %w", x.Shape, ErrFormat)
	}
	C := x.Shape[1]
	for i, t := range p {
		if t.Len() != C {
			return nil, fmt.Errorf("input %d shape %v for %d channels: %w", i+1, t.Shape, C, ErrFormat)
		}
	}
	scale, bias, mean, variance := p[0].F, p[1].F, p[2].F, p[3].F
	inner := nets.NumElements(x.Shape[2:])
	out := newTensor(x.DType, x.Shape)
	for n := range x.Shape[0] {
		for ch := range C {
			// PyTorch's CPU kernel: x*alpha + (bias - mean*alpha).
			alpha := scale[ch] / float32(math.Sqrt(float64(variance[ch]+eps)))
			beta := bias[ch] - mean[ch]*alpha
			off := (n*C + ch) * inner
			for i := off; i < off+inner; i++ {
				out.F[i] = x.F[i]*alpha + beta
			}
		}
	}
	return []*Tensor{out}, nil
}

// meanInvStd returns the mean of xs and 1/√(var+eps), with the biased
// variance, both computed in two passes in float64.
func meanInvStd(xs []float32, eps float32) (mean, inv float64) {
	var s, ss float64
	for _, v := range xs {
		s += float64(v)
	}
	mean = s / float64(len(xs))
	for _, v := range xs {
		d := float64(v) - mean
		ss += d * d
	}
	return mean, 1 / math.Sqrt(ss/float64(len(xs))+float64(eps))
}

func opLayerNorm(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := needFloat(in, 0)
	if err != nil {
		return nil, err
	}
	scale, err := needFloat(in, 1)
	if err != nil {
		return nil, err
	}
	bias := opt(in, 2)
	axis, err := c.axis(-1, len(x.Shape))
	if err != nil {
		return nil, err
	}
	eps, err := c.float("epsilon", 1e-5)
	if err != nil {
		return nil, err
	}
	norm := x.Shape[axis:]
	params := func(t *Tensor) ([]int, error) {
		s, err := broadcast(t.Shape, norm)
		if err != nil || !slices.Equal(s, norm) || !t.DType.IsFloat() {
			return nil, fmt.Errorf("shape %v for normalised shape %v: %w", t.Shape, norm, ErrFormat)
		}
		return bcastIndexes(t.Shape, norm), nil
	}
	is, err := params(scale)
	if err != nil {
		return nil, err
	}
	var ib []int
	if bias != nil {
		if ib, err = params(bias); err != nil {
			return nil, err
		}
	}
	outer := nets.NumElements(x.Shape[:axis])
	n := nets.NumElements(norm)
	statShape := slices.Clone(x.Shape)
	for i := axis; i < len(statShape); i++ {
		statShape[i] = 1
	}
	out := newTensor(x.DType, x.Shape)
	meanT := newTensor(Float, statShape)
	invT := newTensor(Float, statShape)
	for o := range outer {
		xs := x.F[o*n : (o+1)*n]
		mean, inv := meanInvStd(xs, eps)
		meanT.F[o], invT.F[o] = float32(mean), float32(inv)
		for i, v := range xs {
			y := float32((float64(v)-mean)*inv) * scale.F[is[i]]
			if bias != nil {
				y += bias.F[ib[i]]
			}
			out.F[o*n+i] = y
		}
	}
	return []*Tensor{out, meanT, invT}, nil
}
