package onnx

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/landscape-go/landscape/nets"
)

// Graph is an ONNX graph: named values flowing between nodes. Values are
// named by strings; the empty name marks an omitted optional input or
// output.
type Graph struct {
	Name string
	// Opset is the imported version of the default (ai.onnx) operator set,
	// which selects among the versions of an operator's semantics.
	Opset int64
	// Inputs lists the graph inputs, including those that an initializer
	// gives a default value (older exporters list weights as inputs too);
	// [Graph.DataInputs] lists only the others.
	Inputs    []ValueInfo
	Outputs   []ValueInfo
	ValueInfo []ValueInfo
	// Initializers holds the constant tensors — for an exported network,
	// its weights and buffers — by name; InitializerNames gives their
	// order in the file.
	Initializers     map[string]*Tensor
	InitializerNames []string
	// Nodes is in topological order, as ONNX requires and [Graph.Check]
	// verifies.
	Nodes []*Node
}

// ValueKind is the kind of a graph input or output: a tensor, or one of
// the other ONNX types, which are not supported.
type ValueKind int

const (
	UnknownKind ValueKind = iota // no type given
	TensorKind
	SequenceKind
	MapKind
	SparseTensorKind
	OptionalKind
)

var kindNames = [...]string{"untyped value", "tensor", "sequence", "map", "sparse tensor", "optional"}

func (k ValueKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("ValueKind(%d)", int(k))
}

// ValueInfo describes a graph input or output.
type ValueInfo struct {
	Name string
	// Kind is TensorKind for tensors; the others are refused.
	Kind  ValueKind
	DType DType
	// Shape holds -1 for symbolic or unknown dimensions; nil when the
	// shape is not given.
	Shape []int64
}

// Node is one operator application.
type Node struct {
	Name    string
	OpType  string
	Domain  string // "" for the default ai.onnx domain
	Inputs  []string
	Outputs []string
	Attrs   map[string]*Attr
}

// Attr is a node attribute.
type Attr struct {
	Name    string
	Type    AttrType
	F       float32
	I       int64
	S       string
	T       *Tensor
	Floats  []float32
	Ints    []int64
	Strings []string
}

// Label names the node for errors: its name and op type.
func (n *Node) Label() string {
	if n.Name == "" {
		return fmt.Sprintf("%s node (outputs %s)", n.OpType, strings.Join(n.Outputs, ", "))
	}
	return fmt.Sprintf("node %q (%s)", n.Name, n.OpType)
}

// DataInputs returns the graph inputs that no initializer gives a value.
func (g *Graph) DataInputs() []ValueInfo {
	var in []ValueInfo
	for _, v := range g.Inputs {
		if _, ok := g.Initializers[v.Name]; !ok {
			in = append(in, v)
		}
	}
	return in
}

// Weights returns the model's parameters as a state dict: the
// floating-point initializers, in file order, sharing their data, then the
// parameters torch.onnx.export replaced by an Identity node reading an
// initializer of equal values, each under its own name with its own copy
// (see [Graph.ParamAliases]).
func (g *Graph) Weights() *nets.StateDict {
	sd := &nets.StateDict{}
	for _, name := range g.InitializerNames {
		if t := g.Initializers[name]; t.DType.IsFloat() {
			sd.Set(name, t.Nets())
		}
	}
	for _, n := range g.Nodes {
		if src, ok := g.paramAlias(n); ok {
			t := g.Initializers[src].Nets()
			t.Data = slices.Clone(t.Data)
			sd.Set(n.Outputs[0], t)
		}
	}
	return sd
}

// ParamAliases returns the parameters that torch.onnx.export stored as an
// Identity of another, by name, with the initializer each reads: the
// exporter keeps one copy of parameters whose values are equal (an
// untrained model's batch norms, say), though they are distinct
// parameters of the model.
func (g *Graph) ParamAliases() map[string]string {
	aliases := map[string]string{}
	for _, n := range g.Nodes {
		if src, ok := g.paramAlias(n); ok {
			aliases[n.Outputs[0]] = src
		}
	}
	return aliases
}

// paramAlias reports whether n is an Identity of a floating-point
// initializer, and which.
func (g *Graph) paramAlias(n *Node) (string, bool) {
	if n.OpType != "Identity" || n.Domain != "" || len(n.Inputs) != 1 || len(n.Outputs) != 1 || n.Outputs[0] == "" {
		return "", false
	}
	t, ok := g.Initializers[n.Inputs[0]]
	return n.Inputs[0], ok && t.DType.IsFloat()
}

// Check verifies that the graph can be evaluated: every node's op is
// supported at the graph's opset, every node reads only values defined
// before it (topological order), no value is defined twice, and inputs and
// outputs are tensors. Unsupported ops are reported together, in one error
// wrapping [ErrUnsupported] that lists each op type with its nodes.
func (g *Graph) Check() error {
	unsupported := map[string][]string{}
	for _, n := range g.Nodes {
		if _, ok := ops[n.OpType]; !ok || n.Domain != "" {
			key := n.OpType
			if n.Domain != "" {
				key = n.Domain + "." + n.OpType
			}
			name := n.Name
			if name == "" {
				name = "(unnamed, output " + strings.Join(n.Outputs, ",") + ")"
			}
			unsupported[key] = append(unsupported[key], name)
		}
	}
	if len(unsupported) > 0 {
		keys := make([]string, 0, len(unsupported))
		for k := range unsupported {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		fmt.Fprintf(&b, "%d operator types at opset %d:", len(keys), g.Opset)
		for _, k := range keys {
			names := unsupported[k]
			more := ""
			if len(names) > 5 {
				more = fmt.Sprintf(" and %d more", len(names)-5)
				names = names[:5]
			}
			fmt.Fprintf(&b, "\n  %s (%d nodes: %s%s)", k, len(unsupported[k]), strings.Join(names, ", "), more)
		}
		return fmt.Errorf("%w: %s", ErrUnsupported, b.String())
	}
	defined := map[string]bool{"": true}
	for _, v := range g.Inputs {
		if v.Kind != TensorKind {
			return fmt.Errorf("input %q is a %s: %w", v.Name, v.Kind, ErrUnsupported)
		}
		if !v.DType.supported() {
			return fmt.Errorf("input %q has element type %v: %w", v.Name, v.DType, ErrUnsupported)
		}
		defined[v.Name] = true
	}
	for name := range g.Initializers {
		defined[name] = true
	}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			if !defined[in] {
				return fmt.Errorf("%s reads %q, which no earlier node, input or initializer defines (nodes not in topological order?): %w", n.Label(), in, ErrFormat)
			}
		}
		for _, out := range n.Outputs {
			if out != "" && defined[out] {
				return fmt.Errorf("%s defines %q a second time: %w", n.Label(), out, ErrFormat)
			}
			defined[out] = true
		}
	}
	for _, v := range g.Outputs {
		if v.Kind != TensorKind && v.Kind != UnknownKind {
			return fmt.Errorf("output %q is a %s: %w", v.Name, v.Kind, ErrUnsupported)
		}
		if !defined[v.Name] {
			return fmt.Errorf("output %q is never computed: %w", v.Name, ErrFormat)
		}
	}
	return nil
}

// OpTypes returns the operator types this package evaluates, sorted.
func OpTypes() []string {
	out := make([]string, 0, len(ops))
	for k := range ops {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Logits returns g with one output, the logits: of a graph of several
// outputs the one named "logits" (the README's export names it so; a
// graph of several outputs none of them so named is returned as it is),
// with a final Softmax over the classes taken off, its input becoming the
// graph's output, and the Softmax node (nil where g ends otherwise). A
// network that outputs
// probabilities p is trained with PyTorch's NLLLoss of log p, −log p[y]:
// the cross-entropy of the Softmax's input, which is what a landscape
// then computes, while the cross-entropy of p itself would be a
// near-constant. The argmax, and so the accuracy, is the same. A final
// LogSoftmax needs nothing of the kind: log_softmax is idempotent.
func (g *Graph) Logits() (*Graph, *Node) {
	if len(g.Outputs) > 1 {
		k := slices.IndexFunc(g.Outputs, func(v ValueInfo) bool { return strings.EqualFold(v.Name, "logits") })
		if k < 0 {
			return g, nil
		}
		one := *g
		one.Outputs = []ValueInfo{g.Outputs[k]}
		g = &one
	}
	if len(g.Outputs) != 1 {
		return g, nil
	}
	out := g.Outputs[0]
	var last *Node
	k := -1
	for i, n := range g.Nodes {
		if slices.Contains(n.Inputs, out.Name) {
			return g, nil // read inside the graph too
		}
		if slices.Contains(n.Outputs, out.Name) {
			last, k = n, i
		}
	}
	if last == nil || last.OpType != "Softmax" || last.Domain != "" || len(last.Inputs) != 1 {
		return g, nil
	}
	axis := int64(-1)
	if g.Opset < 13 {
		axis = 1 // and the input is taken as 2D, its classes the second dimension
	}
	if a, ok := last.Attrs["axis"]; ok {
		axis = a.I
	}
	rank := int64(len(out.Shape))
	if !(axis == -1 || rank > 0 && axis == rank-1 || axis == 1 && (rank == 2 || rank == 0)) {
		return g, nil // a softmax over another dimension than the classes'
	}
	c := *g
	c.Nodes = slices.Delete(slices.Clone(g.Nodes), k, k+1)
	out.Name = last.Inputs[0]
	c.Outputs = []ValueInfo{out}
	return &c, last
}
