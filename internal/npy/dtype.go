package npy

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"unsafe"
)

// littleEndianHost reports whether this machine stores numbers
// little-endian, as .npy, safetensors and ONNX files almost always do.
var littleEndianHost = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// LittleEndianBytes returns the little-endian bytes of x: its own memory
// where the machine is little-endian (no copy: a write to one is a write
// to the other), false elsewhere.
func LittleEndianBytes(x []float32) ([]byte, bool) {
	if !littleEndianHost {
		return nil, false
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(x))), 4*len(x)), true
}

// dtypes maps the type codes of a NumPy descriptor ("f4" in "<f4") to the
// dtype names this package uses.
var dtypes = map[string]string{
	"b1": "bool", "?": "bool",
	"i1": "int8", "i2": "int16", "i4": "int32", "i8": "int64",
	"u1": "uint8", "u2": "uint16", "u4": "uint32", "u8": "uint64",
	"f2": "float16", "f4": "float32", "f8": "float64",
	// Single-character codes as older pickles spell them.
	"b": "int8", "B": "uint8", "h": "int16", "H": "uint16",
	"i": "int32", "I": "uint32", "l": "int64", "L": "uint64",
	"q": "int64", "Q": "uint64", "e": "float16", "f": "float32", "d": "float64",
}

// itemSizes holds the size in bytes of one element of each known dtype.
var itemSizes = map[string]int{
	"bool": 1, "int8": 1, "uint8": 1,
	"int16": 2, "uint16": 2, "float16": 2, "bfloat16": 2,
	"int32": 4, "uint32": 4, "float32": 4,
	"int64": 8, "uint64": 8, "float64": 8,
}

// ItemSize returns the size in bytes of one element of dtype, or an error
// wrapping [ErrDType] if dtype is not one this package knows.
func ItemSize(dtype string) (int, error) {
	n, ok := itemSizes[dtype]
	if !ok {
		return 0, fmt.Errorf("npy: dtype %q: %w", dtype, ErrDType)
	}
	return n, nil
}

// ParseDescr parses a NumPy type descriptor such as "<f4", ">i8", "|u1" or
// "float32" and returns the dtype name and the byte order of the stored
// elements. Descriptors without an order character, and "|" and "=", mean
// little-endian (the order NumPy writes on every common machine).
// Structured, string, object, complex and datetime types are refused with an
// error wrapping [ErrDType].
func ParseDescr(descr string) (dtype string, order binary.ByteOrder, err error) {
	order = binary.LittleEndian
	code := descr
	if code != "" {
		switch code[0] {
		case '<', '|', '=':
			code = code[1:]
		case '>':
			order = binary.BigEndian
			code = code[1:]
		}
	}
	if name, ok := dtypes[code]; ok {
		return name, order, nil
	}
	if _, ok := itemSizes[code]; ok { // already a name, "float32"
		return code, order, nil
	}
	if code == "float" || code == "double" {
		return "float64", order, nil
	}
	return "", nil, fmt.Errorf("npy: descriptor %q: %w", descr, ErrDType)
}

// Descr returns the little-endian NumPy descriptor of dtype ("<f4" for
// "float32"), or "" if NumPy has no such type (bfloat16).
func Descr(dtype string) string {
	for code, name := range dtypes {
		if name == dtype && len(code) == 2 {
			if code[1] == '1' {
				return "|" + code
			}
			return "<" + code
		}
	}
	return ""
}

// Float16ToFloat32 converts an IEEE 754 half-precision value, given by its
// bits, to float32 exactly.
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
	case frac == 0: // signed zero
		return math.Float32frombits(sign)
	}
	// Subnormal half: normalise it, float32 has the range to hold it.
	e := uint32(113)
	for frac&0x400 == 0 {
		frac <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (frac&0x3ff)<<13)
}

// BFloat16ToFloat32 converts a bfloat16 value, given by its bits, to float32
// exactly.
func BFloat16ToFloat32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// ToFloat32 converts the elements of src, stored as dtype in the given byte
// order, to float32 in dst. len(src) must be len(dst) times the item size of
// dtype. Integers beyond 2²⁴ and float64 values are rounded to the nearest
// float32, bool becomes 0 or 1.
func ToFloat32(dst []float32, src []byte, dtype string, order binary.ByteOrder) error {
	size, err := ItemSize(dtype)
	if err != nil {
		return err
	}
	if len(src) != len(dst)*size {
		return fmt.Errorf("npy: %d bytes of %s for %d elements: %w", len(src), dtype, len(dst), ErrSize)
	}
	switch dtype {
	case "float32":
		if order == binary.ByteOrder(binary.LittleEndian) {
			if b, ok := LittleEndianBytes(dst); ok {
				copy(b, src) // one memmove: a large model's weights in milliseconds
				break
			}
			// The concrete type's Uint32 inlines; the interface's costs a
			// call per element, seconds on a large model's weights.
			for i := range dst {
				dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
			}
			break
		}
		for i := range dst {
			dst[i] = math.Float32frombits(order.Uint32(src[4*i:]))
		}
	case "float64":
		for i := range dst {
			dst[i] = float32(math.Float64frombits(order.Uint64(src[8*i:])))
		}
	case "float16":
		for i := range dst {
			dst[i] = Float16ToFloat32(order.Uint16(src[2*i:]))
		}
	case "bfloat16":
		for i := range dst {
			dst[i] = BFloat16ToFloat32(order.Uint16(src[2*i:]))
		}
	case "bool":
		for i, b := range src {
			dst[i] = 0
			if b != 0 {
				dst[i] = 1
			}
		}
	case "uint8":
		for i, b := range src {
			dst[i] = float32(b)
		}
	case "int8":
		for i, b := range src {
			dst[i] = float32(int8(b))
		}
	case "int16":
		for i := range dst {
			dst[i] = float32(int16(order.Uint16(src[2*i:])))
		}
	case "uint16":
		for i := range dst {
			dst[i] = float32(order.Uint16(src[2*i:]))
		}
	case "int32":
		for i := range dst {
			dst[i] = float32(int32(order.Uint32(src[4*i:])))
		}
	case "uint32":
		for i := range dst {
			dst[i] = float32(order.Uint32(src[4*i:]))
		}
	case "int64":
		for i := range dst {
			dst[i] = float32(int64(order.Uint64(src[8*i:])))
		}
	case "uint64":
		for i := range dst {
			dst[i] = float32(order.Uint64(src[8*i:]))
		}
	}
	return nil
}

// ToInt64 converts the elements of src, stored as dtype in the given byte
// order, to int64 in dst. Floating-point values must be whole numbers within
// the range of int64, and uint64 values must fit in int64; otherwise it
// returns an error wrapping [ErrRange].
func ToInt64(dst []int64, src []byte, dtype string, order binary.ByteOrder) error {
	size, err := ItemSize(dtype)
	if err != nil {
		return err
	}
	if len(src) != len(dst)*size {
		return fmt.Errorf("npy: %d bytes of %s for %d elements: %w", len(src), dtype, len(dst), ErrSize)
	}
	switch {
	case strings.HasPrefix(dtype, "float"), dtype == "bfloat16":
		f := make([]float32, 0)
		if dtype != "float64" {
			f = make([]float32, len(dst))
			_ = ToFloat32(f, src, dtype, order) // sizes checked above
		}
		for i := range dst {
			var v float64
			if dtype == "float64" {
				v = math.Float64frombits(order.Uint64(src[8*i:]))
			} else {
				v = float64(f[i])
			}
			if v != math.Trunc(v) || v < -(1<<63) || v >= 1<<63 {
				return fmt.Errorf("npy: element %d of %s is %v, not an int64: %w", i, dtype, v, ErrRange)
			}
			dst[i] = int64(v)
		}
	case dtype == "bool" || dtype == "uint8":
		for i, b := range src {
			dst[i] = int64(b)
		}
	case dtype == "int8":
		for i, b := range src {
			dst[i] = int64(int8(b))
		}
	case dtype == "int16":
		for i := range dst {
			dst[i] = int64(int16(order.Uint16(src[2*i:])))
		}
	case dtype == "uint16":
		for i := range dst {
			dst[i] = int64(order.Uint16(src[2*i:]))
		}
	case dtype == "int32":
		for i := range dst {
			dst[i] = int64(int32(order.Uint32(src[4*i:])))
		}
	case dtype == "uint32":
		for i := range dst {
			dst[i] = int64(order.Uint32(src[4*i:]))
		}
	case dtype == "int64":
		for i := range dst {
			dst[i] = int64(order.Uint64(src[8*i:]))
		}
	case dtype == "uint64":
		for i := range dst {
			u := order.Uint64(src[8*i:])
			if u > math.MaxInt64 {
				return fmt.Errorf("npy: element %d of uint64 is %d, beyond int64: %w", i, u, ErrRange)
			}
			dst[i] = int64(u)
		}
	}
	return nil
}
