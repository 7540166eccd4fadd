package onnx

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/landscape-go/landscape/nets"
)

// ErrNotLowerable is wrapped by the error [Graph.Net] returns for a graph
// that uses an operator, or a setting of one, that the engines do not run.
var ErrNotLowerable = errors.New("not runnable on the engines")

// exporterNamed reports whether an initializer's name is one
// torch.onnx.export made up: a tensor it folded or renamed, not a
// parameter of the model under its state-dict name. The TorchScript
// exporter names them "onnx::Conv_212"; the dynamo exporter, PyTorch's
// default from 2.9, "val_82".
func exporterNamed(name string) bool {
	if strings.HasPrefix(name, "onnx::") {
		return true
	}
	n, ok := strings.CutPrefix(name, "val_")
	return ok && n != "" && strings.Trim(n, "0123456789") == ""
}

// ExportAdvice is the torch.onnx.export call that keeps what a loss
// landscape needs: every parameter under its state-dict name, and batch
// norm as BatchNormalization with its running statistics. The defaults
// (training=EVAL with constant folding) fold batch norm into the
// convolutions, so that its parameters are lost and the others renamed;
// the dynamo exporter, PyTorch's default from 2.9, folds transposed
// weights into new tensors (dynamo=False, which PyTorch 1.13 does not
// take, keeps the TorchScript exporter).
const ExportAdvice = "torch.onnx.export(model.eval(), x, FILE, training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False), with dynamo=False on PyTorch 2.9 and later"

// Net lowers g onto the ops of package nets, so that the CPU and CUDA
// engines evaluate it with their fast kernels, and returns the network
// with its weights: the graph's values of every parameter, under the
// parameter's PyTorch name.
//
// The graph must take one float input, images N x C x H x W (dimension 0
// is the batch, whatever the export fixed it to; other dimensions the
// export left dynamic come from cfg), or flattened images N x F, and give
// one output, the logits N x classes. Its nodes must map onto nets' ops:
// Conv (grouped or not, square kernel, equal strides and pads, no
// dilation), BatchNormalization (eval mode), Relu, Clip to constants
// (ReLU6), Sigmoid, HardSigmoid and HardSwish as PyTorch's, Add of two
// computed values, Mul of two (SiLU) or of a map by a per-channel scale
// (squeeze-and-excitation), MaxPool (square, padded by at most half its window) and
// AveragePool (square, unpadded), GlobalAveragePool or
// ReduceMean over H and W, Gemm as nn.Linear exports it, Concat of
// channels, and the reshaping a view, flatten or squeeze exports (with
// the Shape, Gather, Unsqueeze and Concat arithmetic around it, folded
// here). Identity, Dropout and zero Pad pass their input on, and a final
// LogSoftmax is dropped: log_softmax is idempotent, so the cross-entropy
// and the accuracy are those of its input. A final Softmax is dropped too
// (see [Graph.Logits]), its output's loss being −log p[y].
//
// Parameters keep their PyTorch identity: each op's parameters are named
// by the initializers the node reads (prefix.weight, prefix.bias; a batch
// norm's running statistics are buffers, and each batch norm gets a
// num_batches_tracked entry, which the export drops, so that PyTorch
// checkpoints fit), in the order of the initializers in the file, which
// is the order of the model's state dict. An export that has renamed or
// folded parameters is recognised and explained (see [ExportAdvice]).
//
// A graph that does not lower gives an error wrapping [ErrNotLowerable]
// that names, on each path through the graph, the first node at fault and
// why, and then every op type of the graph that the engines do not run.
func (g *Graph) Net(name string, cfg nets.Config) (*nets.Net, *nets.StateDict, error) {
	if err := g.Check(); err != nil {
		return nil, nil, fmt.Errorf("onnx: graph %q: %w", g.Name, err)
	}
	g, _ = g.Logits()
	l := &lowering{g: g, flow: map[string]flowing{}, consts: map[string]*Tensor{}, alias: map[string]string{}}
	for name, t := range g.Initializers {
		l.consts[name] = t
	}
	if err := l.input(name, cfg); err != nil {
		return nil, nil, err
	}
	for _, n := range g.Nodes {
		l.node(n)
	}
	return l.finish()
}

// flowing is a value computed from the network's input: nets value v,
// of rank 4 (N, C, H, W) or 2 (N, F). A rank-2 value is flat when it is a
// feature map with more than one pixel flattened, which only Linear and
// element-wise ops may read, since nets keeps it in its C x H x W shape.
type flowing struct {
	v    int
	rank int
	flat bool
	// A rank-5 value is value v's channels viewed as groups x C/groups
	// (ShuffleNet's x.view(N, G, C/G, H, W)), swapped to C/groups x
	// groups if shuffled: only a Transpose swapping them, then a Reshape
	// back to N x C x H x W (a ChannelShuffle), may read it.
	groups   int
	shuffled bool
}

// paramGroup is the parameters of one op, in the op's order; groups are
// put in the order of their first initializer in the file.
type paramGroup struct {
	first  int // index in InitializerNames of the group's first initializer
	params []nets.Param
}

type lowering struct {
	g        *Graph
	b        *nets.Builder
	batch    int // the input's dimension 0 as exported, 1 if dynamic
	flow     map[string]flowing
	consts   map[string]*Tensor // initializers, constants and what is folded from them
	alias    map[string]string  // Identity outputs of float initializers: their source
	groups   []paramGroup
	index    map[string]int // position of each initializer in the file
	problems []string
	last     int // the value of the op added last
}

// input sets up the builder from the graph's one data input.
func (l *lowering) input(name string, cfg nets.Config) error {
	v, cfg, batch, err := l.g.imageInput(cfg)
	if err != nil {
		return err
	}
	if cfg.Seq > 0 {
		return fmt.Errorf("onnx: graph %q takes token ids %q; the engines run image classifiers (the reference evaluator runs language models): %w", l.g.Name, v.Name, ErrNotLowerable)
	}
	l.batch = max(batch, 1)
	l.b = nets.NewBuilder(name, cfg)
	l.flow[v.Name] = flowing{v: 0, rank: len(v.Shape)}
	return nil
}

// imageInput checks that g takes one float input, images N x C x H x W or
// flattened ones N x F, or one integer input, token ids N x T (a language
// model: cfg.Seq is then set), and returns it with cfg's input geometry
// set from it (cfg filling the dimensions the export left dynamic) and the
// batch the export fixed (0 if dynamic). Its errors wrap
// [ErrUnsupported]: neither the engines nor the reference evaluator can
// feed such a graph.
func (g *Graph) imageInput(cfg nets.Config) (ValueInfo, nets.Config, int, error) {
	in := g.DataInputs()
	if len(in) != 1 {
		return ValueInfo{}, cfg, 0, fmt.Errorf("onnx: graph %q has %d data inputs; a loss landscape feeds one, the images or the token ids: %w", g.Name, len(in), ErrUnsupported)
	}
	v := in[0]
	dims := slices.Clone(v.Shape)
	if (v.DType == Int64 || v.DType == Int32) && len(dims) == 2 {
		if dims[1] < 0 {
			if cfg.Seq <= 0 {
				return v, cfg, 0, fmt.Errorf("onnx: input %q has shape %v: the sequence length is dynamic; let the data say: %w", v.Name, v.Shape, ErrUnsupported)
			}
			dims[1] = int64(cfg.Seq)
		}
		cfg.InChannels, cfg.Height, cfg.Width, cfg.Seq = 1, 1, int(dims[1]), int(dims[1])
		return v, cfg, int(max(dims[0], 0)), nil
	}
	if v.DType != Float {
		return v, cfg, 0, fmt.Errorf("onnx: input %q has element type %v and shape %v; a loss landscape feeds float32 images, or token ids N x T: %w", v.Name, v.DType, v.Shape, ErrUnsupported)
	}
	cfg.Seq = 0
	// A dimension the export fixed is the network's; cfg fills the
	// dynamic ones (the caller checks that the data and what the user
	// asked for fit what the network then takes).
	fill := func(i, from int, what string) error {
		if dims[i] < 0 {
			if from <= 0 {
				return fmt.Errorf("onnx: input %q has shape %v: dimension %d (%s) is dynamic; give it (--channels, --size) or let the data say: %w", v.Name, v.Shape, i, what, ErrUnsupported)
			}
			dims[i] = int64(from)
		}
		return nil
	}
	switch len(dims) {
	case 4:
		if err := errors.Join(fill(1, cfg.InChannels, "channels"), fill(2, cfg.Height, "height"), fill(3, cfg.Width, "width")); err != nil {
			return v, cfg, 0, err
		}
		cfg.InChannels, cfg.Height, cfg.Width = int(dims[1]), int(dims[2]), int(dims[3])
	case 2:
		if err := fill(1, cfg.InChannels*max(cfg.Height, 1)*max(cfg.Width, 1), "features"); err != nil {
			return v, cfg, 0, err
		}
		cfg.InChannels, cfg.Height, cfg.Width = int(dims[1]), 1, 1
	default:
		return v, cfg, 0, fmt.Errorf("onnx: input %q has shape %v; a loss landscape feeds images N x C x H x W or flattened N x F: %w", v.Name, v.Shape, ErrUnsupported)
	}
	return v, cfg, int(max(dims[0], 0)), nil
}

// problem records why node n cannot be lowered.
func (l *lowering) problem(n *Node, format string, a ...any) {
	l.problems = append(l.problems, n.Label()+": "+fmt.Sprintf(format, a...))
}

// node lowers one node: folds it if its inputs are all known, maps it onto
// a nets op if it reads a computed value, and otherwise leaves it (it is
// downstream of a node already reported).
func (l *lowering) node(n *Node) {
	var flows []flowing
	known := true
	for _, in := range n.Inputs {
		if in == "" {
			continue
		}
		if f, ok := l.flow[in]; ok {
			flows = append(flows, f)
		} else if _, ok := l.consts[in]; !ok {
			known = false
		}
	}
	switch {
	case !known:
		return
	case len(flows) == 0:
		l.fold(n)
	case n.OpType == "Shape":
		l.shapeOf(n)
	default:
		l.lower(n, flows)
	}
}

// fold evaluates a node whose inputs are all constants.
func (l *lowering) fold(n *Node) {
	in := make([]*Tensor, len(n.Inputs))
	for i, name := range n.Inputs {
		in[i] = l.consts[name]
	}
	out, err := ops[n.OpType](&opCtx{n: n, opset: l.g.Opset}, in)
	if err != nil {
		l.problem(n, "%v", err)
		return
	}
	for i, name := range n.Outputs {
		if name != "" && i < len(out) && out[i] != nil {
			l.consts[name] = out[i]
		}
	}
	if src, ok := l.g.paramAlias(n); ok {
		l.alias[n.Outputs[0]] = src
	}
}

// shapeOf folds Shape of a computed value: its shape with the batch the
// export fixed (1 if dynamic), which only reshaping reads.
func (l *lowering) shapeOf(n *Node) {
	f := l.flow[n.Inputs[0]]
	if f.rank == 5 {
		l.problem(n, "Shape of channels viewed as %d groups", f.groups)
		return
	}
	c, h, w := l.b.Shape(f.v)
	dims := []int64{int64(l.batch), int64(c), int64(h), int64(w)}
	if f.rank == 2 {
		dims = []int64{int64(l.batch), int64(c * h * w)}
	}
	if start, end := n.Attrs["start"], n.Attrs["end"]; start != nil || end != nil {
		l.problem(n, "Shape with start or end")
		return
	}
	l.consts[n.Outputs[0]] = Ints([]int{len(dims)}, dims)
}

// lower maps a node reading computed values onto nets' ops.
func (l *lowering) lower(n *Node, flows []flowing) {
	c := &opCtx{n: n, opset: l.g.Opset}
	x := flows[0]
	if x.flat && !slices.Contains([]string{"Gemm", "Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Mul", "Identity", "Dropout", "LogSoftmax"}, n.OpType) {
		l.problem(n, "reads a flattened feature map; the engines keep it as a map, so only Gemm and element-wise ops may read it")
		return
	}
	if x.rank == 5 && n.OpType != "Transpose" && n.OpType != "Reshape" {
		l.problem(n, "reads channels viewed as %d groups; the engines shuffle channels (a view, transpose(1, 2) and reshape) only", x.groups)
		return
	}
	same := func() { l.flow[n.Outputs[0]] = x }
	switch n.OpType {
	case "Identity", "Dropout":
		same()
	case "Pad":
		if pads := l.constInts(n, 1); pads == nil || slices.ContainsFunc(pads, func(p int64) bool { return p != 0 }) {
			l.problem(n, "padding by a constant the engines cannot apply alone; pad in the convolution")
			return
		}
		same()
	case "Relu":
		l.op(n, x, nets.Op{Kind: nets.ReLU, In: []int{x.v}})
	case "Sigmoid":
		l.op(n, x, nets.Op{Kind: nets.Sigmoid, In: []int{x.v}})
	case "HardSwish":
		l.op(n, x, nets.Op{Kind: nets.HardSwish, In: []int{x.v}})
	case "HardSigmoid":
		l.hardSigmoid(n, c, x)
	case "Clip":
		l.clip(n, c, x)
	case "Mul":
		l.mul(n, flows)
	case "Add", "Sum":
		if len(flows) != 2 || len(n.Inputs) != 2 {
			l.problem(n, "adds a constant (a bias outside a convolution or Gemm?); the engines add two computed values")
			return
		}
		if a, b := l.shape3(flows[0]), l.shape3(flows[1]); a != b || flows[0].rank != flows[1].rank {
			l.problem(n, "adds values of shapes %v and %v; the engines add equal shapes, without broadcasting", a, b)
			return
		}
		l.op(n, x, nets.Op{Kind: nets.Add, In: []int{flows[0].v, flows[1].v}})
	case "Conv":
		l.conv(n, c, x)
	case "BatchNormalization":
		l.batchNorm(n, c, x)
	case "MaxPool", "AveragePool":
		l.pool(n, c, x)
	case "GlobalAveragePool":
		if l.needRank(n, x, 4) {
			l.op(n, x, nets.Op{Kind: nets.GlobalAvgPool, In: []int{x.v}})
		}
	case "ReduceMean":
		l.reduceMean(n, c, x)
	case "Flatten":
		if axis, err := c.int("axis", 1); err != nil || axis != 1 {
			l.problem(n, "Flatten from axis %d; the engines flatten from axis 1, as view(N, -1)", axis)
			return
		}
		l.flatten(n, x)
	case "Reshape":
		l.reshape(n, x)
	case "Transpose":
		l.transpose(n, c, x)
	case "Slice":
		l.slice(n, c, x)
	case "Squeeze", "Unsqueeze":
		l.squeeze(n, c, x)
	case "Gemm":
		l.gemm(n, c, x)
	case "Concat":
		l.concat(n, c, flows)
	case "LogSoftmax":
		if axis, err := c.int("axis", -1); err != nil || !(axis == 1 || axis == -1) || x.rank != 2 || !l.isOutput(n.Outputs[0]) {
			l.problem(n, "LogSoftmax other than over the classes of the output")
			return
		}
		same()
	case "MatMul":
		l.problem(n, "a Linear layer exported as MatMul, its weight stored transposed; the engines run the Gemm form torch.onnx.export gives 2D inputs")
	default:
		l.problem(n, "the engines do not run %s yet (the reference evaluator does)", n.OpType)
	}
}

// op adds o and makes it the value of n's first output.
func (l *lowering) op(n *Node, x flowing, o nets.Op) {
	v := l.b.Op(o)
	l.last = v
	rank := x.rank
	if o.Kind == nets.Linear {
		rank = 2
	}
	l.flow[n.Outputs[0]] = flowing{v: v, rank: rank, flat: x.flat && o.Kind != nets.Linear}
}

func (l *lowering) shape3(f flowing) [3]int {
	c, h, w := l.b.Shape(f.v)
	return [3]int{c, h, w}
}

func (l *lowering) needRank(n *Node, x flowing, rank int) bool {
	if x.rank != rank {
		l.problem(n, "reads a value of rank %d; the engines run %s on rank %d", x.rank, n.OpType, rank)
		return false
	}
	return true
}

func (l *lowering) isOutput(name string) bool {
	return slices.ContainsFunc(l.g.Outputs, func(v ValueInfo) bool { return v.Name == name })
}

// constInts returns input i of n as integers, if it is a known constant.
func (l *lowering) constInts(n *Node, i int) []int64 {
	if i >= len(n.Inputs) {
		return nil
	}
	t, ok := l.consts[n.Inputs[i]]
	if !ok || t.DType.IsFloat() {
		return nil
	}
	return t.I
}

// param returns the parameter that input i of n names: an initializer, or
// an Identity of one (torch.onnx.export gives a parameter equal to another
// that form), read as float32; and whether it has a PyTorch name with the
// given suffix, whose prefix it returns.
func (l *lowering) param(n *Node, i int, suffix string) (name, prefix string, t *Tensor, ok bool) {
	if i >= len(n.Inputs) || n.Inputs[i] == "" {
		return "", "", nil, false
	}
	name = n.Inputs[i]
	t, known := l.consts[name]
	_, isInit := l.g.Initializers[name]
	_, isAlias := l.alias[name]
	switch {
	case !known || !t.DType.IsFloat() || !isInit && !isAlias:
		l.problem(n, "input %d (%s) is computed, not a parameter of the model", i, name)
		return "", "", nil, false
	case exporterNamed(name) || !strings.HasSuffix(name, suffix):
		l.problem(n, "weight %s has lost its PyTorch name (want one ending %s): the export folded or renamed parameters; export with %s", name, suffix, ExportAdvice)
		return "", "", nil, false
	}
	return name, strings.TrimSuffix(name, suffix), t, true
}

// addGroup records the parameters of one op, placed where the first of
// them that is an initializer of its own is in the file, or if none is
// (all equal to others at export), after the group before.
func (l *lowering) addGroup(params ...nets.Param) {
	if l.index == nil {
		l.index = make(map[string]int, len(l.g.InitializerNames))
		for i, name := range l.g.InitializerNames {
			l.index[name] = i
		}
	}
	first := -1
	for _, p := range params {
		if i, ok := l.index[p.Name]; ok && (first < 0 || i < first) {
			first = i
		}
	}
	if first < 0 && len(l.groups) > 0 {
		first = l.groups[len(l.groups)-1].first
	}
	l.groups = append(l.groups, paramGroup{first: first, params: params})
}

// square returns the one value all of v hold, def if v is empty; ok is
// false if they differ.
func square(v []int64, def int64) (int64, bool) {
	if len(v) == 0 {
		return def, true
	}
	for _, x := range v {
		if x != v[0] {
			return 0, false
		}
	}
	return v[0], true
}

// window reads the kernel, stride, pad and dilation attributes shared by
// Conv and pooling, each of which the engines take square and symmetric.
func (l *lowering) window(n *Node, c *opCtx, kernelDef int64) (k, s, p int, ok bool) {
	kernel, _, err1 := c.ints("kernel_shape")
	strides, _, err2 := c.ints("strides")
	pads, _, err3 := c.ints("pads")
	dil, _, err4 := c.ints("dilations")
	autoPad, err5 := c.str("auto_pad", "NOTSET")
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		l.problem(n, "%v", err)
		return 0, 0, 0, false
	}
	kk, okK := square(kernel, kernelDef)
	ss, okS := square(strides, 1)
	pp, okP := square(pads, 0)
	dd, okD := square(dil, 1)
	switch {
	case autoPad != "NOTSET" && !(autoPad == "VALID" && pp == 0):
		l.problem(n, "auto_pad %s; export explicit padding", autoPad)
	case !okK || kk < 1:
		l.problem(n, "kernel %v; the engines run square kernels", kernel)
	case !okS || ss < 1:
		l.problem(n, "strides %v; the engines run equal strides", strides)
	case !okP || pp < 0:
		l.problem(n, "pads %v; the engines pad all four sides alike", pads)
	case !okD || dd != 1:
		l.problem(n, "dilations %v; the engines run undilated windows", dil)
	default:
		return int(kk), int(ss), int(pp), true
	}
	return 0, 0, 0, false
}

func (l *lowering) conv(n *Node, c *opCtx, x flowing) {
	if !l.needRank(n, x, 4) {
		return
	}
	wName, prefix, w, ok := l.param(n, 1, ".weight")
	if !ok {
		return
	}
	group, err := c.int("group", 1)
	inC, _, _ := l.b.Shape(x.v)
	if err != nil || group < 1 || int64(inC)%group != 0 {
		l.problem(n, "%d groups for %d input channels", group, inC)
		return
	}
	if len(w.Shape) != 4 || w.Shape[1]*int(group) != inC || w.Shape[0]%int(group) != 0 || w.Shape[2] != w.Shape[3] {
		l.problem(n, "weight %s of shape %v for %d input channels in %d groups", wName, w.Shape, inC, group)
		return
	}
	k, s, p, ok := l.window(n, c, int64(w.Shape[2]))
	if !ok {
		return
	}
	if k != w.Shape[2] {
		l.problem(n, "kernel %d, weight %v", k, w.Shape)
		return
	}
	params := []nets.Param{{Name: wName, Shape: w.Shape, Kind: nets.Weight}}
	hasBias := len(n.Inputs) > 2 && n.Inputs[2] != ""
	if hasBias {
		bName, bPrefix, b, ok := l.param(n, 2, ".bias")
		if !ok {
			return
		}
		if bPrefix != prefix || !slices.Equal(b.Shape, []int{w.Shape[0]}) {
			l.problem(n, "bias %s %v does not go with weight %s %v", bName, b.Shape, wName, w.Shape)
			return
		}
		params = append(params, nets.Param{Name: bName, Shape: b.Shape, Kind: nets.Weight})
	}
	l.addGroup(params...)
	op := nets.Op{Kind: nets.Conv, Name: prefix, In: []int{x.v}, Kernel: k, Stride: s, Pad: p, Bias: hasBias, C: w.Shape[0]}
	if group > 1 {
		op.Groups = int(group)
	}
	l.op(n, x, op)
}

func (l *lowering) batchNorm(n *Node, c *opCtx, x flowing) {
	eps, err1 := c.float("epsilon", nets.DefaultEps)
	training, err2 := c.int("training_mode", 0)
	if err := errors.Join(err1, err2); err != nil {
		l.problem(n, "%v", err)
		return
	}
	if !(eps > 0) || training != 0 || slices.ContainsFunc(n.Outputs[1:], func(s string) bool { return s != "" }) {
		l.problem(n, "batch norm with eps %g or in training mode; the engines run eval mode with a positive eps (export model.eval())", eps)
		return
	}
	ch, _, _ := l.b.Shape(x.v)
	var params []nets.Param
	prefix := ""
	for i, suffix := range []string{".weight", ".bias", ".running_mean", ".running_var"} {
		name, p, t, ok := l.param(n, i+1, suffix)
		if !ok {
			return
		}
		if (prefix != "" && p != prefix) || !slices.Equal(t.Shape, []int{ch}) {
			l.problem(n, "%s of shape %v does not go with the others (%s, %d channels)", name, t.Shape, prefix, ch)
			return
		}
		prefix = p
		kind := nets.Weight
		if i >= 2 {
			kind = nets.Buffer
		}
		params = append(params, nets.Param{Name: name, Shape: t.Shape, Kind: kind})
	}
	params = append(params, nets.Param{Name: prefix + ".num_batches_tracked", Kind: nets.Buffer})
	l.addGroup(params...)
	op := nets.Op{Kind: nets.BatchNorm, Name: prefix, In: []int{x.v}}
	if eps != nets.DefaultEps {
		op.Eps = eps
	}
	l.op(n, x, op)
}

// clip lowers Clip with constant bounds (ReLU6, Hardtanh), read as the
// reference evaluator reads them.
func (l *lowering) clip(n *Node, c *opCtx, x flowing) {
	in := make([]*Tensor, len(n.Inputs))
	for i, name := range n.Inputs[1:] {
		if name == "" {
			continue
		}
		t, ok := l.consts[name]
		if !ok {
			l.problem(n, "Clip with a bound computed from data; the engines clip to constants")
			return
		}
		in[i+1] = t
	}
	lo, hi, err := clipBounds(c, in)
	if err != nil || !(lo <= hi) {
		l.problem(n, "Clip to [%g, %g]: %v", lo, hi, err)
		return
	}
	l.op(n, x, nets.Op{Kind: nets.Clip, In: []int{x.v}, Lo: float32(lo), Hi: float32(hi)})
}

// hardSigmoid lowers PyTorch's hardsigmoid, which exports as HardSigmoid
// with alpha 1/6 and beta 1/2; the engines compute PyTorch's form of it.
func (l *lowering) hardSigmoid(n *Node, c *opCtx, x flowing) {
	alpha, err1 := c.float("alpha", 0.2)
	beta, err2 := c.float("beta", 0.5)
	if errors.Join(err1, err2) != nil || alpha != float32(1.0/6) || beta != 0.5 {
		l.problem(n, "HardSigmoid with alpha %g and beta %g; the engines run PyTorch's hardsigmoid (alpha 1/6, beta 1/2)", alpha, beta)
		return
	}
	l.op(n, x, nets.Op{Kind: nets.HardSigmoid, In: []int{x.v}})
}

// mul lowers the product of two computed values of one shape (SiLU's
// x·sigmoid(x)) or of a map and a per-channel scale N x C x 1 x 1
// (squeeze-and-excitation), the scale going second.
func (l *lowering) mul(n *Node, flows []flowing) {
	if len(flows) != 2 || len(n.Inputs) != 2 {
		l.problem(n, "multiplies by a constant; the engines multiply two computed values")
		return
	}
	a, b := flows[0], flows[1]
	sa, sb := l.shape3(a), l.shape3(b)
	if sa[1]*sa[2] < sb[1]*sb[2] {
		a, b, sa, sb = b, a, sb, sa
	}
	switch {
	case sa == sb && a.rank == b.rank:
	case a.rank == 4 && b.rank == 4 && sb == [3]int{sa[0], 1, 1}:
	default:
		l.problem(n, "multiplies values of shapes %v and %v; the engines multiply equal shapes, or a map by a per-channel scale", sa, sb)
		return
	}
	l.op(n, a, nets.Op{Kind: nets.Mul, In: []int{a.v, b.v}})
}

func (l *lowering) pool(n *Node, c *opCtx, x flowing) {
	if !l.needRank(n, x, 4) {
		return
	}
	k, s, p, ok := l.window(n, c, 0)
	if !ok {
		return
	}
	ceil, err1 := c.int("ceil_mode", 0)
	order, err2 := c.int("storage_order", 0)
	if err := errors.Join(err1, err2); err != nil || order != 0 || len(n.Outputs) > 1 && n.Outputs[1] != "" {
		l.problem(n, "a pool giving indices; the engines give the maxima only")
		return
	}
	if 2*p > k {
		// PyTorch's own limit: a window would be all padding.
		l.problem(n, "padding %d of a %dx%d window; the engines pad at most half a window", p, k, k)
		return
	}
	_, h, w := l.b.Shape(x.v)
	kind := nets.MaxPool
	if n.OpType == "AveragePool" {
		kind = nets.AvgPool
		if p != 0 {
			l.problem(n, "a padded average pool; the engines average unpadded windows")
			return
		}
		if k == h && k == w {
			// One window over the whole map: the global average.
			l.op(n, x, nets.Op{Kind: nets.GlobalAvgPool, In: []int{x.v}})
			return
		}
		if ceil != 0 {
			l.problem(n, "an average pool in ceil mode; the engines round down")
			return
		}
	}
	l.op(n, x, nets.Op{Kind: kind, In: []int{x.v}, Kernel: k, Stride: s, Pad: p, Ceil: ceil != 0})
}

func (l *lowering) reduceMean(n *Node, c *opCtx, x flowing) {
	axes, _, err := c.ints("axes")
	if err == nil && axes == nil {
		axes = l.constInts(n, 1)
	}
	keep, err2 := c.int("keepdims", 1)
	for i := range axes {
		if axes[i] < 0 {
			axes[i] += int64(x.rank)
		}
	}
	slices.Sort(axes)
	if errors.Join(err, err2) != nil || x.rank != 4 || !slices.Equal(axes, []int64{2, 3}) {
		l.problem(n, "ReduceMean over axes %v; the engines average over H and W of a feature map", axes)
		return
	}
	l.op(n, x, nets.Op{Kind: nets.GlobalAvgPool, In: []int{x.v}})
	if keep == 0 {
		f := l.flow[n.Outputs[0]]
		f.rank = 2
		l.flow[n.Outputs[0]] = f
	}
}

// flatten makes n's output x as N x F.
func (l *lowering) flatten(n *Node, x flowing) {
	_, h, w := l.b.Shape(x.v)
	if x.rank == 4 {
		x = flowing{v: x.v, rank: 2, flat: h*w > 1}
	}
	l.flow[n.Outputs[0]] = x
}

// reshape lowers the reshapes that only flatten (view(N, -1)) or keep the
// shape.
func (l *lowering) reshape(n *Node, x flowing) {
	to := l.constInts(n, 1)
	c, h, w := l.b.Shape(x.v)
	rest := to[min(1, len(to)):]
	hw := []int64{int64(h), int64(w)}
	switch {
	case to == nil:
		l.problem(n, "a reshape to a shape computed from data")
	case x.rank == 5 && x.shuffled && len(to) == 4 && (rest[0] == -1 || rest[0] == int64(c)) && slices.Equal(rest[1:], hw):
		l.op(n, flowing{v: x.v, rank: 4}, nets.Op{Kind: nets.ChannelShuffle, In: []int{x.v}, Groups: x.groups})
	case x.rank == 4 && len(to) == 5 && rest[0] > 1 && int64(c)%rest[0] == 0 && (rest[1] == -1 || rest[0]*rest[1] == int64(c)) && slices.Equal(rest[2:], hw):
		l.flow[n.Outputs[0]] = flowing{v: x.v, rank: 5, groups: int(rest[0])}
	case x.rank == 5:
		l.problem(n, "a reshape to %v of channels viewed as %d groups; the engines shuffle channels (a view, transpose(1, 2) and reshape) only", to, x.groups)
	case len(to) == 2 && (rest[0] == -1 || rest[0] == int64(c*h*w)):
		l.flatten(n, x)
	case len(to) == 4 && x.rank == 4 && slices.Equal(rest, []int64{int64(c), int64(h), int64(w)}):
		l.flow[n.Outputs[0]] = x
	case len(to) == 4 && x.rank == 2 && !x.flat && slices.Equal(rest, []int64{int64(c), 1, 1}):
		l.flow[n.Outputs[0]] = flowing{v: x.v, rank: 4}
	default:
		l.problem(n, "a reshape to %v of a %dx%dx%d value; the engines flatten (view(N, -1)) only", to, c, h, w)
	}
}

// transpose lowers the swap of a channel view's two axes (ShuffleNet's
// transpose(1, 2)), the middle of a channel shuffle.
func (l *lowering) transpose(n *Node, c *opCtx, x flowing) {
	perm, _, err := c.ints("perm")
	if err != nil || x.rank != 5 || x.shuffled || !slices.Equal(perm, []int64{0, 2, 1, 3, 4}) {
		l.problem(n, "Transpose %v of a rank-%d value; the engines transpose only the channel groups of a channel shuffle", perm, x.rank)
		return
	}
	x.shuffled = true
	l.flow[n.Outputs[0]] = x
}

// slice lowers a Slice of channels (torch.chunk, x[:, a:b]) with constant
// bounds and step 1.
func (l *lowering) slice(n *Node, c *opCtx, x flowing) {
	if l.g.Opset < 10 || x.rank != 4 {
		l.problem(n, "Slice of a rank-%d value (opset %d); the engines slice the channels of a feature map", x.rank, l.g.Opset)
		return
	}
	starts, ends, axes, steps := l.constInts(n, 1), l.constInts(n, 2), l.constInts(n, 3), l.constInts(n, 4)
	if len(n.Inputs) > 3 && n.Inputs[3] != "" && axes == nil || len(n.Inputs) > 4 && n.Inputs[4] != "" && steps == nil {
		l.problem(n, "Slice with axes or steps computed from data")
		return
	}
	if axes == nil {
		axes = []int64{0, 1, 2, 3}[:min(len(starts), 4)]
	}
	ch, _, _ := l.b.Shape(x.v)
	if starts == nil || ends == nil || len(starts) != 1 || len(ends) != 1 || len(axes) != 1 || !(axes[0] == 1 || axes[0] == -3) ||
		steps != nil && !slices.Equal(steps, []int64{1}) {
		l.problem(n, "Slice of starts %v, ends %v, axes %v, steps %v; the engines slice channels (axis 1), step 1", starts, ends, axes, steps)
		return
	}
	// ONNX's bounds: negative ones count from the end, and both are
	// clamped to the axis.
	bound := func(b int64) int {
		if b < 0 {
			b += int64(ch)
		}
		return int(min(max(b, 0), int64(ch)))
	}
	from, to := bound(starts[0]), bound(ends[0])
	if from >= to {
		l.problem(n, "Slice keeps no channel ([%d, %d) of %d)", from, to, ch)
		return
	}
	if from == 0 && to == ch {
		l.flow[n.Outputs[0]] = x
		return
	}
	l.op(n, x, nets.Op{Kind: nets.Slice, In: []int{x.v}, From: from, To: to})
}

// squeeze lowers the (un)squeezing of the unit H and W axes, which
// changes nothing in nets' layout.
func (l *lowering) squeeze(n *Node, c *opCtx, x flowing) {
	axes, _, err := c.ints("axes")
	if err == nil && axes == nil {
		axes = l.constInts(n, 1)
	}
	_, h, w := l.b.Shape(x.v)
	rank := x.rank
	if n.OpType == "Unsqueeze" {
		rank += len(axes)
	}
	for i := range axes {
		if axes[i] < 0 {
			axes[i] += int64(rank)
		}
	}
	slices.Sort(axes)
	if err != nil || !slices.Equal(axes, []int64{2, 3}) || h != 1 || w != 1 || x.flat {
		l.problem(n, "%s of axes %v of a %d-rank value; the engines drop or add only unit H and W axes", n.OpType, axes, x.rank)
		return
	}
	x.rank = 2
	if n.OpType == "Unsqueeze" {
		x.rank = 4
	}
	l.flow[n.Outputs[0]] = x
}

func (l *lowering) gemm(n *Node, c *opCtx, x flowing) {
	alpha, err1 := c.float("alpha", 1)
	beta, err2 := c.float("beta", 1)
	transA, err3 := c.int("transA", 0)
	transB, err4 := c.int("transB", 0)
	if err := errors.Join(err1, err2, err3, err4); err != nil || alpha != 1 || beta != 1 || transA != 0 || transB != 1 || x.rank != 2 {
		l.problem(n, "Gemm other than nn.Linear's (transB=1, alpha=beta=1, on a 2D input)")
		return
	}
	wName, prefix, w, ok := l.param(n, 1, ".weight")
	if !ok {
		return
	}
	if len(n.Inputs) < 3 || n.Inputs[2] == "" {
		l.problem(n, "a Linear layer without bias; the engines run them with one")
		return
	}
	bName, bPrefix, b, ok := l.param(n, 2, ".bias")
	if !ok {
		return
	}
	ch, h, wd := l.b.Shape(x.v)
	if len(w.Shape) != 2 || w.Shape[1] != ch*h*wd || bPrefix != prefix || !slices.Equal(b.Shape, w.Shape[:1]) {
		l.problem(n, "weight %s %v and bias %s %v for %d inputs", wName, w.Shape, bName, b.Shape, ch*h*wd)
		return
	}
	l.addGroup(nets.Param{Name: wName, Shape: w.Shape, Kind: nets.Weight}, nets.Param{Name: bName, Shape: b.Shape, Kind: nets.Weight})
	l.op(n, x, nets.Op{Kind: nets.Linear, Name: prefix, In: []int{x.v}, C: w.Shape[0]})
}

func (l *lowering) concat(n *Node, c *opCtx, flows []flowing) {
	rank := flows[0].rank
	axis, err := c.axis(1, rank)
	if err != nil || axis != 1 || len(flows) != len(n.Inputs) {
		l.problem(n, "Concat along axis %d, or of constants; the engines join channels", axis)
		return
	}
	in := make([]int, len(flows))
	_, h, w := l.b.Shape(flows[0].v)
	for i, f := range flows {
		_, fh, fw := l.b.Shape(f.v)
		if f.rank != rank || fh != h || fw != w {
			l.problem(n, "joins values of other sizes")
			return
		}
		in[i] = f.v
	}
	l.op(n, flows[0], nets.Op{Kind: nets.Concat, In: in})
}

// finish checks the output, orders the parameters and gathers the weights.
func (l *lowering) finish() (*nets.Net, *nets.StateDict, error) {
	if len(l.problems) == 0 {
		l.checkOutput()
	}
	if len(l.problems) > 0 {
		l.otherOpTypes()
		const most = 12
		var b strings.Builder
		for i, p := range l.problems {
			if i == most {
				fmt.Fprintf(&b, "\n  and %d more", len(l.problems)-most)
				break
			}
			b.WriteString("\n  " + p)
		}
		return nil, nil, fmt.Errorf("onnx: graph %q: %w:%s", l.g.Name, ErrNotLowerable, b.String())
	}
	slices.SortStableFunc(l.groups, func(a, b paramGroup) int { return a.first - b.first })
	sd := &nets.StateDict{}
	seen := map[string]bool{}
	for _, g := range l.groups {
		for _, p := range g.params {
			if seen[p.Name] {
				continue // a module applied twice
			}
			seen[p.Name] = true
			l.b.Param(p.Name, p.Kind, p.Shape...)
			if t, ok := l.consts[p.Name]; ok {
				v := t.Nets()
				if _, ok := l.alias[p.Name]; ok {
					v.Data = slices.Clone(v.Data) // its own parameter, equal to another at export
				}
				sd.Set(p.Name, v)
			}
		}
	}
	net, err := l.b.Net()
	if err != nil {
		return nil, nil, err
	}
	c, _, _ := l.b.Shape(l.last)
	net.Config.Classes = c
	return net, sd, nil
}

// lowerable lists the op types the lowering maps onto nets' ops (with
// some settings) or folds away.
var lowerable = []string{"Add", "AveragePool", "BatchNormalization", "Clip", "Concat", "Constant", "Conv", "Dropout",
	"Flatten", "Gather", "Gemm", "GlobalAveragePool", "HardSigmoid", "HardSwish", "Identity", "LogSoftmax", "MaxPool",
	"Mul", "Pad", "ReduceMean", "Relu", "Reshape", "Shape", "Sigmoid", "Slice", "Squeeze", "Sum", "Transpose", "Unsqueeze"}

// otherOpTypes adds to the problems, which name the first node that does
// not lower on each path, the op types of the graph that never lower, so
// that one error says all that stands in the way.
func (l *lowering) otherOpTypes() {
	count := map[string]int{}
	for _, n := range l.g.Nodes {
		if !slices.Contains(lowerable, n.OpType) {
			count[n.OpType]++
		}
	}
	if len(count) == 0 {
		return
	}
	var types []string
	for _, t := range slices.Sorted(maps.Keys(count)) {
		types = append(types, fmt.Sprintf("%s×%d", t, count[t]))
	}
	l.problems = append(l.problems, "the graph's op types the engines do not run yet: "+strings.Join(types, ", "))
}

// checkOutput checks that the graph's one output is the logits, N x
// classes, made by the last op.
func (l *lowering) checkOutput() {
	outs := l.g.Outputs
	if len(outs) != 1 {
		l.problems = append(l.problems, fmt.Sprintf("the graph has %d outputs; the engines take one, the logits", len(outs)))
		return
	}
	f, ok := l.flow[outs[0].Name]
	_, h, w := l.b.Shape(f.v)
	switch {
	case !ok || f.v == 0:
		l.problems = append(l.problems, fmt.Sprintf("output %q is not computed from the input", outs[0].Name))
	case f.v != l.last:
		l.problems = append(l.problems, fmt.Sprintf("output %q is not the value computed last; the engines take the logits from the last op", outs[0].Name))
	case h != 1 || w != 1 || f.flat:
		l.problems = append(l.problems, fmt.Sprintf("output %q is a feature map; the engines take logits N x classes", outs[0].Name))
	}
}
