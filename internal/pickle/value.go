package pickle

import (
	"fmt"
	"iter"
	"math"
	"math/big"
	"strconv"
)

// Tuple is a Python tuple.
type Tuple []any

// Bytes is a Python bytes or bytearray value, or a Python 2 str (pickles
// written by Python 2 are read as Python 3 reads them with
// encoding='bytes').
type Bytes []byte

// List is a Python list. It is a pointer type because pickles may append to
// a list after other objects refer to it.
type List struct {
	Items []any
}

// Set is a Python set or frozenset.
type Set struct {
	Items  []any
	Frozen bool
}

// Func stands for a Python callable that a pickle may call with REDUCE,
// NEWOBJ, INST or OBJ: a class or function the caller allowed in
// [Options.Globals]. It receives the positional arguments and returns the
// value the call would have made. It is plain Go: nothing in the pickle is
// ever executed.
type Func func(args Tuple) (any, error)

// Builder is implemented by values that accept the state of a BUILD opcode,
// Python's __setstate__.
type Builder interface {
	Build(state any) error
}

// Dict is a Python dict or collections.OrderedDict. It keeps the order in
// which keys were first set, as both do in Python 3.7 and later.
type Dict struct {
	keys  []any
	vals  []any
	index map[string]int
	// Attrs holds the instance attributes a BUILD opcode set on the dict,
	// such as the _metadata of a PyTorch state dict; nil if none.
	Attrs *Dict
}

// NewDict returns an empty Dict.
func NewDict() *Dict { return &Dict{index: map[string]int{}} }

// Len returns the number of entries.
func (d *Dict) Len() int { return len(d.keys) }

// Keys returns the keys in order. The slice must not be modified.
func (d *Dict) Keys() []any { return d.keys }

// Values returns the values in key order. The slice must not be modified.
func (d *Dict) Values() []any { return d.vals }

// All iterates over the entries in order.
func (d *Dict) All() iter.Seq2[any, any] {
	return func(yield func(any, any) bool) {
		for i, k := range d.keys {
			if !yield(k, d.vals[i]) {
				return
			}
		}
	}
}

// Get returns the value stored under key, compared as Python compares dict
// keys (1, 1.0 and True are the same key; "a" and b"a" are not).
func (d *Dict) Get(key any) (any, bool) {
	h, err := hashKey(key)
	if err != nil {
		return nil, false
	}
	i, ok := d.index[h]
	if !ok {
		return nil, false
	}
	return d.vals[i], true
}

// Lookup returns the value stored under the str key name or, failing that,
// under the bytes key name: a CIFAR batch pickled by Python 2 has b'data'
// where a Python 3 one has 'data'.
func (d *Dict) Lookup(name string) (any, bool) {
	if v, ok := d.Get(name); ok {
		return v, true
	}
	return d.Get(Bytes(name))
}

// Set stores value under key, keeping the position of an existing key. It
// returns an error if key is unhashable (a list, dict or set).
func (d *Dict) Set(key, value any) error {
	h, err := hashKey(key)
	if err != nil {
		return err
	}
	if d.index == nil {
		d.index = map[string]int{}
	}
	if i, ok := d.index[h]; ok {
		d.vals[i] = value
		return nil
	}
	d.index[h] = len(d.keys)
	d.keys = append(d.keys, key)
	d.vals = append(d.vals, value)
	return nil
}

// Dict keys are refused beyond these limits, so that hashing a hostile
// key (say, a tuple of tuples that share memo entries, doubling at every
// level: 2^100 leaves from 700 bytes) costs at most a few hundred
// kilobytes of work. Python keys are names and small tuples.
const (
	maxKeyDepth = 100     // nesting of tuple keys
	maxKeySize  = 1 << 16 // bytes of a key's encoding
)

// hashKey returns a string that is equal for two keys exactly when Python
// would treat them as the same dict key.
func hashKey(k any) (string, error) {
	b, err := appendKey(nil, k, 0)
	return string(b), err
}

// appendKey appends the encoding of k to b. Every encoding is
// self-delimiting (a string carries its length, a tuple its element
// count), so the encoding of a tuple is unambiguous.
func appendKey(b []byte, k any, depth int) ([]byte, error) {
	if depth > maxKeyDepth {
		return nil, fmt.Errorf("pickle: dict key nested deeper than %d: %w", maxKeyDepth, ErrLimit)
	}
	switch v := k.(type) {
	case nil:
		b = append(b, 'N')
	case bool:
		if v {
			b = append(b, "i1;"...)
		} else {
			b = append(b, "i0;"...)
		}
	case int64:
		b = strconv.AppendInt(append(b, 'i'), v, 10)
		b = append(b, ';')
	case *big.Int:
		if v.BitLen() > 8*maxKeySize {
			return nil, errKeySize
		}
		b = v.Append(append(b, 'i'), 10)
		b = append(b, ';')
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<63 {
			b = strconv.AppendInt(append(b, 'i'), int64(v), 10)
		} else {
			b = strconv.AppendUint(append(b, 'f'), math.Float64bits(v), 16)
		}
		b = append(b, ';')
	case string:
		if len(v) > maxKeySize {
			return nil, errKeySize
		}
		b = appendBlob(b, 's', v)
	case Bytes:
		if len(v) > maxKeySize {
			return nil, errKeySize
		}
		b = appendBlob(b, 'y', string(v))
	case Tuple:
		b = strconv.AppendInt(append(b, 't'), int64(len(v)), 10)
		b = append(b, ':')
		for _, e := range v {
			var err error
			if b, err = appendKey(b, e, depth+1); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("pickle: unhashable dict key of type %s", TypeName(k))
	}
	if len(b) > maxKeySize {
		return nil, errKeySize
	}
	return b, nil
}

var errKeySize = fmt.Errorf("pickle: dict key larger than %d bytes: %w", maxKeySize, ErrLimit)

// appendBlob appends a tagged, length-prefixed string.
func appendBlob(b []byte, tag byte, s string) []byte {
	b = strconv.AppendInt(append(b, tag), int64(len(s)), 10)
	return append(append(b, ':'), s...)
}

// TypeName returns the Python-like name of the type of a decoded value,
// for error messages: "int", "str", "bytes", "tuple", "list", "dict", ...
func TypeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case Bytes:
		return "bytes"
	case Tuple:
		return "tuple"
	case *List:
		return "list"
	case *Dict:
		return "dict"
	case *Set:
		if v.Frozen {
			return "frozenset"
		}
		return "set"
	case Func:
		return "function"
	case *NDArray:
		return "numpy.ndarray"
	case *DType:
		return "numpy.dtype"
	}
	return fmt.Sprintf("%T", v)
}

// Int returns v as an int if it is a Python int (or bool) that fits.
func Int(v any) (int, bool) {
	switch v := v.(type) {
	case int64:
		if int64(int(v)) == v {
			return int(v), true
		}
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// String returns v as a Go string if it is a str or bytes value.
func String(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case Bytes:
		return string(v), true
	}
	return "", false
}

// Ints returns v as a slice of ints if it is a tuple or list of ints, as
// shapes and strides are pickled.
func Ints(v any) ([]int, bool) {
	var items []any
	switch v := v.(type) {
	case Tuple:
		items = v
	case *List:
		items = v.Items
	default:
		return nil, false
	}
	out := make([]int, len(items))
	for i, e := range items {
		n, ok := Int(e)
		if !ok {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

// Inert stands for a global that the allowlist does not hold, with
// [Options.Inert]: the class or function module.Name, or (Instance) what
// calling it made. Its arguments and state are dropped unexamined.
type Inert struct {
	Module, Name string
	Instance     bool
}

// Build implements [Builder]: the state is dropped.
func (*Inert) Build(any) error { return nil }

// Error returns the error for using x where only allowlisted globals may
// be: a *[GlobalError] naming its global.
func (x *Inert) Error() error { return &GlobalError{Module: x.Module, Name: x.Name} }

// FindInert returns the first *[Inert] in v, looking through tuples,
// lists, dicts (keys, values and attributes) and sets, or nil if there is
// none. It visits each container once however often it is shared and
// keeps its own stack, so a billion-laughs pickle or one nested a million
// deep is walked in linear time and bounded memory.
func FindInert(v any) *Inert {
	seen := map[any]bool{}
	stack := []any{v}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		var items []any
		var key any
		switch x := v.(type) {
		case *Inert:
			return x
		case Tuple:
			if len(x) > 0 {
				key = &x[0]
			}
			items = x
		case *List:
			key, items = x, x.Items
		case *Set:
			key, items = x, x.Items
		case *Dict:
			key, items = x, append(x.Keys(), x.Values()...)
			if x.Attrs != nil {
				items = append(items, x.Attrs)
			}
		}
		if key == nil || seen[key] {
			continue
		}
		seen[key] = true
		for i := len(items) - 1; i >= 0; i-- { // first item on top
			stack = append(stack, items[i])
		}
	}
	return nil
}
