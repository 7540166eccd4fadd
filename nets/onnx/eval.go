package onnx

import (
	"errors"
	"fmt"
	"slices"

	"github.com/landscape-go/landscape/nets"
)

// MaxElements bounds the size of any value the evaluator creates from data
// (ConstantOfShape, Expand, Range, Tile), so that a small hostile model
// cannot ask for terabytes.
const MaxElements = 1 << 31

// opFunc evaluates one node on its inputs (nil for omitted optional ones)
// and returns one tensor per node output (nil for ones it does not make).
type opFunc func(c *opCtx, in []*Tensor) ([]*Tensor, error)

// opCtx gives an op its node and the graph's opset.
type opCtx struct {
	n     *Node
	opset int64
	k     *nets.Kernels // a backend's, or nil
}

// transposedOperands returns the MatMul nodes of g whose second input is
// the output of a Transpose with perm [1, 0] that nothing else reads, and
// that Transpose's node.
func transposedOperands(g *Graph) map[int]int {
	readers := map[string]int{}
	for _, n := range g.Nodes {
		for _, name := range n.Inputs {
			readers[name]++
		}
	}
	for _, v := range g.Outputs {
		readers[v.Name]++
	}
	made := map[string]int{}
	for i, n := range g.Nodes {
		if n.OpType != "Transpose" || len(n.Inputs) != 1 || len(n.Outputs) != 1 {
			continue
		}
		c := &opCtx{n: n, opset: g.Opset}
		if perm, ok, err := c.ints("perm"); err == nil && ok && slices.Equal(perm, []int64{1, 0}) {
			made[n.Outputs[0]] = i
		}
	}
	fused := map[int]int{}
	for i, n := range g.Nodes {
		if n.OpType != "MatMul" || len(n.Inputs) != 2 {
			continue
		}
		if t, ok := made[n.Inputs[1]]; ok && readers[n.Inputs[1]] == 1 {
			fused[i] = t
		}
	}
	return fused
}

// errNotFused means a fused MatMul's operand was not what the fusion
// needs: the Transpose and MatMul then run as they are.
var errNotFused = errors.New("not fused")

// matmulTransposed is MatMul(a, Transpose(w)) for a 2-D w (N×K), by the
// backend's product with w transposed: a's rows, over all its leading
// axes, are one matrix (w has none to broadcast).
func (c *opCtx) matmulTransposed(a, w *Tensor) ([]*Tensor, error) {
	if a == nil || w == nil || len(w.Shape) != 2 || len(a.Shape) == 0 || !a.DType.IsFloat() || !w.DType.IsFloat() {
		return nil, errNotFused
	}
	N, K := w.Shape[0], w.Shape[1]
	if a.Shape[len(a.Shape)-1] != K || N == 0 || K == 0 {
		return nil, errNotFused
	}
	shape := append(slices.Clone(a.Shape[:len(a.Shape)-1]), N)
	out := newTensor(a.DType, shape)
	if M := len(a.F) / K; M > 0 {
		c.k.MatMul(true, M, N, K, a.F, w.F, out.F)
	}
	return []*Tensor{out}, nil
}

// matmul sets dst, all zeros, to a·b (row-major, a M×K, b K×N): by the
// backend's kernel where there is one, else by the evaluator's loops.
func (c *opCtx) matmul(dst, a, b []float32, M, K, N int) {
	if c.k != nil && c.k.MatMul != nil && M > 0 && N > 0 && K > 0 {
		c.k.MatMul(false, M, N, K, a[:M*K], b[:K*N], dst[:M*N])
		return
	}
	matmulTo(dst, a, b, M, K, N)
}

// Run evaluates the graph on inputs, given by name, and returns its
// outputs by name. If weights is not nil, its tensors replace the
// parameters of the same name and shape (the points of a loss landscape):
// floating-point initializers and the parameters stored as an Identity of
// one (see [Graph.ParamAliases]); other names are an error.
func (g *Graph) Run(inputs map[string]*Tensor, weights *nets.StateDict) (map[string]*Tensor, error) {
	return g.RunWith(inputs, weights, nil)
}

// RunWith is [Graph.Run] with a backend's kernels k for its matrix
// products (nil: the evaluator's own loops). Results agree to float32
// rounding: the products sum in the kernels' order.
func (g *Graph) RunWith(inputs map[string]*Tensor, weights *nets.StateDict, k *nets.Kernels) (map[string]*Tensor, error) {
	if err := g.Check(); err != nil {
		return nil, fmt.Errorf("onnx: graph %q: %w", g.Name, err)
	}
	vals := make(map[string]*Tensor, len(g.Initializers)+len(g.Nodes))
	for name, t := range g.Initializers {
		vals[name] = t
	}
	given := map[string]*Tensor{} // parameters stored as an Identity
	if weights != nil {
		aliases := g.ParamAliases()
		for _, name := range weights.Names() {
			w, _ := weights.Get(name)
			src, isAlias := aliases[name]
			if !isAlias {
				src = name
			}
			t, ok := g.Initializers[src]
			if !ok || !t.DType.IsFloat() || !slices.Equal(t.Shape, w.Shape) {
				return nil, fmt.Errorf("onnx: weight %q shape %v does not match a float parameter of the graph: %w", name, w.Shape, nets.ErrMismatch)
			}
			if isAlias {
				given[name] = &Tensor{DType: t.DType, Shape: t.Shape, F: w.Data}
			} else {
				vals[name] = &Tensor{DType: t.DType, Shape: t.Shape, F: w.Data}
			}
		}
	}
	for _, v := range g.DataInputs() {
		t, ok := inputs[v.Name]
		if !ok {
			return nil, fmt.Errorf("onnx: input %q not given", v.Name)
		}
		if len(t.F)+len(t.I) != t.Len() || (t.DType.IsFloat() && len(t.I) > 0) {
			return nil, fmt.Errorf("onnx: input %q: shape %v does not match its data", v.Name, t.Shape)
		}
		if t.DType != v.DType {
			return nil, fmt.Errorf("onnx: input %q: element type %v, the graph wants %v", v.Name, t.DType, v.DType)
		}
		if v.Shape != nil && len(v.Shape) != len(t.Shape) {
			return nil, fmt.Errorf("onnx: input %q: shape %v, the graph wants rank %d (%v)", v.Name, t.Shape, len(v.Shape), v.Shape)
		}
		for i, d := range v.Shape {
			if d >= 0 && int(d) != t.Shape[i] {
				return nil, fmt.Errorf("onnx: input %q: shape %v, the graph wants %v", v.Name, t.Shape, v.Shape)
			}
		}
		vals[v.Name] = t
	}
	// With a backend's product, a MatMul of a 2-D Transpose's output (an
	// nn.Linear exported on a sequence: its weight transposed at every
	// run) reads the Transpose's input as a transposed operand instead.
	var fused map[int]int // MatMul node → the Transpose node it reads
	if k != nil && k.MatMul != nil {
		fused = transposedOperands(g)
	}
	skip := map[int]bool{}
	for _, t := range fused {
		skip[t] = true
	}
	// A value computed by a node is dropped after the last node that reads
	// it, so that the collector can take it: a transformer's transposed
	// weights and activations would otherwise all stay alive to the end.
	last := map[string]int{}
	for i, n := range g.Nodes {
		for _, name := range n.Inputs {
			last[name] = i
		}
	}
	for _, v := range g.Outputs {
		last[v.Name] = len(g.Nodes)
	}
	for mm, t := range fused { // the MatMul reads the Transpose's input
		if src := g.Nodes[t].Inputs[0]; last[src] < mm {
			last[src] = mm
		}
	}
	for i, n := range g.Nodes {
		if i > 0 {
			for _, name := range g.Nodes[i-1].Inputs {
				if _, init := g.Initializers[name]; last[name] == i-1 && !init {
					delete(vals, name)
				}
			}
		}
		if t, ok := given[outName(n)]; ok && n.OpType == "Identity" {
			vals[outName(n)] = t
			continue
		}
		if skip[i] {
			continue
		}
		in := make([]*Tensor, len(n.Inputs))
		for i, name := range n.Inputs {
			if name != "" {
				in[i] = vals[name]
			}
		}
		ctx := &opCtx{n: n, opset: g.Opset, k: k}
		var out []*Tensor
		var err error
		if t, ok := fused[i]; ok {
			out, err = ctx.matmulTransposed(in[0], vals[g.Nodes[t].Inputs[0]])
			if errors.Is(err, errNotFused) { // not 2-D after all: transpose it
				var tr []*Tensor
				if tr, err = ops["Transpose"](&opCtx{n: g.Nodes[t], opset: g.Opset, k: k}, []*Tensor{vals[g.Nodes[t].Inputs[0]]}); err == nil {
					out, err = ops[n.OpType](ctx, []*Tensor{in[0], tr[0]})
				}
			}
		} else {
			out, err = ops[n.OpType](ctx, in)
		}
		if err != nil {
			return nil, fmt.Errorf("onnx: %s: %w", n.Label(), err)
		}
		for i, name := range n.Outputs {
			if name == "" {
				continue
			}
			if i >= len(out) || out[i] == nil {
				return nil, fmt.Errorf("onnx: %s: output %d (%q): %w", n.Label(), i, name, ErrUnsupported)
			}
			vals[name] = out[i]
		}
	}
	res := make(map[string]*Tensor, len(g.Outputs))
	for _, v := range g.Outputs {
		res[v.Name] = vals[v.Name]
	}
	return res, nil
}

// Attribute helpers.

func (c *opCtx) attr(name string, typ AttrType) (*Attr, bool, error) {
	a, ok := c.n.Attrs[name]
	if !ok {
		return nil, false, nil
	}
	if a.Type != typ {
		return nil, false, fmt.Errorf("attribute %s has type %d, want %d: %w", name, a.Type, typ, ErrFormat)
	}
	return a, true, nil
}

func (c *opCtx) int(name string, def int64) (int64, error) {
	a, ok, err := c.attr(name, AttrInt)
	if !ok {
		return def, err
	}
	return a.I, nil
}

// axis returns the "axis" attribute (def if absent) as an index into a
// shape of the given rank, negative values counting from the end.
func (c *opCtx) axis(def int64, rank int) (int, error) {
	a, err := c.int("axis", def)
	if err != nil {
		return 0, err
	}
	return normAxis(a, rank)
}

func (c *opCtx) float(name string, def float32) (float32, error) {
	a, ok, err := c.attr(name, AttrFloat)
	if !ok {
		return def, err
	}
	return a.F, nil
}

func (c *opCtx) str(name, def string) (string, error) {
	a, ok, err := c.attr(name, AttrString)
	if !ok {
		return def, err
	}
	return a.S, nil
}

func (c *opCtx) ints(name string) ([]int64, bool, error) {
	a, ok, err := c.attr(name, AttrInts)
	if !ok {
		return nil, false, err
	}
	return a.Ints, true, nil
}

// need returns in[i], or an error if the input is missing.
func need(in []*Tensor, i int) (*Tensor, error) {
	if i >= len(in) || in[i] == nil {
		return nil, fmt.Errorf("input %d missing: %w", i, ErrFormat)
	}
	return in[i], nil
}

// opt returns in[i], or nil if omitted.
func opt(in []*Tensor, i int) *Tensor {
	if i >= len(in) {
		return nil
	}
	return in[i]
}

func needFloat(in []*Tensor, i int) (*Tensor, error) {
	t, err := need(in, i)
	if err == nil && !t.DType.IsFloat() {
		err = fmt.Errorf("input %d has element type %v, want a float type: %w", i, t.DType, ErrUnsupported)
	}
	return t, err
}

// intsOf returns the elements of an integer tensor.
func intsOf(t *Tensor) ([]int64, error) {
	if t.DType.IsFloat() {
		return nil, fmt.Errorf("element type %v, want an integer type: %w", t.DType, ErrFormat)
	}
	return t.I, nil
}

// scalar returns the single element of t as float64.
func scalar(t *Tensor) (float64, error) {
	if t.Len() != 1 {
		return 0, fmt.Errorf("shape %v, want one element: %w", t.Shape, ErrFormat)
	}
	if t.DType.IsFloat() {
		return float64(t.F[0]), nil
	}
	return float64(t.I[0]), nil
}

// Shape helpers.

func normAxis(axis int64, rank int) (int, error) {
	if axis < -int64(rank) || axis >= int64(rank) {
		return 0, fmt.Errorf("axis %d out of range for rank %d: %w", axis, rank, ErrFormat)
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), nil
}

// aroundAxis views shape as [outer, n, inner] around axis: n is the axis's
// length, outer and inner the numbers of elements before and after it.
func aroundAxis(shape []int, axis int) (outer, n, inner int) {
	return nets.NumElements(shape[:axis]), shape[axis], nets.NumElements(shape[axis+1:])
}

func stridesOf(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

func checkElements(shape []int) error {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("negative dimension in %v: %w", shape, ErrFormat)
		}
		n *= int64(d)
		if n > MaxElements {
			return fmt.Errorf("shape %v beyond %d elements: %w", shape, int64(MaxElements), ErrTooLarge)
		}
	}
	return nil
}

// broadcast returns the numpy broadcast of shapes.
func broadcast(shapes ...[]int) ([]int, error) {
	rank := 0
	for _, s := range shapes {
		rank = max(rank, len(s))
	}
	out := make([]int, rank)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		off := rank - len(s)
		for i, d := range s {
			switch {
			case d == out[off+i] || d == 1:
			case out[off+i] == 1:
				out[off+i] = d
			default:
				return nil, fmt.Errorf("shapes %v do not broadcast: %w", shapes, ErrFormat)
			}
		}
	}
	return out, nil
}

// bcastIndexes returns, for each element of shape to in row-major order,
// the flat index of the element of shape from that broadcasts to it.
func bcastIndexes(from, to []int) []int { return indexes(to, 0, bcastStrides(from, to)) }

// bcastStrides returns the strides that read a tensor of shape from as if
// it had the broadcast shape to.
func bcastStrides(from, to []int) []int {
	s := make([]int, len(to))
	fs := stridesOf(from)
	off := len(to) - len(from)
	for i, d := range from {
		if d != 1 {
			s[off+i] = fs[i]
		}
	}
	return s
}

// indexes returns, for each element of a value of shape out in row-major
// order, base plus the dot product of its coordinates with strides.
func indexes(out []int, base int, strides []int) []int {
	n := nets.NumElements(out)
	idx := make([]int, n)
	if n == 0 {
		return idx
	}
	coord := make([]int, len(out))
	cur := base
	for i := range idx {
		idx[i] = cur
		cur = next(coord, out, strides, cur)
	}
	return idx
}

// next advances coord, coordinates over the axes of shape, by one
// element in row-major order, and returns the offset cur moved with it by
// strides.
func next(coord, shape, strides []int, cur int) int {
	for a := len(coord) - 1; a >= 0; a-- {
		coord[a]++
		cur += strides[a]
		if coord[a] < shape[a] {
			return cur
		}
		cur -= strides[a] * coord[a]
		coord[a] = 0
	}
	return cur
}

// strided returns a tensor of t's type and the given shape whose element
// at coordinates c is t's element base + Σ c·strides: take of indexes'
// table, without the table (eight bytes an element), a row of the last
// axis at a time (one copy where its stride is 1).
func strided(t *Tensor, shape []int, base int, strides []int) *Tensor {
	out := &Tensor{DType: t.DType, Shape: shape}
	n := nets.NumElements(shape)
	if t.DType.IsFloat() {
		out.F = make([]float32, n)
		copyStrided(out.F, t.F, shape, base, strides)
	} else {
		out.I = make([]int64, n)
		copyStrided(out.I, t.I, shape, base, strides)
	}
	return out
}

// copyStrided is strided's copy into dst, of src's elements.
func copyStrided[T float32 | int64](dst, src []T, shape []int, base int, strides []int) {
	if len(dst) == 0 {
		return
	}
	r := len(shape)
	if r == 0 {
		dst[0] = src[base]
		return
	}
	last, ls := shape[r-1], strides[r-1]
	coord := make([]int, r-1)
	cur := base
	for o := 0; o < len(dst); o += last {
		row := dst[o : o+last]
		if ls == 1 {
			copy(row, src[cur:cur+last])
		} else {
			for j := range row {
				row[j] = src[cur+j*ls]
			}
		}
		cur = next(coord, shape[:r-1], strides[:r-1], cur)
	}
}

// take returns a tensor of t's type and the given shape whose element i is
// t's element idx[i].
func take(t *Tensor, shape []int, idx []int) *Tensor {
	out := &Tensor{DType: t.DType, Shape: shape}
	if t.DType.IsFloat() {
		out.F = make([]float32, len(idx))
		for i, j := range idx {
			out.F[i] = t.F[j]
		}
	} else {
		out.I = make([]int64, len(idx))
		for i, j := range idx {
			out.I[i] = t.I[j]
		}
	}
	return out
}

// reshaped returns t with a new shape, sharing its data.
func reshaped(t *Tensor, shape []int) *Tensor {
	return &Tensor{DType: t.DType, Shape: shape, F: t.F, I: t.I}
}

// outName is the name of n's first output, "" if it has none.
func outName(n *Node) string {
	if len(n.Outputs) == 0 {
		return ""
	}
	return n.Outputs[0]
}
