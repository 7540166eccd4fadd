package pickle

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Sentinel errors that callers may test with [errors.Is].
var (
	// ErrGlobal reports a GLOBAL, STACK_GLOBAL or INST naming an object
	// that is not in [Options.Globals]; the error is a *[GlobalError].
	ErrGlobal = errors.New("global is not allowed")
	// ErrFormat reports bytes that are not a valid pickle.
	ErrFormat = errors.New("malformed pickle")
	// ErrUnsupported reports a valid pickle feature this package does not
	// implement (extension codes, out-of-band buffers).
	ErrUnsupported = errors.New("unsupported pickle feature")
	// ErrLimit reports a pickle beyond a limit this package sets to bound
	// the memory and time a hostile pickle can cost: more values than
	// [Options.MaxNodes], or a dict key too large or too deeply nested.
	ErrLimit = errors.New("pickle too large to decode")
)

// GlobalError reports a global that the allowlist does not hold.
type GlobalError struct {
	Module, Name string
}

func (e *GlobalError) Error() string {
	return "pickle: global " + e.Module + "." + e.Name + " is not allowed"
}

// Is reports whether target is [ErrGlobal].
func (e *GlobalError) Is(target error) bool { return target == ErrGlobal }

// Options configures [Load]. A nil *Options allows no globals and no
// persistent ids.
type Options struct {
	// Globals maps "module.name" to the value a GLOBAL, STACK_GLOBAL, INST
	// or OBJ opcode naming it produces: usually a [Func], which REDUCE and
	// NEWOBJ may then call, or any marker value the caller recognises
	// later. Any global not in the map is refused with a *[GlobalError].
	// Python 2 module names __builtin__ and copy_reg are looked up as
	// builtins and copyreg.
	Globals map[string]any
	// PersistentLoad resolves the persistent ids of PERSID and BINPERSID
	// (PyTorch's storages). If nil, a persistent id is an error.
	PersistentLoad func(pid any) (any, error)
	// MaxNodes bounds the values the pickle may create; 0 means
	// [DefaultMaxNodes]. Every value an opcode pushes counts one (a
	// shared value is counted each time it is fetched from the memo), and
	// so does every call (REDUCE, NEWOBJ, NEWOBJ_EX, INST, OBJ, BUILD,
	// SETITEM) for what the callee may copy: one per element of a tuple,
	// list, dict or set among its arguments, and one per 32 bytes of a str
	// or bytes argument, looking two levels down. A pickle that creates
	// more is refused with an error wrapping [ErrLimit].
	MaxNodes int64
	// Inert makes a global that Globals does not hold an *[Inert]
	// placeholder instead of an error: calling it, or setting its state,
	// gives placeholders too, and nothing is ever executed. It suits files
	// whose unknown objects the caller then checks to be outside what it
	// uses (see [FindInert]), such as a checkpoint's argparse.Namespace
	// beside its state dict.
	Inert bool
}

// DefaultMaxNodes is the value count Load allows when [Options.MaxNodes]
// is 0: 32 Mi, some 512 MiB of Go values, or 1 GiB of bytes copied by
// calls. A state dict's pickle creates about 30 values per tensor, and
// CIFAR-100's training batch about 5 to 12 million (one per label, one per
// 32 image bytes for each call that copies them), so only pickles built
// to amplify (calls that copy the same memoized list or bytes over and
// over) reach it.
const DefaultMaxNodes = 1 << 25

// maxLine bounds one line of a protocol 0 opcode's text argument.
const maxLine = 1 << 26

// Load decodes one pickle from r and returns its value. Python values
// become Go values as follows: None is nil, bool is bool, int is int64 (or
// *big.Int beyond 64 bits), float is float64, str is string, bytes,
// bytearray and Python 2 str are [Bytes], tuple is [Tuple], list is *[List],
// dict and OrderedDict are *[Dict], set and frozenset are *[Set]; anything
// else is whatever the caller's [Options.Globals] made of it.
//
// If r implements io.ByteReader (a *bufio.Reader, a *bytes.Reader), Load
// reads exactly up to the STOP opcode, so the caller can go on reading
// what follows; otherwise it may read ahead.
//
// Load never executes code from the pickle. Every length it reads is
// checked against the input actually there before memory is allocated
// for it.
func Load(r io.Reader, opts *Options) (any, error) {
	if opts == nil {
		opts = &Options{}
	}
	br, ok := r.(byteReader)
	if !ok {
		br = bufio.NewReader(r)
	}
	u := &unpickler{r: br, opts: opts, memo: map[int]any{}, maxNodes: opts.MaxNodes}
	if u.maxNodes <= 0 {
		u.maxNodes = DefaultMaxNodes
	}
	return u.run()
}

type byteReader interface {
	io.Reader
	io.ByteReader
}

type unpickler struct {
	r     byteReader
	opts  *Options
	off   int64 // offset of the next byte
	stack []any
	marks []int // stack heights at each MARK
	memo  map[int]any
	proto int
	// nodes counts the values created so far, see [Options.MaxNodes].
	nodes, maxNodes int64
}

// opError decorates err with the opcode and its offset.
type opError struct {
	off int64
	op  byte
	err error
}

func (e *opError) Error() string {
	msg := strings.TrimPrefix(e.err.Error(), "pickle: ")
	return fmt.Sprintf("pickle: offset %d: %s: %s", e.off, opName(e.op), msg)
}

func (e *opError) Unwrap() error { return e.err }

func (u *unpickler) run() (any, error) {
	for {
		start := u.off
		op, err := u.readByte()
		if err != nil {
			return nil, fmt.Errorf("pickle: offset %d: no STOP opcode: %w", start, err)
		}
		done, err := u.step(op)
		if err == nil && u.nodes > u.maxNodes {
			err = u.errNodes()
		}
		if err != nil {
			var ge *GlobalError
			if errors.As(err, &ge) {
				return nil, err
			}
			return nil, &opError{off: start, op: op, err: err}
		}
		if done {
			if len(u.stack) != 1 || len(u.marks) != 0 {
				return nil, fmt.Errorf("pickle: offset %d: STOP with %d values and %d marks on the stack: %w", start, len(u.stack), len(u.marks), ErrFormat)
			}
			return u.stack[0], nil
		}
	}
}

func (u *unpickler) readByte() (byte, error) {
	b, err := u.r.ReadByte()
	if err != nil {
		return 0, noEOF(err)
	}
	u.off++
	return b, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// read reads exactly n bytes, growing its buffer as data arrives, so that
// a length claimed beyond the end of the input is an error and not an
// allocation.
func (u *unpickler) read(n uint64) ([]byte, error) {
	if n > math.MaxInt64 {
		return nil, fmt.Errorf("length %d: %w", n, ErrFormat)
	}
	const chunk = 1 << 20
	var b []byte
	if n <= chunk {
		b = make([]byte, n)
		if _, err := io.ReadFull(u.r, b); err != nil {
			return nil, fmt.Errorf("reading %d bytes: %w", n, noEOF(err))
		}
	} else {
		var buf bytes.Buffer
		buf.Grow(chunk)
		m, err := io.CopyN(&buf, u.r, int64(n))
		if m < int64(n) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("reading %d bytes: %w", n, err)
		}
		b = buf.Bytes()
	}
	u.off += int64(n)
	return b, nil
}

func (u *unpickler) readUint(size int) (uint64, error) {
	b, err := u.read(uint64(size))
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := size - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

// readLine reads a protocol 0 text argument up to and without its newline.
func (u *unpickler) readLine() (string, error) {
	var b []byte
	for {
		c, err := u.readByte()
		if err != nil {
			return "", err
		}
		if c == '\n' {
			return string(bytes.TrimSuffix(b, []byte{'\r'})), nil
		}
		if len(b) >= maxLine {
			return "", fmt.Errorf("line longer than %d bytes: %w", maxLine, ErrFormat)
		}
		b = append(b, c)
	}
}

func (u *unpickler) push(v any) {
	u.nodes++
	u.stack = append(u.stack, v)
}

// spend counts n more values, or fails if that makes too many.
func (u *unpickler) spend(n int64) error {
	if u.nodes += n; u.nodes > u.maxNodes {
		return u.errNodes()
	}
	return nil
}

func (u *unpickler) errNodes() error {
	return fmt.Errorf("more than %d values (Options.MaxNodes): %w", u.maxNodes, ErrLimit)
}

// cost returns what a callee given v may copy, in values: one per element
// of a container and one per 32 bytes of a str or bytes value, looking
// two levels below v (the BUILD state of a NumPy array holds its bytes in
// a tuple; OrderedDict gets its items as a tuple holding a list). The
// work is bounded by the count it returns, plus one per container.
func cost(v any, depth int) int64 {
	var items []any
	switch v := v.(type) {
	case string:
		return int64(len(v)/32) + 1
	case Bytes:
		return int64(len(v)/32) + 1
	case Tuple:
		items = v
	case *List:
		items = v.Items
	case *Set:
		items = v.Items
	case *Dict:
		return int64(2*v.Len()) + 1
	default:
		return 1
	}
	n := int64(len(items)) + 1
	if depth < 2 {
		for _, e := range items {
			n += cost(e, depth+1)
		}
	}
	return n
}

// call charges the cost of args, then calls the callable f with them.
func (u *unpickler) call(f any, args Tuple) (any, error) {
	if err := u.spend(cost(args, 0)); err != nil {
		return nil, err
	}
	return call(f, args)
}

// base is the lowest stack index the current mark segment may touch.
func (u *unpickler) base() int {
	if len(u.marks) == 0 {
		return 0
	}
	return u.marks[len(u.marks)-1]
}

func (u *unpickler) pop() (any, error) {
	if len(u.stack) <= u.base() {
		return nil, fmt.Errorf("stack underflow: %w", ErrFormat)
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

func (u *unpickler) top() (any, error) {
	if len(u.stack) <= u.base() {
		return nil, fmt.Errorf("stack underflow: %w", ErrFormat)
	}
	return u.stack[len(u.stack)-1], nil
}

// popMark removes and returns the values above the topmost mark, and the
// mark.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, fmt.Errorf("no MARK on the stack: %w", ErrFormat)
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := make([]any, len(u.stack)-m)
	copy(items, u.stack[m:])
	u.stack = u.stack[:m]
	return items, nil
}

// global resolves module.name through the allowlist.
func (u *unpickler) global(module, name string) (any, error) {
	lookup := module
	switch module {
	case "__builtin__":
		lookup = "builtins"
	case "copy_reg":
		lookup = "copyreg"
	}
	if v, ok := u.opts.Globals[lookup+"."+name]; ok {
		return v, nil
	}
	if u.opts.Inert {
		return &Inert{Module: module, Name: name}, nil
	}
	return nil, &GlobalError{Module: module, Name: name}
}

// call calls a callable from the stack with args.
func call(f any, args Tuple) (any, error) {
	if in, ok := f.(*Inert); ok {
		return &Inert{Module: in.Module, Name: in.Name, Instance: true}, nil
	}
	fn, ok := f.(Func)
	if !ok {
		return nil, fmt.Errorf("%s object is not callable: %w", TypeName(f), ErrFormat)
	}
	return fn(args)
}

func (u *unpickler) memoGet(i int) error {
	v, ok := u.memo[i]
	if !ok {
		return fmt.Errorf("memo key %d not found: %w", i, ErrFormat)
	}
	u.push(v)
	return nil
}

func (u *unpickler) memoPut(i int) error {
	v, err := u.top()
	if err != nil {
		return err
	}
	u.memo[i] = v
	return nil
}

// step executes one opcode and reports whether it was STOP.
func (u *unpickler) step(op byte) (bool, error) {
	switch op {
	case opProto:
		p, err := u.readByte()
		if err != nil {
			return false, err
		}
		if p > 5 {
			return false, fmt.Errorf("protocol %d: %w", p, ErrUnsupported)
		}
		u.proto = int(p)
	case opFrame:
		if _, err := u.readUint(8); err != nil {
			return false, err
		}
	case opStop:
		return true, nil

	// Stack and memo.
	case opMark:
		u.marks = append(u.marks, len(u.stack))
	case opPop:
		if len(u.stack) > u.base() {
			u.stack = u.stack[:len(u.stack)-1]
		} else if _, err := u.popMark(); err != nil {
			return false, err
		}
	case opPopMark:
		if _, err := u.popMark(); err != nil {
			return false, err
		}
	case opDup:
		v, err := u.top()
		if err != nil {
			return false, err
		}
		u.push(v)
	case opGet, opPut:
		line, err := u.readLine()
		if err != nil {
			return false, err
		}
		i, err := strconv.Atoi(line)
		if err != nil || i < 0 {
			return false, fmt.Errorf("memo index %q: %w", line, ErrFormat)
		}
		if op == opGet {
			return false, u.memoGet(i)
		}
		return false, u.memoPut(i)
	case opBinGet, opLongBinGet, opBinPut, opLongBinPut:
		size := 1
		if op == opLongBinGet || op == opLongBinPut {
			size = 4
		}
		i, err := u.readUint(size)
		if err != nil {
			return false, err
		}
		if op == opBinGet || op == opLongBinGet {
			return false, u.memoGet(int(i))
		}
		return false, u.memoPut(int(i))
	case opMemoize:
		return false, u.memoPut(len(u.memo))

	// Atoms.
	case opNone:
		u.push(nil)
	case opNewTrue:
		u.push(true)
	case opNewFalse:
		u.push(false)
	case opInt:
		line, err := u.readLine()
		if err != nil {
			return false, err
		}
		switch line {
		case "00":
			u.push(false)
		case "01":
			u.push(true)
		default:
			v, err := parseInt(line)
			if err != nil {
				return false, err
			}
			u.push(v)
		}
	case opLong:
		line, err := u.readLine()
		if err != nil {
			return false, err
		}
		v, err := parseInt(strings.TrimSuffix(line, "L"))
		if err != nil {
			return false, err
		}
		u.push(v)
	case opBinInt:
		v, err := u.readUint(4)
		if err != nil {
			return false, err
		}
		u.push(int64(int32(uint32(v))))
	case opBinInt1:
		v, err := u.readUint(1)
		if err != nil {
			return false, err
		}
		u.push(int64(v))
	case opBinInt2:
		v, err := u.readUint(2)
		if err != nil {
			return false, err
		}
		u.push(int64(v))
	case opLong1, opLong4:
		size := 1
		if op == opLong4 {
			size = 4
		}
		n, err := u.readUint(size)
		if err != nil {
			return false, err
		}
		if op == opLong4 && int32(uint32(n)) < 0 {
			return false, fmt.Errorf("negative length: %w", ErrFormat)
		}
		b, err := u.read(n)
		if err != nil {
			return false, err
		}
		u.push(decodeLong(b))
	case opFloat:
		line, err := u.readLine()
		if err != nil {
			return false, err
		}
		f, err := strconv.ParseFloat(line, 64)
		if err != nil {
			return false, fmt.Errorf("float %q: %w", line, ErrFormat)
		}
		u.push(f)
	case opBinFloat:
		v, err := u.read(8)
		if err != nil {
			return false, err
		}
		u.push(math.Float64frombits(binary.BigEndian.Uint64(v)))

	// Strings.
	case opString:
		line, err := u.readLine()
		if err != nil {
			return false, err
		}
		b, err := unquote(line)
		if err != nil {
			return false, err
		}
		u.push(Bytes(b))
	case opBinString, opShortBinString, opBinBytes, opShortBinBytes, opBinBytes8, opByteArray8:
		size := map[byte]int{opBinString: 4, opShortBinString: 1, opBinBytes: 4, opShortBinBytes: 1, opBinBytes8: 8, opByteArray8: 8}[op]
		n, err := u.readUint(size)
		if err != nil {
			return false, err
		}
		if op == opBinString && int32(uint32(n)) < 0 {
			return false, fmt.Errorf("negative length: %w", ErrFormat)
		}
		b, err := u.read(n)
		if err != nil {
			return false, err
		}
		u.push(Bytes(b))
	case opUnicode:
		line, err := u.readLine()
		if err != nil {
			return false, err
		}
		s, err := rawUnicodeEscape(line)
		if err != nil {
			return false, err
		}
		u.push(s)
	case opBinUnicode, opShortBinUnicode, opBinUnicode8:
		size := map[byte]int{opBinUnicode: 4, opShortBinUnicode: 1, opBinUnicode8: 8}[op]
		n, err := u.readUint(size)
		if err != nil {
			return false, err
		}
		b, err := u.read(n)
		if err != nil {
			return false, err
		}
		if !utf8.Valid(b) {
			// Python would fail too, except for lone surrogates
			// (surrogatepass); keep the bytes rather than fail.
			u.push(strings.ToValidUTF8(string(b), "\uFFFD"))
		} else {
			u.push(string(b))
		}

	// Containers.
	case opEmptyTuple:
		u.push(Tuple{})
	case opTuple:
		items, err := u.popMark()
		if err != nil {
			return false, err
		}
		u.push(Tuple(items))
	case opTuple1, opTuple2, opTuple3:
		n := int(op-opTuple1) + 1
		if len(u.stack)-u.base() < n {
			return false, fmt.Errorf("stack underflow: %w", ErrFormat)
		}
		t := make(Tuple, n)
		copy(t, u.stack[len(u.stack)-n:])
		u.stack = u.stack[:len(u.stack)-n]
		u.push(t)
	case opEmptyList:
		u.push(&List{})
	case opList:
		items, err := u.popMark()
		if err != nil {
			return false, err
		}
		u.push(&List{Items: items})
	case opAppend:
		v, err := u.pop()
		if err != nil {
			return false, err
		}
		if err := u.extend([]any{v}); err != nil {
			return false, err
		}
	case opAppends:
		items, err := u.popMark()
		if err != nil {
			return false, err
		}
		if err := u.extend(items); err != nil {
			return false, err
		}
	case opEmptyDict:
		u.push(NewDict())
	case opDict:
		items, err := u.popMark()
		if err != nil {
			return false, err
		}
		d := NewDict()
		if err := u.setItems(d, items); err != nil {
			return false, err
		}
		u.push(d)
	case opSetItem, opSetItems:
		var items []any
		if op == opSetItem {
			if len(u.stack)-u.base() < 3 {
				return false, fmt.Errorf("stack underflow: %w", ErrFormat)
			}
			items = []any{u.stack[len(u.stack)-2], u.stack[len(u.stack)-1]}
			u.stack = u.stack[:len(u.stack)-2]
		} else {
			var err error
			if items, err = u.popMark(); err != nil {
				return false, err
			}
		}
		top, err := u.top()
		if err != nil {
			return false, err
		}
		d, ok := top.(*Dict)
		if !ok {
			return false, fmt.Errorf("cannot set items on %s: %w", TypeName(top), ErrFormat)
		}
		if err := u.setItems(d, items); err != nil {
			return false, err
		}
	case opEmptySet:
		u.push(&Set{})
	case opAddItems:
		items, err := u.popMark()
		if err != nil {
			return false, err
		}
		top, err := u.top()
		if err != nil {
			return false, err
		}
		s, ok := top.(*Set)
		if !ok {
			return false, fmt.Errorf("cannot add items to %s: %w", TypeName(top), ErrFormat)
		}
		s.Items = append(s.Items, items...)
	case opFrozenSet:
		items, err := u.popMark()
		if err != nil {
			return false, err
		}
		u.push(&Set{Items: items, Frozen: true})

	// Globals, calls and objects.
	case opGlobal:
		module, err := u.readLine()
		if err != nil {
			return false, err
		}
		name, err := u.readLine()
		if err != nil {
			return false, err
		}
		v, err := u.global(module, name)
		if err != nil {
			return false, err
		}
		u.push(v)
	case opStackGlobal:
		nv, err := u.pop()
		if err != nil {
			return false, err
		}
		mv, err := u.pop()
		if err != nil {
			return false, err
		}
		module, ok1 := mv.(string)
		name, ok2 := nv.(string)
		if !ok1 || !ok2 {
			return false, fmt.Errorf("module and name are %s and %s, not str: %w", TypeName(mv), TypeName(nv), ErrFormat)
		}
		v, err := u.global(module, name)
		if err != nil {
			return false, err
		}
		u.push(v)
	case opReduce, opNewObj:
		argv, err := u.pop()
		if err != nil {
			return false, err
		}
		f, err := u.pop()
		if err != nil {
			return false, err
		}
		args, ok := argv.(Tuple)
		if !ok {
			return false, fmt.Errorf("arguments are %s, not tuple: %w", TypeName(argv), ErrFormat)
		}
		v, err := u.call(f, args)
		if err != nil {
			return false, err
		}
		u.push(v)
	case opNewObjEx:
		kw, err := u.pop()
		if err != nil {
			return false, err
		}
		argv, err := u.pop()
		if err != nil {
			return false, err
		}
		f, err := u.pop()
		if err != nil {
			return false, err
		}
		args, ok := argv.(Tuple)
		if !ok {
			return false, fmt.Errorf("arguments are %s, not tuple: %w", TypeName(argv), ErrFormat)
		}
		if d, ok := kw.(*Dict); !ok || d.Len() > 0 {
			return false, fmt.Errorf("keyword arguments: %w", ErrUnsupported)
		}
		v, err := u.call(f, args)
		if err != nil {
			return false, err
		}
		u.push(v)
	case opInst:
		module, err := u.readLine()
		if err != nil {
			return false, err
		}
		name, err := u.readLine()
		if err != nil {
			return false, err
		}
		items, err := u.popMark()
		if err != nil {
			return false, err
		}
		f, err := u.global(module, name)
		if err != nil {
			return false, err
		}
		v, err := u.call(f, Tuple(items))
		if err != nil {
			return false, err
		}
		u.push(v)
	case opObj:
		items, err := u.popMark()
		if err != nil {
			return false, err
		}
		if len(items) == 0 {
			return false, fmt.Errorf("no class: %w", ErrFormat)
		}
		v, err := u.call(items[0], Tuple(items[1:]))
		if err != nil {
			return false, err
		}
		u.push(v)
	case opBuild:
		state, err := u.pop()
		if err != nil {
			return false, err
		}
		obj, err := u.top()
		if err != nil {
			return false, err
		}
		if err := u.spend(cost(state, 0)); err != nil {
			return false, err
		}
		switch o := obj.(type) {
		case Builder:
			if err := o.Build(state); err != nil {
				return false, err
			}
		case *Dict:
			// OrderedDict.__reduce__ passes vars(od): the attributes.
			sd, ok := state.(*Dict)
			if !ok {
				return false, fmt.Errorf("dict state is %s: %w", TypeName(state), ErrFormat)
			}
			o.Attrs = sd
		default:
			return false, fmt.Errorf("cannot set state of %s: %w", TypeName(obj), ErrUnsupported)
		}
	case opPersID, opBinPersID:
		var pid any
		if op == opPersID {
			line, err := u.readLine()
			if err != nil {
				return false, err
			}
			pid = line
		} else {
			var err error
			if pid, err = u.pop(); err != nil {
				return false, err
			}
		}
		if u.opts.PersistentLoad == nil {
			return false, fmt.Errorf("persistent id %s but no PersistentLoad: %w", Repr(pid), ErrUnsupported)
		}
		v, err := u.opts.PersistentLoad(pid)
		if err != nil {
			return false, err
		}
		u.push(v)
	case opExt1, opExt2, opExt4:
		return false, fmt.Errorf("extension registry: %w", ErrUnsupported)
	case opNextBuffer:
		return false, fmt.Errorf("out-of-band buffer: %w", ErrUnsupported)
	case opReadonlyBuffer:
		if _, err := u.top(); err != nil {
			return false, err
		}
	default:
		return false, fmt.Errorf("unknown opcode %#02x: %w", op, ErrFormat)
	}
	return false, nil
}

// extend appends items to the list (or set) on top of the stack.
func (u *unpickler) extend(items []any) error {
	top, err := u.top()
	if err != nil {
		return err
	}
	switch l := top.(type) {
	case *List:
		l.Items = append(l.Items, items...)
	case *Set:
		l.Items = append(l.Items, items...)
	default:
		return fmt.Errorf("cannot append to %s: %w", TypeName(top), ErrFormat)
	}
	return nil
}

// setItems sets key-value pairs of items in d, charging the hashing of
// each key.
func (u *unpickler) setItems(d *Dict, items []any) error {
	if len(items)%2 != 0 {
		return fmt.Errorf("odd number of items for a dict: %w", ErrFormat)
	}
	for i := 0; i < len(items); i += 2 {
		if err := u.spend(cost(items[i], 1)); err != nil {
			return err
		}
		if err := d.Set(items[i], items[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// parseInt parses a decimal Python int, returning an int64 or *big.Int.
func parseInt(s string) (any, error) {
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, nil
	}
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, fmt.Errorf("integer %q: %w", s, ErrFormat)
	}
	return b, nil
}

// decodeLong decodes a little-endian two's complement integer.
func decodeLong(b []byte) any {
	if len(b) == 0 {
		return int64(0)
	}
	if len(b) <= 8 {
		var v uint64
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		shift := 64 - 8*uint(len(b))
		return int64(v<<shift) >> shift // sign-extend
	}
	be := make([]byte, len(b))
	for i, c := range b {
		be[len(b)-1-i] = c
	}
	v := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if v.IsInt64() {
		return v.Int64()
	}
	return v
}

// unquote decodes the repr of a Python 2 str, as the STRING opcode holds it.
func unquote(s string) ([]byte, error) {
	if len(s) < 2 || (s[0] != '\'' && s[0] != '"') || s[len(s)-1] != s[0] {
		return nil, fmt.Errorf("string argument %q is not quoted: %w", s, ErrFormat)
	}
	s = s[1 : len(s)-1]
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(s) {
			return nil, fmt.Errorf("trailing backslash in string: %w", ErrFormat)
		}
		switch c := s[i]; c {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'a':
			out = append(out, 7)
		case 'b':
			out = append(out, 8)
		case 'f':
			out = append(out, 12)
		case 'v':
			out = append(out, 11)
		case '\\', '\'', '"':
			out = append(out, c)
		case '\n':
		case 'x':
			if i+3 > len(s) {
				return nil, fmt.Errorf("short \\x escape: %w", ErrFormat)
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return nil, fmt.Errorf("bad \\x escape: %w", ErrFormat)
			}
			out = append(out, byte(v))
			i += 2
		default:
			if c >= '0' && c <= '7' {
				j := i
				for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
					j++
				}
				v, _ := strconv.ParseUint(s[i:j], 8, 16)
				out = append(out, byte(v))
				i = j - 1
			} else {
				out = append(out, '\\', c)
			}
		}
	}
	return out, nil
}

// rawUnicodeEscape decodes Python's raw-unicode-escape codec, as the
// UNICODE opcode holds it: bytes are Latin-1 characters, except \uXXXX and
// \UXXXXXXXX escapes.
func rawUnicodeEscape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') {
			n := 4
			if s[i+1] == 'U' {
				n = 8
			}
			if i+2+n > len(s) {
				return "", fmt.Errorf("short \\%c escape: %w", s[i+1], ErrFormat)
			}
			v, err := strconv.ParseUint(s[i+2:i+2+n], 16, 32)
			if err != nil || v > utf8.MaxRune {
				return "", fmt.Errorf("bad \\%c escape: %w", s[i+1], ErrFormat)
			}
			b.WriteRune(rune(v))
			i += 1 + n
			continue
		}
		b.WriteRune(rune(c))
	}
	return b.String(), nil
}
