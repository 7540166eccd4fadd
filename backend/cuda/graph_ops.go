//go:build linux && !android

package cuda

import (
	"errors"
	"fmt"
	"slices"

	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/onnx"
)

// The graph interpreter's operators that compute (graph.go plans the
// others: moves, and what runs on the host), each planned as kernel
// launches (graph.cu) and cuBLAS and cuDNN calls.

// unaryOps numbers the unary functions of graph.cu's unary.
var unaryOps = map[string]int32{"Sqrt": 0, "Erf": 1, "Relu": 2, "Sigmoid": 3, "Tanh": 4, "Exp": 5, "Log": 6, "Neg": 7,
	"Reciprocal": 8, "Abs": 9, "HardSwish": 10, "Clip": 11, "LeakyRelu": 12, "HardSigmoid": 13, "Elu": 14,
	"Softplus": 15, "Softsign": 16, "Sin": 17, "Cos": 18, "Selu": 19, "Gelu": 20, "Sign": 22, "Not": 23}

// toBool is graph.cu's unary function for a cast to bool.
const toBool = 24

// binaryOps numbers the operators of graph.cu's binary.
var binaryOps = map[string]int32{"Add": 0, "Sub": 1, "Mul": 2, "Div": 3, "Pow": 4, "Max": 5, "Min": 6, "PRelu": 7,
	"Sum": 0, "Mean": 0, "Equal": 8, "Less": 9, "LessOrEqual": 10, "Greater": 11, "GreaterOrEqual": 12, "And": 13, "Or": 14,
	"Xor": 15}

// predicates are the binary operators that give booleans: any operands,
// integers too, and a result of 0s and 1s.
var predicates = map[string]bool{"Equal": true, "Less": true, "LessOrEqual": true, "Greater": true, "GreaterOrEqual": true,
	"And": true, "Or": true, "Xor": true}

// unaryParams returns the parameters of unary function n (see graph.cu's
// unary), with the reference evaluator's defaults.
func (p *planner) unaryParams(n *onnx.Node, in []*gvalue) (a, b float32, err error) {
	switch n.OpType {
	case "Clip":
		ts := make([]*onnx.Tensor, len(in))
		for i, v := range in[1:] {
			if v != nil && v.k == nil {
				return 0, 0, fmt.Errorf("bounds computed on the GPU: %w", errNotOnGPU)
			}
			if v != nil {
				ts[i+1] = v.k
			}
		}
		lo, hi, err := p.g.ClipBounds(n, ts)
		return float32(lo), float32(hi), err
	case "LeakyRelu":
		a, err = n.FloatAttr("alpha", 0.01)
	case "HardSigmoid":
		a, err = n.FloatAttr("alpha", 0.2)
		if err == nil {
			b, err = n.FloatAttr("beta", 0.5)
		}
	case "Elu":
		a, err = n.FloatAttr("alpha", 1)
	case "Selu":
		a, err = n.FloatAttr("alpha", 1.67326319217681884765625)
		if err == nil {
			b, err = n.FloatAttr("gamma", 1.05070102214813232421875)
		}
	}
	return a, b, err
}

// unaryOp returns the number of unary function n in graph.cu's unary.
func unaryOp(n *onnx.Node) (int32, bool, error) {
	code, ok := unaryOps[n.OpType]
	if n.OpType == "Gelu" {
		approx, err := n.StringAttr("approximate", "none")
		switch {
		case err != nil:
			return 0, false, err
		case approx == "tanh":
			code++
		case approx != "none":
			return 0, false, fmt.Errorf("approximate %q: %w", approx, errNotOnGPU)
		}
	}
	return code, ok, nil
}

// binary plans Add, Sub, Mul, Div, Pow, Max, Min, PRelu or a comparison
// or logical operator of a and b (or a pair of Sum's or Mean's operands),
// broadcasting numpy's way.
func (p *planner) binary(n *onnx.Node, a, b *gvalue, batch bool) error {
	if (a.ids || b.ids) && !predicates[n.OpType] {
		return fmt.Errorf("integer operands: %w", errNotOnGPU)
	}
	shape, err := onnx.Broadcast(a.shape, b.shape)
	if err != nil {
		return err
	}
	y := p.output(onnxOut(n), shape, batch)
	m := ptr(0)
	if !slices.Equal(a.shape, shape) || !slices.Equal(b.shape, shape) {
		m = p.layout(shape, onnx.Strides(shape), onnx.BroadcastStrides(a.shape, shape), onnx.BroadcastStrides(b.shape, shape))
	}
	p.launch(batch, "binary", y.size(), y.at, p.device(a), p.device(b), int64(y.size()), m, binaryOps[n.OpType])
	y.ids = predicates[n.OpType]
	return nil
}

// where plans Where(c, x, y), broadcasting numpy's way.
func (p *planner) where(n *onnx.Node, in []*gvalue, batch bool) error {
	c, x, y := in[0], in[1], in[2]
	if x.ids || y.ids {
		return fmt.Errorf("integer operands: %w", errNotOnGPU)
	}
	shape, err := onnx.Broadcast(c.shape, x.shape, y.shape)
	if err != nil {
		return err
	}
	out := p.output(onnxOut(n), shape, batch)
	m := p.layout(shape, onnx.Strides(shape), onnx.BroadcastStrides(c.shape, shape), onnx.BroadcastStrides(x.shape, shape), onnx.BroadcastStrides(y.shape, shape))
	p.launch(batch, "where", out.size(), out.at, p.device(c), p.device(x), p.device(y), int64(out.size()), m)
	return nil
}

// axis returns n's axis attribute (def if absent) as an index into rank
// dimensions.
func axis(n *onnx.Node, def int64, rank int) (int, error) {
	a, err := n.IntAttr("axis", def)
	if err != nil {
		return 0, err
	}
	if a < 0 {
		a += int64(rank)
	}
	if a < 0 || a >= int64(max(rank, 1)) {
		return 0, fmt.Errorf("axis %d of a rank-%d value: %w", a, rank, onnx.ErrFormat)
	}
	return int(a), nil
}

// softmax plans Softmax and LogSoftmax over the last axis (at opset 13
// and later) or over the axes from axis on (before).
func (p *planner) softmax(n *onnx.Node, x *gvalue, batch bool) error {
	def := int64(-1)
	if p.g.Opset < 13 {
		def = 1
	}
	ax, err := axis(n, def, len(x.shape))
	if err != nil {
		return err
	}
	if p.g.Opset >= 13 && ax != len(x.shape)-1 {
		return fmt.Errorf("softmax over axis %d of %v, not the last: %w", ax, x.shape, errNotOnGPU)
	}
	cols := nets.NumElements(x.shape[ax:])
	y := p.output(onnxOut(n), x.shape, batch)
	rows := x.size() / max(cols, 1)
	log := int32(0)
	if n.OpType == "LogSoftmax" {
		log = 1
	}
	p.launchRows(batch, "softmax_rows", rows, cols, y.at, p.device(x), int64(rows), int32(cols), log)
	return nil
}

// layerNorm plans LayerNormalization, its scale and bias of the
// normalised shape.
func (p *planner) layerNorm(n *onnx.Node, in []*gvalue, batch bool) error {
	x, scale := in[0], in[1]
	var bias *gvalue
	if len(in) > 2 {
		bias = in[2]
	}
	for i, name := range n.Outputs[1:] {
		if name != "" && p.last[name] > 0 {
			return fmt.Errorf("output %d (the statistics) is read: %w", i+1, errNotOnGPU)
		}
	}
	ax, err := axis(n, -1, len(x.shape))
	if err != nil {
		return err
	}
	eps, err := n.FloatAttr("epsilon", 1e-5)
	if err != nil {
		return err
	}
	cols := nets.NumElements(x.shape[ax:])
	if scale.size() != cols || bias != nil && bias.size() != cols {
		return fmt.Errorf("scale %v and bias %v for normalised shape %v: %w", scale.shape, shapeOf(bias), x.shape[ax:], errNotOnGPU)
	}
	y := p.output(onnxOut(n), x.shape, batch)
	b := ptr(0)
	if bias != nil {
		b = p.device(bias)
	}
	rows := x.size() / max(cols, 1)
	p.launchRows(batch, "layer_norm_rows", rows, cols, y.at, p.device(x), p.device(scale), b, int64(rows), int32(cols), eps, int32(0))
	return nil
}

// instanceNorm plans InstanceNormalization: each channel of each sample
// normalised over its values, then scaled and shifted by the channel's
// (PyTorch's GroupNorm exports as one over the groups).
func (p *planner) instanceNorm(n *onnx.Node, in []*gvalue, batch bool) error {
	x, scale, bias := in[0], in[1], in[2]
	eps, err := n.FloatAttr("epsilon", 1e-5)
	if err != nil {
		return err
	}
	if len(x.shape) < 2 || scale.size() != x.shape[1] || bias.size() != x.shape[1] {
		return fmt.Errorf("input %v, scale %v, bias %v: %w", x.shape, scale.shape, bias.shape, onnx.ErrFormat)
	}
	y := p.output(onnxOut(n), x.shape, batch)
	rows := x.shape[0] * x.shape[1]
	cols := x.size() / max(rows, 1)
	p.launchRows(batch, "layer_norm_rows", rows, cols, y.at, p.device(x), p.device(scale), p.device(bias), int64(rows), int32(cols), eps,
		int32(x.shape[1]))
	return nil
}

// reductions numbers the reductions of graph.cu's reduce_rows.
var reductions = map[string]int32{"ReduceSum": 0, "ReduceMean": 1, "ReduceMax": 2, "ReduceMin": 3, "ReduceProd": 4,
	"ReduceSumSquare": 5, "ReduceL2": 6, "ReduceL1": 7, "ReduceLogSum": 8, "ReduceLogSumExp": 9,
	"GlobalAveragePool": 1, "GlobalMaxPool": 2}

// reduce plans a reduction over trailing axes.
func (p *planner) reduce(n *onnx.Node, in []*gvalue, batch bool) error {
	x := in[0]
	keep, err := n.IntAttr("keepdims", 1)
	if err != nil {
		return err
	}
	axes, _, err := n.IntsAttr("axes")
	if err != nil {
		return err
	}
	if len(in) > 1 && in[1] != nil {
		if in[1].k == nil {
			return fmt.Errorf("axes computed on the GPU: %w", errNotOnGPU)
		}
		axes = in[1].k.I
	}
	rank := len(x.shape)
	red := make([]bool, rank)
	for _, a := range axes {
		if a < 0 {
			a += int64(rank)
		}
		if a < 0 || a >= int64(rank) {
			return fmt.Errorf("axis %d of a rank-%d value: %w", a, rank, onnx.ErrFormat)
		}
		red[a] = true
	}
	if len(axes) == 0 {
		if noop, _ := n.IntAttr("noop_with_empty_axes", 0); noop != 0 {
			p.alias(onnxOut(n), x, x.shape)
			return nil
		}
		for i := range red {
			red[i] = true
		}
	}
	first := slices.Index(red, true)
	if first < 0 || slices.Contains(red[first:], false) {
		return fmt.Errorf("mean over axes %v of %v, not trailing ones: %w", axes, x.shape, errNotOnGPU)
	}
	var shape []int
	for i, d := range x.shape {
		switch {
		case !red[i]:
			shape = append(shape, d)
		case keep != 0:
			shape = append(shape, 1)
		}
	}
	return p.reduceRows(n, x, shape, nets.NumElements(x.shape[:first]), batch)
}

// reduceRows plans reduction n over the rows of x, into a value of shape.
func (p *planner) reduceRows(n *onnx.Node, x *gvalue, shape []int, rows int, batch bool) error {
	y := p.output(onnxOut(n), shape, batch)
	cols := x.size() / max(rows, 1)
	p.launch(batch, "reduce_rows", rows, y.at, p.device(x), int64(rows), int64(cols), reductions[n.OpType])
	return nil
}

// gather plans Gather by indices computed on the device (token ids).
func (p *planner) gather(n *onnx.Node, in []*gvalue, batch bool) error {
	data, idx := in[0], in[1]
	ax, err := axis(n, 0, len(data.shape))
	if err != nil {
		return err
	}
	shape := slices.Concat(data.shape[:ax], idx.shape, data.shape[ax+1:])
	y := p.output(onnxOut(n), shape, batch)
	inner := nets.NumElements(data.shape[ax+1:])
	p.launch(batch, "gather_rows", y.size(), y.at, p.device(data), p.device(idx), int64(y.size()), int64(idx.size()),
		int64(data.shape[ax]), int64(inner))
	return nil
}

// concat plans Concat: each input copied into its part of the output.
func (p *planner) concat(n *onnx.Node, in []*gvalue, batch bool) error {
	rank := len(in[0].shape)
	ax, err := axis(n, 0, rank)
	if err != nil {
		return err
	}
	shape := slices.Clone(in[0].shape)
	shape[ax] = 0
	for _, v := range in {
		if len(v.shape) != rank || v.ids {
			return fmt.Errorf("inputs %v: %w", v.shape, errNotOnGPU)
		}
		shape[ax] += v.shape[ax]
	}
	y := p.output(onnxOut(n), shape, batch)
	outer, inner := nets.NumElements(shape[:ax]), nets.NumElements(shape[ax+1:])
	off := 0
	for _, v := range in {
		k := v.shape[ax]
		dims := []int{outer, k, inner}
		m := p.layout(dims, []int{shape[ax] * inner, inner, 1}, onnx.Strides(dims))
		p.launch(batch, "copy_view", v.size(), y.at, p.device(v), int64(v.size()), m, int64(off*inner), int64(0))
		off += k
	}
	return nil
}

// pooling plans MaxPool and AveragePool by the reference evaluator's table
// of the positions each output reads, any window, stride, padding,
// dilation and rounding.
func (p *planner) pooling(n *onnx.Node, x *gvalue, batch bool) error {
	if len(n.Outputs) > 1 && n.Outputs[1] != "" {
		return fmt.Errorf("MaxPool's indices: %w", errNotOnGPU)
	}
	w, err := p.g.Pooling(n, x.shape)
	if err != nil {
		return err
	}
	ints := func(v []int) ptr {
		at := p.alloc(4*len(v), false)
		if at != 0 {
			v32 := make([]int32, len(v))
			for i, x := range v {
				v32[i] = int32(x)
			}
			if err := upload(p.e.g, at, v32); err != nil && p.err == nil {
				p.err = err
			}
		}
		return at
	}
	count := ptr(0)
	if n.OpType == "AveragePool" {
		count = ints(w.Count)
	}
	y := p.output(onnxOut(n), w.Out, batch)
	in := nets.NumElements(x.shape[2:])
	p.launch(batch, "pool_table", y.size(), y.at, p.device(x), int64(y.size()), int32(in), int32(w.Positions), int32(w.K),
		ints(w.Tab), count)
	return nil
}

// matmul plans MatMul, numpy's matrix product: one SGEMM where the second
// operand is a single matrix, else a batched one over every pair of
// matrices the broadcast makes.
func (p *planner) matmul(n *onnx.Node, in []*gvalue, batch bool) error {
	a, b := in[0], in[1]
	mm, err := onnx.MatMulShapes(a.shape, b.shape)
	if err != nil {
		return err
	}
	M, K, N, lead, as, bs, shape := mm.M, mm.K, mm.N, mm.Lead, mm.A, mm.B, mm.Out
	y := p.output(onnxOut(n), shape, batch)
	pa, pb := p.device(a), p.device(b)
	count := nets.NumElements(lead)
	if nets.NumElements(bs[:len(bs)-2]) == 1 && nets.NumElements(as[:len(as)-2]) == count {
		// The rows of every matrix of a against b at once.
		pw, tb := p.operandB(b, false)
		p.sgemm(n, batch, y.at, pa, pw, count*M, K, N, false, tb, 1)
		return nil
	}
	ia := onnx.BroadcastStrides(as[:len(as)-2], lead)
	ib := onnx.BroadcastStrides(bs[:len(bs)-2], lead)
	addrs := make([]int64, 0, 3*count)
	for _, which := range []struct {
		base   ptr
		stride []int
		size   int
	}{{pa, ia, M * K}, {pb, ib, K * N}, {y.at, onnx.Strides(lead), M * N}} {
		for i := range count {
			off, r := 0, i
			for d := len(lead) - 1; d >= 0; d-- {
				off += r % lead[d] * which.stride[d]
				r /= lead[d]
			}
			addrs = append(addrs, int64(which.base)+int64(4*off*which.size))
		}
	}
	return p.gemmBatched(n, batch, addrs, count, M, K, N)
}

// einsum plans an Einstein summation of one operand that permutes it, or
// of two whose labels each appear once in their operand and, but for the
// output's, in both: the operands permuted to (batch, rows, summed) and
// (batch, summed, columns), their batched product, and the product
// permuted to the output's order.
func (p *planner) einsum(n *onnx.Node, in []*gvalue, batch bool) error {
	eq, err := n.StringAttr("equation", "")
	if err != nil {
		return err
	}
	shapes := make([][]int, len(in))
	for i, v := range in {
		shapes[i] = v.shape
	}
	e, err := onnx.ParseEinsum(eq, shapes)
	if err != nil {
		return err
	}
	for _, ls := range append(slices.Clone(e.Inputs), e.Output) {
		for i, l := range ls {
			if slices.Contains(ls[i+1:], l) {
				return fmt.Errorf("equation %q repeats a label in a term: %w", eq, errNotOnGPU)
			}
		}
	}
	out := onnxOut(n)
	if len(in) == 1 {
		if len(e.Output) != len(e.Inputs[0]) {
			return fmt.Errorf("equation %q sums within its operand: %w", eq, errNotOnGPU)
		}
		y := p.output(out, labelDims(e, e.Output), batch)
		p.permute(batch, y.at, in[0], e.Inputs[0], e.Output, e)
		return nil
	}
	if len(in) != 2 {
		return fmt.Errorf("equation %q of %d operands: %w", eq, len(in), errNotOnGPU)
	}
	la, lb, lo := e.Inputs[0], e.Inputs[1], e.Output
	var common, rows, cols, summed []rune
	for _, l := range lo {
		switch a, b := slices.Contains(la, l), slices.Contains(lb, l); {
		case a && b:
			common = append(common, l)
		case a:
			rows = append(rows, l)
		default:
			cols = append(cols, l)
		}
	}
	for _, l := range la {
		if !slices.Contains(lo, l) {
			if !slices.Contains(lb, l) {
				return fmt.Errorf("equation %q sums %q within one operand: %w", eq, l, errNotOnGPU)
			}
			summed = append(summed, l)
		}
	}
	for _, l := range lb {
		if !slices.Contains(lo, l) && !slices.Contains(la, l) {
			return fmt.Errorf("equation %q sums %q within one operand: %w", eq, l, errNotOnGPU)
		}
	}
	size := func(ls []rune) int { return nets.NumElements(labelDims(e, ls)) }
	count, M, K, N := size(common), size(rows), size(summed), size(cols)
	a := p.value([]int{count, M, K}, batch)
	b := p.value([]int{count, K, N}, batch)
	p.permute(batch, a.at, in[0], la, slices.Concat(common, rows, summed), e)
	p.permute(batch, b.at, in[1], lb, slices.Concat(common, summed, cols), e)
	product := slices.Concat(common, rows, cols)
	c := p.value(labelDims(e, product), batch)
	if err := p.batchedProduct(n, batch, c.at, a.at, b.at, count, M, K, N); err != nil {
		return err
	}
	p.drop(a)
	p.drop(b)
	if slices.Equal(product, lo) {
		p.vals[out] = c
		return nil
	}
	y := p.output(out, labelDims(e, lo), batch)
	p.permute(batch, y.at, c, product, lo, e)
	p.drop(c)
	return nil
}

// labelDims returns the dimensions of labels ls of e.
func labelDims(e *onnx.Einsum, ls []rune) []int {
	d := make([]int, len(ls))
	for i, l := range ls {
		d[i] = e.Size[l]
	}
	return d
}

// permute records a copy of x, whose axes are labelled from, into dst
// with its axes in the order to.
func (p *planner) permute(batch bool, dst ptr, x *gvalue, from, to []rune, e *onnx.Einsum) {
	own := onnx.Strides(x.shape)
	strides := make([]int, len(to))
	for i, l := range to {
		strides[i] = own[slices.Index(from, l)]
	}
	dims := labelDims(e, to)
	m := p.layout(dims, onnx.Strides(dims), strides)
	total := nets.NumElements(dims)
	p.launch(batch, "copy_view", total, dst, p.device(x), int64(total), m, int64(0), int64(0))
}

// batchedProduct records c = a·b for count row-major matrices each, a
// M×K, b K×N and c M×N, one after another in memory.
func (p *planner) batchedProduct(n *onnx.Node, batch bool, c, a, b ptr, count, M, K, N int) error {
	if count == 1 {
		p.sgemm(n, batch, c, a, b, M, K, N, false, false, 1)
		return nil
	}
	addrs := make([]int64, 0, 3*count)
	for _, m := range []struct {
		base ptr
		size int
	}{{a, M * K}, {b, K * N}, {c, M * N}} {
		for i := range count {
			addrs = append(addrs, int64(m.base)+int64(4*i*m.size))
		}
	}
	return p.gemmBatched(n, batch, addrs, count, M, K, N)
}

// gemmBatched records count products C = A·B, row-major, A M×K, B K×N,
// whose addresses addrs lists: every A's, then every B's, then every C's.
// Where each operand's matrices lie a fixed stride apart (attention's heads,
// a broadcast matrix at stride 0), cuBLAS's strided batched product, which
// reads no address array and chooses kernels for the shape, runs instead.
func (p *planner) gemmBatched(n *onnx.Node, batch bool, addrs []int64, count, M, K, N int) error {
	e := p.e
	if sa, sb, sc, ok := strides(addrs, count); ok {
		a, b, c := uint64(addrs[0]), uint64(addrs[count]), uint64(addrs[2*count])
		p.record(batch, func() error {
			// Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ.
			rc := e.a.cublasSgemmStridedBatched(e.g.blas, 0, 0, int32(N), int32(M), int32(K), &one, b, int32(N), sb, a, int32(K), sa,
				&zero, c, int32(N), sc, int32(count))
			return e.a.cublas("cublasSgemmStridedBatched "+n.Label(), rc)
		})
		return nil
	}
	arr := p.alloc(8*len(addrs), false)
	if arr != 0 {
		if err := upload(p.e.g, arr, addrs); err != nil {
			return err
		}
	}
	p.record(batch, func() error {
		rc := e.a.cublasSgemmBatched(e.g.blas, 0, 0, int32(N), int32(M), int32(K), &one, uint64(arr)+uint64(8*count), int32(N),
			uint64(arr), int32(K), &zero, uint64(arr)+uint64(16*count), int32(N), int32(count))
		return e.a.cublas("cublasSgemmBatched "+n.Label(), rc)
	})
	return nil
}

// strides returns, where each of the three operands' count addresses in
// addrs (as gemmBatched's) step by a fixed number of bytes, those steps in
// float32 values.
func strides(addrs []int64, count int) (sa, sb, sc int64, ok bool) {
	var s [3]int64
	for k := range s {
		op := addrs[k*count : (k+1)*count]
		if count > 1 {
			s[k] = op[1] - op[0]
		}
		for i := 1; i < count; i++ {
			if op[i]-op[i-1] != s[k] {
				return 0, 0, 0, false
			}
		}
		if s[k]%4 != 0 {
			return 0, 0, 0, false
		}
	}
	return s[0] / 4, s[1] / 4, s[2] / 4, true
}

// operandB returns where a product's second operand b is and whether it
// is read transposed (tb as given): b itself, or where b is a weight
// transposed (transposeOf), that weight read the other way, as PyTorch's
// Linear reads its weight.
func (p *planner) operandB(b *gvalue, tb bool) (ptr, bool) {
	if b.transposeOf != nil {
		return p.device(b.transposeOf), !tb
	}
	return p.device(b), tb
}

// sgemm records y = α·op(a)·op(b) for node n, row-major: op(a) M×K (a
// stored K×M where ta), op(b) K×N (b stored N×K where tb), y M×N.
func (p *planner) sgemm(n *onnx.Node, batch bool, y, a, b ptr, M, K, N int, ta, tb bool, alpha float32) {
	lda, ldb, opA, opB := K, N, int32(0), int32(0)
	if ta {
		lda, opA = M, 1
	}
	if tb {
		ldb, opB = K, 1
	}
	e := p.e
	p.record(batch, func() error {
		// Row-major y = op(a)·op(b) is column-major yᵀ = op(b)ᵀ·op(a)ᵀ.
		rc := e.a.cublasSgemm(e.g.blas, opB, opA, int32(N), int32(M), int32(K), &alpha, uint64(b), int32(ldb), uint64(a), int32(lda),
			&zero, uint64(y), int32(N))
		return e.a.cublas("cublasSgemm "+n.Label(), rc)
	})
}

// gemm plans Gemm: α·op(A)·op(B) + β·C.
func (p *planner) gemm(n *onnx.Node, in []*gvalue, batch bool) error {
	a, b := in[0], in[1]
	alpha, err := n.FloatAttr("alpha", 1)
	if err != nil {
		return err
	}
	beta, err := n.FloatAttr("beta", 1)
	if err != nil {
		return err
	}
	ta, err := n.IntAttr("transA", 0)
	if err != nil {
		return err
	}
	tb, err := n.IntAttr("transB", 0)
	if err != nil {
		return err
	}
	if len(a.shape) != 2 || len(b.shape) != 2 {
		return fmt.Errorf("shapes %v and %v: %w", a.shape, b.shape, onnx.ErrFormat)
	}
	M, K := a.shape[0], a.shape[1]
	if ta != 0 {
		M, K = K, M
	}
	N := b.shape[1]
	if tb != 0 {
		N = b.shape[0]
	}
	shape := []int{M, N}
	y := p.output(onnxOut(n), shape, batch)
	pb, transB := p.operandB(b, tb != 0)
	p.sgemm(n, batch, y.at, p.device(a), pb, M, K, N, ta != 0, transB, alpha)
	if len(in) < 3 || in[2] == nil {
		return nil
	}
	c := in[2]
	if _, err := onnx.Broadcast(c.shape, shape); err != nil {
		return err
	}
	cc := p.device(c)
	if beta != 1 {
		scaled := p.value(c.shape, c.batch)
		p.launch(c.batch, "binary", c.size(), scaled.at, cc, p.device(&gvalue{shape: []int{}, k: onnx.Floats([]int{}, []float32{beta})}),
			int64(c.size()), p.layout(c.shape, onnx.Strides(c.shape), onnx.Strides(c.shape), make([]int, len(c.shape))), binaryOps["Mul"])
		cc = scaled.at
	}
	m := p.layout(shape, onnx.Strides(shape), onnx.Strides(shape), onnx.BroadcastStrides(c.shape, shape))
	p.launch(batch, "binary", y.size(), y.at, y.at, cc, int64(y.size()), m, binaryOps["Add"])
	return nil
}

// conv plans a 1-D or 2-D convolution by cuDNN (a 1-D one as a 2-D one
// of height 1), any kernel, strides, dilations and groups, padded equally
// on both sides of each axis, and its bias.
func (p *planner) conv(n *onnx.Node, in []*gvalue, batch bool) error {
	x, w := in[0], in[1]
	nd := len(x.shape) - 2
	if nd < 1 || nd > 2 || len(w.shape) != len(x.shape) {
		return fmt.Errorf("input %v and weight %v, not 1-D or 2-D: %w", x.shape, w.shape, errNotOnGPU)
	}
	group, err := n.IntAttr("group", 1)
	if err != nil {
		return err
	}
	// axes returns attribute name's values by axis, height then width,
	// for each of its count groups (pads has two: the begins, then the
	// ends); a 1-D convolution's height takes def.
	axes := func(name string, def int64, count int) ([]int, error) {
		v, ok, err := n.IntsAttr(name)
		if err != nil || ok && len(v) != count*nd {
			return nil, errors.Join(err, fmt.Errorf("%s %v for a %d-D convolution: %w", name, v, nd, onnx.ErrFormat))
		}
		out := make([]int, 0, 2*count)
		for g := range count {
			h, w := def, def
			if ok {
				w = v[g*nd+nd-1]
				if nd == 2 {
					h = v[g*nd]
				}
			}
			out = append(out, int(h), int(w))
		}
		return out, nil
	}
	strides, err1 := axes("strides", 1, 1)
	dilations, err2 := axes("dilations", 1, 1)
	pads, err3 := axes("pads", 0, 2) // begin h, begin w, end h, end w
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}
	switch auto, err := n.StringAttr("auto_pad", "NOTSET"); {
	case err != nil:
		return err
	case auto == "VALID":
		pads = []int{0, 0, 0, 0}
	case auto != "NOTSET":
		return fmt.Errorf("auto_pad %q: %w", auto, errNotOnGPU)
	}
	if pads[0] != pads[2] || pads[1] != pads[3] {
		return fmt.Errorf("pads (height, width) %v before and %v after, not equal: %w", pads[:2], pads[2:], errNotOnGPU)
	}
	x4, w4 := x.shape, w.shape
	if nd == 1 {
		x4 = []int{x.shape[0], x.shape[1], 1, x.shape[2]}
		w4 = []int{w.shape[0], w.shape[1], 1, w.shape[2]}
	}
	s := convShape{n: x4[0], c: x4[1], h: x4[2], w: x4[3], k: w4[0], kh: w4[2], kw: w4[3], sh: strides[0], sw: strides[1],
		ph: pads[0], pw: pads[1], dh: dilations[0], dw: dilations[1], groups: int(group)}
	s.oh = (s.h+2*s.ph-s.dh*(s.kh-1)-1)/s.sh + 1
	s.ow = (s.w+2*s.pw-s.dw*(s.kw-1)-1)/s.sw + 1
	d, err := p.e.convDesc(s)
	if err != nil {
		return err
	}
	p.plan.convs = append(p.plan.convs, d)
	shape := []int{s.n, s.k, s.oh, s.ow}
	if nd == 1 {
		shape = []int{s.n, s.k, s.ow}
	}
	y := p.output(onnxOut(n), shape, batch)
	px, pw := p.device(x), p.device(w)
	e := p.e
	p.record(batch, func() error {
		rc := e.a.cudnnConvolutionForward(e.g.dnn, &one, d.x, uint64(px), d.w, uint64(pw), d.conv, d.algo,
			uint64(e.workspace), e.workspaceSize, &zero, d.y, uint64(y.at))
		return e.a.cudnn("cudnnConvolutionForward "+n.Label(), rc)
	})
	if len(in) > 2 && in[2] != nil {
		p.launch(batch, "add_channel", y.size(), y.at, p.device(in[2]), int64(y.size()), int32(s.k), int32(s.oh*s.ow))
	}
	return nil
}

// batchNorm plans an eval-mode BatchNormalization: the per-channel scale
// and shift once per point, then one pass over the batch.
func (p *planner) batchNorm(n *onnx.Node, in []*gvalue, batch bool) error {
	if len(in) != 5 || len(n.Outputs) > 1 && slices.ContainsFunc(n.Outputs[1:], func(s string) bool { return s != "" }) {
		return fmt.Errorf("training mode: %w", errNotOnGPU)
	}
	x := in[0]
	eps, err := n.FloatAttr("epsilon", 1e-5)
	if err != nil {
		return err
	}
	if len(x.shape) < 2 {
		return fmt.Errorf("input %v: %w", x.shape, onnx.ErrFormat)
	}
	C := x.shape[1]
	scale, shift := p.alloc(4*C, false), p.alloc(4*C, false)
	args := []any{scale, shift, int32(C), ptr(0), p.device(in[1]), p.device(in[2]), p.device(in[3]), p.device(in[4]), eps}
	g := p.e.g
	p.record(false, func() error {
		return g.launchGrid("fold", uint32((C+launchBlock-1)/launchBlock), launchBlock, args...)
	})
	y := p.output(onnxOut(n), x.shape, batch)
	hw := nets.NumElements(x.shape[2:])
	p.launch(batch, "epilogue", y.size(), y.at, p.device(x), ptr(0), scale, shift, int64(y.size()), int32(C), int32(hw), int32(0))
	return nil
}
