package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/landscape-go/landscape/nets"
)

// elementwise applies f (float types) or fi (integer types) element-wise with
// numpy broadcasting. The result has a's type, or bool if toBool.
func elementwise(a, b *Tensor, f func(x, y float32) float32, fi func(x, y int64) int64, toBool bool, loops *arithLoops) (*Tensor, error) {
	if a.DType.IsFloat() != b.DType.IsFloat() {
		return nil, fmt.Errorf("element types %v and %v: %w", a.DType, b.DType, ErrFormat)
	}
	if a.DType.IsFloat() && f == nil {
		return nil, fmt.Errorf("element type %v: %w", a.DType, ErrFormat)
	}
	shape, err := broadcast(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	out := &Tensor{DType: a.DType, Shape: shape}
	if toBool {
		out.DType = Bool
	}
	if a.DType.IsFloat() && !toBool {
		// The float maps of a network (a bias, a residual, a scale, GELU's
		// terms) broadcast an operand as a whole or as the trailing axes
		// of the other: its index is then i, 0, or i mod its size.
		out.F = make([]float32, nets.NumElements(shape))
		// The larger operand is as large as the output; the other, part,
		// repeats along it end to end, or spreads each element over a block.
		whole, part, partShape, g, swapped := a.F, b.F, b.Shape, f, false
		if len(a.F) != len(out.F) {
			whole, part, partShape, swapped = b.F, a.F, a.Shape, true
			g = func(x, y float32) float32 { return f(y, x) }
		}
		switch {
		case len(whole) != len(out.F) || len(part) == 0:
		case repeats(partShape, shape):
			for off := 0; off < len(out.F); off += len(part) {
				ws, os := whole[off:off+len(part)], out.F[off:off+len(part)]
				switch {
				case loops != nil && !swapped:
					loops.pair(os, ws, part)
				case loops != nil:
					loops.pair(os, part, ws)
				default:
					for j, pv := range part {
						os[j] = g(ws[j], pv)
					}
				}
			}
			return out, nil
		case spreads(partShape, shape):
			// A statistic per row (layer norm's mean, a softmax's sum).
			inner := len(out.F) / len(part)
			for blk, pv := range part {
				ws, os := whole[blk*inner:(blk+1)*inner], out.F[blk*inner:(blk+1)*inner]
				switch {
				case loops != nil && !swapped:
					loops.right(os, ws, pv)
				case loops != nil:
					loops.left(os, ws, pv)
				default:
					for j, wv := range ws {
						os[j] = g(wv, pv)
					}
				}
			}
			return out, nil
		}
		ia, ib := bcastIndexes(a.Shape, shape), bcastIndexes(b.Shape, shape)
		for i := range ia {
			out.F[i] = f(a.F[ia[i]], b.F[ib[i]])
		}
		return out, nil
	}
	ia := bcastIndexes(a.Shape, shape)
	ib := bcastIndexes(b.Shape, shape)
	switch {
	case a.DType.IsFloat():
		out.I = make([]int64, len(ia))
		for i := range ia {
			out.I[i] = int64(f(a.F[ia[i]], b.F[ib[i]]))
		}
	default:
		if fi == nil {
			return nil, fmt.Errorf("element type %v: %w", a.DType, ErrUnsupported)
		}
		out.I = make([]int64, len(ia))
		for i := range ia {
			out.I[i] = fi(a.I[ia[i]], b.I[ib[i]])
		}
		if !toBool {
			for i, v := range out.I {
				out.I[i] = wrapInt(a.DType, v)
			}
		}
	}
	return out, nil
}

// repeats reports whether a value of shape from, broadcast to shape to,
// is its own elements repeated end to end: from is to's trailing axes
// (or a scalar), ignoring leading axes of length 1.
func repeats(from, to []int) bool {
	for len(from) > 0 && from[0] == 1 {
		from = from[1:]
	}
	return len(from) <= len(to) && slices.Equal(from, to[len(to)-len(from):])
}

// spreads reports whether a value of shape from, broadcast to shape to,
// has each element repeated over a block of consecutive elements: from
// is to's leading axes (leading axes of length 1 aside), then axes of
// length 1.
func spreads(from, to []int) bool {
	if len(from) > len(to) {
		return false
	}
	lead := len(to) - len(from) // from's missing axes, as if of length 1
	k := 0                      // from matches to on axes [lead, lead+k)
	for k < len(from) && from[k] == to[lead+k] {
		k++
	}
	for _, d := range from[k:] {
		if d != 1 {
			return false
		}
	}
	for _, d := range to[:lead] { // axes from lacks must not come before the matching ones
		if d != 1 && k > 0 {
			return false
		}
	}
	return true
}

func b2f(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// arithLoops are the loops of a float arithmetic map f over the
// broadcasts a network's maps use (see elementwise), one per shape of
// operands, with f inlined: an interpreted transformer spent a third of
// its time calling f once a value.
type arithLoops struct {
	f     func(x, y float32) float32
	pair  func(dst, x, y []float32)         // dst[i] = f(x[i], y[i])
	right func(dst, x []float32, s float32) // dst[i] = f(x[i], s)
	left  func(dst, x []float32, s float32) // dst[i] = f(s, x[i])
}

var (
	addLoops = &arithLoops{
		f: func(x, y float32) float32 { return x + y },
		pair: func(dst, x, y []float32) {
			for i := range dst {
				dst[i] = x[i] + y[i]
			}
		},
		right: func(dst, x []float32, s float32) {
			for i := range dst {
				dst[i] = x[i] + s
			}
		},
	}
	subLoops = &arithLoops{
		f: func(x, y float32) float32 { return x - y },
		pair: func(dst, x, y []float32) {
			for i := range dst {
				dst[i] = x[i] - y[i]
			}
		},
		right: func(dst, x []float32, s float32) {
			for i := range dst {
				dst[i] = x[i] - s
			}
		},
		left: func(dst, x []float32, s float32) {
			for i := range dst {
				dst[i] = s - x[i]
			}
		},
	}
	mulLoops = &arithLoops{
		f: func(x, y float32) float32 { return x * y },
		pair: func(dst, x, y []float32) {
			for i := range dst {
				dst[i] = x[i] * y[i]
			}
		},
		right: func(dst, x []float32, s float32) {
			for i := range dst {
				dst[i] = x[i] * s
			}
		},
	}
	divLoops = &arithLoops{
		f: func(x, y float32) float32 { return x / y },
		pair: func(dst, x, y []float32) {
			for i := range dst {
				dst[i] = x[i] / y[i]
			}
		},
		right: func(dst, x []float32, s float32) {
			for i := range dst {
				dst[i] = x[i] / s
			}
		},
		left: func(dst, x []float32, s float32) {
			for i := range dst {
				dst[i] = s / x[i]
			}
		},
	}
)

func init() {
	// Addition and multiplication commute: their left is their right.
	addLoops.left, mulLoops.left = addLoops.right, mulLoops.right
}

// arithOp is binaryOp for a float arithmetic map with its own loops.
func arithOp(l *arithLoops, fi func(x, y int64) int64) opFunc {
	return binaryOpLoops(l.f, fi, false, l)
}

func binaryOp(f func(x, y float32) float32, fi func(x, y int64) int64, toBool bool) opFunc {
	return binaryOpLoops(f, fi, toBool, nil)
}

func binaryOpLoops(f func(x, y float32) float32, fi func(x, y int64) int64, toBool bool, loops *arithLoops) opFunc {
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		a, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		b, err := need(in, 1)
		if err != nil {
			return nil, err
		}
		if c.opset < 7 {
			if _, ok := c.n.Attrs["broadcast"]; ok {
				return nil, fmt.Errorf("legacy broadcast attribute: %w", ErrUnsupported)
			}
		}
		out, err := elementwise(a, b, f, fi, toBool, loops)
		return []*Tensor{out}, err
	}
}

// variadic folds a binary function over any number of inputs (Sum, Max...).
func variadic(f func(x, y float32) float32, fi func(x, y int64) int64, mean bool) opFunc {
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		acc, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		for i := 1; i < len(in); i++ {
			b, err := need(in, i)
			if err != nil {
				return nil, err
			}
			if acc, err = elementwise(acc, b, f, fi, false, nil); err != nil {
				return nil, err
			}
		}
		if mean {
			if !acc.DType.IsFloat() {
				return nil, fmt.Errorf("Mean of %v: %w", acc.DType, ErrUnsupported)
			}
			out := newTensor(acc.DType, acc.Shape)
			for i, v := range acc.F {
				out.F[i] = v / float32(len(in))
			}
			acc = out
		}
		return []*Tensor{acc}, nil
	}
}

func powf(x, y float32) float32 {
	if y == 2 {
		return x * x
	}
	if y == 0.5 {
		return float32(math.Sqrt(float64(x)))
	}
	return float32(math.Pow(float64(x), float64(y)))
}

func opPow(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	a, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	b, err := need(in, 1)
	if err != nil {
		return nil, err
	}
	// The exponent may have another type than the base.
	switch {
	case a.DType.IsFloat() && !b.DType.IsFloat():
		b = castTo(b, Float)
	case !a.DType.IsFloat() && b.DType.IsFloat():
		b = castTo(b, Int64)
	}
	out, err := elementwise(a, b, powf, func(x, y int64) int64 {
		return int64(math.Pow(float64(x), float64(y)))
	}, false, nil)
	return []*Tensor{out}, err
}

func divInt(x, y int64) int64 {
	if y == 0 {
		return 0
	}
	return x / y
}

// unary applies f element-wise to a float tensor, or fi to an integer one
// when given.
func unary(f func(x float32) float32, fi func(x int64) int64) opFunc {
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		out := newTensor(x.DType, x.Shape)
		if x.DType.IsFloat() {
			for i, v := range x.F {
				out.F[i] = f(v)
			}
			return []*Tensor{out}, nil
		}
		if fi == nil {
			return nil, fmt.Errorf("element type %v: %w", x.DType, ErrUnsupported)
		}
		for i, v := range x.I {
			out.I[i] = wrapInt(x.DType, fi(v))
		}
		return []*Tensor{out}, nil
	}
}

// unaryAttr is unary with the float function built from the node's
// attributes.
func unaryAttr(build func(c *opCtx) (func(float32) float32, error)) opFunc {
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		f, err := build(c)
		if err != nil {
			return nil, err
		}
		return unary(f, nil)(c, in)
	}
}

func f64(f func(float64) float64) func(float32) float32 {
	return func(x float32) float32 { return float32(f(float64(x))) }
}

func relu(x float32) float32 {
	if x > 0 {
		return x
	}
	if x != x {
		return x
	}
	return 0
}

func sigmoid(x float32) float32 {
	return float32(1 / (1 + math.Exp(-float64(x))))
}

func hardSigmoid(c *opCtx) (func(float32) float32, error) {
	alpha, err := c.float("alpha", 0.2)
	if err != nil {
		return nil, err
	}
	beta, err := c.float("beta", 0.5)
	return func(x float32) float32 { return max(0, min(1, alpha*x+beta)) }, err
}

func hardSwish(x float32) float32 {
	return x * max(0, min(1, x/6+0.5))
}

func gelu(c *opCtx) (func(float32) float32, error) {
	approx, err := c.str("approximate", "none")
	switch approx {
	case "none":
		return func(x float32) float32 {
			return float32(0.5 * float64(x) * (1 + math.Erf(float64(x)/math.Sqrt2)))
		}, err
	case "tanh":
		return func(x float32) float32 {
			v := float64(x)
			return float32(0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v))))
		}, err
	}
	return nil, fmt.Errorf("approximate %q: %w", approx, ErrUnsupported)
}

func leakyRelu(c *opCtx) (func(float32) float32, error) {
	alpha, err := c.float("alpha", 0.01)
	return func(x float32) float32 {
		if x < 0 {
			return alpha * x
		}
		return x
	}, err
}

func elu(c *opCtx) (func(float32) float32, error) {
	alpha, err := c.float("alpha", 1)
	return func(x float32) float32 {
		if x < 0 {
			return alpha * float32(math.Expm1(float64(x)))
		}
		return x
	}, err
}

// clipBounds returns Clip's bounds: attributes before opset 11, inputs 1
// and 2 (nil where absent) from it on; a bound left out is infinite.
func clipBounds(c *opCtx, in []*Tensor) (lo, hi float64, err error) {
	lo, hi = math.Inf(-1), math.Inf(1)
	if c.opset < 11 {
		l, err := c.float("min", float32(lo))
		if err != nil {
			return lo, hi, err
		}
		h, err := c.float("max", float32(hi))
		return float64(l), float64(h), err
	}
	if t := opt(in, 1); t != nil {
		if lo, err = scalar(t); err != nil {
			return lo, hi, err
		}
	}
	if t := opt(in, 2); t != nil {
		hi, err = scalar(t)
	}
	return lo, hi, err
}

func opClip(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	lo, hi, err := clipBounds(c, in)
	if err != nil {
		return nil, err
	}
	out := newTensor(x.DType, x.Shape)
	if x.DType.IsFloat() {
		l, h := float32(lo), float32(hi)
		for i, v := range x.F {
			if v < l {
				v = l
			}
			if v > h {
				v = h
			}
			out.F[i] = v
		}
	} else {
		for i, v := range x.I {
			out.I[i] = int64(math.Min(math.Max(float64(v), lo), hi))
		}
	}
	return []*Tensor{out}, nil
}

// castTo converts t to type d, as ONNX Cast: floats to integers truncate
// toward zero, anything to bool is "not zero", floats round to the target
// precision.
func castTo(t *Tensor, d DType) *Tensor {
	out := newTensor(d, t.Shape)
	switch {
	case t.DType.IsFloat() && d.IsFloat():
		for i, v := range t.F {
			out.F[i] = roundTo(d, v)
		}
	case t.DType.IsFloat():
		for i, v := range t.F {
			if d == Bool {
				out.I[i] = b2i(v != 0)
				continue
			}
			out.I[i] = wrapInt(d, int64(v))
		}
	case d.IsFloat():
		for i, v := range t.I {
			f := float32(v)
			if t.DType == Uint64 {
				f = float32(uint64(v))
			}
			out.F[i] = roundTo(d, f)
		}
	default:
		for i, v := range t.I {
			out.I[i] = wrapInt(d, v)
		}
	}
	return out
}

func opCast(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	to, err := c.int("to", 0)
	if err != nil {
		return nil, err
	}
	if !DType(to).supported() || !x.DType.supported() {
		return nil, fmt.Errorf("cast from %v to %v: %w", x.DType, DType(to), ErrUnsupported)
	}
	return []*Tensor{castTo(x, DType(to))}, nil
}

func opWhere(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	cond, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	x, err := need(in, 1)
	if err != nil {
		return nil, err
	}
	y, err := need(in, 2)
	if err != nil {
		return nil, err
	}
	if cond.DType.IsFloat() || x.DType.IsFloat() != y.DType.IsFloat() {
		return nil, fmt.Errorf("Where on %v, %v, %v: %w", cond.DType, x.DType, y.DType, ErrFormat)
	}
	shape, err := broadcast(cond.Shape, x.Shape, y.Shape)
	if err != nil {
		return nil, err
	}
	ic := bcastIndexes(cond.Shape, shape)
	ix := bcastIndexes(x.Shape, shape)
	iy := bcastIndexes(y.Shape, shape)
	out := newTensor(x.DType, shape)
	for i := range ic {
		if cond.I[ic[i]] != 0 {
			if x.DType.IsFloat() {
				out.F[i] = x.F[ix[i]]
			} else {
				out.I[i] = x.I[ix[i]]
			}
		} else {
			if x.DType.IsFloat() {
				out.F[i] = y.F[iy[i]]
			} else {
				out.I[i] = y.I[iy[i]]
			}
		}
	}
	return []*Tensor{out}, nil
}

func opNot(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	if x.DType != Bool {
		return nil, fmt.Errorf("Not on %v: %w", x.DType, ErrFormat)
	}
	out := newTensor(Bool, x.Shape)
	for i, v := range x.I {
		out.I[i] = 1 - v
	}
	return []*Tensor{out}, nil
}

// softmax computes Softmax or LogSoftmax. Before opset 13 the input is
// seen as 2D, [prod(shape[:axis]), prod(shape[axis:])], and normalised over
// whole rows; from 13 on, over the one axis.
func softmax(log bool) opFunc {
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		x, err := needFloat(in, 0)
		if err != nil {
			return nil, err
		}
		def := int64(-1)
		if c.opset < 13 {
			def = 1
		}
		rank := len(x.Shape)
		if rank == 0 {
			rank = 1
		}
		axis, err := c.axis(def, rank)
		if err != nil {
			return nil, err
		}
		shape := x.Shape
		if len(shape) == 0 {
			shape = []int{1}
		}
		outer, n, inner := 1, 1, 1
		for i, d := range shape {
			switch {
			case i < axis:
				outer *= d
			case i == axis || c.opset < 13:
				n *= d
			default:
				inner *= d
			}
		}
		out := newTensor(x.DType, x.Shape)
		for o := 0; o < outer; o++ {
			for j := 0; j < inner; j++ {
				base := o*n*inner + j
				m := float32(math.Inf(-1))
				for k := 0; k < n; k++ {
					m = max(m, x.F[base+k*inner])
				}
				var sum float32
				for k := 0; k < n; k++ {
					e := float32(math.Exp(float64(x.F[base+k*inner] - m)))
					out.F[base+k*inner] = e
					sum += e
				}
				for k := 0; k < n; k++ {
					i := base + k*inner
					if log {
						out.F[i] = x.F[i] - m - float32(math.Log(float64(sum)))
					} else {
						out.F[i] /= sum
					}
				}
			}
		}
		return []*Tensor{out}, nil
	}
}

// reduceKind names the reductions.
type reduceKind int

const (
	reduceSum reduceKind = iota
	reduceMean
	reduceMax
	reduceMin
	reduceProd
	reduceSumSquare
	reduceL2
	reduceL1
	reduceLogSum
	reduceLogSumExp
)

// reduce computes a Reduce* op. The axes come from the attribute (older
// opsets) or the second input (ReduceSum from 13, the others from 18).
func reduce(kind reduceKind) opFunc {
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		keep, err := c.int("keepdims", 1)
		if err != nil {
			return nil, err
		}
		noop, err := c.int("noop_with_empty_axes", 0)
		if err != nil {
			return nil, err
		}
		axes, _, err := c.ints("axes")
		if err != nil {
			return nil, err
		}
		if t := opt(in, 1); t != nil {
			if axes, err = intsOf(t); err != nil {
				return nil, err
			}
		}
		rank := len(x.Shape)
		red := make([]bool, rank)
		if len(axes) == 0 {
			if noop != 0 {
				return []*Tensor{x}, nil
			}
			for i := range red {
				red[i] = true
			}
		}
		for _, a := range axes {
			ax, err := normAxis(a, rank)
			if err != nil {
				return nil, err
			}
			red[ax] = true
		}
		kept := make([]int, rank) // output shape with reduced axes as 1
		var outShape []int
		for i, d := range x.Shape {
			kept[i] = d
			if red[i] {
				kept[i] = 1
				if keep != 0 {
					outShape = append(outShape, 1)
				}
			} else {
				outShape = append(outShape, d)
			}
		}
		if outShape == nil {
			outShape = []int{}
		}
		// Map each input element to its output element.
		ks := stridesOf(kept)
		st := make([]int, rank)
		for i := range st {
			if !red[i] {
				st[i] = ks[i]
			}
		}
		idx := indexes(x.Shape, 0, st)
		nOut := nets.NumElements(kept)
		count := 1
		for i, d := range x.Shape {
			if red[i] {
				count *= d
			}
		}
		if !x.DType.IsFloat() {
			acc := make([]int64, nOut)
			init := int64(0)
			switch kind {
			case reduceMax:
				init = math.MinInt64
			case reduceMin:
				init = math.MaxInt64
			case reduceProd:
				init = 1
			}
			for i := range acc {
				acc[i] = init
			}
			for i, v := range x.I {
				o := idx[i]
				switch kind {
				case reduceSum, reduceMean:
					acc[o] += v
				case reduceSumSquare:
					acc[o] += v * v
				case reduceL1:
					acc[o] += max(v, -v)
				case reduceMax:
					acc[o] = max(acc[o], v)
				case reduceMin:
					acc[o] = min(acc[o], v)
				case reduceProd:
					acc[o] *= v
				default:
					return nil, fmt.Errorf("reduction of %v: %w", x.DType, ErrUnsupported)
				}
			}
			if kind == reduceMean && count > 0 {
				for i := range acc {
					acc[i] /= int64(count)
				}
			}
			return []*Tensor{{DType: x.DType, Shape: outShape, I: acc}}, nil
		}
		acc := make([]float32, nOut)
		init := float32(0)
		switch kind {
		case reduceMax:
			init = float32(math.Inf(-1))
		case reduceMin:
			init = float32(math.Inf(1))
		case reduceProd:
			init = 1
		}
		for i := range acc {
			acc[i] = init
		}
		for i, v := range x.F {
			o := idx[i]
			switch kind {
			case reduceSum, reduceMean, reduceLogSum:
				acc[o] += v
			case reduceSumSquare, reduceL2:
				acc[o] += v * v
			case reduceL1:
				acc[o] += float32(math.Abs(float64(v)))
			case reduceLogSumExp:
				acc[o] += float32(math.Exp(float64(v)))
			case reduceMax:
				acc[o] = max(acc[o], v)
			case reduceMin:
				acc[o] = min(acc[o], v)
			case reduceProd:
				acc[o] *= v
			}
		}
		for i := range acc {
			switch kind {
			case reduceMean:
				acc[i] /= float32(count)
			case reduceL2:
				acc[i] = float32(math.Sqrt(float64(acc[i])))
			case reduceLogSum, reduceLogSumExp:
				acc[i] = float32(math.Log(float64(acc[i])))
			}
		}
		return []*Tensor{{DType: x.DType, Shape: outShape, F: acc}}, nil
	}
}
