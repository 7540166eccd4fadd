package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/landscape-go/landscape/internal/hugemem"
	"github.com/landscape-go/landscape/internal/npy"
)

// Limits bound what a model file may make the reader allocate. The zero
// value of each field means the default given with it; a nil *Limits means
// all defaults.
type Limits struct {
	// MaxNodes is the most nodes a graph may have (default 1<<20).
	MaxNodes int
	// MaxDims is the most dimensions a tensor may have (default 16).
	MaxDims int
	// MaxExternalBytes is the most bytes of external data files a model
	// may read in all (default 64 GiB).
	MaxExternalBytes int64
}

func (l *Limits) withDefaults() Limits {
	var o Limits
	if l != nil {
		o = *l
	}
	if o.MaxNodes <= 0 {
		o.MaxNodes = 1 << 20
	}
	if o.MaxDims <= 0 {
		o.MaxDims = 16
	}
	if o.MaxExternalBytes <= 0 {
		o.MaxExternalBytes = 64 << 30
	}
	return o
}

// DecodedFactor bounds the memory decoded tensors take: at most
// DecodedFactor bytes for each byte of the model file and of the external
// data it reads. It holds by construction (the densest encoding, a bool or
// int8 in one byte, becomes an 8-byte int64) and is checked on every tensor.
const DecodedFactor = 8

// Errors wrapped by the reader and the evaluator.
var (
	// ErrFormat means the bytes are not a well-formed ONNX model.
	ErrFormat = errors.New("malformed ONNX protobuf")
	// ErrTooLarge means a limit of [Limits] or the decoded-size bound was hit.
	ErrTooLarge = errors.New("beyond the reader's limits")
	// ErrUnsupported means the model uses something this package does not
	// implement: an operator, an element type, a subgraph, an attribute value.
	ErrUnsupported = errors.New("unsupported")
)

// Model is a decoded ONNX ModelProto.
type Model struct {
	IRVersion       int64
	ProducerName    string
	ProducerVersion string
	// Opsets maps operator-set domains ("" for the default ai.onnx) to
	// their imported versions.
	Opsets map[string]int64
	Graph  *Graph
}

// Read reads the ONNX model at path. External tensor data is read from
// files next to it; see [Decode].
func Read(path string, lim *Limits) (*Model, error) {
	data, err := hugemem.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	m, err := decodeModel(data, filepath.Dir(path), lim)
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", path, err)
	}
	return m, nil
}

// Decode decodes a serialized ModelProto. Tensors stored as external data
// are read from dir, relative paths only and never outside dir (a location
// with ".." or a symbolic link leading out is refused); with dir "" external
// data is refused.
func Decode(data []byte, dir string, lim *Limits) (*Model, error) {
	m, err := decodeModel(data, dir, lim)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return m, nil
}

// ReadTensor reads a serialized TensorProto file, as ONNX's test data sets
// (input_0.pb) store them.
func ReadTensor(path string) (*Tensor, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("onnx: %w", err)
	}
	d := &decoder{lim: (*Limits)(nil).withDefaults(), size: int64(len(data))}
	t, name, err := d.tensor(data)
	if err != nil {
		return nil, "", fmt.Errorf("onnx: %s: %w", path, err)
	}
	return t, name, nil
}

type decoder struct {
	lim      Limits
	dir      string
	size     int64 // bytes of the model file
	external int64 // bytes read from external data files
	decoded  int64 // bytes of decoded tensor elements
	nodes    int
}

func decodeModel(data []byte, dir string, lim *Limits) (*Model, error) {
	d := &decoder{lim: lim.withDefaults(), dir: dir, size: int64(len(data))}
	m := &Model{Opsets: map[string]int64{}}
	var graph []byte
	err := walk(data, func(f field) error {
		switch f.num {
		case 1:
			v, err := f.varint()
			m.IRVersion = int64(v)
			return err
		case 2:
			return f.str(&m.ProducerName)
		case 3:
			return f.str(&m.ProducerVersion)
		case 7:
			if f.typ != protowire.BytesType {
				return f.wrongType()
			}
			graph = f.b
		case 8:
			if f.typ != protowire.BytesType {
				return f.wrongType()
			}
			var domain string
			var version int64
			err := walk(f.b, func(g field) error {
				switch g.num {
				case 1:
					return g.str(&domain)
				case 2:
					v, err := g.varint()
					version = int64(v)
					return err
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("opset_import: %w", err)
			}
			if domain == "ai.onnx" {
				domain = ""
			}
			m.Opsets[domain] = version
		case 25:
			// Model-local functions are only needed by nodes that call
			// them, which are refused as unknown ops.
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if graph == nil {
		return nil, fmt.Errorf("no graph: %w", ErrFormat)
	}
	g, err := d.graph(graph)
	if err != nil {
		return nil, err
	}
	g.Opset = m.Opsets[""]
	m.Graph = g
	return m, nil
}

func (d *decoder) graph(b []byte) (*Graph, error) {
	g := &Graph{Initializers: map[string]*Tensor{}}
	err := walk(b, func(f field) error {
		switch f.num {
		case 1:
			if f.typ != protowire.BytesType {
				return f.wrongType()
			}
			if d.nodes++; d.nodes > d.lim.MaxNodes {
				return fmt.Errorf("more than %d nodes: %w", d.lim.MaxNodes, ErrTooLarge)
			}
			n, err := d.node(f.b)
			if err != nil {
				return fmt.Errorf("node %d %q: %w", len(g.Nodes), n.Name, err)
			}
			g.Nodes = append(g.Nodes, n)
		case 2:
			return f.str(&g.Name)
		case 5:
			if f.typ != protowire.BytesType {
				return f.wrongType()
			}
			t, name, err := d.tensor(f.b)
			if err != nil {
				return fmt.Errorf("initializer %q: %w", name, err)
			}
			if _, dup := g.Initializers[name]; dup {
				return fmt.Errorf("initializer %q given twice: %w", name, ErrFormat)
			}
			g.Initializers[name] = t
			g.InitializerNames = append(g.InitializerNames, name)
		case 15:
			return fmt.Errorf("sparse initializers: %w", ErrUnsupported)
		case 11, 12, 13:
			if f.typ != protowire.BytesType {
				return f.wrongType()
			}
			v, err := d.valueInfo(f.b)
			if err != nil {
				return fmt.Errorf("value %q: %w", v.Name, err)
			}
			switch f.num {
			case 11:
				g.Inputs = append(g.Inputs, v)
			case 12:
				g.Outputs = append(g.Outputs, v)
			default:
				g.ValueInfo = append(g.ValueInfo, v)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

func (d *decoder) node(b []byte) (*Node, error) {
	n := &Node{Attrs: map[string]*Attr{}}
	err := walk(b, func(f field) error {
		switch f.num {
		case 1, 2:
			var s string
			if err := f.str(&s); err != nil {
				return err
			}
			if f.num == 1 {
				n.Inputs = append(n.Inputs, s)
			} else {
				n.Outputs = append(n.Outputs, s)
			}
		case 3:
			return f.str(&n.Name)
		case 4:
			return f.str(&n.OpType)
		case 7:
			return f.str(&n.Domain)
		case 5:
			if f.typ != protowire.BytesType {
				return f.wrongType()
			}
			a, err := d.attr(f.b)
			if err != nil {
				return fmt.Errorf("attribute %q: %w", a.Name, err)
			}
			n.Attrs[a.Name] = a
		}
		return nil
	})
	if n.Domain == "ai.onnx" {
		n.Domain = ""
	}
	return n, err
}

// AttrType is an ONNX attribute type, numbered as AttributeProto.AttributeType.
type AttrType int

const (
	AttrFloat   AttrType = 1
	AttrInt     AttrType = 2
	AttrString  AttrType = 3
	AttrTensor  AttrType = 4
	AttrGraph   AttrType = 5
	AttrFloats  AttrType = 6
	AttrInts    AttrType = 7
	AttrStrings AttrType = 8
)

func (d *decoder) attr(b []byte) (*Attr, error) {
	a := &Attr{}
	var typ AttrType
	err := walk(b, func(f field) error {
		switch f.num {
		case 1:
			return f.str(&a.Name)
		case 20:
			v, err := f.varint()
			typ = AttrType(v)
			return err
		case 21:
			return fmt.Errorf("reference to a function attribute: %w", ErrUnsupported)
		case 2:
			if f.typ != protowire.Fixed32Type {
				return f.wrongType()
			}
			a.F = math.Float32frombits(uint32(f.u))
		case 3:
			v, err := f.varint()
			a.I = int64(v)
			return err
		case 4:
			if f.typ != protowire.BytesType {
				return f.wrongType()
			}
			a.S = string(f.b)
		case 5:
			if f.typ != protowire.BytesType {
				return f.wrongType()
			}
			t, _, err := d.tensor(f.b)
			a.T = t
			return err
		case 6, 11:
			return fmt.Errorf("subgraph (as in If, Loop, Scan): %w", ErrUnsupported)
		case 10, 22, 23, 14, 15:
			return fmt.Errorf("tensor list, sparse tensor or type attribute: %w", ErrUnsupported)
		case 7:
			var err error
			a.Floats, err = f.appendFloats(a.Floats)
			return err
		case 8:
			var err error
			a.Ints, err = f.appendVarints(a.Ints)
			if len(a.Ints) > 1<<24 {
				return fmt.Errorf("%d ints: %w", len(a.Ints), ErrTooLarge)
			}
			return err
		case 9:
			if f.typ != protowire.BytesType {
				return f.wrongType()
			}
			a.Strings = append(a.Strings, string(f.b))
		}
		return nil
	})
	if err != nil {
		return a, err
	}
	switch typ {
	case AttrFloat, AttrInt, AttrString, AttrTensor, AttrFloats, AttrInts, AttrStrings:
		a.Type = typ
	case 0:
		// IR version 1 had no type field: infer it from what is set.
		switch {
		case a.T != nil:
			a.Type = AttrTensor
		case a.Floats != nil:
			a.Type = AttrFloats
		case a.Ints != nil:
			a.Type = AttrInts
		case a.Strings != nil:
			a.Type = AttrStrings
		case a.S != "":
			a.Type = AttrString
		default:
			return a, fmt.Errorf("no type: %w", ErrFormat)
		}
	default:
		return a, fmt.Errorf("attribute type %d: %w", typ, ErrUnsupported)
	}
	if a.Type == AttrTensor && a.T == nil {
		return a, fmt.Errorf("tensor attribute without a tensor: %w", ErrFormat)
	}
	return a, nil
}

func (d *decoder) valueInfo(b []byte) (ValueInfo, error) {
	var v ValueInfo
	err := walk(b, func(f field) error {
		switch f.num {
		case 1:
			return f.str(&v.Name)
		case 2:
			if f.typ != protowire.BytesType {
				return f.wrongType()
			}
			return walk(f.b, func(g field) error {
				switch g.num {
				case 1: // tensor_type
					if g.typ != protowire.BytesType {
						return g.wrongType()
					}
					v.Kind = TensorKind
					return walk(g.b, func(h field) error {
						switch h.num {
						case 1:
							t, err := h.varint()
							v.DType = DType(t)
							return err
						case 2:
							if h.typ != protowire.BytesType {
								return h.wrongType()
							}
							v.Shape = []int64{}
							return walk(h.b, func(dim field) error {
								if dim.num != 1 {
									return nil
								}
								if dim.typ != protowire.BytesType {
									return dim.wrongType()
								}
								if len(v.Shape) >= d.lim.MaxDims {
									return fmt.Errorf("more than %d dimensions: %w", d.lim.MaxDims, ErrTooLarge)
								}
								size := int64(-1)
								err := walk(dim.b, func(x field) error {
									if x.num == 1 {
										u, err := x.varint()
										size = int64(u)
										return err
									}
									return nil
								})
								v.Shape = append(v.Shape, size)
								return err
							})
						}
						return nil
					})
				case 4:
					v.Kind = SequenceKind
				case 5:
					v.Kind = MapKind
				case 8:
					v.Kind = SparseTensorKind
				case 9:
					v.Kind = OptionalKind
				}
				return nil
			})
		}
		return nil
	})
	return v, err
}

// tensor decodes a TensorProto and returns it with its name.
func (d *decoder) tensor(b []byte) (*Tensor, string, error) {
	var (
		name     string
		dims     []int64
		dtype    DType
		raw      []byte
		hasRaw   bool
		floats   []float32
		doubles  []float64
		ints     []int64 // int32_data, int64_data or uint64_data
		intField protowire.Number
		external = map[string]string{}
		location int64
	)
	err := walk(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			dims, err = f.appendVarints(dims)
			if len(dims) > d.lim.MaxDims {
				return fmt.Errorf("more than %d dimensions: %w", d.lim.MaxDims, ErrTooLarge)
			}
		case 2:
			var v uint64
			v, err = f.varint()
			dtype = DType(v)
		case 3:
			return fmt.Errorf("segmented tensor: %w", ErrUnsupported)
		case 4:
			floats, err = f.appendFloats(floats)
		case 5, 7, 11:
			if intField != 0 && intField != f.num {
				return fmt.Errorf("both fields %d and %d set: %w", intField, f.num, ErrFormat)
			}
			intField = f.num
			ints, err = f.appendVarints(ints)
		case 6:
			return fmt.Errorf("string data: %w", ErrUnsupported)
		case 8:
			err = f.str(&name)
		case 9:
			if f.typ != protowire.BytesType {
				return f.wrongType()
			}
			raw, hasRaw = f.b, true
		case 10:
			doubles, err = f.appendDoubles(doubles)
		case 13:
			if f.typ != protowire.BytesType {
				return f.wrongType()
			}
			var k, v string
			err = walk(f.b, func(g field) error {
				switch g.num {
				case 1:
					return g.str(&k)
				case 2:
					return g.str(&v)
				}
				return nil
			})
			external[k] = v
		case 14:
			var v uint64
			v, err = f.varint()
			location = int64(v)
		}
		return err
	})
	if err != nil {
		return nil, name, err
	}
	if !dtype.supported() {
		return nil, name, fmt.Errorf("element type %v: %w", dtype, ErrUnsupported)
	}
	shape := make([]int, len(dims))
	n := int64(1)
	for i, v := range dims {
		if v < 0 {
			return nil, name, fmt.Errorf("negative dimension in %v: %w", dims, ErrFormat)
		}
		shape[i] = int(v)
		if v != 0 && n > math.MaxInt32*int64(1<<24)/v {
			return nil, name, fmt.Errorf("shape %v: %w", dims, ErrTooLarge)
		}
		n *= v
	}
	if location == 1 {
		if hasRaw {
			return nil, name, fmt.Errorf("both raw and external data: %w", ErrFormat)
		}
		raw, err = d.readExternal(external, n*int64(dtype.itemSize()))
		if err != nil {
			return nil, name, err
		}
		hasRaw = true
	}
	// Every element source below holds at least one byte per element, and
	// it is checked to hold exactly n elements before any allocation.
	t := &Tensor{DType: dtype, Shape: shape}
	count := func(have int) error {
		if int64(have) != n {
			return fmt.Errorf("%d values for shape %v (%d elements): %w", have, dims, n, ErrFormat)
		}
		return nil
	}
	switch {
	case hasRaw:
		size := int64(dtype.itemSize())
		if int64(len(raw)) != n*size {
			return nil, name, fmt.Errorf("%d bytes of raw data for %v shape %v (%d bytes): %w", len(raw), dtype, dims, n*size, ErrFormat)
		}
		if dtype.IsFloat() {
			t.F = hugemem.Float32s(int(n))
			if err := npy.ToFloat32(t.F, raw, npyName(dtype), binary.LittleEndian); err != nil {
				return nil, name, err
			}
		} else {
			t.I = make([]int64, n)
			for i := range t.I {
				switch size {
				case 1:
					t.I[i] = int64(raw[i])
				case 2:
					t.I[i] = int64(binary.LittleEndian.Uint16(raw[2*i:]))
				case 4:
					t.I[i] = int64(binary.LittleEndian.Uint32(raw[4*i:]))
				case 8:
					t.I[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
				}
				t.I[i] = wrapInt(dtype, t.I[i])
			}
		}
	case dtype == Float:
		if err := count(len(floats)); err != nil {
			return nil, name, err
		}
		t.F = floats
	case dtype == Double:
		if err := count(len(doubles)); err != nil {
			return nil, name, err
		}
		t.F = make([]float32, n)
		for i, v := range doubles {
			t.F[i] = float32(v)
		}
	case dtype == Float16 || dtype == BFloat16:
		if err := count(len(ints)); err != nil {
			return nil, name, err
		}
		t.F = make([]float32, n)
		for i, v := range ints {
			if dtype == Float16 {
				t.F[i] = npy.Float16ToFloat32(uint16(v))
			} else {
				t.F[i] = npy.BFloat16ToFloat32(uint16(v))
			}
		}
	default:
		if err := count(len(ints)); err != nil {
			return nil, name, err
		}
		t.I = ints
		for i, v := range t.I {
			t.I[i] = wrapInt(dtype, v)
		}
	}
	if t.I == nil && t.F == nil {
		if dtype.IsFloat() {
			t.F = []float32{}
		} else {
			t.I = []int64{}
		}
	}
	d.decoded += t.decodedBytes()
	if limit := DecodedFactor * (d.size + d.external); d.decoded > limit {
		return nil, name, fmt.Errorf("tensors decode to %d bytes, more than %d times the %d bytes read: %w",
			d.decoded, DecodedFactor, d.size+d.external, ErrTooLarge)
	}
	return t, name, nil
}

func npyName(d DType) string {
	if d == Double {
		return "float64"
	}
	return d.String()
}

// readExternal reads want bytes of a tensor's external data.
func (d *decoder) readExternal(kv map[string]string, want int64) ([]byte, error) {
	loc := kv["location"]
	if d.dir == "" {
		return nil, fmt.Errorf("external data %q without a model folder: %w", loc, ErrUnsupported)
	}
	if loc == "" || !filepath.IsLocal(filepath.FromSlash(loc)) {
		return nil, fmt.Errorf("external data location %q is not a path inside the model's folder: %w", loc, ErrFormat)
	}
	num := func(key string) (int64, error) {
		s, ok := kv[key]
		if !ok {
			return -1, nil
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("external data %s %q: %w", key, s, ErrFormat)
		}
		return v, nil
	}
	offset, err := num("offset")
	if err != nil {
		return nil, err
	}
	offset = max(offset, 0)
	length, err := num("length")
	if err != nil {
		return nil, err
	}
	if length >= 0 && length != want {
		return nil, fmt.Errorf("external data %q: length %d, the tensor needs %d bytes: %w", loc, length, want, ErrFormat)
	}
	if d.external+want > d.lim.MaxExternalBytes {
		return nil, fmt.Errorf("external data beyond %d bytes: %w", d.lim.MaxExternalBytes, ErrTooLarge)
	}
	root, err := os.OpenRoot(d.dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(loc)) // refuses links leading out of dir
	if err != nil {
		return nil, fmt.Errorf("external data: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if offset+want > st.Size() {
		return nil, fmt.Errorf("external data %q: %d bytes at offset %d, the file has %d: %w", loc, want, offset, st.Size(), ErrFormat)
	}
	buf := hugemem.Bytes(int(want))
	if _, err := f.ReadAt(buf, offset); err != nil && !(errors.Is(err, io.EOF) && want == 0) {
		return nil, fmt.Errorf("external data %q: %w", loc, err)
	}
	d.external += want
	return buf, nil
}

// field is one decoded protobuf field.
type field struct {
	num protowire.Number
	typ protowire.Type
	u   uint64 // varint and fixed values
	b   []byte // bytes values
}

// walk calls fn on each field of the message b in order.
func walk(b []byte, fn func(field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%v: %w", protowire.ParseError(n), ErrFormat)
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.u, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.u = uint64(v)
		case protowire.Fixed64Type:
			f.u, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		case protowire.StartGroupType:
			n = protowire.ConsumeFieldValue(num, typ, b)
		default:
			return fmt.Errorf("field %d: wire type %d: %w", num, typ, ErrFormat)
		}
		if n < 0 {
			return fmt.Errorf("field %d: %v: %w", num, protowire.ParseError(n), ErrFormat)
		}
		b = b[n:]
		if typ == protowire.StartGroupType {
			continue
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

func (f field) wrongType() error {
	return fmt.Errorf("field %d: unexpected wire type %d: %w", f.num, f.typ, ErrFormat)
}

func (f field) varint() (uint64, error) {
	if f.typ != protowire.VarintType {
		return 0, f.wrongType()
	}
	return f.u, nil
}

func (f field) str(dst *string) error {
	if f.typ != protowire.BytesType {
		return f.wrongType()
	}
	*dst = string(f.b)
	return nil
}

// appendVarints appends a repeated varint field, packed or not.
func (f field) appendVarints(dst []int64) ([]int64, error) {
	switch f.typ {
	case protowire.VarintType:
		return append(dst, int64(f.u)), nil
	case protowire.BytesType:
		b := f.b
		for len(b) > 0 {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return dst, fmt.Errorf("field %d: %v: %w", f.num, protowire.ParseError(n), ErrFormat)
			}
			dst = append(dst, int64(v))
			b = b[n:]
		}
		return dst, nil
	}
	return dst, f.wrongType()
}

// appendFloats appends a repeated float field, packed or not.
func (f field) appendFloats(dst []float32) ([]float32, error) {
	switch f.typ {
	case protowire.Fixed32Type:
		return append(dst, math.Float32frombits(uint32(f.u))), nil
	case protowire.BytesType:
		if len(f.b)%4 != 0 {
			return dst, fmt.Errorf("field %d: packed floats of %d bytes: %w", f.num, len(f.b), ErrFormat)
		}
		for i := 0; i < len(f.b); i += 4 {
			dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(f.b[i:])))
		}
		return dst, nil
	}
	return dst, f.wrongType()
}

// appendDoubles appends a repeated double field, packed or not.
func (f field) appendDoubles(dst []float64) ([]float64, error) {
	switch f.typ {
	case protowire.Fixed64Type:
		return append(dst, math.Float64frombits(f.u)), nil
	case protowire.BytesType:
		if len(f.b)%8 != 0 {
			return dst, fmt.Errorf("field %d: packed doubles of %d bytes: %w", f.num, len(f.b), ErrFormat)
		}
		for i := 0; i < len(f.b); i += 8 {
			dst = append(dst, math.Float64frombits(binary.LittleEndian.Uint64(f.b[i:])))
		}
		return dst, nil
	}
	return dst, f.wrongType()
}
