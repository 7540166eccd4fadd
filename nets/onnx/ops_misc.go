package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/landscape-go/landscape/nets"
)

// This file holds the less common operators: padding, PReLU, instance
// normalisation, arg-reductions, cumulative sums, masks (Trilu) and
// GatherElements.

func opCastLike(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	like, err := need(in, 1)
	if err != nil {
		return nil, err
	}
	return []*Tensor{castTo(x, like.DType)}, nil
}

func opPRelu(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := needFloat(in, 0)
	if err != nil {
		return nil, err
	}
	slope, err := needFloat(in, 1)
	if err != nil {
		return nil, err
	}
	out, err := elementwise(x, slope, func(v, s float32) float32 {
		if v < 0 {
			return v * s
		}
		return v
	}, nil, false, nil)
	return []*Tensor{out}, err
}

func selu(c *opCtx) (func(float32) float32, error) {
	alpha, err := c.float("alpha", 1.67326319217681884765625)
	if err != nil {
		return nil, err
	}
	gamma, err := c.float("gamma", 1.05070102214813232421875)
	return func(x float32) float32 {
		if x > 0 {
			return gamma * x
		}
		return gamma * alpha * float32(math.Expm1(float64(x)))
	}, err
}

func thresholdedRelu(c *opCtx) (func(float32) float32, error) {
	alpha, err := c.float("alpha", 1)
	return func(x float32) float32 {
		if x > alpha {
			return x
		}
		return 0
	}, err
}

func softplus(x float32) float32 {
	v := float64(x)
	if v > 20 {
		return x
	}
	return float32(math.Log1p(math.Exp(v)))
}

func sign(x float32) float32 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return x // 0 or NaN
}

func signInt(x int64) int64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// predicate applies a float test element-wise, giving bool.
func predicate(build func(c *opCtx) (func(float32) bool, error)) opFunc {
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		x, err := needFloat(in, 0)
		if err != nil {
			return nil, err
		}
		f, err := build(c)
		if err != nil {
			return nil, err
		}
		out := newTensor(Bool, x.Shape)
		for i, v := range x.F {
			out.I[i] = b2i(f(v))
		}
		return []*Tensor{out}, nil
	}
}

func isNaN(c *opCtx) (func(float32) bool, error) {
	return func(x float32) bool { return x != x }, nil
}

func isInf(c *opCtx) (func(float32) bool, error) {
	pos, err := c.int("detect_positive", 1)
	if err != nil {
		return nil, err
	}
	neg, err := c.int("detect_negative", 1)
	return func(x float32) bool {
		return (pos != 0 && math.IsInf(float64(x), 1)) || (neg != 0 && math.IsInf(float64(x), -1))
	}, err
}

func opMod(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	a, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	b, err := need(in, 1)
	if err != nil {
		return nil, err
	}
	fmod, err := c.int("fmod", 0)
	if err != nil {
		return nil, err
	}
	ff := func(x, y float32) float32 {
		r := float32(math.Mod(float64(x), float64(y)))
		if fmod == 0 && r != 0 && (r < 0) != (y < 0) {
			r += y
		}
		return r
	}
	fi := func(x, y int64) int64 {
		if y == 0 {
			return 0
		}
		r := x % y
		if fmod == 0 && r != 0 && (r < 0) != (y < 0) {
			r += y
		}
		return r
	}
	if fmod == 0 && a.DType.IsFloat() {
		return nil, fmt.Errorf("fmod 0 on floats: %w", ErrFormat)
	}
	out, err := elementwise(a, b, ff, fi, false, nil)
	return []*Tensor{out}, err
}

// argReduce computes ArgMax or ArgMin.
func argReduce(isMax bool) opFunc {
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		axis, err := c.axis(0, len(x.Shape))
		if err != nil {
			return nil, err
		}
		keep, err := c.int("keepdims", 1)
		if err != nil {
			return nil, err
		}
		last, err := c.int("select_last_index", 0)
		if err != nil {
			return nil, err
		}
		outer, n, inner := aroundAxis(x.Shape, axis)
		shape := slices.Clone(x.Shape)
		if keep != 0 {
			shape[axis] = 1
		} else {
			shape = slices.Delete(shape, axis, axis+1)
		}
		get := func(i int) float64 {
			if x.DType.IsFloat() {
				return float64(x.F[i])
			}
			return float64(x.I[i])
		}
		out := newTensor(Int64, shape)
		for o := range outer {
			for j := range inner {
				best, bi := 0.0, int64(0)
				for k := range n {
					v := get((o*n+k)*inner + j)
					better := k == 0 || (isMax && v > best) || (!isMax && v < best) || (last != 0 && v == best)
					if better {
						best, bi = v, int64(k)
					}
				}
				out.I[o*inner+j] = bi
			}
		}
		return []*Tensor{out}, nil
	}
}

func opCumSum(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	at, err := need(in, 1)
	if err != nil {
		return nil, err
	}
	av, err := scalar(at)
	if err != nil {
		return nil, err
	}
	axis, err := normAxis(int64(av), len(x.Shape))
	if err != nil {
		return nil, err
	}
	exclusive, err := c.int("exclusive", 0)
	if err != nil {
		return nil, err
	}
	reverse, err := c.int("reverse", 0)
	if err != nil {
		return nil, err
	}
	outer, n, inner := aroundAxis(x.Shape, axis)
	out := newTensor(x.DType, x.Shape)
	for o := range outer {
		for j := range inner {
			var sf float32
			var si int64
			for kk := range n {
				k := kk
				if reverse != 0 {
					k = n - 1 - kk
				}
				i := (o*n+k)*inner + j
				if x.DType.IsFloat() {
					if exclusive != 0 {
						out.F[i] = sf
						sf += x.F[i]
					} else {
						sf += x.F[i]
						out.F[i] = sf
					}
				} else {
					if exclusive != 0 {
						out.I[i] = si
						si += x.I[i]
					} else {
						si += x.I[i]
						out.I[i] = si
					}
				}
			}
		}
	}
	return []*Tensor{out}, nil
}

// opTrilu keeps the lower (upper = 0) or upper triangle of the last two
// axes, shifted by the optional diagonal k: the causal masks of
// transformers.
func opTrilu(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	if len(x.Shape) < 2 {
		return nil, fmt.Errorf("input %v: %w", x.Shape, ErrFormat)
	}
	k := int64(0)
	if t := opt(in, 1); t != nil {
		v, err := scalar(t)
		if err != nil {
			return nil, err
		}
		k = int64(v)
	}
	upper, err := c.int("upper", 1)
	if err != nil {
		return nil, err
	}
	R, C := x.Shape[len(x.Shape)-2], x.Shape[len(x.Shape)-1]
	out := newTensor(x.DType, x.Shape)
	for i := range x.Len() {
		r, col := int64(i/C%R), int64(i%C)
		keep := col-r >= k
		if upper == 0 {
			keep = col-r <= k
		}
		if keep {
			if x.DType.IsFloat() {
				out.F[i] = x.F[i]
			} else {
				out.I[i] = x.I[i]
			}
		}
	}
	return []*Tensor{out}, nil
}

func opGatherElements(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, it, ind, axis, err := gatherInputs(c, in)
	if err != nil {
		return nil, err
	}
	if len(it.Shape) != len(x.Shape) {
		return nil, fmt.Errorf("indices %v for data %v: %w", it.Shape, x.Shape, ErrFormat)
	}
	for i, d := range it.Shape {
		if i != axis && d > x.Shape[i] {
			return nil, fmt.Errorf("indices %v for data %v: %w", it.Shape, x.Shape, ErrFormat)
		}
	}
	xs := stridesOf(x.Shape)
	st := slices.Clone(xs)
	st[axis] = 0
	base := indexes(it.Shape, 0, st)
	dim := int64(x.Shape[axis])
	idx := make([]int, len(base))
	for i, b := range base {
		k := ind[i]
		if k < 0 {
			k += dim
		}
		if k < 0 || k >= dim {
			return nil, fmt.Errorf("index %d out of range for dimension %d: %w", ind[i], dim, ErrFormat)
		}
		idx[i] = b + int(k)*xs[axis]
	}
	return []*Tensor{take(x, it.Shape, idx)}, nil
}

// opPad pads with a constant, or by reflecting or repeating the edge.
func opPad(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	mode, err := c.str("mode", "constant")
	if err != nil {
		return nil, err
	}
	r := len(x.Shape)
	var pads []int64
	value := 0.0
	if c.opset < 11 {
		if pads, _, err = c.ints("pads"); err != nil {
			return nil, err
		}
		v, err := c.float("value", 0)
		if err != nil {
			return nil, err
		}
		value = float64(v)
	} else {
		p, err := need(in, 1)
		if err != nil {
			return nil, err
		}
		if pads, err = intsOf(p); err != nil {
			return nil, err
		}
		if t := opt(in, 2); t != nil && t.Len() > 0 {
			if value, err = scalar(t); err != nil {
				return nil, err
			}
		}
	}
	axes := make([]int, r)
	for i := range axes {
		axes[i] = i
	}
	if t := opt(in, 3); t != nil {
		av, err := intsOf(t)
		if err != nil {
			return nil, err
		}
		axes = axes[:0]
		for _, a := range av {
			ax, err := normAxis(a, r)
			if err != nil {
				return nil, err
			}
			axes = append(axes, ax)
		}
	}
	if len(pads) != 2*len(axes) {
		return nil, fmt.Errorf("pads %v for %d axes: %w", pads, len(axes), ErrFormat)
	}
	before := make([]int, r)
	shape := slices.Clone(x.Shape)
	for i, a := range axes {
		b, e := pads[i], pads[len(axes)+i]
		if b < -MaxElements || e < -MaxElements || b > MaxElements || e > MaxElements {
			return nil, fmt.Errorf("pads %v: %w", pads, ErrFormat)
		}
		before[a] = int(b)
		shape[a] += int(b + e)
		if shape[a] < 0 {
			return nil, fmt.Errorf("pads %v for shape %v: %w", pads, x.Shape, ErrFormat)
		}
	}
	if err := checkElements(shape); err != nil {
		return nil, err
	}
	out := newTensor(x.DType, shape)
	xs := stridesOf(x.Shape)
	coord := make([]int, r)
	for i := range out.Len() {
		rem := i
		for a := r - 1; a >= 0; a-- {
			coord[a] = rem % shape[a]
			rem /= shape[a]
		}
		src, inside := 0, true
		for a := range r {
			p := coord[a] - before[a]
			n := x.Shape[a]
			if p < 0 || p >= n {
				switch mode {
				case "constant":
					inside = false
				case "edge":
					p = min(max(p, 0), n-1)
				case "reflect":
					if n == 1 {
						p = 0
						break
					}
					period := 2 * (n - 1)
					p = ((p % period) + period) % period
					if p >= n {
						p = period - p
					}
				default:
					return nil, fmt.Errorf("mode %q: %w", mode, ErrUnsupported)
				}
			}
			src += p * xs[a]
		}
		switch {
		case !inside && out.F != nil:
			out.F[i] = float32(value)
		case !inside:
			out.I[i] = int64(value)
		case out.F != nil:
			out.F[i] = x.F[src]
		default:
			out.I[i] = x.I[src]
		}
	}
	return []*Tensor{out}, nil
}

func opInstanceNorm(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := needFloat(in, 0)
	if err != nil {
		return nil, err
	}
	scale, err := needFloat(in, 1)
	if err != nil {
		return nil, err
	}
	bias, err := needFloat(in, 2)
	if err != nil {
		return nil, err
	}
	eps, err := c.float("epsilon", 1e-5)
	if err != nil {
		return nil, err
	}
	if len(x.Shape) < 2 || scale.Len() != x.Shape[1] || bias.Len() != x.Shape[1] {
		return nil, fmt.Errorf("input %v, scale %v, bias %v: %w", x.Shape, scale.Shape, bias.Shape, ErrFormat)
	}
	C := x.Shape[1]
	inner := nets.NumElements(x.Shape[2:])
	out := newTensor(x.DType, x.Shape)
	for nc := range x.Shape[0] * C {
		xs := x.F[nc*inner : (nc+1)*inner]
		mean, inv := meanInvStd(xs, eps)
		ch := nc % C
		for i, v := range xs {
			out.F[nc*inner+i] = float32((float64(v)-mean)*inv)*scale.F[ch] + bias.F[ch]
		}
	}
	return []*Tensor{out}, nil
}
