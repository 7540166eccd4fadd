package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/landscape-go/landscape/internal/npy"
	"github.com/landscape-go/landscape/nets"
)

// DType is an ONNX element type, numbered as TensorProto.DataType.
type DType int

const (
	Undefined DType = 0
	Float     DType = 1
	Uint8     DType = 2
	Int8      DType = 3
	Uint16    DType = 4
	Int16     DType = 5
	Int32     DType = 6
	Int64     DType = 7
	String    DType = 8
	Bool      DType = 9
	Float16   DType = 10
	Double    DType = 11
	Uint32    DType = 12
	Uint64    DType = 13
	BFloat16  DType = 16
)

var dtypeNames = map[DType]string{
	Undefined: "undefined", Float: "float32", Uint8: "uint8", Int8: "int8", Uint16: "uint16",
	Int16: "int16", Int32: "int32", Int64: "int64", String: "string", Bool: "bool",
	Float16: "float16", Double: "float64", Uint32: "uint32", Uint64: "uint64",
	14: "complex64", 15: "complex128", BFloat16: "bfloat16",
}

func (d DType) String() string {
	if s, ok := dtypeNames[d]; ok {
		return s
	}
	return fmt.Sprintf("DType(%d)", int(d))
}

// IsFloat reports whether d is a floating-point type, held in [Tensor.F].
func (d DType) IsFloat() bool { return d == Float || d == Float16 || d == BFloat16 || d == Double }

// supported reports whether tensors of type d can be held and computed on.
func (d DType) supported() bool {
	switch d {
	case Float, Float16, BFloat16, Double, Uint8, Int8, Uint16, Int16, Int32, Int64, Uint32, Uint64, Bool:
		return true
	}
	return false
}

// itemSize is the size in bytes of one element of d as raw_data stores it.
func (d DType) itemSize() int {
	switch d {
	case Uint8, Int8, Bool:
		return 1
	case Uint16, Int16, Float16, BFloat16:
		return 2
	case Float, Int32, Uint32:
		return 4
	case Int64, Double, Uint64:
		return 8
	}
	return 0
}

// Tensor is a dense, row-major array of one of the element types the
// evaluator supports. Floating-point types (float32, float16, bfloat16,
// float64) are held and computed on as float32 in F, as PyTorch computes
// on the CPU; integer and bool types are held as int64 in I (bool as 0 or
// 1, uint64 as its bits). Exactly one of F and I is used.
type Tensor struct {
	DType DType
	Shape []int
	F     []float32
	I     []int64
}

// Len returns the number of elements.
func (t *Tensor) Len() int { return nets.NumElements(t.Shape) }

// decodedBytes is the memory the tensor's elements take.
func (t *Tensor) decodedBytes() int64 { return 4*int64(len(t.F)) + 8*int64(len(t.I)) }

// newTensor returns a zero tensor of type d and the given shape.
func newTensor(d DType, shape []int) *Tensor {
	t := &Tensor{DType: d, Shape: slices.Clone(shape)}
	if t.Shape == nil {
		t.Shape = []int{}
	}
	n := nets.NumElements(shape)
	if d.IsFloat() {
		t.F = make([]float32, n)
	} else {
		t.I = make([]int64, n)
	}
	return t
}

// Floats returns a float32 tensor with shape and data.
func Floats(shape []int, data []float32) *Tensor {
	return &Tensor{DType: Float, Shape: slices.Clone(shape), F: data}
}

// Ints returns an int64 tensor with shape and data.
func Ints(shape []int, data []int64) *Tensor {
	return &Tensor{DType: Int64, Shape: slices.Clone(shape), I: data}
}

// Nets returns the tensor as a [nets.Tensor] (float32, shared data for
// floating-point tensors, converted for integer ones).
func (t *Tensor) Nets() *nets.Tensor {
	out := &nets.Tensor{Shape: slices.Clone(t.Shape), DType: t.DType.String()}
	if t.DType.IsFloat() {
		out.Data = t.F
		return out
	}
	out.Data = make([]float32, len(t.I))
	for i, v := range t.I {
		out.Data[i] = float32(v)
	}
	return out
}

// FromNets returns a float32 tensor sharing the data of t.
func FromNets(t *nets.Tensor) *Tensor {
	return &Tensor{DType: Float, Shape: slices.Clone(t.Shape), F: t.Data}
}

// float32To16 rounds f to the nearest half-precision value, ties to even.
func float32To16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23&0xff) - 127 + 15
	frac := b & 0x7fffff
	switch {
	case b&0x7fffffff > 0x7f800000: // NaN
		return sign | 0x7e00
	case exp >= 0x1f: // overflow or Inf
		return sign | 0x7c00
	case exp <= 0: // subnormal or zero
		if exp < -10 {
			return sign
		}
		frac |= 0x800000
		shift := uint(14 - exp)
		h := frac >> shift
		rem := frac & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && h&1 == 1) {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(exp)<<10 | frac>>13
	rem := frac & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // may carry into the exponent, up to Inf: right
	}
	return sign | uint16(h)
}

// roundTo returns f rounded to the precision of the floating-point type d.
func roundTo(d DType, f float32) float32 {
	switch d {
	case Float16:
		return npy.Float16ToFloat32(float32To16(f))
	case BFloat16:
		b := math.Float32bits(f)
		if b&0x7fffffff > 0x7f800000 {
			return f
		}
		b += 0x7fff + (b>>16)&1
		return math.Float32frombits(b &^ 0xffff)
	}
	return f
}

// wrapInt returns v wrapped to the range of the integer type d, as a
// C cast does.
func wrapInt(d DType, v int64) int64 {
	switch d {
	case Uint8:
		return int64(uint8(v))
	case Int8:
		return int64(int8(v))
	case Uint16:
		return int64(uint16(v))
	case Int16:
		return int64(int16(v))
	case Int32:
		return int64(int32(v))
	case Uint32:
		return int64(uint32(v))
	case Bool:
		if v != 0 {
			return 1
		}
		return 0
	}
	return v
}
