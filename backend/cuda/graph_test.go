//go:build linux && !android

package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/backend/backendtest"
	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/internal/fixture"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/onnx"
)

// graphProblem returns a problem for graph g run as a reference net (the
// graph interpreted): its own weights at the centre, random directions, n
// random samples (images, or token sequences for a language model).
func graphProblem(t *testing.T, name string, g *onnx.Graph, n int) *backend.Problem {
	t.Helper()
	net, err := g.ReferenceNet(name, nets.Config{})
	if err != nil {
		t.Fatal(err)
	}
	p := backendtest.ProblemFor(net, n, true)
	own := g.Weights()
	for _, k := range own.Names() {
		w, _ := own.Get(k)
		p.Center.Set(k, w)
	}
	if seq := net.Config.Seq; seq > 0 {
		rng := rand.New(rand.NewPCG(3, 4))
		d := p.Data[0]
		d.Seq, d.Y = seq, make([]int32, n*seq)
		for i := range d.X {
			d.X[i] = float32(rng.IntN(net.Config.Classes))
		}
		for i := range d.Y {
			d.Y[i] = int32(rng.IntN(net.Config.Classes))
		}
	}
	return p
}

// graphModels are ONNX exports whose operators the engines do not run,
// with PyTorch's tests of their own (nets/onnx's TestExportedNetworks,
// landscape's TestLanguageModelMatchesPyTorch): ViT and ConvNeXt as
// torchvision builds them, small; an MLP with layer norm, GELU and a
// final log-softmax; the causal transformer language model.
var graphModels = []string{
	filepath.Join("..", "..", "nets", "onnx", "testdata", "tiny_vit.onnx"),
	filepath.Join("..", "..", "nets", "onnx", "testdata", "tiny_convnext.onnx"),
	filepath.Join("..", "..", "nets", "onnx", "testdata", "tiny_mlp.onnx"),
	filepath.Join("..", "..", "testdata", "lm", "causal_lm.onnx"),
}

// graphOfEveryPath is a graph no exporter writes, which the ONNX
// specification allows, built to take the interpreter's paths that the
// exports leave: eval-mode batch norm, a gather no view describes (a
// permutation of channels), Tile, every unary function but Gelu (see
// graphOfGelu), Pow, PRelu, Max of three, Min, Sum, Mean, comparisons and
// logic on computed values, casts to and from bool, Where, a
// MatMul whose operands broadcast over different leading dimensions
// (batched products), Gemm with transposed operands, α and β, MatMul and
// Gemm of a transposed weight (and a MatMul of one reshaped), a mean
// and other reductions over trailing axes, max and average pooling with
// uneven windows, strides and padding, constant and reflecting Pad,
// convolutions with a rectangular kernel, strides, padding and dilations
// that differ by axis and groups, and in 1-D, GroupNorm as exported (an
// instance norm over groups), Einsum (contracting, batched, permuting),
// a concatenation.
func graphOfEveryPath() *onnx.Graph {
	rng := rand.New(rand.NewPCG(5, 6))
	g := &onnx.Graph{Name: "every_path", Opset: 13, Initializers: map[string]*onnx.Tensor{},
		Inputs:  []onnx.ValueInfo{{Name: "x", Kind: onnx.TensorKind, DType: onnx.Float, Shape: []int64{-1, 4, 3, 3}}},
		Outputs: []onnx.ValueInfo{{Name: "y", Kind: onnx.TensorKind, DType: onnx.Float, Shape: []int64{-1, 10}}}}
	param := func(name string, shape ...int) {
		t := onnx.Floats(shape, make([]float32, nets.NumElements(shape)))
		for i := range t.F {
			t.F[i] = float32(0.5 + rng.Float64())
			if len(shape) > 1 {
				t.F[i] = float32(rng.NormFloat64() * 0.3)
			}
		}
		g.Initializers[name] = t
		g.InitializerNames = append(g.InitializerNames, name)
	}
	ints := func(name string, v ...int64) {
		g.Initializers[name] = onnx.Ints([]int{len(v)}, v)
		g.InitializerNames = append(g.InitializerNames, name)
	}
	node := func(op string, in []string, out string, attrs ...*onnx.Attr) {
		n := &onnx.Node{Name: out, OpType: op, Inputs: in, Outputs: []string{out}, Attrs: map[string]*onnx.Attr{}}
		for _, a := range attrs {
			n.Attrs[a.Name] = a
		}
		g.Nodes = append(g.Nodes, n)
	}
	constant := func(out string, t *onnx.Tensor) {
		node("Constant", nil, out, &onnx.Attr{Name: "value", Type: onnx.AttrTensor, T: t})
	}
	attrInt := func(name string, v int64) *onnx.Attr { return &onnx.Attr{Name: name, Type: onnx.AttrInt, I: v} }
	attrFloat := func(name string, v float32) *onnx.Attr { return &onnx.Attr{Name: name, Type: onnx.AttrFloat, F: v} }

	for _, k := range []string{"weight", "bias", "running_mean", "running_var"} {
		param("bn."+k, 4)
	}
	param("mm.weight", 4, 6, 5)
	param("fc.weight", 10, 60)
	param("fc.bias", 10)
	param("cr.weight", 6, 2, 2, 3)
	param("cr.bias", 6)
	param("c1.weight", 3, 1, 5)
	param("gn.weight", 6, 1, 1)
	param("gn.bias", 6, 1, 1)
	param("ew.weight", 4, 5, 7)
	param("out.weight", 10, 87)
	param("rw.weight", 3, 8)
	param("out.bias", 10)
	ints("perm", 3, 0, 2, 1)
	ints("repeats", 1, 1, 1, 2)
	ints("pads", 0, 0, 1, 0, 0, 0, 0, 2)
	ints("last_axis", -1)
	ints("one_axis", 1)
	ints("groups_shape", 0, 2, -1)
	ints("last_two", 2, 3)
	ints("rw_shape", 6, 4)
	constant("c6", onnx.Floats([]int{6}, []float32{0.1, -0.2, 0.3, 0, -0.5, 0.25}))
	constant("two", onnx.Floats([]int{}, []float32{2}))
	constant("one", onnx.Floats([]int{}, []float32{1}))
	constant("cond", &onnx.Tensor{DType: onnx.Bool, Shape: []int{6}, I: []int64{1, 0, 1, 1, 0, 0}})
	constant("clip_lo", onnx.Floats([]int{}, []float32{-0.4}))
	constant("pad_value", onnx.Floats([]int{}, []float32{2.5}))
	constant("slope", onnx.Floats([]int{6}, []float32{0.1, 0.2, 0.3, -0.1, 0.5, 0.05}))
	constant("in_scale", onnx.Floats([]int{2}, []float32{1.5, 0.5})) // the export's are ones and zeros
	constant("in_bias", onnx.Floats([]int{2}, []float32{0.2, -0.1}))
	constant("clip_hi", onnx.Floats([]int{}, []float32{0.9}))

	node("BatchNormalization", []string{"x", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"}, "b", attrFloat("epsilon", 1e-3))
	node("Gather", []string{"b", "perm"}, "g", attrInt("axis", 1))
	node("Tile", []string{"g", "repeats"}, "t") // N x 4 x 3 x 6
	node("Sub", []string{"t", "c6"}, "u")
	node("Relu", []string{"u"}, "r")
	node("Pow", []string{"r", "two"}, "p2")
	node("Sigmoid", []string{"t"}, "s")
	node("Mul", []string{"s", "p2"}, "m1")
	node("Neg", []string{"m1"}, "ng")
	node("Exp", []string{"ng"}, "ex")
	node("Add", []string{"ex", "one"}, "ea")
	node("Log", []string{"ea"}, "lg")
	node("Tanh", []string{"lg"}, "th")
	node("Add", []string{"th", "two"}, "th2")
	node("Reciprocal", []string{"th2"}, "rc")
	node("Abs", []string{"u"}, "ab")
	node("Sqrt", []string{"ab"}, "sq")
	node("Add", []string{"sq", "one"}, "sq1")
	node("Div", []string{"rc", "sq1"}, "dv")
	node("Erf", []string{"u"}, "ef")
	node("Mul", []string{"dv", "ef"}, "d2")
	node("Clip", []string{"u", "clip_lo", "clip_hi"}, "cl")
	node("LeakyRelu", []string{"u"}, "lr", attrFloat("alpha", 0.3))
	node("HardSigmoid", []string{"u"}, "hs")
	node("Elu", []string{"u"}, "el", attrFloat("alpha", 0.7))
	node("Add", []string{"cl", "lr"}, "s1")
	node("Add", []string{"s1", "el"}, "s2")
	node("Add", []string{"s2", "hs"}, "s3")
	node("Max", []string{"d2", "hs", "clip_lo"}, "mx")
	node("Min", []string{"mx", "s3"}, "mn")
	node("Softplus", []string{"u"}, "sp")
	node("Softsign", []string{"u"}, "sg")
	node("Sin", []string{"u"}, "sn")
	node("Cos", []string{"u"}, "cs")
	node("Selu", []string{"u"}, "se")
	node("Sign", []string{"u"}, "sgn")
	node("PRelu", []string{"u", "slope"}, "pr6")
	node("Sum", []string{"sp", "sg", "sn"}, "sum3")
	node("Mean", []string{"cs", "se", "sgn", "pr6"}, "mean4")
	node("Add", []string{"s3", "mn"}, "z0")
	node("Add", []string{"z0", "sum3"}, "z1")
	node("Add", []string{"z1", "mean4"}, "z")
	// Logic on computed values: Where(not ((u > -0.4 xor u != 0) and t < 1
	// or t == u) xor cond, z, t).
	node("Greater", []string{"u", "clip_lo"}, "gt")
	node("Less", []string{"t", "one"}, "lt")
	node("Cast", []string{"sgn"}, "sgnb", attrInt("to", int64(onnx.Bool))) // sign(u) != 0
	node("Xor", []string{"gt", "sgnb"}, "gtx")
	node("And", []string{"gtx", "lt"}, "an")
	node("Equal", []string{"t", "u"}, "eqtu")
	node("Or", []string{"an", "eqtu"}, "cnd")
	node("Not", []string{"cnd"}, "ncnd")
	node("Xor", []string{"ncnd", "cond"}, "cx")
	node("Cast", []string{"cx"}, "cxf", attrInt("to", int64(onnx.Float)))
	node("Cast", []string{"cxf"}, "cxb", attrInt("to", int64(onnx.Bool)))
	node("Where", []string{"cxb", "z", "t"}, "w")
	node("MatMul", []string{"w", "mm.weight"}, "mm") // N x 4 x 3 x 5, a product per (sample, channel)
	node("Dropout", []string{"mm"}, "mmd")           // inference: the identity
	node("Flatten", []string{"mmd"}, "fl", attrInt("axis", 1))
	node("Transpose", []string{"fl"}, "flT", &onnx.Attr{Name: "perm", Type: onnx.AttrInts, Ints: []int64{1, 0}})
	node("Gemm", []string{"flT", "fc.weight", "fc.bias"}, "ge", attrInt("transA", 1), attrInt("transB", 1),
		attrFloat("alpha", 2), attrFloat("beta", 0.5))
	node("ReduceMean", []string{"mm"}, "rm", &onnx.Attr{Name: "axes", Type: onnx.AttrInts, Ints: []int64{2, -1}}, attrInt("keepdims", 0))
	ints2 := func(name string, v ...int64) *onnx.Attr { return &onnx.Attr{Name: name, Type: onnx.AttrInts, Ints: v} }
	node("MaxPool", []string{"b"}, "mp", ints2("kernel_shape", 2, 2), ints2("pads", 1, 0, 0, 1), attrInt("ceil_mode", 1),
		ints2("strides", 2, 1))
	node("AveragePool", []string{"b"}, "ap", ints2("kernel_shape", 3, 2), ints2("pads", 1, 1, 1, 0),
		attrInt("count_include_pad", 1), ints2("strides", 1, 2))
	node("GlobalAveragePool", []string{"mp"}, "gmp")
	node("GlobalAveragePool", []string{"ap"}, "gap")
	node("Flatten", []string{"gmp"}, "fmp")
	node("Flatten", []string{"gap"}, "fap")
	node("Pad", []string{"b", "pads", "pad_value"}, "pc")
	node("Pad", []string{"b", "pads"}, "pr", &onnx.Attr{Name: "mode", Type: onnx.AttrString, S: "reflect"})
	node("MaxPool", []string{"pc"}, "mpc", ints2("kernel_shape", 2, 2))
	node("MaxPool", []string{"pr"}, "mpr", ints2("kernel_shape", 3, 1))
	node("GlobalAveragePool", []string{"mpc"}, "gpc")
	node("GlobalAveragePool", []string{"mpr"}, "gpr")
	node("Flatten", []string{"gpc"}, "fpc")
	node("Flatten", []string{"gpr"}, "fpr")
	node("ReduceSum", []string{"mm", "last_axis"}, "rs")                                  // N x 4 x 3 x 1
	node("ReduceMax", []string{"rs"}, "rmx", ints2("axes", 2, 3), attrInt("keepdims", 0)) // N x 4
	node("ReduceL2", []string{"mm"}, "rl2", ints2("axes", 3), attrInt("keepdims", 0))     // N x 4 x 3
	node("ReduceLogSumExp", []string{"rl2"}, "rlse", ints2("axes", -1), attrInt("keepdims", 0))
	node("GlobalMaxPool", []string{"ap"}, "gmx")
	node("Flatten", []string{"gmx"}, "fmx")
	node("Conv", []string{"b", "cr.weight", "cr.bias"}, "cr", ints2("kernel_shape", 2, 3), ints2("strides", 1, 2),
		ints2("pads", 1, 1, 1, 1), ints2("dilations", 2, 1), attrInt("group", 2)) // N x 6 x 3 x 2
	node("GlobalAveragePool", []string{"cr"}, "gcr")
	node("Flatten", []string{"gcr"}, "fcr")
	node("Unsqueeze", []string{"fl", "one_axis"}, "seq") // N x 1 x 60
	node("Conv", []string{"seq", "c1.weight"}, "c1", ints2("strides", 2), ints2("pads", 2, 2), ints2("dilations", 2))
	node("ReduceMean", []string{"c1"}, "c1m", ints2("axes", -1), attrInt("keepdims", 0)) // N x 3
	// GroupNorm(2 groups) as torch.onnx.export writes it: an instance norm
	// over the groups, then the channels' scale and shift.
	node("Reshape", []string{"cr", "groups_shape"}, "grp") // N x 2 x 9
	node("InstanceNormalization", []string{"grp", "in_scale", "in_bias"}, "gin", attrFloat("epsilon", 1e-5))
	node("Shape", []string{"cr"}, "cr_shape")
	node("Reshape", []string{"gin", "cr_shape"}, "gnr")
	node("Mul", []string{"gnr", "gn.weight"}, "gnm")
	node("Add", []string{"gnm", "gn.bias"}, "gn")
	node("GlobalAveragePool", []string{"gn"}, "ggn")
	node("Flatten", []string{"ggn"}, "fgn")
	eq := func(e string) *onnx.Attr { return &onnx.Attr{Name: "equation", Type: onnx.AttrString, S: e} }
	node("Einsum", []string{"mm", "ew.weight"}, "e1", eq("nchw,cwk->nkh")) // N x 7 x 3: summed c, w
	node("ReduceMean", []string{"e1"}, "e1m", ints2("axes", -1), attrInt("keepdims", 0))
	node("Einsum", []string{"mm", "mm"}, "e2", eq("nchw,nchv->ncwv")) // N x 4 x 5 x 5: batched over n, c
	node("ReduceSum", []string{"e2", "last_two"}, "e2s", attrInt("keepdims", 0))
	node("Einsum", []string{"mm"}, "e3", eq("nchw->nwch")) // a permute
	node("ReduceMax", []string{"e3"}, "e3m", ints2("axes", 2, 3), attrInt("keepdims", 0))
	// Weights transposed for a product, as PyTorch's Linear exports: read
	// transposed by the product itself.
	node("Transpose", []string{"fc.weight"}, "fcT", ints2("perm", 1, 0))
	node("MatMul", []string{"fl", "fcT"}, "mfc") // N x 10
	// A transposed weight reshaped is another matrix, read as it is.
	node("Transpose", []string{"rw.weight"}, "rwT", ints2("perm", 1, 0))
	node("Reshape", []string{"rwT", "rw_shape"}, "rwR")
	node("MatMul", []string{"w", "rwR"}, "mrw") // N x 4 x 3 x 4
	node("ReduceMean", []string{"mrw"}, "mrwm", ints2("axes", 2, 3), attrInt("keepdims", 0))
	node("Concat", []string{"ge", "rm", "fmp", "fap", "fpc", "fpr", "rmx", "rlse", "fmx", "fcr", "c1m", "fgn", "e1m", "e2s", "e3m", "mfc", "mrwm"},
		"cc", attrInt("axis", 1))
	node("Transpose", []string{"out.weight"}, "outT", ints2("perm", 1, 0))
	node("Gemm", []string{"cc", "outT", "out.bias"}, "lo")
	node("LogSoftmax", []string{"lo"}, "y")
	return g
}

// graphOfGelu is a graph of Gelu, an operator of opset 20, exact and
// approximated by tanh.
func graphOfGelu() *onnx.Graph {
	rng := rand.New(rand.NewPCG(7, 8))
	w := onnx.Floats([]int{10, 36}, make([]float32, 360))
	for i := range w.F {
		w.F[i] = float32(rng.NormFloat64() * 0.3)
	}
	tanh := &onnx.Attr{Name: "approximate", Type: onnx.AttrString, S: "tanh"}
	return &onnx.Graph{Name: "gelu", Opset: 20, Initializers: map[string]*onnx.Tensor{"fc.weight": w},
		InitializerNames: []string{"fc.weight"},
		Inputs:           []onnx.ValueInfo{{Name: "x", Kind: onnx.TensorKind, DType: onnx.Float, Shape: []int64{-1, 4, 3, 3}}},
		Outputs:          []onnx.ValueInfo{{Name: "y", Kind: onnx.TensorKind, DType: onnx.Float, Shape: []int64{-1, 10}}},
		Nodes: []*onnx.Node{
			{Name: "flat", OpType: "Flatten", Inputs: []string{"x"}, Outputs: []string{"f"}},
			{Name: "exact", OpType: "Gelu", Inputs: []string{"f"}, Outputs: []string{"g1"}},
			{Name: "tanh", OpType: "Gelu", Inputs: []string{"f"}, Outputs: []string{"g2"}, Attrs: map[string]*onnx.Attr{"approximate": tanh}},
			{Name: "sum", OpType: "Sub", Inputs: []string{"g1", "g2"}, Outputs: []string{"g"}},
			{Name: "fc", OpType: "Gemm", Inputs: []string{"g", "fc.weight"}, Outputs: []string{"y"},
				Attrs: map[string]*onnx.Attr{"transB": {Name: "transB", Type: onnx.AttrInt, I: 1}, "alpha": {Name: "alpha", Type: onnx.AttrFloat, F: 1000}}},
		}}
}

// testGraphs returns the graphs the interpreter's tests run, by name:
// graphModels, graphOfEveryPath and graphOfGelu.
func testGraphs(t *testing.T) map[string]*onnx.Graph {
	t.Helper()
	graphs := map[string]*onnx.Graph{"every_path": graphOfEveryPath(), "gelu": graphOfGelu()}
	for _, path := range graphModels {
		m, err := onnx.Read(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		graphs[strings.TrimSuffix(filepath.Base(path), ".onnx")] = m.Graph
	}
	return graphs
}

// graphInterpreterMatchesTheCPU runs ONNX graphs of operators the
// engines lack (attention, layer norm, GELU, permutes) through the graph
// interpreter of the evaluators newEval makes, at the centre and off it,
// over several batches with the last padded, against the CPU's reference
// evaluator: losses within tol relative, accuracies equal.
func graphInterpreterMatchesTheCPU(t *testing.T, newEval func(p *backend.Problem, opts *Options) (*Evaluator, error), tol float64) {
	for name, g := range testGraphs(t) {
		t.Run(name, func(t *testing.T) {
			p := graphProblem(t, name, g, 7)
			coords := []backend.Coord{{}, {X: 0.5, Y: -0.25}, {X: -1, Y: 1}}
			want, err := cpu.New(p, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer want.Close()
			got, err := newEval(p, &Options{MaxBatch: 3})
			if err != nil {
				t.Fatal(err)
			}
			defer got.Close()
			if got.BatchSize() != 3 && got.feed.Batch == 0 {
				t.Errorf("batch %d, want the 3 asked for", got.BatchSize())
			}
			backendtest.CompareWithin(t, coords, backendtest.Evaluate(t, got, coords), backendtest.Evaluate(t, want, coords), tol)
		})
	}
}

// TestGPUGraphInterpreterMatchesTheCPU is
// TestHostGraphInterpreterMatchesTheCPU on the GPU, where cuBLAS and
// cuDNN sum in orders of their own.
func TestGPUGraphInterpreterMatchesTheCPU(t *testing.T) {
	requireGPU(t)
	graphInterpreterMatchesTheCPU(t, New, 1e-5)
}

// TestGraphCheckListsEveryOpTheGPUDoesNotRun: a graph with operators the
// interpreter lacks on values computed from the data is refused before
// anything is planned, with every such node named, and its opset; the
// same operators on constants (shape arithmetic) are no obstacle.
func TestGraphCheckListsEveryOpTheGPUDoesNotRun(t *testing.T) {
	g := graphOfEveryPath()
	node := func(op, out string, in ...string) *onnx.Node {
		return &onnx.Node{Name: out, OpType: op, Inputs: in, Outputs: []string{out}}
	}
	last := len(g.Nodes) - 1
	g.Nodes = append(g.Nodes[:last:last],
		node("Floor", "fd", "lo"),       // on the data: refused
		node("Floor", "fl2", "one"),     // on a constant: evaluated on the host
		node("Add", "sum", "fd", "fl2"), // supported
		node("Tan", "ss", "sum"),        // on the data: refused
		node("LogSoftmax", "y", "ss"))
	net, err := g.ReferenceNet("extended", nets.Config{})
	if err != nil {
		t.Fatal(err)
	}
	err = Runs(net)
	if err == nil {
		t.Fatal("a graph with Floor and Tan on the data: no error")
	}
	for _, want := range []string{`node "fd" (Floor) at opset 13`, `node "ss" (Tan) at opset 13`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), `"fl2"`) {
		t.Errorf("error %q names the Floor that reads a constant", err)
	}
	if err := Runs(graphProblem(t, "every_path", graphOfEveryPath(), 1).Net); err != nil {
		t.Errorf("every_path: %v", err)
	}
}

// TestStridedBatchesAreFoundOnlyWhereEveryOperandStepsEvenly: gemmBatched
// hands cuBLAS strides where the address lists are arithmetic progressions
// (a broadcast operand steps by 0), and the address arrays otherwise.
func TestStridedBatchesAreFoundOnlyWhereEveryOperandStepsEvenly(t *testing.T) {
	heads := []int64{1000, 1040, 1080, 4000, 4000, 4000, 8000, 8020, 8040}
	sa, sb, sc, ok := strides(heads, 3)
	if !ok || sa != 10 || sb != 0 || sc != 5 {
		t.Errorf("strides of %v = %d, %d, %d, %t; want 10, 0, 5, true", heads, sa, sb, sc, ok)
	}
	for _, uneven := range [][]int64{
		{1000, 1040, 1090, 4000, 4000, 4000, 8000, 8020, 8040}, // A's second step differs
		{1000, 1040, 1080, 4000, 4000, 4000, 8000, 8020, 8041}, // C's
		{1000, 1002, 1004, 4000, 4000, 4000, 8000, 8020, 8040}, // half a float
	} {
		if _, _, _, ok := strides(uneven, 3); ok {
			t.Errorf("strides of %v found a fixed stride", uneven)
		}
	}
	if _, _, _, ok := strides([]int64{1000, 4000, 8000}, 1); !ok {
		t.Error("a single product has no stride to find, and needs none")
	}
}

// TestFastDivisorsDivide: the kernels' division by a dimension, a
// multiplication and a shift in 32-bit arithmetic, gives the quotient for
// every numerator below 2³¹, tried at the edges (0, multiples of d and
// their neighbours, 2³¹ − 1) and at random, for small, prime,
// power-of-two-adjacent and the largest divisors.
func TestFastDivisorsDivide(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	divisors := []uint32{1<<31 - 1, 1 << 30, 1<<30 + 1, 65535, 65536, 65537, 2147483629, 1000003}
	for d := uint32(1); d <= 1000; d++ {
		divisors = append(divisors, d)
	}
	for range 1000 {
		divisors = append(divisors, 1+rng.Uint32N(1<<31-1))
	}
	for _, d := range divisors {
		magic, shift := fastDivisor(int(d))
		div := func(n uint32) uint32 { // graph.cu's view_offsets
			hi := uint32(uint64(n) * uint64(uint32(magic)) >> 32)
			return (hi + n) >> uint32(shift)
		}
		ns := []uint32{0, 1, d - 1, d, d + 1, 2*d - 1, 1<<31 - 1, 1<<31 - 2, (1<<31 - 1) / d * d, (1<<31-1)/d*d - 1}
		for range 200 {
			ns = append(ns, rng.Uint32N(1<<31))
		}
		for _, n := range ns {
			if n >= 1<<31 {
				continue
			}
			if got := div(n); got != n/d {
				t.Fatalf("%d / %d by multiplier %d and shift %d = %d, want %d", n, d, magic, shift, got, n/d)
			}
		}
	}
	if m, s := fastDivisor(1 << 31); m != 0 || s != 0 {
		t.Errorf("fastDivisor(2³¹) = %d, %d: a divisor no narrow view has should get zeros", m, s)
	}
}

// TestBlockSizesMatchTheKernels: the threads per block the planner and
// the differentiator launch with fit the kernels' shared arrays.
func TestBlockSizesMatchTheKernels(t *testing.T) {
	for _, c := range []struct {
		define string
		size   int
	}{{"ROW_BLOCK", rowBlock}, {"SUMS_BLOCK", sumsBlock}} {
		if want := fmt.Sprintf("#define %s %d\n", c.define, c.size); !strings.Contains(source, want) {
			t.Errorf("the kernels lack %q", want)
		}
	}
	for _, cols := range []int{1, 5, 64, 65, 197, 768, 1 << 20} {
		th := int(rowThreads(cols))
		if th < 32 || th > rowBlock || th&(th-1) != 0 || th > 32 && th > cols || th < rowBlock && 2*th <= cols {
			t.Errorf("rowThreads(%d) = %d: want the largest power of two not above it, from 32 to %d", cols, th, rowBlock)
		}
	}
}

// TestCoalesceKeepsTheView: merging dimensions and dropping those of size
// 1 leaves every operand's offset of every element as it was.
func TestCoalesceKeepsTheView(t *testing.T) {
	offsets := func(dims []int, strides []int) []int {
		var out []int
		n := nets.NumElements(dims)
		for i := range n {
			off, r := 0, i
			for d := len(dims) - 1; d >= 0; d-- {
				off += r % dims[d] * strides[d]
				r /= dims[d]
			}
			out = append(out, off)
		}
		return out
	}
	for _, c := range []struct {
		dims    []int
		strides [][]int
		rank    int
	}{
		{[]int{2, 3, 4}, [][]int{{12, 4, 1}, {12, 4, 1}}, 1},          // dense: one run
		{[]int{2, 3, 4}, [][]int{{12, 4, 1}, {0, 0, 1}}, 2},           // a bias over the last axis
		{[]int{2, 1, 3, 4}, [][]int{{12, 12, 4, 1}, {1, 0, 8, 2}}, 2}, // a permute whose last two axes step as one, a unit axis
		{[]int{5, 1, 1}, [][]int{{1, 1, 1}, {0, 7, 9}}, 1},            // unit axes only
		{[]int{2, 3, 4, 5}, [][]int{{60, 20, 5, 1}, {60, 20, 5, 1}, {0, 5, 0, 1}}, 4},
		{[]int{1, 1}, [][]int{{1, 1}, {0, 0}}, 0}, // one element
	} {
		d, s := coalesce(c.dims, c.strides)
		if len(d) != c.rank {
			t.Errorf("%v %v: rank %d (%v), want %d", c.dims, c.strides, len(d), d, c.rank)
		}
		for k := range c.strides {
			if got, want := offsets(d, s[k]), offsets(c.dims, c.strides[k]); !slices.Equal(got, want) {
				t.Errorf("%v %v: operand %d's offsets %v, want %v", c.dims, c.strides, k, got, want)
			}
		}
	}
}

// TestPadByIndexMarksThePadding: a Pad run on element indices gives -1
// where it pads, at the opset where the value is an attribute as where it
// is an input, and the value padded with is the graph's.
func TestPadByIndexMarksThePadding(t *testing.T) {
	ints := func(name string, v ...int64) *onnx.Attr { return &onnx.Attr{Name: name, Type: onnx.AttrInts, Ints: v} }
	idx := onnx.Ints([]int{1, 2}, []int64{0, 1})
	want := []int64{-1, 0, 1, -1, -1}
	for _, c := range []struct {
		opset int64
		n     *onnx.Node
		in    []*onnx.Tensor
	}{
		{10, &onnx.Node{OpType: "Pad", Outputs: []string{"y"}, Attrs: map[string]*onnx.Attr{"pads": ints("pads", 0, 1, 0, 2),
			"value": {Name: "value", Type: onnx.AttrFloat, F: 2.5}}}, []*onnx.Tensor{idx}},
		{13, &onnx.Node{OpType: "Pad", Outputs: []string{"y"}, Attrs: map[string]*onnx.Attr{}},
			[]*onnx.Tensor{idx, onnx.Ints([]int{4}, []int64{0, 1, 0, 2}), onnx.Floats([]int{}, []float32{2.5})}},
	} {
		g := &onnx.Graph{Opset: c.opset}
		n, ts, fill, err := padByIndex(c.opset, c.n, c.in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := g.EvalNode(n, ts)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(out[0].I, want) || fill != 2.5 {
			t.Errorf("opset %d: indices %v, fill %g; want %v, 2.5", c.opset, out[0].I, fill, want)
		}
		if c.opset < 11 && c.n.Attrs["value"].F != 2.5 {
			t.Errorf("opset %d: the graph's node was changed", c.opset)
		}
	}
}

// graphFixtures are the PyTorch fixtures whose models run on the graph
// interpreter: torchvision's convnext_tiny and vit_b_16 at full size
// (testdata/torchvision) and the causal language model (testdata/lm).
var graphFixtures = []string{"torchvision/convnext_tiny", "torchvision/vit_b_16", "lm/causal_lm"}

// graphInterpreterMatchesPyTorch evaluates the graphFixtures with the
// evaluators newEval makes, at every point PyTorch recorded: the loss
// within 1e-4 relative, the accuracy equal.
func graphInterpreterMatchesPyTorch(t *testing.T, newEval func(p *backend.Problem) (*Evaluator, error)) {
	for _, name := range graphFixtures {
		t.Run(filepath.Base(name), func(t *testing.T) {
			c := fixture.Load(t, name)
			m, err := onnx.Read(c.ModelFile(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			net, err := m.Graph.ReferenceNet(filepath.Base(name), c.Config)
			if err != nil {
				t.Fatal(err)
			}
			ds, err := data.Load(data.Spec{Kind: data.NPZ, Path: c.Data}, "train", nil)
			if err != nil {
				t.Fatal(err)
			}
			x, y := c.Directions(t)
			p := &backend.Problem{Net: net, Center: c.Weights(t), X: x, Y: y, Data: []*backend.Data{{Name: "train", N: ds.N,
				C: ds.C, H: ds.H, W: ds.W, X: ds.X, Y: ds.Y, Seq: ds.Seq}}}
			e, err := newEval(p)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			var coords []backend.Coord
			var want [][]float64
			for _, pt := range append(slices.Clone(c.Points), c.Points1D...) {
				co := backend.Coord{X: pt.X}
				if pt.Y != nil {
					co.Y = *pt.Y
				}
				coords = append(coords, co)
				want = append(want, []float64{pt.Loss, pt.Acc})
			}
			backendtest.Compare(t, coords, backendtest.Evaluate(t, e, coords), want)
		})
	}
}

// TestGPUGraphInterpreterMatchesPyTorch is
// TestHostGraphInterpreterMatchesPyTorch on the GPU.
func TestGPUGraphInterpreterMatchesPyTorch(t *testing.T) {
	requireGPU(t)
	graphInterpreterMatchesPyTorch(t, func(p *backend.Problem) (*Evaluator, error) { return New(p, nil) })
}

// graphNodesMatchTheCPU runs the graph interpreter's plan for one batch of
// each of testGraphs node by node, at the centre, and compares every
// value on the batch, once its node has run, with the reference
// evaluator's (relative to the value's largest magnitude): a node that
// goes wrong is named, not merely the loss.
func graphNodesMatchTheCPU(t *testing.T, newEval func(p *backend.Problem, opts *Options) (*Evaluator, error), tol float64) {
	for name, g := range testGraphs(t) {
		t.Run(name, func(t *testing.T) {
			p := graphProblem(t, name, g, 3)
			e, err := newEval(p, &Options{MaxBatch: 3})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			// The reference evaluator, asked for every value.
			all := *g
			all.Outputs = nil
			for _, n := range g.Nodes {
				for _, o := range n.Outputs {
					if o != "" {
						all.Outputs = append(all.Outputs, onnx.ValueInfo{Name: o, Kind: onnx.TensorKind})
					}
				}
			}
			dd := e.sets[0]
			d := p.Data[0]
			x := make([]float32, dd.chunk*dd.perSample) // padded, as the evaluator pads an export's fixed batch
			copy(x, d.X)
			feed := onnx.Floats(append([]int{dd.chunk}, e.feed.Sample...), x)
			if !e.feed.DType.IsFloat() {
				ids := make([]int64, len(x))
				for i, v := range x {
					ids[i] = int64(v)
				}
				feed = &onnx.Tensor{DType: e.feed.DType, Shape: feed.Shape, I: ids}
			}
			weights := &nets.StateDict{} // those of the graph: not num_batches_tracked
			for _, k := range g.Weights().Names() {
				w, _ := p.Center.Get(k)
				weights.Set(k, w)
			}
			want, err := all.Run(map[string]*onnx.Tensor{e.feed.Input: feed}, weights)
			if err != nil {
				t.Fatal(err)
			}
			err = e.t.do(func() error {
				n := int64(e.nparams)
				if err := e.g.launch("form_weights", n, e.w, e.center, e.dx, ptr(0), float32(0), float32(0), n); err != nil {
					return err
				}
				if err := runSteps(e.run.perPoint); err != nil {
					return err
				}
				if err := upload(e.g, e.run.input, x); err != nil {
					return err
				}
				done := 0
				for _, mk := range e.run.marks {
					if err := runSteps(e.run.perBatch[done:mk.step]); err != nil {
						return err
					}
					done = mk.step
					for name, v := range mk.values {
						got := make([]float32, v.size())
						if err := download(e.g, got, v.at); err != nil {
							return err
						}
						w := want[name]
						if w == nil || w.F == nil || len(w.F) != len(got) {
							continue // an integer value, or one the reference evaluator drops
						}
						scale := 0.0
						for _, f := range w.F {
							scale = max(scale, math.Abs(float64(f)))
						}
						for i := range got {
							if d := math.Abs(float64(got[i] - w.F[i])); d > tol*scale || got[i] != got[i] && w.F[i] == w.F[i] {
								return fmt.Errorf("%s: value %q element %d of %v: %g, the reference evaluator's %g", mk.node.Label(), name, i,
									v.shape, got[i], w.F[i])
							}
						}
					}
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
}

// TestGPUGraphNodesMatchTheCPU is TestHostGraphNodesMatchTheCPU on the
// GPU: where the loss is wrong, it names the first node at fault.
func TestGPUGraphNodesMatchTheCPU(t *testing.T) {
	requireGPU(t)
	graphNodesMatchTheCPU(t, New, 1e-5)
}
