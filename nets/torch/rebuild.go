package torch

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/landscape-go/landscape/internal/hugemem"
	"github.com/landscape-go/landscape/internal/npy"
	"github.com/landscape-go/landscape/internal/pickle"
	"github.com/landscape-go/landscape/nets"
)

// storageType stands for a storage class such as torch.FloatStorage.
type storageType struct {
	name  string // "FloatStorage"
	dtype string // "float32"; "" if the type is not supported
}

// storageDTypes maps PyTorch's legacy storage class names to dtypes.
var storageDTypes = map[string]string{
	"FloatStorage":    "float32",
	"DoubleStorage":   "float64",
	"HalfStorage":     "float16",
	"BFloat16Storage": "bfloat16",
	"LongStorage":     "int64",
	"IntStorage":      "int32",
	"ShortStorage":    "int16",
	"CharStorage":     "int8",
	"ByteStorage":     "uint8",
	"BoolStorage":     "bool",
	"UntypedStorage":  "uint8",
	// Known but not convertible to float32 weights.
	"ComplexFloatStorage":  "",
	"ComplexDoubleStorage": "",
	"QInt8Storage":         "",
	"QUInt8Storage":        "",
	"QInt32Storage":        "",
	"QUInt4x2Storage":      "",
	"QUInt2x4Storage":      "",
}

// storage is one storage a checkpoint refers to by key. Its bytes arrive
// after the pickle in the legacy format, so tensors are materialised only
// once the whole file has been read.
type storage struct {
	key   string
	dtype string
	numel int64 // elements, as the pickle claims
	data  []byte
	order binary.ByteOrder
	// A legacy storage view: elements [offset, offset+numel) of root.
	root   *storage
	offset int64
}

// tensorRef is a tensor as the pickle describes it: a strided view of a
// storage.
type tensorRef struct {
	st     *storage
	offset int64
	size   []int
	stride []int
}

// loader holds the state of one checkpoint decode.
type loader struct {
	storages map[string]*storage
	order    binary.ByteOrder
	depth    int     // nesting of _load_from_bytes
	budget   *budget // shared with nested loaders
}

func newLoader(b *budget) *loader {
	return &loader{storages: map[string]*storage{}, order: binary.LittleEndian, budget: b}
}

// options returns the unpickler options: the allowlist of globals a state
// dict needs and the storage resolver.
func (l *loader) options() *pickle.Options {
	g := pickle.Merge(pickle.Builtins(), pickle.NumPy())
	for name, dtype := range storageDTypes {
		st := &storageType{name: name, dtype: dtype}
		g["torch."+name] = st
		g["torch.cuda."+name] = st
		g["torch.storage."+name] = st
	}
	g["torch.storage._load_from_bytes"] = pickle.Func(l.loadFromBytes)
	g["torch._utils._rebuild_tensor"] = pickle.Func(rebuildTensor)
	g["torch._utils._rebuild_tensor_v2"] = pickle.Func(rebuildTensor)
	g["torch._utils._rebuild_parameter"] = pickle.Func(rebuildParameter)
	g["torch._utils._rebuild_parameter_with_state"] = pickle.Func(rebuildParameter)
	g["torch._tensor._rebuild_from_type"] = pickle.Func(rebuildFromType)
	g["torch._tensor._rebuild_from_type_v2"] = pickle.Func(rebuildFromType)
	g["torch.nn.parameter.Parameter"] = pickle.Func(rebuildParameter)
	g["torch.Tensor"] = pickle.Func(func(pickle.Tuple) (any, error) {
		return nil, fmt.Errorf("torch.Tensor called directly: %w", ErrUnsupported)
	})
	g["torch.Size"] = pickle.Func(func(args pickle.Tuple) (any, error) {
		if len(args) == 0 {
			return pickle.Tuple{}, nil
		}
		if t, ok := args[0].(pickle.Tuple); ok {
			return t, nil
		}
		if l, ok := args[0].(*pickle.List); ok {
			return pickle.Tuple(l.Items), nil
		}
		return nil, fmt.Errorf("torch.Size(%s): %w", pickle.TypeName(args[0]), ErrFormat)
	})
	// Objects the allowlist does not know, such as the argparse.Namespace
	// of training arguments saved beside a state dict, become inert
	// placeholders; the state dict itself must hold none (see stateDict).
	return &pickle.Options{Globals: g, PersistentLoad: l.persistentLoad, Inert: true}
}

// persistentLoad resolves ('storage', type, key, location, numel) and the
// legacy ('storage', type, key, location, numel, view_metadata).
func (l *loader) persistentLoad(pid any) (any, error) {
	t, ok := pid.(pickle.Tuple)
	if ok && len(t) >= 2 {
		if kind, _ := pickle.String(t[0]); kind == "module" {
			// The legacy format's ('module', class, file, source) of a
			// pickled nn.Module: name the class as the allowlist would.
			if in, ok := t[1].(*pickle.Inert); ok {
				return nil, in.Error()
			}
		}
	}
	if !ok || len(t) < 5 {
		return nil, fmt.Errorf("persistent id %v is not a storage tuple: %w", pickle.TypeName(pid), ErrFormat)
	}
	if kind, _ := pickle.String(t[0]); kind != "storage" {
		if kind == "module" {
			return nil, fmt.Errorf("checkpoint holds a pickled nn.Module, not a state dict: %w", ErrUnsupported)
		}
		return nil, fmt.Errorf("persistent id of kind %q: %w", kind, ErrFormat)
	}
	typ, ok := t[1].(*storageType)
	if !ok {
		return nil, fmt.Errorf("storage type is %s: %w", pickle.TypeName(t[1]), ErrFormat)
	}
	if typ.dtype == "" {
		return nil, fmt.Errorf("torch.%s: %w", typ.name, ErrUnsupported)
	}
	key, ok1 := pickle.String(t[2])
	numel, ok2 := pickle.Int(t[4])
	if !ok1 || !ok2 || numel < 0 {
		return nil, fmt.Errorf("storage id (%s, %s): %w", pickle.TypeName(t[2]), pickle.Repr(t[4]), ErrFormat)
	}
	st, err := l.storage(key, typ.dtype, int64(numel))
	if err != nil {
		return nil, err
	}
	if len(t) < 6 || t[5] == nil {
		return st, nil
	}
	// A legacy view of part of the storage: (view_key, offset, view_size).
	v, ok := t[5].(pickle.Tuple)
	if !ok || len(v) != 3 {
		return nil, fmt.Errorf("storage %s: view metadata %s: %w", key, pickle.Repr(t[5]), ErrFormat)
	}
	vkey, ok1 := pickle.String(v[0])
	off, ok2 := pickle.Int(v[1])
	vsize, ok3 := pickle.Int(v[2])
	if !ok1 || !ok2 || !ok3 || off < 0 || vsize < 0 || int64(off)+int64(vsize) > int64(numel) {
		return nil, fmt.Errorf("storage %s: view metadata %s: %w", key, pickle.Repr(t[5]), ErrFormat)
	}
	if vs, ok := l.storages[vkey]; ok {
		return vs, nil
	}
	vs := &storage{key: vkey, dtype: typ.dtype, numel: int64(vsize), root: st, offset: int64(off)}
	l.storages[vkey] = vs
	return vs, nil
}

func (l *loader) storage(key, dtype string, numel int64) (*storage, error) {
	if st, ok := l.storages[key]; ok {
		if st.dtype != dtype || st.numel != numel {
			return nil, fmt.Errorf("storage %s is both %s[%d] and %s[%d]: %w", key, st.dtype, st.numel, dtype, numel, ErrFormat)
		}
		return st, nil
	}
	st := &storage{key: key, dtype: dtype, numel: numel}
	l.storages[key] = st
	return st, nil
}

// maxDims bounds the dimensions of a tensor (PyTorch's own limit is 64
// for most operations).
const maxDims = 64

// rebuildTensor implements torch._utils._rebuild_tensor(storage, offset,
// size, stride) and _rebuild_tensor_v2, which adds requires_grad,
// backward_hooks and, in later versions, metadata.
func rebuildTensor(args pickle.Tuple) (any, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor with %d arguments: %w", len(args), ErrFormat)
	}
	st, ok := args[0].(*storage)
	if !ok {
		return nil, fmt.Errorf("tensor storage is %s: %w", pickle.TypeName(args[0]), ErrFormat)
	}
	off, ok1 := pickle.Int(args[1])
	size, ok2 := pickle.Ints(args[2])
	stride, ok3 := pickle.Ints(args[3])
	if !ok1 || !ok2 || !ok3 || off < 0 || len(size) != len(stride) || len(size) > maxDims {
		return nil, fmt.Errorf("tensor of storage %s: offset %s, size %s, stride %s: %w",
			st.key, pickle.Repr(args[1]), pickle.Repr(args[2]), pickle.Repr(args[3]), ErrFormat)
	}
	return &tensorRef{st: st, offset: int64(off), size: size, stride: stride}, nil
}

// rebuildParameter implements torch._utils._rebuild_parameter(data,
// requires_grad, backward_hooks) and nn.Parameter(data, requires_grad): a
// parameter is its tensor.
func rebuildParameter(args pickle.Tuple) (any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("_rebuild_parameter without arguments: %w", ErrFormat)
	}
	if _, ok := args[0].(*tensorRef); !ok {
		return nil, fmt.Errorf("parameter data is %s: %w", pickle.TypeName(args[0]), ErrFormat)
	}
	return args[0], nil
}

// rebuildFromType implements torch._tensor._rebuild_from_type_v2(func,
// type, args, state), which tensor subclasses pickle as: it calls func
// with args and drops the subclass and its state.
func rebuildFromType(args pickle.Tuple) (any, error) {
	if len(args) < 3 {
		return nil, fmt.Errorf("_rebuild_from_type with %d arguments: %w", len(args), ErrFormat)
	}
	f, ok1 := args[0].(pickle.Func)
	a, ok2 := args[2].(pickle.Tuple)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("_rebuild_from_type(%s, %s): %w", pickle.TypeName(args[0]), pickle.TypeName(args[2]), ErrFormat)
	}
	return f(a)
}

// maxExpand bounds the elements of a tensor that has more elements than
// its storage (a stride-0 expanded view), so that a few bytes of file
// cannot demand gigabytes of memory.
const maxExpand = 1 << 24

// view is a checked tensorRef: where its elements lie in the root
// storage, and how many there are.
type view struct {
	root  *storage
	base  int64 // element offset in root
	numel int64
}

// view checks that t stays inside the (sub)storage it names, as the
// pickle claims its size, and returns where its elements lie.
func (t *tensorRef) view() (view, error) {
	st := t.st
	base := t.offset
	for st.root != nil {
		base += st.offset
		st = st.root
	}
	limit := st.numel
	if t.st.root != nil {
		limit = base - t.offset + t.st.numel
	}
	numel := int64(1)
	last := base // highest element index the view touches
	for k, d := range t.size {
		s := t.stride[k]
		if d < 0 || s < 0 {
			return view{}, fmt.Errorf("size %v stride %v: %w", t.size, t.stride, ErrFormat)
		}
		if d == 0 {
			numel = 0
			continue
		}
		if numel > math.MaxInt32*int64(256)/int64(d) {
			return view{}, fmt.Errorf("size %v is too large: %w", t.size, ErrFormat)
		}
		numel *= int64(d)
		if s > 0 && int64(d-1) > (math.MaxInt64-last)/int64(s) {
			return view{}, fmt.Errorf("stride %v overflows: %w", t.stride, ErrFormat)
		}
		last += int64(d-1) * int64(s)
	}
	if numel == 0 {
		return view{root: st, base: base}, nil
	}
	if last >= limit {
		return view{}, fmt.Errorf("view (offset %d, size %v, stride %v) reaches element %d of storage %s, which has %d: %w",
			t.offset, t.size, t.stride, last, t.st.key, limit, ErrFormat)
	}
	if numel > st.numel && numel > maxExpand {
		return view{}, fmt.Errorf("expanded view of %d elements from a storage of %d: %w", numel, st.numel, ErrUnsupported)
	}
	return view{root: st, base: base, numel: numel}, nil
}

// materialise copies the view v of t out of its storage, which must be
// loaded, into a float32 tensor.
func (t *tensorRef) materialise(v view) (*nets.Tensor, error) {
	st, base, numel := v.root, v.base, v.numel
	out := &nets.Tensor{Shape: slices.Clone(t.size), DType: st.dtype}
	if numel == 0 {
		out.Data = []float32{}
		return out, nil
	}
	size, _ := npy.ItemSize(st.dtype)
	if int64(len(st.data)/size) != st.numel {
		return nil, fmt.Errorf("storage %s has no data: %w", st.key, ErrFormat)
	}
	var src []byte
	if t.contiguous() {
		src = st.data[base*int64(size) : (base+numel)*int64(size)]
	} else {
		src = make([]byte, 0, numel*int64(size))
		idx := make([]int, len(t.size))
		off := base
		for range numel {
			src = append(src, st.data[off*int64(size):(off+1)*int64(size)]...)
			for k := len(idx) - 1; k >= 0; k-- {
				idx[k]++
				off += int64(t.stride[k])
				if idx[k] < t.size[k] {
					break
				}
				off -= int64(idx[k]) * int64(t.stride[k])
				idx[k] = 0
			}
		}
	}
	out.Data = hugemem.Float32s(int(numel))
	if err := npy.ToFloat32(out.Data, src, st.dtype, st.order); err != nil {
		return nil, err
	}
	return out, nil
}

// contiguous reports whether the view is in row-major order without gaps.
func (t *tensorRef) contiguous() bool {
	want := 1
	for k := len(t.size) - 1; k >= 0; k-- {
		if t.size[k] != 1 && t.stride[k] != want {
			return false
		}
		want *= t.size[k]
	}
	return true
}
