package nets

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// Tensor is a dense array of float32 values in row-major (C) order, shaped as
// PyTorch shapes it: a convolution weight is [out, in, kh, kw], a linear weight
// [out, in], a bias or batch-norm vector [n] and a scalar [].
//
// Checkpoints may store other element types (float64, float16, bfloat16,
// int64); readers convert them to float32 and record the original in DType.
type Tensor struct {
	Shape []int
	Data  []float32
	// DType is the element type the tensor had in its file ("float32",
	// "float16", "int64", ...). The writers keep "int64" and write every
	// other type as float32 (see [Tensor.AppendValue]).
	DType string
}

// AppendValue appends v to b as the checkpoint writers store a value of t,
// little-endian: an int64 where t.DType is "int64" (a num_batches_tracked,
// which PyTorch keeps as one), a float32 otherwise.
func (t *Tensor) AppendValue(b []byte, v float32) []byte {
	if t.DType == "int64" {
		return binary.LittleEndian.AppendUint64(b, uint64(int64(v)))
	}
	return binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
}

// NewTensor returns a zero tensor of the given shape with DType "float32".
func NewTensor(shape ...int) *Tensor {
	return &Tensor{Shape: slices.Clone(shape), Data: make([]float32, NumElements(shape)), DType: "float32"}
}

// NumElements returns the number of elements of a tensor of the given shape:
// the product of its dimensions, 1 for a scalar.
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Rank returns the number of dimensions of t.
func (t *Tensor) Rank() int { return len(t.Shape) }

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: slices.Clone(t.Shape), Data: slices.Clone(t.Data), DType: t.DType}
}

// ShapeString formats a shape as PyTorch prints it in error messages: [16 3 3 3].
func ShapeString(shape []int) string { return fmt.Sprint(shape) }
