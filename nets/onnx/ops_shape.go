package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/landscape-go/landscape/nets"
)

func opIdentity(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := need(in, 0)
	return []*Tensor{x}, err
}

// opDropout is Dropout at inference: the identity, with an all-true mask.
func opDropout(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	if t := opt(in, 2); t != nil {
		if v, err := scalar(t); err != nil || v != 0 {
			return nil, fmt.Errorf("training mode (the model was exported in train mode; export model.eval()): %w", ErrUnsupported)
		}
	}
	if c.opset < 7 {
		if t, _ := c.int("is_test", 0); t == 0 {
			return nil, fmt.Errorf("training mode (is_test 0): %w", ErrUnsupported)
		}
	}
	mask := newTensor(Bool, x.Shape)
	for i := range mask.I {
		mask.I[i] = 1
	}
	return []*Tensor{x, mask}, nil
}

func opShape(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	r := int64(len(x.Shape))
	start, err := c.int("start", 0)
	if err != nil {
		return nil, err
	}
	end, err := c.int("end", r)
	if err != nil {
		return nil, err
	}
	clamp := func(v int64) int64 {
		if v < 0 {
			v += r
		}
		return min(max(v, 0), r)
	}
	start, end = clamp(start), clamp(end)
	out := []int64{}
	for i := start; i < end; i++ {
		out = append(out, int64(x.Shape[i]))
	}
	return []*Tensor{Ints([]int{len(out)}, out)}, nil
}

func opSize(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	return []*Tensor{Ints([]int{}, []int64{int64(x.Len())})}, nil
}

func opConstant(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	for name, a := range c.n.Attrs {
		switch name {
		case "value":
			if a.Type == AttrTensor {
				return []*Tensor{a.T}, nil
			}
		case "value_float":
			return []*Tensor{Floats([]int{}, []float32{a.F})}, nil
		case "value_floats":
			return []*Tensor{Floats([]int{len(a.Floats)}, slices.Clone(a.Floats))}, nil
		case "value_int":
			return []*Tensor{Ints([]int{}, []int64{a.I})}, nil
		case "value_ints":
			return []*Tensor{Ints([]int{len(a.Ints)}, slices.Clone(a.Ints))}, nil
		default:
			return nil, fmt.Errorf("attribute %s: %w", name, ErrUnsupported)
		}
	}
	return nil, fmt.Errorf("no value: %w", ErrFormat)
}

// shapeArg reads a 1-D int64 tensor of dimensions.
func shapeArg(t *Tensor) ([]int, error) {
	v, err := intsOf(t)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(v))
	for i, d := range v {
		if d < -1 || d > MaxElements {
			return nil, fmt.Errorf("dimension %d: %w", d, ErrFormat)
		}
		out[i] = int(d)
	}
	return out, nil
}

func opConstantOfShape(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	s, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	shape, err := shapeArg(s)
	if err != nil {
		return nil, err
	}
	if err := checkElements(shape); err != nil {
		return nil, err
	}
	val := Floats([]int{1}, []float32{0})
	if a, ok, err := c.attr("value", AttrTensor); err != nil {
		return nil, err
	} else if ok {
		if a.T.Len() != 1 {
			return nil, fmt.Errorf("value of shape %v: %w", a.T.Shape, ErrFormat)
		}
		val = a.T
	}
	out := newTensor(val.DType, shape)
	if val.DType.IsFloat() {
		for i := range out.F {
			out.F[i] = val.F[0]
		}
	} else {
		for i := range out.I {
			out.I[i] = val.I[0]
		}
	}
	return []*Tensor{out}, nil
}

func opReshape(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	var want []int
	if c.opset < 5 {
		v, _, err := c.ints("shape")
		if err != nil {
			return nil, err
		}
		want, err = shapeArg(Ints([]int{len(v)}, v))
		if err != nil {
			return nil, err
		}
	} else {
		s, err := need(in, 1)
		if err != nil {
			return nil, err
		}
		if want, err = shapeArg(s); err != nil {
			return nil, err
		}
	}
	allowZero, err := c.int("allowzero", 0)
	if err != nil {
		return nil, err
	}
	shape := slices.Clone(want)
	infer := -1
	known := 1
	for i, d := range shape {
		switch {
		case d == 0 && allowZero == 0:
			if i >= len(x.Shape) {
				return nil, fmt.Errorf("shape %v copies dimension %d of %v: %w", want, i, x.Shape, ErrFormat)
			}
			shape[i] = x.Shape[i]
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has two -1: %w", want, ErrFormat)
			}
			infer = i
			continue
		}
		known *= shape[i]
	}
	if infer >= 0 {
		if known == 0 || x.Len()%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v to %v: %w", x.Shape, want, ErrFormat)
		}
		shape[infer] = x.Len() / known
	}
	if nets.NumElements(shape) != x.Len() {
		return nil, fmt.Errorf("cannot reshape %v to %v: %w", x.Shape, want, ErrFormat)
	}
	return []*Tensor{reshaped(x, shape)}, nil
}

func opFlatten(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	a, err := c.int("axis", 1)
	if err != nil {
		return nil, err
	}
	r := int64(len(x.Shape))
	if a < 0 {
		a += r
	}
	if a < 0 || a > r {
		return nil, fmt.Errorf("axis %d for rank %d: %w", a, r, ErrFormat)
	}
	outer := nets.NumElements(x.Shape[:a])
	return []*Tensor{reshaped(x, []int{outer, nets.NumElements(x.Shape[a:])})}, nil
}

func opTranspose(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	r := len(x.Shape)
	perm, ok, err := c.ints("perm")
	if err != nil {
		return nil, err
	}
	if !ok {
		for i := r - 1; i >= 0; i-- {
			perm = append(perm, int64(i))
		}
	}
	if len(perm) != r {
		return nil, fmt.Errorf("perm %v for rank %d: %w", perm, r, ErrFormat)
	}
	st := stridesOf(x.Shape)
	shape := make([]int, r)
	strides := make([]int, r)
	seen := make([]bool, r)
	for i, p := range perm {
		if p < 0 || p >= int64(r) || seen[p] {
			return nil, fmt.Errorf("perm %v: %w", perm, ErrFormat)
		}
		seen[p] = true
		shape[i] = x.Shape[p]
		strides[i] = st[p]
	}
	return []*Tensor{strided(x, shape, 0, strides)}, nil
}

// axesArg reads the axes of Squeeze and Unsqueeze: an attribute before
// opset 13, an input from 13 on.
func axesArg(c *opCtx, in []*Tensor) ([]int64, bool, error) {
	if t := opt(in, 1); t != nil {
		v, err := intsOf(t)
		return v, true, err
	}
	return c.ints("axes")
}

func opSqueeze(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	axes, ok, err := axesArg(c, in)
	if err != nil {
		return nil, err
	}
	drop := make([]bool, len(x.Shape))
	if !ok {
		for i, d := range x.Shape {
			drop[i] = d == 1
		}
	}
	for _, a := range axes {
		ax, err := normAxis(a, len(x.Shape))
		if err != nil {
			return nil, err
		}
		if x.Shape[ax] != 1 {
			return nil, fmt.Errorf("squeeze axis %d of shape %v: %w", a, x.Shape, ErrFormat)
		}
		drop[ax] = true
	}
	shape := []int{}
	for i, d := range x.Shape {
		if !drop[i] {
			shape = append(shape, d)
		}
	}
	return []*Tensor{reshaped(x, shape)}, nil
}

func opUnsqueeze(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	axes, _, err := axesArg(c, in)
	if err != nil {
		return nil, err
	}
	r := len(x.Shape) + len(axes)
	ins := make([]bool, r)
	for _, a := range axes {
		ax, err := normAxis(a, r)
		if err != nil {
			return nil, err
		}
		if ins[ax] {
			return nil, fmt.Errorf("axes %v repeat: %w", axes, ErrFormat)
		}
		ins[ax] = true
	}
	shape := make([]int, 0, r)
	j := 0
	for i := range r {
		if ins[i] {
			shape = append(shape, 1)
		} else {
			shape = append(shape, x.Shape[j])
			j++
		}
	}
	return []*Tensor{reshaped(x, shape)}, nil
}

func opConcat(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	first, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	axis, err := c.axis(1, len(first.Shape))
	if err != nil {
		return nil, err
	}
	shape := slices.Clone(first.Shape)
	shape[axis] = 0
	for i, t := range in {
		if t == nil {
			return nil, fmt.Errorf("input %d missing: %w", i, ErrFormat)
		}
		if len(t.Shape) != len(shape) || t.DType.IsFloat() != first.DType.IsFloat() {
			return nil, fmt.Errorf("input %d shape %v %v, input 0 %v %v: %w", i, t.Shape, t.DType, first.Shape, first.DType, ErrFormat)
		}
		for j, d := range t.Shape {
			if j != axis && d != shape[j] {
				return nil, fmt.Errorf("input %d shape %v, input 0 %v: %w", i, t.Shape, first.Shape, ErrFormat)
			}
		}
		shape[axis] += t.Shape[axis]
	}
	out := newTensor(first.DType, shape)
	outer := nets.NumElements(shape[:axis])
	inner := nets.NumElements(shape[axis+1:])
	off := 0
	row := shape[axis] * inner
	for _, t := range in {
		blk := t.Shape[axis] * inner
		for o := range outer {
			if out.F != nil {
				copy(out.F[o*row+off:], t.F[o*blk:(o+1)*blk])
			} else {
				copy(out.I[o*row+off:], t.I[o*blk:(o+1)*blk])
			}
		}
		off += blk
	}
	return []*Tensor{out}, nil
}

// sliceAxis returns x restricted to [start, start+n) along axis.
func sliceAxis(x *Tensor, axis, start, n int) *Tensor {
	shape := slices.Clone(x.Shape)
	shape[axis] = n
	st := stridesOf(x.Shape)
	return strided(x, shape, start*st[axis], st)
}

func opSplit(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	axis, err := c.axis(0, len(x.Shape))
	if err != nil {
		return nil, err
	}
	split, _, err := c.ints("split")
	if err != nil {
		return nil, err
	}
	if t := opt(in, 1); t != nil {
		if split, err = intsOf(t); err != nil {
			return nil, err
		}
	}
	nOut := len(c.n.Outputs)
	if split == nil {
		if k, ok := c.n.Attrs["num_outputs"]; ok {
			nOut = int(k.I)
		}
		if nOut <= 0 {
			return nil, fmt.Errorf("no outputs: %w", ErrFormat)
		}
		size := (x.Shape[axis] + nOut - 1) / nOut
		left := x.Shape[axis]
		for range nOut {
			s := min(size, left)
			split = append(split, int64(s))
			left -= s
		}
	}
	var out []*Tensor
	start := 0
	for _, s := range split {
		if s < 0 || start+int(s) > x.Shape[axis] {
			return nil, fmt.Errorf("split %v of %d: %w", split, x.Shape[axis], ErrFormat)
		}
		out = append(out, sliceAxis(x, axis, start, int(s)))
		start += int(s)
	}
	if start != x.Shape[axis] {
		return nil, fmt.Errorf("split %v of %d: %w", split, x.Shape[axis], ErrFormat)
	}
	return out, nil
}

func opSlice(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	var starts, ends, axes, steps []int64
	if c.opset < 10 {
		var err error
		if starts, _, err = c.ints("starts"); err != nil {
			return nil, err
		}
		if ends, _, err = c.ints("ends"); err != nil {
			return nil, err
		}
		if axes, _, err = c.ints("axes"); err != nil {
			return nil, err
		}
	} else {
		get := func(i int) ([]int64, error) {
			if t := opt(in, i); t != nil {
				return intsOf(t)
			}
			return nil, nil
		}
		var err error
		if starts, err = get(1); err != nil {
			return nil, err
		}
		if ends, err = get(2); err != nil {
			return nil, err
		}
		if axes, err = get(3); err != nil {
			return nil, err
		}
		if steps, err = get(4); err != nil {
			return nil, err
		}
	}
	if len(ends) != len(starts) || (axes != nil && len(axes) != len(starts)) || (steps != nil && len(steps) != len(starts)) {
		return nil, fmt.Errorf("starts %v, ends %v, axes %v, steps %v differ in length: %w", starts, ends, axes, steps, ErrFormat)
	}
	r := len(x.Shape)
	shape := slices.Clone(x.Shape)
	begin := make([]int, r)
	step := make([]int, r)
	for i := range step {
		step[i] = 1
	}
	for i := range starts {
		ax := int64(i)
		if axes != nil {
			ax = axes[i]
		}
		a, err := normAxis(ax, r)
		if err != nil {
			return nil, err
		}
		s := int64(1)
		if steps != nil {
			s = steps[i]
		}
		if s == 0 {
			return nil, fmt.Errorf("step 0: %w", ErrFormat)
		}
		dim := int64(x.Shape[a])
		st, en := starts[i], ends[i]
		if st < 0 {
			st += dim
		}
		if en < 0 {
			en += dim
		}
		var n int64
		if s > 0 {
			st = min(max(st, 0), dim)
			en = min(max(en, 0), dim)
			n = max(0, (en-st+s-1)/s)
		} else {
			st = min(max(st, -1), dim-1)
			en = min(max(en, -1), dim-1)
			n = max(0, (st-en+(-s)-1)/(-s))
		}
		begin[a], step[a], shape[a] = int(st), int(s), int(n)
	}
	st := stridesOf(x.Shape)
	base := 0
	strides := make([]int, r)
	for i := range r {
		if shape[i] > 0 {
			base += begin[i] * st[i]
		}
		strides[i] = st[i] * step[i]
	}
	if nets.NumElements(shape) == 0 {
		return []*Tensor{newTensor(x.DType, shape)}, nil
	}
	return []*Tensor{strided(x, shape, base, strides)}, nil
}

// gatherInputs reads what Gather and GatherElements share: the data x, the
// indices (the tensor it and its values ind) and the "axis" attribute,
// default 0, as an axis of x.
func gatherInputs(c *opCtx, in []*Tensor) (x, it *Tensor, ind []int64, axis int, err error) {
	if x, err = need(in, 0); err != nil {
		return
	}
	if it, err = need(in, 1); err != nil {
		return
	}
	if ind, err = intsOf(it); err != nil {
		return
	}
	axis, err = c.axis(0, len(x.Shape))
	return
}

func opGather(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, it, ind, axis, err := gatherInputs(c, in)
	if err != nil {
		return nil, err
	}
	shape := slices.Concat(x.Shape[:axis], it.Shape, x.Shape[axis+1:])
	outer, dim, inner := aroundAxis(x.Shape, axis)
	idx := make([]int, 0, nets.NumElements(shape))
	for o := range outer {
		for _, k := range ind {
			if k < 0 {
				k += int64(dim)
			}
			if k < 0 || k >= int64(dim) {
				return nil, fmt.Errorf("index %d out of range for dimension %d: %w", k, dim, ErrFormat)
			}
			for j := range inner {
				idx = append(idx, (o*dim+int(k))*inner+j)
			}
		}
	}
	return []*Tensor{take(x, shape, idx)}, nil
}

func opExpand(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	s, err := need(in, 1)
	if err != nil {
		return nil, err
	}
	want, err := shapeArg(s)
	if err != nil {
		return nil, err
	}
	shape, err := broadcast(x.Shape, want)
	if err != nil {
		return nil, err
	}
	if err := checkElements(shape); err != nil {
		return nil, err
	}
	return []*Tensor{take(x, shape, bcastIndexes(x.Shape, shape))}, nil
}

func opTile(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	r, err := need(in, 1)
	if err != nil {
		return nil, err
	}
	reps, err := intsOf(r)
	if err != nil {
		return nil, err
	}
	if len(reps) != len(x.Shape) {
		return nil, fmt.Errorf("repeats %v for shape %v: %w", reps, x.Shape, ErrFormat)
	}
	// View the output as [rep0, d0, rep1, d1, ...] with stride 0 on the
	// repeat axes.
	st := stridesOf(x.Shape)
	var vshape, vstr, shape []int
	for i, d := range x.Shape {
		if reps[i] < 0 || reps[i] > MaxElements {
			return nil, fmt.Errorf("repeats %v: %w", reps, ErrFormat)
		}
		vshape = append(vshape, int(reps[i]), d)
		vstr = append(vstr, 0, st[i])
		shape = append(shape, int(reps[i])*d)
	}
	if err := checkElements(shape); err != nil {
		return nil, err
	}
	t := strided(x, vshape, 0, vstr)
	return []*Tensor{reshaped(t, shape)}, nil
}

func opRange(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	var v [3]float64
	var d DType
	for i := range v {
		t, err := need(in, i)
		if err != nil {
			return nil, err
		}
		if v[i], err = scalar(t); err != nil {
			return nil, err
		}
		d = t.DType
	}
	start, limit, delta := v[0], v[1], v[2]
	if delta == 0 {
		return nil, fmt.Errorf("delta 0: %w", ErrFormat)
	}
	n := math.Max(math.Ceil((limit-start)/delta), 0)
	if n > MaxElements || n != n {
		return nil, fmt.Errorf("range of %v elements: %w", n, ErrTooLarge)
	}
	out := newTensor(d, []int{int(n)})
	if d.IsFloat() {
		// Accumulate as PyTorch and onnxruntime do: start + i*delta.
		s, dl := float32(start), float32(delta)
		for i := range out.F {
			out.F[i] = s + float32(i)*dl
		}
	} else {
		s, dl := int64(start), int64(delta)
		for i := range out.I {
			out.I[i] = s + int64(i)*dl
		}
	}
	return []*Tensor{out}, nil
}
