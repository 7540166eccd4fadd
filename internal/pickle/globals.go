package pickle

import (
	"fmt"
	"maps"
	"math"
	"strings"

	"github.com/landscape-go/landscape/internal/npy"
)

// Builtins returns allowlist entries for the harmless Python builtins that
// pickles of plain data use: collections.OrderedDict (as a *[Dict]),
// builtins.set and frozenset (as a *[Set]), builtins.bytes and bytearray,
// and _codecs.encode, which Python 3 uses to pickle bytes at protocols 0
// to 2. None of them can reach anything outside the decoded values.
func Builtins() map[string]any {
	return map[string]any{
		"collections.OrderedDict": Func(newOrderedDict),
		"builtins.set":            Func(func(args Tuple) (any, error) { return newSet(args, false) }),
		"builtins.frozenset":      Func(func(args Tuple) (any, error) { return newSet(args, true) }),
		"builtins.bytes":          Func(newBytes),
		"builtins.bytearray":      Func(newBytes),
		"_codecs.encode":          Func(codecsEncode),
	}
}

// NumPy returns allowlist entries that rebuild NumPy arrays as *[NDArray]
// and NumPy scalars as Go numbers (float64, int64 or bool), under both the
// numpy.core (NumPy 1) and numpy._core (NumPy 2) module names. Merge it with
// [Builtins] for pickles that Python 3 wrote at protocol 2 or lower.
func NumPy() map[string]any {
	m := map[string]any{"numpy.ndarray": ndarrayClass, "numpy.dtype": Func(newDType)}
	for _, core := range []string{"numpy.core", "numpy._core"} {
		m[core+".multiarray._reconstruct"] = Func(reconstruct)
		m[core+".multiarray.scalar"] = Func(scalar)
		m[core+".numeric._frombuffer"] = Func(frombuffer)
	}
	return m
}

// Merge returns a new allowlist holding the entries of all ms, later ones
// winning.
func Merge(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}

func newOrderedDict(args Tuple) (any, error) {
	d := NewDict()
	if len(args) == 0 {
		return d, nil
	}
	// Python 2.7 pickles OrderedDict((items,)) with items a list of pairs.
	var items []any
	switch a := args[0].(type) {
	case *List:
		items = a.Items
	case Tuple:
		items = a
	default:
		return nil, fmt.Errorf("pickle: OrderedDict(%s): %w", TypeName(args[0]), ErrFormat)
	}
	for _, it := range items {
		var kv []any
		switch p := it.(type) {
		case Tuple:
			kv = p
		case *List:
			kv = p.Items
		}
		if len(kv) != 2 {
			return nil, fmt.Errorf("pickle: OrderedDict item is not a pair: %w", ErrFormat)
		}
		if err := d.Set(kv[0], kv[1]); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func newSet(args Tuple, frozen bool) (any, error) {
	s := &Set{Frozen: frozen}
	if len(args) == 0 {
		return s, nil
	}
	switch a := args[0].(type) {
	case *List:
		s.Items = append(s.Items, a.Items...)
	case Tuple:
		s.Items = append(s.Items, a...)
	default:
		return nil, fmt.Errorf("pickle: set(%s): %w", TypeName(args[0]), ErrFormat)
	}
	return s, nil
}

// newBytes implements bytes(...) and bytearray(...) as pickles call them:
// with nothing, a bytes value, a list of ints, or a str and an encoding.
func newBytes(args Tuple) (any, error) {
	switch len(args) {
	case 0:
		return Bytes{}, nil
	case 1:
		switch a := args[0].(type) {
		case Bytes:
			return append(Bytes{}, a...), nil
		case *List:
			b := make(Bytes, len(a.Items))
			for i, e := range a.Items {
				n, ok := Int(e)
				if !ok || n < 0 || n > 255 {
					return nil, fmt.Errorf("pickle: bytes() of a list holding %s: %w", Repr(e), ErrFormat)
				}
				b[i] = byte(n)
			}
			return b, nil
		}
	case 2:
		return codecsEncode(args)
	}
	return nil, fmt.Errorf("pickle: bytes() with %d arguments: %w", len(args), ErrFormat)
}

// codecsEncode implements _codecs.encode(str, encoding) for Latin-1 and
// UTF-8, the encodings pickles use.
func codecsEncode(args Tuple) (any, error) {
	if len(args) < 1 || len(args) > 3 {
		return nil, fmt.Errorf("pickle: _codecs.encode with %d arguments: %w", len(args), ErrFormat)
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("pickle: _codecs.encode(%s): %w", TypeName(args[0]), ErrFormat)
	}
	enc := "utf-8"
	if len(args) > 1 {
		if enc, ok = String(args[1]); !ok {
			return nil, fmt.Errorf("pickle: _codecs.encode encoding is %s: %w", TypeName(args[1]), ErrFormat)
		}
	}
	switch strings.ReplaceAll(strings.ToLower(enc), "_", "-") {
	case "latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1":
		b := make(Bytes, 0, len(s))
		for _, r := range s {
			if r > 255 {
				return nil, fmt.Errorf("pickle: _codecs.encode: %U is not Latin-1: %w", r, ErrFormat)
			}
			b = append(b, byte(r))
		}
		return b, nil
	case "utf-8", "utf8":
		return Bytes(s), nil
	}
	return nil, fmt.Errorf("pickle: _codecs.encode: encoding %q: %w", enc, ErrUnsupported)
}

// DType is a numpy.dtype as a pickle rebuilds it.
type DType struct {
	// Name is the type code the pickle gave, such as "f8" or "u1".
	Name string
	// Order is the byte order from the dtype's state: '<', '>' or '|'.
	Order byte
	// Structured is set if the state named fields.
	Structured bool
}

// Descr returns the NumPy descriptor of d, such as "<f8".
func (d *DType) Descr() string { return string(d.Order) + d.Name }

func newDType(args Tuple) (any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("pickle: numpy.dtype() without arguments: %w", ErrFormat)
	}
	name, ok := String(args[0])
	if !ok {
		return nil, fmt.Errorf("pickle: numpy.dtype(%s): %w", TypeName(args[0]), ErrFormat)
	}
	return &DType{Name: name, Order: '|'}, nil
}

// Build sets the byte order from a dtype state tuple (version, order,
// subarray, names, fields, elsize, alignment, flags[, metadata]).
func (d *DType) Build(state any) error {
	t, ok := state.(Tuple)
	if !ok || len(t) < 2 {
		return fmt.Errorf("pickle: numpy.dtype state is %s: %w", TypeName(state), ErrFormat)
	}
	o, ok := String(t[1])
	if !ok || len(o) != 1 || !strings.Contains("<>|=", o) {
		return fmt.Errorf("pickle: numpy.dtype byte order %s: %w", Repr(t[1]), ErrFormat)
	}
	d.Order = o[0]
	if len(t) > 3 && t[3] != nil {
		d.Structured = true
	}
	return nil
}

// NDArray is a numpy.ndarray as a pickle rebuilds it. Array is nil until
// the pickle's BUILD opcode gives the array its state; use [AsArray] to get
// it checked.
type NDArray struct {
	Array *npy.Array
}

// ndarrayClass stands for the numpy.ndarray class, which pickles pass to
// _reconstruct but never call.
var ndarrayClass = Func(func(Tuple) (any, error) {
	return nil, fmt.Errorf("pickle: numpy.ndarray called directly: %w", ErrUnsupported)
})

// reconstruct implements numpy.core.multiarray._reconstruct(cls, shape,
// typecode): an empty array that BUILD then fills.
func reconstruct(args Tuple) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("pickle: numpy _reconstruct with %d arguments: %w", len(args), ErrFormat)
	}
	return &NDArray{}, nil
}

// Build sets the array from an ndarray state tuple (version, shape, dtype,
// is_fortran, rawdata).
func (a *NDArray) Build(state any) error {
	t, ok := state.(Tuple)
	if ok && len(t) == 4 { // NumPy before 1.0 had no version
		t = append(Tuple{int64(0)}, t...)
	}
	if !ok || len(t) != 5 {
		return fmt.Errorf("pickle: numpy.ndarray state is %s: %w", TypeName(state), ErrFormat)
	}
	shape, ok := Ints(t[1])
	if !ok {
		return fmt.Errorf("pickle: numpy.ndarray shape %s: %w", Repr(t[1]), ErrFormat)
	}
	dt, ok := t[2].(*DType)
	if !ok {
		return fmt.Errorf("pickle: numpy.ndarray dtype is %s: %w", TypeName(t[2]), ErrFormat)
	}
	fortran, ok := t[3].(bool)
	if !ok {
		return fmt.Errorf("pickle: numpy.ndarray fortran flag is %s: %w", TypeName(t[3]), ErrFormat)
	}
	var data []byte
	switch raw := t[4].(type) {
	case Bytes:
		data = raw
	case string: // a Python 2 str read as Latin-1 text
		b, err := codecsEncode(Tuple{raw, "latin1"})
		if err != nil {
			return err
		}
		data = b.(Bytes)
	default:
		return fmt.Errorf("pickle: numpy.ndarray of %s objects: %w", dt.Descr(), ErrUnsupported)
	}
	return a.set(dt, shape, fortran, data)
}

func (a *NDArray) set(dt *DType, shape []int, fortran bool, data []byte) error {
	if dt.Structured {
		return fmt.Errorf("pickle: structured numpy.ndarray: %w", ErrUnsupported)
	}
	arr, err := npy.FromBytes(dt.Descr(), shape, fortran, data)
	if err != nil {
		return fmt.Errorf("pickle: numpy.ndarray: %w", err)
	}
	a.Array = arr
	return nil
}

// frombuffer implements numpy.core.numeric._frombuffer(buf, dtype, shape,
// order), with which NumPy pickles arrays at protocol 5.
func frombuffer(args Tuple) (any, error) {
	if len(args) != 4 {
		return nil, fmt.Errorf("pickle: numpy _frombuffer with %d arguments: %w", len(args), ErrFormat)
	}
	buf, ok1 := args[0].(Bytes)
	dt, ok2 := args[1].(*DType)
	shape, ok3 := Ints(args[2])
	order, ok4 := String(args[3])
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, fmt.Errorf("pickle: numpy _frombuffer arguments (%s, %s, %s, %s): %w",
			TypeName(args[0]), TypeName(args[1]), TypeName(args[2]), TypeName(args[3]), ErrFormat)
	}
	a := &NDArray{}
	if err := a.set(dt, shape, order == "F", buf); err != nil {
		return nil, err
	}
	return a, nil
}

// scalar implements numpy.core.multiarray.scalar(dtype, bytes), returning
// a float64, int64 or bool.
func scalar(args Tuple) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("pickle: numpy scalar with %d arguments: %w", len(args), ErrFormat)
	}
	dt, ok := args[0].(*DType)
	if !ok {
		return nil, fmt.Errorf("pickle: numpy scalar dtype is %s: %w", TypeName(args[0]), ErrFormat)
	}
	var data []byte
	switch raw := args[1].(type) {
	case Bytes:
		data = raw
	case string:
		b, err := codecsEncode(Tuple{raw, "latin1"})
		if err != nil {
			return nil, err
		}
		data = b.(Bytes)
	default:
		return nil, fmt.Errorf("pickle: numpy scalar of %s: %w", dt.Descr(), ErrUnsupported)
	}
	arr, err := npy.FromBytes(dt.Descr(), nil, false, data)
	if err != nil {
		return nil, fmt.Errorf("pickle: numpy scalar: %w", err)
	}
	switch arr.DType {
	case "bool":
		return arr.Bytes()[0] != 0, nil
	case "float64":
		b := arr.Bytes()
		var u uint64
		for i := 7; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
		return math.Float64frombits(u), nil
	case "float32", "float16":
		f, err := arr.Float32()
		if err != nil {
			return nil, err
		}
		return float64(f[0]), nil
	}
	v, err := arr.Int64()
	if err != nil {
		return nil, fmt.Errorf("pickle: numpy scalar: %w", err)
	}
	return v[0], nil
}

// AsArray returns the array a decoded value holds: v must be an *[NDArray]
// that its pickle finished building.
func AsArray(v any) (*npy.Array, error) {
	a, ok := v.(*NDArray)
	if !ok {
		return nil, fmt.Errorf("pickle: value is %s, not numpy.ndarray", TypeName(v))
	}
	if a.Array == nil {
		return nil, fmt.Errorf("pickle: numpy.ndarray has no state: %w", ErrFormat)
	}
	return a.Array, nil
}
