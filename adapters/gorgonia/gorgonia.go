// Package gorgonia converts landscape's weights to and from Gorgonia's
// *tensor.Dense without copying, for Go programs that build or train
// networks with gorgonia.org and want to load PyTorch checkpoints with
// landscape's readers, or compute loss surfaces of their own weights.
//
// # Overview
//
// [ToDense] and [FromDense] share the float32 backing array: a change made
// through one is seen through the other. [StateDictToDense] and
// [StateDictFromDense] do the same for whole state dicts.
//
// This package is a separate Go module: gorgonia.org/tensor brings about
// fifteen modules with it, which the landscape command and its core
// packages do without. Its last release panics at start-up under Go 1.26
// unless go4.org/unsafe/assume-no-moving-gc is v0.0.0-20231121144256-b99613f794b6
// or later, which this module's go.mod requires.
package gorgonia

import (
	"fmt"
	"slices"

	"github.com/landscape-go/landscape/nets"
	"gorgonia.org/tensor"
)

// ToDense returns a Dense of t's shape backed by t.Data itself. A scalar
// (shape []) becomes a Dense of shape [1], since a Dense backed by a slice
// needs at least one dimension.
func ToDense(t *nets.Tensor) *tensor.Dense {
	shape := t.Shape
	if len(shape) == 0 {
		shape = []int{1}
	}
	return tensor.New(tensor.WithShape(slices.Clone(shape)...), tensor.WithBacking(t.Data))
}

// FromDense returns a Tensor backed by d's data, without copying. d must
// hold float32 values in row-major order over its whole backing array (not
// a strided view or a transpose).
func FromDense(d *tensor.Dense) (*nets.Tensor, error) {
	if d.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("gorgonia: dense of %v, want float32", d.Dtype())
	}
	if d.IsView() || !d.DataOrder().IsRowMajor() || !contiguous(d.Shape(), d.Strides()) {
		return nil, fmt.Errorf("gorgonia: dense of shape %v is a view, a transpose or not row-major: materialise it first", d.Shape())
	}
	data, ok := d.Data().([]float32)
	if !ok { // a scalar Dense holds a bare float32
		return nil, fmt.Errorf("gorgonia: dense of shape %v has no backing slice", d.Shape())
	}
	shape := slices.Clone([]int(d.Shape()))
	if nets.NumElements(shape) != len(data) {
		return nil, fmt.Errorf("gorgonia: dense of shape %v has %d values", shape, len(data))
	}
	return &nets.Tensor{Shape: shape, Data: data, DType: "float32"}, nil
}

// StateDictToDense converts every tensor of sd, sharing memory.
func StateDictToDense(sd *nets.StateDict) map[string]*tensor.Dense {
	out := make(map[string]*tensor.Dense, sd.Len())
	for _, name := range sd.Names() {
		t, _ := sd.Get(name)
		out[name] = ToDense(t)
	}
	return out
}

// StateDictFromDense builds a state dict from named Dense values, in the
// order of names (the map has none), sharing memory. shapes, if not nil,
// gives the shapes to restore (for example [] for the scalars that
// StateDictToDense widened to [1]).
func StateDictFromDense(names []string, m map[string]*tensor.Dense, shapes map[string][]int) (*nets.StateDict, error) {
	sd := &nets.StateDict{}
	for _, name := range names {
		d, ok := m[name]
		if !ok {
			return nil, fmt.Errorf("gorgonia: no tensor %s", name)
		}
		t, err := FromDense(d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if s, ok := shapes[name]; ok {
			if nets.NumElements(s) != len(t.Data) {
				return nil, fmt.Errorf("gorgonia: %s: shape %v does not fit %d values", name, s, len(t.Data))
			}
			t.Shape = slices.Clone(s)
		}
		sd.Set(name, t)
	}
	return sd, nil
}

// contiguous reports whether strides are those of a packed row-major array
// of the given shape (what a lazy transpose is not).
func contiguous(shape tensor.Shape, strides []int) bool {
	if len(strides) != len(shape) {
		return len(shape) == 0
	}
	want := 1
	for i := len(shape) - 1; i >= 0; i-- {
		if shape[i] != 1 && strides[i] != want {
			return false
		}
		want *= shape[i]
	}
	return true
}
