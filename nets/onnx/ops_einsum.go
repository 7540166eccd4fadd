package onnx

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/landscape-go/landscape/nets"
)

// Einsum is an Einstein summation's labels: each input's, one per axis
// (an ellipsis replaced by labels from U+0100 on), the output's, and each
// label's dimension.
type Einsum struct {
	Inputs [][]rune
	Output []rune
	Size   map[rune]int
}

// ParseEinsum reads equation for inputs of shapes: an ellipsis stands for
// the same leading dimensions in every operand that has one (no
// broadcasting between them); without "->", the output is the ellipsis
// and then the labels used once, in alphabetical order.
func ParseEinsum(equation string, shapes [][]int) (*Einsum, error) {
	eq := strings.ReplaceAll(equation, " ", "")
	lhs, rhs, explicit := strings.Cut(eq, "->")
	terms := strings.Split(lhs, ",")
	if len(terms) != len(shapes) {
		return nil, fmt.Errorf("equation %q for %d inputs: %w", eq, len(shapes), ErrFormat)
	}
	size := map[rune]int{}
	var ellipsis []rune // labels standing for "..."
	labels := make([][]rune, len(terms))
	for i, term := range terms {
		shape := shapes[i]
		explicitN := len(strings.ReplaceAll(term, "...", ""))
		if strings.Contains(term, "...") {
			n := len(shape) - explicitN
			if n < 0 || (ellipsis != nil && n != len(ellipsis)) {
				return nil, fmt.Errorf("ellipsis of input %d (shape %v): %w", i, shape, ErrUnsupported)
			}
			if ellipsis == nil {
				ellipsis = make([]rune, n)
				for k := range ellipsis {
					ellipsis[k] = rune(0x100 + k) // beyond the letters
				}
			}
			term = strings.Replace(term, "...", string(ellipsis), 1)
		}
		labels[i] = []rune(term)
		if len(labels[i]) != len(shape) {
			return nil, fmt.Errorf("term %q for shape %v: %w", terms[i], shape, ErrFormat)
		}
		for a, l := range labels[i] {
			if d, ok := size[l]; ok && d != shape[a] {
				return nil, fmt.Errorf("label %q is %d and %d: %w", l, d, shape[a], ErrFormat)
			}
			size[l] = shape[a]
		}
	}
	var out []rune
	if explicit {
		out = []rune(strings.Replace(rhs, "...", string(ellipsis), 1))
	} else {
		count := map[rune]int{}
		for _, ls := range labels {
			for _, l := range ls {
				count[l]++
			}
		}
		for l, n := range count {
			if n == 1 && l < 0x100 {
				out = append(out, l)
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
		out = append(slices.Clone(ellipsis), out...)
	}
	for _, l := range out {
		if _, ok := size[l]; !ok {
			return nil, fmt.Errorf("output label %q not in any input: %w", l, ErrFormat)
		}
	}
	return &Einsum{Inputs: labels, Output: out, Size: size}, nil
}

// opEinsum evaluates an Einstein summation by visiting every combination
// of label values: simple and slow, as a reference should be. An ellipsis
// stands for the same leading dimensions in every operand that has one
// (no broadcasting between them).
func opEinsum(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	eq, err := c.str("equation", "")
	if err != nil {
		return nil, err
	}
	shapes := make([][]int, len(in))
	first := in[0]
	for i, t := range in {
		if t == nil || t.DType.IsFloat() != first.DType.IsFloat() {
			return nil, fmt.Errorf("input %d: %w", i, ErrFormat)
		}
		shapes[i] = t.Shape
	}
	e, err := ParseEinsum(eq, shapes)
	if err != nil {
		return nil, err
	}
	labels, out, size := e.Inputs, e.Output, e.Size
	all := slices.Clone(out)
	for l := range size {
		if !slices.Contains(all, l) {
			all = append(all, l)
		}
	}
	sort.Slice(all[len(out):], func(i, j int) bool { return all[len(out)+i] < all[len(out)+j] })
	dims := make([]int, len(all))
	for i, l := range all {
		dims[i] = size[l]
	}
	if err := checkElements(dims); err != nil {
		return nil, err
	}
	// Strides of each input, and of the output, over all labels.
	pos := map[rune]int{}
	for i, l := range all {
		pos[l] = i
	}
	strides := make([][]int, len(in))
	for i, t := range in {
		strides[i] = make([]int, len(all))
		st := stridesOf(t.Shape)
		for a, l := range labels[i] {
			strides[i][pos[l]] += st[a] // a repeated label walks the diagonal
		}
	}
	outShape := dims[:len(out)]
	ost := make([]int, len(all))
	copy(ost, stridesOf(outShape))
	oidx := indexes(dims, 0, ost)
	res := newTensor(first.DType, slices.Clone(outShape))
	idx := make([][]int, len(in))
	for i := range in {
		idx[i] = indexes(dims, 0, strides[i])
	}
	for p := range nets.NumElements(dims) {
		if res.F != nil {
			v := float32(1)
			for i, t := range in {
				v *= t.F[idx[i][p]]
			}
			res.F[oidx[p]] += v
		} else {
			v := int64(1)
			for i, t := range in {
				v *= t.I[idx[i][p]]
			}
			res.I[oidx[p]] += v
		}
	}
	return []*Tensor{res}, nil
}

// opTopK returns the k largest (or smallest) values along an axis and
// their indices, sorted, ties by lower index.
func opTopK(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := need(in, 0)
	if err != nil {
		return nil, err
	}
	var k int64
	if c.opset < 10 {
		if k, err = c.int("k", 0); err != nil {
			return nil, err
		}
	} else {
		kt, err := need(in, 1)
		if err != nil {
			return nil, err
		}
		kv, err := intsOf(kt)
		if err != nil || len(kv) != 1 {
			return nil, fmt.Errorf("k of shape %v: %w", kt.Shape, ErrFormat)
		}
		k = kv[0]
	}
	axis, err := c.axis(-1, len(x.Shape))
	if err != nil {
		return nil, err
	}
	largest, err := c.int("largest", 1)
	if err != nil {
		return nil, err
	}
	outer, n, inner := aroundAxis(x.Shape, axis)
	if k < 0 || k > int64(n) {
		return nil, fmt.Errorf("k %d for dimension %d: %w", k, n, ErrFormat)
	}
	shape := slices.Clone(x.Shape)
	shape[axis] = int(k)
	vals, inds := newTensor(x.DType, shape), newTensor(Int64, shape)
	get := func(i int) float64 {
		if x.F != nil {
			return float64(x.F[i])
		}
		return float64(x.I[i])
	}
	order := make([]int, n)
	for o := range outer {
		for j := range inner {
			for q := range order {
				order[q] = q
			}
			at := func(q int) float64 { return get((o*n+q)*inner + j) }
			sort.SliceStable(order, func(p, q int) bool {
				if largest != 0 {
					return at(order[p]) > at(order[q])
				}
				return at(order[p]) < at(order[q])
			})
			for q := range int(k) {
				src, dst := (o*n+order[q])*inner+j, (o*int(k)+q)*inner+j
				if x.F != nil {
					vals.F[dst] = x.F[src]
				} else {
					vals.I[dst] = x.I[src]
				}
				inds.I[dst] = int64(order[q])
			}
		}
	}
	return []*Tensor{vals, inds}, nil
}
