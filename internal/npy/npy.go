package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/landscape-go/landscape/internal/hugemem"
)

// Sentinel errors that callers may test with [errors.Is].
var (
	// ErrFormat reports bytes that are not a valid .npy or .npz file.
	ErrFormat = errors.New("not a valid npy file")
	// ErrDType reports an element type this package cannot decode.
	ErrDType = errors.New("unsupported dtype")
	// ErrSize reports a data length that does not match the shape.
	ErrSize = errors.New("data size does not match shape")
	// ErrRange reports a value that does not fit the requested type.
	ErrRange = errors.New("value out of range")
	// ErrTooLarge reports an .npz archive whose arrays hold more than
	// [DecodeLimit] allows for its size.
	ErrTooLarge = errors.New("npz too large to decode")
)

// magic opens every .npy file.
const magic = "\x93NUMPY"

// maxHeader bounds the header length this package accepts; NumPy itself
// refuses headers beyond 10000 bytes unless told otherwise.
const maxHeader = 1 << 20

// Array is an n-dimensional array read from a .npy file or built with
// [FromBytes]. Its elements are held in row-major (C) order as
// little-endian bytes, whatever order the source had.
type Array struct {
	// Shape is the size of each dimension; a scalar has an empty shape.
	Shape []int
	// DType names the element type: "bool", "int8", "uint8", "int16",
	// "uint16", "int32", "uint32", "int64", "uint64", "float16", "float32",
	// "float64" or "bfloat16".
	DType string
	// Fortran records that the source stored the elements in column-major
	// order. The elements have already been reordered to row-major.
	Fortran bool

	data []byte
}

// FromBytes returns an Array of the given descriptor (see [ParseDescr]) and
// shape holding data, which is in Fortran (column-major) order if fortran
// is set and in C order otherwise. Big-endian data is byte-swapped and
// Fortran data reordered, so the Array may or may not share data.
func FromBytes(descr string, shape []int, fortran bool, data []byte) (*Array, error) {
	dtype, order, err := ParseDescr(descr)
	if err != nil {
		return nil, err
	}
	size, _ := ItemSize(dtype)
	n, err := byteLen(shape, size)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) != n {
		return nil, fmt.Errorf("npy: %s%v needs %d bytes, have %d: %w", dtype, shape, n, len(data), ErrSize)
	}
	if order == binary.BigEndian && size > 1 {
		data = slices.Clone(data)
		for i := 0; i < len(data); i += size {
			slices.Reverse(data[i : i+size])
		}
	}
	if fortran && len(shape) > 1 {
		data = fortranToC(data, shape, size)
	}
	return &Array{Shape: slices.Clone(shape), DType: dtype, Fortran: fortran, data: data}, nil
}

// byteLen returns the number of bytes of an array of the given shape and
// item size, refusing negative dimensions and sizes beyond int64.
func byteLen(shape []int, itemSize int) (int64, error) {
	n := int64(itemSize)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("npy: shape %v has a negative dimension: %w", shape, ErrFormat)
		}
		if d != 0 && n > math.MaxInt/int64(d) {
			return 0, fmt.Errorf("npy: shape %v is too large: %w", shape, ErrSize)
		}
		n *= int64(d)
	}
	return n, nil
}

// fortranToC reorders column-major data of the given shape to row-major.
func fortranToC(src []byte, shape []int, size int) []byte {
	dst := make([]byte, len(src))
	if len(src) == 0 {
		return dst
	}
	// Stride of each dimension, in elements, in the Fortran layout.
	fstride := make([]int, len(shape))
	s := 1
	for k, d := range shape {
		fstride[k] = s
		s *= d
	}
	idx := make([]int, len(shape))
	off := 0 // element offset in src of idx
	for i := 0; i < len(dst); i += size {
		copy(dst[i:i+size], src[off*size:off*size+size])
		for k := len(shape) - 1; k >= 0; k-- {
			idx[k]++
			off += fstride[k]
			if idx[k] < shape[k] {
				break
			}
			off -= idx[k] * fstride[k]
			idx[k] = 0
		}
	}
	return dst
}

// Len returns the number of elements of a.
func (a *Array) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// Bytes returns the elements as little-endian bytes in row-major order. The
// slice shares memory with a and must not be modified.
func (a *Array) Bytes() []byte { return a.data }

// Float32 returns the elements converted to float32 in row-major order (see
// [ToFloat32]).
func (a *Array) Float32() ([]float32, error) {
	dst := hugemem.Float32s(a.Len())
	if err := ToFloat32(dst, a.data, a.DType, binary.LittleEndian); err != nil {
		return nil, err
	}
	return dst, nil
}

// Int64 returns the elements converted to int64 in row-major order (see
// [ToInt64]).
func (a *Array) Int64() ([]int64, error) {
	dst := make([]int64, a.Len())
	if err := ToInt64(dst, a.data, a.DType, binary.LittleEndian); err != nil {
		return nil, err
	}
	return dst, nil
}

// Uint8 returns the elements as bytes in row-major order. For uint8 and bool
// arrays the slice shares memory with a and must not be modified; other
// types are converted, and values outside 0..255 are an error wrapping
// [ErrRange].
func (a *Array) Uint8() ([]uint8, error) {
	if a.DType == "uint8" || a.DType == "bool" {
		return a.data, nil
	}
	v, err := a.Int64()
	if err != nil {
		return nil, err
	}
	dst := make([]uint8, len(v))
	for i, x := range v {
		if x < 0 || x > 255 {
			return nil, fmt.Errorf("npy: element %d of %s is %d, not a uint8: %w", i, a.DType, x, ErrRange)
		}
		dst[i] = uint8(x)
	}
	return dst, nil
}

// Read reads one array in the .npy format (versions 1.0, 2.0 and 3.0) from
// r. It reads no further than the end of the array's data. A length claimed
// by the header beyond the end of r is an error, not an allocation.
func Read(r io.Reader) (*Array, error) {
	h, err := ReadHeader(r)
	if err != nil {
		return nil, err
	}
	data, err := readBounded(r, h.DataLen)
	if err != nil {
		return nil, fmt.Errorf("npy: reading %d bytes of %s%v: %w", h.DataLen, h.DType, h.Shape, err)
	}
	return FromBytes(h.Descr, h.Shape, h.Fortran, data)
}

// Header describes the array of a .npy stream, as [ReadHeader] reads it
// before the elements.
type Header struct {
	Descr   string           // the descriptor as the file gives it, such as "<f4"
	DType   string           // the element type, such as "float32" (see [Array])
	Order   binary.ByteOrder // the byte order of the stored elements
	Fortran bool             // whether the elements are stored column-major
	Shape   []int
	// Len is the size in bytes of the header, magic and lengths included;
	// DataLen that of the elements that follow it.
	Len, DataLen int64
}

// ReadHeader reads the magic, version and header of a .npy stream and
// leaves r at the first byte of the elements, so that a caller can read
// part of a large array, or check its size before reading it.
func ReadHeader(r io.Reader) (*Header, error) {
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:8]); err != nil {
		return nil, fmt.Errorf("npy: reading magic: %w", noEOF(err))
	}
	if string(pre[:6]) != magic {
		return nil, fmt.Errorf("npy: bad magic %q: %w", pre[:6], ErrFormat)
	}
	var hlen, pos int
	switch major := pre[6]; major {
	case 1:
		if _, err := io.ReadFull(r, pre[8:10]); err != nil {
			return nil, fmt.Errorf("npy: reading header length: %w", noEOF(err))
		}
		hlen, pos = int(binary.LittleEndian.Uint16(pre[8:10])), 10
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("npy: reading header length: %w", noEOF(err))
		}
		if n := binary.LittleEndian.Uint32(b[:]); n > maxHeader {
			return nil, fmt.Errorf("npy: header length %d exceeds %d: %w", n, maxHeader, ErrFormat)
		} else {
			hlen, pos = int(n), 12
		}
	default:
		return nil, fmt.Errorf("npy: format version %d.%d: %w", major, pre[7], ErrFormat)
	}
	hdr, err := readBounded(r, int64(hlen))
	if err != nil {
		return nil, fmt.Errorf("npy: reading %d-byte header: %w", hlen, err)
	}
	descr, fortran, shape, err := parseHeader(string(hdr))
	if err != nil {
		return nil, err
	}
	dtype, order, err := ParseDescr(descr)
	if err != nil {
		return nil, err
	}
	size, _ := ItemSize(dtype)
	n, err := byteLen(shape, size)
	if err != nil {
		return nil, err
	}
	return &Header{Descr: descr, DType: dtype, Order: order, Fortran: fortran, Shape: shape, Len: int64(pos + hlen), DataLen: n}, nil
}

// noEOF turns a bare io.EOF into io.ErrUnexpectedEOF: inside a file, the end
// is always unexpected.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readBounded reads exactly n bytes from r, growing its buffer as data
// arrives, so a length claimed beyond the end of r costs no more memory
// than the data actually there.
func readBounded(r io.Reader, n int64) ([]byte, error) {
	const chunk = 1 << 24
	if n <= chunk {
		b := hugemem.Bytes(int(n))
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, noEOF(err)
		}
		return b, nil
	}
	var buf bytes.Buffer
	buf.Grow(chunk)
	m, err := io.CopyN(&buf, r, n)
	if m < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf.Bytes(), nil
}

// parseHeader extracts the descriptor, order and shape from the Python
// dict literal of a .npy header.
func parseHeader(h string) (descr string, fortran bool, shape []int, err error) {
	p := &literal{s: strings.TrimRight(h, " \n\x00")}
	v, err := p.value(0)
	if err == nil {
		p.space()
		if p.i != len(p.s) {
			err = fmt.Errorf("trailing %q", p.s[p.i:])
		}
	}
	if err != nil {
		return "", false, nil, fmt.Errorf("npy: header %q: %v: %w", h, err, ErrFormat)
	}
	d, ok := v.(map[string]any)
	if !ok {
		return "", false, nil, fmt.Errorf("npy: header %q is not a dict: %w", h, ErrFormat)
	}
	switch x := d["descr"].(type) {
	case string:
		descr = x
	case nil:
		return "", false, nil, fmt.Errorf("npy: header %q has no descr: %w", h, ErrFormat)
	default:
		return "", false, nil, fmt.Errorf("npy: structured descr %v: %w", x, ErrDType)
	}
	f, ok := d["fortran_order"].(bool)
	if !ok {
		return "", false, nil, fmt.Errorf("npy: header %q has no boolean fortran_order: %w", h, ErrFormat)
	}
	t, ok := d["shape"].([]any)
	if !ok {
		return "", false, nil, fmt.Errorf("npy: header %q has no shape tuple: %w", h, ErrFormat)
	}
	shape = make([]int, len(t))
	for i, e := range t {
		n, ok := e.(int)
		if !ok || n < 0 {
			return "", false, nil, fmt.Errorf("npy: header %q: dimension %v: %w", h, e, ErrFormat)
		}
		shape[i] = n
	}
	return descr, f, shape, nil
}

// literal parses the subset of Python literals .npy headers use: dicts,
// tuples, lists, strings, integers, True, False and None.
type literal struct {
	s string
	i int
}

func (p *literal) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *literal) value(depth int) (any, error) {
	if depth > 32 {
		return nil, errors.New("nested too deeply")
	}
	p.space()
	if p.i >= len(p.s) {
		return nil, errors.New("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		p.i++
		d := map[string]any{}
		for {
			p.space()
			if p.i < len(p.s) && p.s[p.i] == '}' {
				p.i++
				return d, nil
			}
			k, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("key %v is not a string", k)
			}
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, errors.New("missing ':'")
			}
			p.i++
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			d[ks] = v
			if err := p.sep('}'); err != nil {
				return nil, err
			}
		}
	case c == '(' || c == '[':
		end := byte(')')
		if c == '[' {
			end = ']'
		}
		p.i++
		list := []any{}
		for {
			p.space()
			if p.i < len(p.s) && p.s[p.i] == end {
				p.i++
				return list, nil
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
			if err := p.sep(end); err != nil {
				return nil, err
			}
		}
	case c == '\'' || c == '"':
		j := strings.IndexByte(p.s[p.i+1:], c)
		if j < 0 {
			return nil, errors.New("unterminated string")
		}
		v := p.s[p.i+1 : p.i+1+j]
		p.i += j + 2
		return v, nil
	case c >= '0' && c <= '9' || c == '-':
		j := p.i + 1
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		var n int
		if _, err := fmt.Sscan(p.s[p.i:j], &n); err != nil {
			return nil, fmt.Errorf("integer %q: %v", p.s[p.i:j], err)
		}
		p.i = j
		if p.i < len(p.s) && (p.s[p.i] == 'L' || p.s[p.i] == 'l') { // Python 2 long
			p.i++
		}
		return n, nil
	}
	for word, v := range map[string]any{"True": true, "False": false, "None": nil} {
		if strings.HasPrefix(p.s[p.i:], word) {
			p.i += len(word)
			return v, nil
		}
	}
	return nil, fmt.Errorf("unexpected %q", p.s[p.i:])
}

// sep consumes a ',' or sees the closing end.
func (p *literal) sep(end byte) error {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ',' {
		p.i++
		return nil
	}
	if p.i < len(p.s) && p.s[p.i] == end {
		return nil
	}
	return fmt.Errorf("expected ',' or %q", end)
}

// Write writes a float32 array of the given shape to w in the .npy format
// (version 1.0, little-endian, C order). It panics if len(data) does not
// match shape, a programmer error.
func Write(w io.Writer, shape []int, data []float32) error {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if n != len(data) {
		panic(fmt.Sprintf("npy: Write: shape %v holds %d elements, data has %d", shape, n, len(data)))
	}
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return WriteArray(w, &Array{Shape: shape, DType: "float32", data: b})
}

// WriteArray writes a to w in the .npy format (version 1.0, or 2.0 if the
// header needs it), little-endian, C order.
func WriteArray(w io.Writer, a *Array) error {
	descr := Descr(a.DType)
	if descr == "" {
		return fmt.Errorf("npy: writing %s: %w", a.DType, ErrDType)
	}
	var dims strings.Builder
	for _, d := range a.Shape {
		fmt.Fprintf(&dims, "%d, ", d)
	}
	shape := strings.TrimSuffix(dims.String(), " ")
	if len(a.Shape) > 1 {
		shape = strings.TrimSuffix(shape, ",")
	}
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shape)
	// Pad with spaces so that the data starts on a 64-byte boundary, and end
	// with a newline, as NumPy does.
	ver, pre := byte(1), 10
	if len(h)+1+pre > math.MaxUint16 {
		ver, pre = 2, 12
	}
	total := (pre + len(h) + 1 + 63) / 64 * 64
	h += strings.Repeat(" ", total-pre-len(h)-1) + "\n"
	out := []byte(magic)
	out = append(out, ver, 0)
	if ver == 1 {
		out = binary.LittleEndian.AppendUint16(out, uint16(len(h)))
	} else {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(h)))
	}
	out = append(out, h...)
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("npy: writing header: %w", err)
	}
	if _, err := w.Write(a.data); err != nil {
		return fmt.Errorf("npy: writing data: %w", err)
	}
	return nil
}
