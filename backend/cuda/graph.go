//go:build linux && !android

package cuda

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/landscape-go/landscape/internal/clip"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/onnx"
)

// The graph interpreter runs a network given by an ONNX graph whose
// operators the engines do not run (layer norm, GELU, attention: see
// [onnx.Graph.ReferenceNet]) on the GPU, node by node, as the reference
// evaluator runs it on the CPU.
//
// A graph is planned once for a batch size. Nodes whose inputs are all
// constants (the arithmetic on shapes, causal masks) are evaluated on the
// host by the reference evaluator's own code ([onnx.Graph.EvalNode]);
// the others become kernel launches, cuBLAS and cuDNN calls on buffers
// allocated then, a buffer reused once the values it held are dead. Nodes
// that only move elements (Reshape, Slice, Split, Expand, Tile, Pad,
// Gather by constant indices, ...) are planned by running the reference
// evaluator's code on the input's element indices: the indices it gives
// back say where each output element comes from, so that these nodes
// follow the reference's semantics at every opset without a second
// implementation. A move that keeps the order is free (a view of the
// same buffer), one that a view with strides describes is a strided
// copy, and any other a gather through the index map. Transpose, the
// largest such move in a transformer, is planned directly.
//
// The plan is replayed: the work on the weights alone (a transposed
// weight, say) once per point, the rest once per batch.

// graphPlan is a graph planned for one batch size.
type graphPlan struct {
	perPoint []func() error // work on the weights alone
	perBatch []func() error // work on the batch at input
	input    ptr            // where each batch is placed before perBatch runs
	logits   ptr            // the output: batch × targets × classes
	bytes    int            // device memory the plan holds
	allocs   []ptr
	convs    []*convDesc
	// marks says, for the tests, which values of the batch each node has
	// made once perBatch has run to its step.
	marks []mark
}

// mark is a node's values on the batch: ready after perBatch[:step].
type mark struct {
	step   int
	node   *onnx.Node
	values map[string]*gvalue
}

// gvalue is a value of the graph while it is planned: a constant known
// on the host, or a float32 array on the device.
type gvalue struct {
	shape []int
	k     *onnx.Tensor // the constant, nil for a value on the device
	at    ptr
	buf   *gbuf // the pooled buffer holding it, nil for weights and unpooled values
	batch bool  // depends on the batch, not on the weights alone
	ids   bool  // integers (token ids) held as float32 values
	// transposeOf is, for a matrix transposed from one whose buffer lives
	// as long as the plan (a weight or a constant), that matrix: a product
	// reads it transposed, as PyTorch's Linear does, rather than this copy.
	transposeOf *gvalue
}

func (v *gvalue) size() int { return nets.NumElements(v.shape) }

// gbuf is a device buffer of the pool, held by refs values.
type gbuf struct {
	at    ptr
	bytes int
	refs  int
}

// planner plans a graph for one batch size.
type planner struct {
	e        *Evaluator
	g        *onnx.Graph
	plan     *graphPlan
	vals     map[string]*gvalue
	last     map[string]int // the last node reading each value
	pool     []*gbuf        // free buffers
	uploaded map[*onnx.Tensor]ptr
	err      error // the first allocation error
}

// graphOf returns the ONNX graph net's Forward interprets, or nil.
func graphOf(net *nets.Net) *onnx.Graph {
	g, _ := net.Graph.(*onnx.Graph)
	return g
}

// gpuOps lists the operators the interpreter runs on the device; any
// operator runs on the host when its inputs are all constants.
var gpuOps = map[string]bool{
	"Add": true, "Sub": true, "Mul": true, "Div": true, "Pow": true, "Where": true,
	"Sqrt": true, "Erf": true, "Relu": true, "Sigmoid": true, "Tanh": true, "Exp": true, "Log": true,
	"Neg": true, "Reciprocal": true, "Abs": true, "HardSwish": true, "Clip": true, "LeakyRelu": true, "HardSigmoid": true,
	"Elu": true, "Max": true, "Min": true, "Sum": true, "Mean": true, "PRelu": true, "Softplus": true, "Softsign": true,
	"Sin": true, "Cos": true, "Selu": true, "Gelu": true, "Sign": true, "Equal": true, "Less": true, "LessOrEqual": true,
	"Greater": true, "GreaterOrEqual": true, "And": true, "Or": true, "Xor": true, "Not": true,
	"Softmax": true, "LogSoftmax": true, "LayerNormalization": true, "InstanceNormalization": true, "GlobalAveragePool": true, "GlobalMaxPool": true,
	"ReduceSum": true, "ReduceMean": true, "ReduceMax": true, "ReduceMin": true, "ReduceProd": true, "ReduceSumSquare": true,
	"ReduceL2": true, "ReduceL1": true, "ReduceLogSum": true, "ReduceLogSumExp": true,
	"MaxPool": true, "AveragePool": true,
	"MatMul": true, "Einsum": true, "Gemm": true, "Conv": true, "BatchNormalization": true, "Concat": true, "Gather": true,
	"Cast": true, "Shape": true, "Identity": true, "Dropout": true,
	"Transpose": true, "Reshape": true, "Flatten": true, "Squeeze": true, "Unsqueeze": true,
	"Slice": true, "Split": true, "Expand": true, "Tile": true, "Pad": true,
}

// movers are the operators that only move elements, planned through the
// reference evaluator on element indices.
var movers = map[string]bool{
	"Transpose": true, "Reshape": true, "Flatten": true, "Squeeze": true, "Unsqueeze": true,
	"Slice": true, "Split": true, "Expand": true, "Tile": true, "Gather": true, "Pad": true,
}

// checkGraph returns an error listing every node of g that depends on the
// data or the weights and whose operator the interpreter does not run,
// with its name and the graph's opset; nil if there is none.
func checkGraph(g *onnx.Graph, net *nets.Net) error {
	live := map[string]bool{}
	for _, in := range g.DataInputs() {
		live[in.Name] = true
	}
	for _, p := range net.Params {
		live[p.Name] = true
	}
	var bad []string
	for _, n := range g.Nodes {
		depends := false
		for _, in := range n.Inputs {
			depends = depends || live[in]
		}
		if !depends {
			continue
		}
		for _, out := range n.Outputs {
			live[out] = n.OpType != "Shape"
		}
		if !gpuOps[n.OpType] || n.Domain != "" {
			bad = append(bad, fmt.Sprintf("%s at opset %d", n.Label(), g.Opset))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("cuda: model %s has operators the GPU does not run (the CPU's reference evaluator does): %s", net.Name, clip.Join(bad))
	}
	return nil
}

// planGraph plans e's graph for batches of n samples.
func (e *Evaluator) planGraph(n int) (*graphPlan, error) {
	g := e.graph
	p := &planner{e: e, g: g, plan: &graphPlan{}, vals: map[string]*gvalue{}, last: map[string]int{},
		uploaded: map[*onnx.Tensor]ptr{}}
	for name, t := range g.Initializers {
		p.vals[name] = &gvalue{shape: t.Shape, k: t}
	}
	for _, prm := range e.p.Net.Params {
		if len(prm.Shape) > 0 || g.Initializers[prm.Name] != nil {
			p.vals[prm.Name] = &gvalue{shape: prm.Shape, at: e.param(prm.Name)}
		}
	}
	shape := append([]int{n}, e.feed.Sample...)
	p.plan.input = p.alloc(4*nets.NumElements(shape), false)
	p.vals[e.feed.Input] = &gvalue{shape: shape, at: p.plan.input, batch: true, ids: !e.feed.DType.IsFloat()}
	for i, node := range g.Nodes {
		for _, in := range node.Inputs {
			p.last[in] = i
		}
	}
	out := g.Outputs[0].Name
	p.last[out] = len(g.Nodes)
	for i, node := range g.Nodes {
		if v := p.vals[onnxOut(node)]; v != nil && v.k == nil && node.OpType == "Identity" {
			continue // a parameter the export stored as an Identity of another
		}
		if err := p.node(node); err != nil {
			p.free()
			return nil, fmt.Errorf("cuda: planning %s on the GPU: %w", node.Label(), err)
		}
		if p.err != nil {
			p.free()
			return nil, p.err
		}
		m := mark{step: len(p.plan.perBatch), node: node, values: map[string]*gvalue{}}
		for _, name := range node.Outputs {
			if v := p.vals[name]; name != "" && v != nil && v.batch {
				m.values[name] = v
			}
		}
		if len(m.values) > 0 {
			p.plan.marks = append(p.plan.marks, m)
		}
		for _, name := range slices.Concat(node.Inputs, node.Outputs) {
			if v := p.vals[name]; name != "" && v != nil && p.last[name] <= i {
				p.release(name)
			}
		}
	}
	y := p.vals[out]
	classes, rows := e.p.Net.Config.Classes, e.p.Net.Config.Targets()
	if y == nil || y.k != nil || y.size() != n*rows*classes || y.shape[0] != n {
		p.free()
		return nil, fmt.Errorf("cuda: graph %q gives %v, not the %d x %d logits of %d samples", g.Name, shapeOf(y), rows, classes, n)
	}
	p.plan.logits = y.at
	return p.plan, nil
}

func shapeOf(v *gvalue) []int {
	if v == nil {
		return nil
	}
	return v.shape
}

// onnxOut returns n's first output's name.
func onnxOut(n *onnx.Node) string {
	if len(n.Outputs) == 0 {
		return ""
	}
	return n.Outputs[0]
}

// free gives back what the plan allocated.
func (p *planner) free() { p.e.freePlan(p.plan) }

// freePlan gives back the device memory of plan.
func (e *Evaluator) freePlan(plan *graphPlan) {
	for _, q := range plan.allocs {
		e.g.free(q)
	}
	plan.allocs = nil
}

// alloc returns bytes of device memory: from the pool for a value that
// depends on the batch, whose buffer is reused once it is dead, else a
// buffer of its own, which the per-point work writes once for all the
// batches after it.
func (p *planner) alloc(bytes int, pooled bool) ptr {
	b := p.buffer(bytes, pooled)
	if b == nil {
		return 0
	}
	return b.at
}

func (p *planner) buffer(bytes int, pooled bool) *gbuf {
	bytes = roundUp(max(bytes, 4), 256)
	if pooled {
		best := -1
		for i, b := range p.pool {
			if b.bytes >= bytes && (best < 0 || b.bytes < p.pool[best].bytes) {
				best = i
			}
		}
		if best >= 0 {
			b := p.pool[best]
			p.pool = slices.Delete(p.pool, best, best+1)
			return b
		}
	}
	if p.err != nil {
		return nil
	}
	at, err := p.e.g.alloc(bytes)
	if err != nil {
		p.err = err
		return nil
	}
	p.plan.allocs = append(p.plan.allocs, at)
	p.plan.bytes += bytes
	return &gbuf{at: at, bytes: bytes}
}

// release drops value name (see drop).
func (p *planner) release(name string) {
	v := p.vals[name]
	delete(p.vals, name)
	p.drop(v)
}

// drop lets go of v: its buffer returns to the pool when no value holds
// it.
func (p *planner) drop(v *gvalue) {
	if v.buf == nil {
		return
	}
	if v.buf.refs--; v.buf.refs == 0 {
		p.pool = append(p.pool, v.buf)
	}
}

// output makes name a device value of shape, computed by the batch's or
// the point's work.
func (p *planner) output(name string, shape []int, batch bool) *gvalue {
	v := p.value(shape, batch)
	p.vals[name] = v
	return v
}

// value returns a device value of shape, computed by the batch's or the
// point's work.
func (p *planner) value(shape []int, batch bool) *gvalue {
	v := &gvalue{shape: slices.Clone(shape), batch: batch}
	if batch {
		v.buf = p.buffer(4*nets.NumElements(shape), true)
		if v.buf != nil {
			v.buf.refs = 1
			v.at = v.buf.at
		}
	} else {
		v.at = p.alloc(4*nets.NumElements(shape), false)
	}
	return v
}

// alias makes name a view of x with another shape. Of another shape, it
// is no longer the transpose of x's transposeOf: a product must read it.
func (p *planner) alias(name string, x *gvalue, shape []int) {
	v := *x
	v.shape = slices.Clone(shape)
	if !slices.Equal(shape, x.shape) {
		v.transposeOf = nil
	}
	if v.buf != nil {
		v.buf.refs++
	}
	p.vals[name] = &v
}

// record adds f to the point's or the batch's work.
func (p *planner) record(batch bool, f func() error) {
	if batch {
		p.plan.perBatch = append(p.plan.perBatch, f)
	} else {
		p.plan.perPoint = append(p.plan.perPoint, f)
	}
}

// launch records a launch of kernel name over n elements.
func (p *planner) launch(batch bool, name string, n int, args ...any) {
	g := p.e.g
	p.record(batch, func() error { return g.launch(name, int64(n), args...) })
}

// launchRows records a launch of one of graph.cu's row kernels over rows
// rows of cols values: a block of rowThreads(cols) threads a row, up to
// 2²⁰ blocks, each taking every 2²⁰th row after its first.
func (p *planner) launchRows(batch bool, name string, rows, cols int, args ...any) {
	g := p.e.g
	blocks, threads := uint32(min(max(rows, 1), 1<<20)), rowThreads(cols)
	p.record(batch, func() error { return g.launchGrid(name, blocks, threads, args...) })
}

// rowBlock is graph.cu's ROW_BLOCK, the most threads a row kernel's block
// has.
const rowBlock = 256

// rowThreads is the threads of a row kernel's block for rows of cols
// values: the largest power of two (block_sum's tree needs one) not above
// cols, but from a warp's 32 to rowBlock.
func rowThreads(cols int) uint32 {
	t := 32
	for t < rowBlock && 2*t <= cols {
		t *= 2
	}
	return uint32(t)
}

// device returns where v's values are on the device: a constant is
// uploaded once, as float32.
func (p *planner) device(v *gvalue) ptr {
	if v.k == nil {
		return v.at
	}
	if at, ok := p.uploaded[v.k]; ok {
		return at
	}
	f := v.k.F
	if !v.k.DType.IsFloat() {
		f = make([]float32, len(v.k.I))
		for i, x := range v.k.I {
			f[i] = float32(x)
		}
	}
	at := p.alloc(4*len(f), false)
	if at != 0 {
		if err := upload(p.e.g, at, f); err != nil && p.err == nil {
			p.err = err
		}
	}
	p.uploaded[v.k] = at
	return at
}

// layout uploads a layout block (see graph.cu): the dimensions, their
// fast divisors, then each operand's strides.
func (p *planner) layout(dims []int, strides ...[]int) ptr {
	dims, strides = coalesce(dims, strides)
	m := []int64{int64(len(dims))}
	for _, d := range dims {
		m = append(m, int64(d))
	}
	magic, shift := make([]int64, len(dims)), make([]int64, len(dims))
	for i, d := range dims {
		magic[i], shift[i] = fastDivisor(d)
	}
	m = append(append(m, magic...), shift...)
	for _, s := range strides {
		for _, v := range s {
			m = append(m, int64(v))
		}
	}
	at := p.alloc(8*len(m), false)
	if at != 0 {
		if err := upload(p.e.g, at, m); err != nil && p.err == nil {
			p.err = err
		}
	}
	return at
}

// fastDivisor returns the multiplier and shift by which graph.cu's
// view_offsets divides a 32-bit n below 2³¹ by d, 1 ≤ d < 2³¹:
// n / d = (mulhi(n, magic) + n) >> shift, mulhi the high 32 bits of the
// 64-bit product (Granlund and Montgomery 1994, §4, as PyTorch's
// IntDivider). Other divisors get zeros: their views are never narrow.
func fastDivisor(d int) (magic, shift int64) {
	if d < 1 || d >= 1<<31 {
		return 0, 0
	}
	for 1<<shift < d {
		shift++
	}
	return (1<<32*(1<<shift-int64(d)))/int64(d) + 1, shift
}

// coalesce returns the same view with fewer dimensions, so that the
// kernels divide less per element: dimensions of size 1 dropped, and each
// dimension merged into the one before it where every operand steps over
// both as over one.
func coalesce(dims []int, strides [][]int) ([]int, [][]int) {
	var d []int
	s := make([][]int, len(strides))
	for i, n := range dims {
		if n == 1 {
			continue
		}
		last := len(d) - 1
		merge := last >= 0
		for k := range strides {
			merge = merge && s[k][last] == strides[k][i]*n
		}
		if merge {
			d[last] *= n
			for k := range strides {
				s[k][last] = strides[k][i]
			}
			continue
		}
		d = append(d, n)
		for k := range strides {
			s[k] = append(s[k], strides[k][i])
		}
	}
	return d, s
}

// errNotOnGPU is wrapped by the errors of nodes the interpreter cannot
// run as they are set.
var errNotOnGPU = errors.New("not run on the GPU")

// node plans one node.
func (p *planner) node(n *onnx.Node) error {
	in := make([]*gvalue, len(n.Inputs))
	constant := true
	batch := false
	for i, name := range n.Inputs {
		if name == "" {
			continue
		}
		v := p.vals[name]
		if v == nil {
			return fmt.Errorf("input %q is not known", name)
		}
		in[i] = v
		constant = constant && v.k != nil
		batch = batch || v.batch
	}
	if constant {
		return p.host(n, in)
	}
	if n.OpType == "Shape" {
		return p.host(n, []*gvalue{{shape: in[0].shape, k: &onnx.Tensor{DType: onnx.Float, Shape: in[0].shape}}})
	}
	for i, v := range in {
		readsIntegers := n.OpType == "Gather" && i == 1 || n.OpType == "Where" && i == 0 || movers[n.OpType] || predicates[n.OpType] ||
			n.OpType == "Cast" || n.OpType == "Identity" || n.OpType == "Not"
		if v != nil && v.ids && !readsIntegers {
			return fmt.Errorf("input %d holds integers (token ids, or booleans), which only Gather's indices, comparisons, logic, Where's condition, Cast and moves read on the GPU: %w",
				i, errNotOnGPU)
		}
	}
	out := onnxOut(n)
	switch n.OpType {
	case "Identity":
		p.alias(out, in[0], in[0].shape)
		return nil
	case "Dropout": // inference: the reference evaluator refuses training mode
		if len(n.Outputs) > 1 && n.Outputs[1] != "" && p.last[n.Outputs[1]] > 0 {
			return fmt.Errorf("Dropout's mask is read: %w", errNotOnGPU)
		}
		p.alias(out, in[0], in[0].shape)
		return nil
	case "Cast":
		to, err := n.IntAttr("to", 0)
		if err != nil {
			return err
		}
		// Integers are float32 on the device already, so a cast between
		// them and float32 or float64 is the identity; one to bool makes
		// them 0 and 1. A cast would round to float16, cut float to an
		// integer, wrap into a narrow integer type.
		dt := onnx.DType(to)
		switch {
		case dt == onnx.Bool:
			y := p.output(out, in[0].shape, batch)
			p.launch(batch, "unary", y.size(), y.at, p.device(in[0]), int64(y.size()), int32(toBool), float32(0), float32(0))
			y.ids = true
			return nil
		case dt == onnx.Float || dt == onnx.Double || in[0].ids && (dt == onnx.Int32 || dt == onnx.Int64):
			p.alias(out, in[0], in[0].shape)
			p.vals[out].ids = !dt.IsFloat()
			return nil
		}
		return fmt.Errorf("cast to %v: %w", dt, errNotOnGPU)
	case "Add", "Sub", "Mul", "Div", "Pow", "PRelu", "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor":
		return p.binary(n, in[0], in[1], batch)
	case "Max", "Min", "Sum", "Mean": // variadic: pair by pair
		p.alias(out, in[0], in[0].shape)
		for _, v := range in[1:] {
			acc := p.vals[out]
			if err := p.binary(n, acc, v, batch); err != nil {
				return err
			}
			p.drop(acc)
		}
		if n.OpType == "Mean" {
			acc, count := p.vals[out], &gvalue{shape: []int{}, k: onnx.Floats([]int{}, []float32{float32(len(in))})}
			y := p.value(acc.shape, batch)
			p.launch(batch, "binary", y.size(), y.at, p.device(acc), p.device(count), int64(y.size()),
				p.layout(y.shape, onnx.Strides(y.shape), onnx.Strides(y.shape), make([]int, len(y.shape))), binaryOps["Div"])
			p.drop(acc)
			p.vals[out] = y
		}
		return nil
	case "Where":
		return p.where(n, in, batch)
	case "Softmax", "LogSoftmax":
		return p.softmax(n, in[0], batch)
	case "LayerNormalization":
		return p.layerNorm(n, in, batch)
	case "InstanceNormalization":
		return p.instanceNorm(n, in, batch)
	case "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceSumSquare", "ReduceL2", "ReduceL1",
		"ReduceLogSum", "ReduceLogSumExp":
		return p.reduce(n, in, batch)
	case "GlobalAveragePool", "GlobalMaxPool":
		x := in[0]
		shape := slices.Clone(x.shape)
		for i := 2; i < len(shape); i++ {
			shape[i] = 1
		}
		return p.reduceRows(n, x, shape, x.shape[0]*x.shape[1], batch)
	case "MaxPool", "AveragePool":
		return p.pooling(n, in[0], batch)
	case "MatMul":
		return p.matmul(n, in, batch)
	case "Einsum":
		return p.einsum(n, in, batch)
	case "Gemm":
		return p.gemm(n, in, batch)
	case "Conv":
		return p.conv(n, in, batch)
	case "BatchNormalization":
		return p.batchNorm(n, in, batch)
	case "Concat":
		return p.concat(n, in, batch)
	case "Gather":
		if in[1].k == nil {
			return p.gather(n, in, batch)
		}
	}
	if code, ok, err := unaryOp(n); err != nil {
		return err
	} else if ok {
		a, b, err := p.unaryParams(n, in)
		if err != nil {
			return err
		}
		x := in[0]
		y := p.output(out, x.shape, batch)
		p.launch(batch, "unary", x.size(), y.at, p.device(x), int64(x.size()), code, a, b)
		y.ids = n.OpType == "Not"
		return nil
	}
	if n.OpType == "Transpose" {
		return p.transpose(n, in[0], batch)
	}
	if movers[n.OpType] {
		return p.move(n, in, batch)
	}
	return fmt.Errorf("operator %s: %w", n.OpType, errNotOnGPU)
}

// host evaluates n on the host, its inputs all constants.
func (p *planner) host(n *onnx.Node, in []*gvalue) error {
	ts := make([]*onnx.Tensor, len(in))
	for i, v := range in {
		if v != nil {
			ts[i] = v.k
		}
	}
	out, err := p.g.EvalNode(n, ts)
	if err != nil {
		return err
	}
	for i, name := range n.Outputs {
		if name != "" && i < len(out) && out[i] != nil {
			p.vals[name] = &gvalue{shape: out[i].Shape, k: out[i]}
		}
	}
	return nil
}

// transpose plans Transpose as the view it is, without the reference
// evaluator's pass over element indices (see move): transformers permute
// their largest values, and at a large batch that pass would cost seconds
// of planning each.
func (p *planner) transpose(n *onnx.Node, x *gvalue, batch bool) error {
	r := len(x.shape)
	perm, ok, err := n.IntsAttr("perm")
	if err != nil {
		return err
	}
	if !ok {
		for i := r - 1; i >= 0; i-- {
			perm = append(perm, int64(i))
		}
	}
	own := onnx.Strides(x.shape)
	shape, strides := make([]int, r), make([]int, r)
	seen := make([]bool, r)
	for i, q := range perm {
		if len(perm) != r || q < 0 || q >= int64(r) || seen[q] {
			return fmt.Errorf("perm %v of a rank-%d value: %w", perm, r, onnx.ErrFormat)
		}
		seen[q] = true
		shape[i], strides[i] = x.shape[q], own[q]
	}
	y := p.output(onnxOut(n), shape, batch)
	m := p.layout(shape, onnx.Strides(shape), strides)
	p.launch(batch, "copy_view", y.size(), y.at, p.device(x), int64(y.size()), m, int64(0), int64(0))
	if r == 2 && perm[0] == 1 && x.buf == nil {
		y.transposeOf = x
	}
	return nil
}

// move plans a node that only moves the elements of its first input: the
// reference evaluator runs it on the elements' indices, and each output's
// indices say where its elements come from.
func (p *planner) move(n *onnx.Node, in []*gvalue, batch bool) error {
	x := in[0]
	for i, v := range in[1:] {
		if v != nil && v.k == nil {
			return fmt.Errorf("input %d is computed on the GPU, not a constant: %w", i+1, errNotOnGPU)
		}
	}
	idx := make([]int64, x.size())
	for i := range idx {
		idx[i] = int64(i)
	}
	ts := []*onnx.Tensor{onnx.Ints(x.shape, idx)}
	for _, v := range in[1:] {
		var t *onnx.Tensor
		if v != nil {
			t = v.k
		}
		ts = append(ts, t)
	}
	fill := float32(0)
	if n.OpType == "Pad" {
		var err error
		if n, ts, fill, err = padByIndex(p.g.Opset, n, ts); err != nil {
			return err
		}
	}
	out, err := p.g.EvalNode(n, ts)
	if err != nil {
		return err
	}
	for j, name := range n.Outputs {
		if name == "" || j >= len(out) || out[j] == nil {
			continue
		}
		from, shape := out[j].I, out[j].Shape
		if len(from) == len(idx) && slices.Equal(from, idx) {
			p.alias(name, x, shape)
			p.vals[name].ids = x.ids
			continue
		}
		y := p.output(name, shape, batch)
		y.ids = x.ids
		if strides, base, ok := viewOf(shape, from); ok {
			m := p.layout(shape, onnx.Strides(shape), strides)
			p.launch(batch, "copy_view", len(from), y.at, p.device(x), int64(len(from)), m, int64(0), int64(base))
			continue
		}
		m := p.alloc(8*len(from), false)
		if m != 0 {
			if err := upload(p.e.g, m, from); err != nil {
				return err
			}
		}
		p.launch(batch, "gather_map", len(from), y.at, p.device(x), m, int64(len(from)), fill)
	}
	return nil
}

// padByIndex returns Pad node n and its inputs ts (the element indices
// first) with -1, which no index is, as the constant padded with, and the
// value the graph pads with, so that the padding's places in the indices
// the reference evaluator gives back are -1.
func padByIndex(opset int64, n *onnx.Node, ts []*onnx.Tensor) (*onnx.Node, []*onnx.Tensor, float32, error) {
	if opset < 11 {
		fill, err := n.FloatAttr("value", 0)
		c := *n
		c.Attrs = maps.Clone(n.Attrs)
		c.Attrs["value"] = &onnx.Attr{Name: "value", Type: onnx.AttrFloat, F: -1}
		return &c, ts, fill, err
	}
	fill := float32(0)
	if len(ts) > 2 && ts[2] != nil && ts[2].Len() > 0 {
		if ts[2].F != nil {
			fill = ts[2].F[0]
		} else {
			fill = float32(ts[2].I[0])
		}
	}
	ts = append(slices.Clone(ts), make([]*onnx.Tensor, max(0, 3-len(ts)))...)
	ts[2] = onnx.Ints([]int{}, []int64{-1})
	return n, ts, fill, nil
}

// viewOf returns the strides and offset with which element i of a
// row-major array of shape is element from[i] of its source, if there
// are such.
func viewOf(shape []int, from []int64) ([]int, int, bool) {
	if len(from) == 0 {
		return make([]int, len(shape)), 0, true
	}
	unit := onnx.Strides(shape)
	strides := make([]int, len(shape))
	base := int(from[0])
	for d, n := range shape {
		if n > 1 {
			strides[d] = int(from[unit[d]]) - base
		}
	}
	at := make([]int, len(shape))
	off := base
	for i, f := range from {
		if int(f) != off {
			return nil, 0, false
		}
		if i == len(from)-1 {
			break
		}
		for d := len(shape) - 1; d >= 0; d-- { // the next index, odometer-wise
			at[d]++
			off += strides[d]
			if at[d] < shape[d] {
				break
			}
			off -= strides[d] * at[d]
			at[d] = 0
		}
	}
	return strides, base, true
}

// runSteps runs the recorded work of a plan.
func runSteps(steps []func() error) error {
	for _, f := range steps {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}
