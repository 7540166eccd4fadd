package onnx

import (
	"fmt"
	"slices"

	"github.com/landscape-go/landscape/nets"
)

// Feed is how a network's data enters its graph: what [Graph.ReferenceNet]
// feeds it, for a backend that runs the graph itself.
type Feed struct {
	// Input is the graph input that takes the batch.
	Input string
	// DType is its element type: float32 images, or integer token ids,
	// which the data holds as float32 values below 2^24.
	DType DType
	// Sample is the shape of one sample: C x H x W, F, or T.
	Sample []int
	// Batch is the batch size the export fixed, 0 if it left it dynamic.
	// A graph with a fixed batch is fed batches of that size, the last
	// one padded.
	Batch int
}

// Feed returns how a batch of cfg's samples is fed to g (see
// [Graph.ReferenceNet] for the inputs it takes), and cfg with the
// geometry the input fixes.
func (g *Graph) Feed(cfg nets.Config) (Feed, nets.Config, error) {
	in, cfg, batch, err := g.imageInput(cfg)
	if err != nil {
		return Feed{}, cfg, err
	}
	f := Feed{Input: in.Name, DType: in.DType, Batch: batch}
	switch {
	case cfg.Seq > 0:
		f.Sample = []int{cfg.Seq}
	case len(in.Shape) == 2:
		f.Sample = []int{cfg.InChannels}
	default:
		f.Sample = []int{cfg.InChannels, cfg.Height, cfg.Width}
	}
	return f, cfg, nil
}

// EvalNode evaluates node n of g on its inputs (nil for omitted optional
// ones), as [Graph.Run] does, and returns its outputs: for a backend that
// runs some of a graph's nodes itself and leaves the others, the
// arithmetic on shapes and constants, to the evaluator.
func (g *Graph) EvalNode(n *Node, in []*Tensor) ([]*Tensor, error) {
	op, ok := ops[n.OpType]
	if !ok || n.Domain != "" {
		return nil, fmt.Errorf("onnx: %s: %w", n.Label(), ErrUnsupported)
	}
	out, err := op(&opCtx{n: n, opset: g.Opset}, in)
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", n.Label(), err)
	}
	return out, nil
}

// IntAttr returns n's integer attribute name, def if absent.
func (n *Node) IntAttr(name string, def int64) (int64, error) {
	return (&opCtx{n: n}).int(name, def)
}

// IntsAttr returns n's attribute name, a list of integers, and whether n
// has it.
func (n *Node) IntsAttr(name string) ([]int64, bool, error) {
	return (&opCtx{n: n}).ints(name)
}

// StringAttr returns n's string attribute name, def if absent.
func (n *Node) StringAttr(name, def string) (string, error) {
	return (&opCtx{n: n}).str(name, def)
}

// FloatAttr returns n's float attribute name, def if absent.
func (n *Node) FloatAttr(name string, def float32) (float32, error) {
	return (&opCtx{n: n}).float(name, def)
}

// ClipBounds returns the bounds of Clip node n with inputs in: its
// attributes before opset 11, its inputs 1 and 2 (nil where absent) from
// it on; a bound left out is infinite.
func (g *Graph) ClipBounds(n *Node, in []*Tensor) (lo, hi float64, err error) {
	return clipBounds(&opCtx{n: n, opset: g.Opset}, in)
}

// Pooling is how a MaxPool or AveragePool node reads its input, for a
// backend that pools by the reference evaluator's table: each output
// position of a channel's plane reduces the input positions Tab lists for
// it, in kernel order.
type Pooling struct {
	Out []int // the output's shape
	// K is the kernel's positions, Positions the output's per plane, and
	// Tab[k*Positions+o] the flat spatial input index that kernel position
	// k reads for output position o, or -1 for padding.
	K, Positions int
	Tab          []int
	// Count[o] divides the sum at o for an average: the positions read,
	// or with count_include_pad those inside the padded input.
	Count []int
}

// Pooling returns how MaxPool or AveragePool node n of g reads an input of
// shape N x C x spatial.
func (g *Graph) Pooling(n *Node, shape []int) (*Pooling, error) {
	w, include, err := (&opCtx{n: n, opset: g.Opset}).poolWindow(shape)
	if err != nil {
		return nil, err
	}
	p := &Pooling{Out: append(slices.Clone(shape[:2]), w.out...), K: w.nK, Positions: w.nOut, Tab: w.tab,
		Count: make([]int, w.nOut)}
	for o := range w.nOut {
		for k := range w.nK {
			if w.tab[k*w.nOut+o] >= 0 {
				p.Count[o]++
			}
		}
		if include {
			p.Count[o] = w.padded[o]
		}
	}
	return p, nil
}

// Broadcast returns the shape that shapes broadcast to, numpy's way, as
// the element-wise operators take them.
func Broadcast(shapes ...[]int) ([]int, error) { return broadcast(shapes...) }

// Strides returns the strides of a dense row-major array of shape.
func Strides(shape []int) []int { return stridesOf(shape) }

// BroadcastStrides returns the strides that read an array of shape from
// as if it had the broadcast shape to: 0 along the dimensions it
// broadcasts.
func BroadcastStrides(from, to []int) []int { return bcastStrides(from, to) }

// MatMulShape is the geometry of MatMul(a, b), numpy's matrix product.
type MatMulShape struct {
	M, K, N int
	// A and B are the operands' shapes with a vector made a matrix: a
	// 1 x K row for a, a K x 1 column for b.
	A, B []int
	// Lead is the broadcast shape of their leading dimensions, Out the
	// product's shape.
	Lead, Out []int
}

// MatMulShapes returns the geometry of the product of arrays of shapes a
// and b, or why they do not multiply.
func MatMulShapes(a, b []int) (MatMulShape, error) {
	if len(a) == 0 || len(b) == 0 {
		return MatMulShape{}, fmt.Errorf("scalar operand %v, %v: %w", a, b, ErrFormat)
	}
	m := MatMulShape{A: a, B: b}
	if len(a) == 1 {
		m.A = []int{1, a[0]}
	}
	if len(b) == 1 {
		m.B = []int{b[0], 1}
	}
	m.M, m.K, m.N = m.A[len(m.A)-2], m.A[len(m.A)-1], m.B[len(m.B)-1]
	if m.B[len(m.B)-2] != m.K {
		return MatMulShape{}, fmt.Errorf("shapes %v and %v: %w", a, b, ErrFormat)
	}
	lead, err := broadcast(m.A[:len(m.A)-2], m.B[:len(m.B)-2])
	if err != nil {
		return MatMulShape{}, err
	}
	m.Lead, m.Out = lead, slices.Clone(lead)
	if len(a) > 1 {
		m.Out = append(m.Out, m.M)
	}
	if len(b) > 1 {
		m.Out = append(m.Out, m.N)
	}
	return m, nil
}
