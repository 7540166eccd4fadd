package pickle

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

// Hostile pickles are built here rather than committed: each is a few
// lines of opcodes.

// deepTuple pickles ((((),),),) nested depth levels: one TUPLE1 opcode a
// level, so a 1 MB file nests a million deep.
func deepTuple(depth int) []byte {
	return []byte("\x80\x02)" + strings.Repeat("\x85", depth))
}

// laughs pickles a "billion laughs" tuple: level 0 is (), and level i the
// pair (level i-1, level i-1), both fetched from the memo. Written out in
// full, levels levels hold 2^levels empty tuples; the pickle takes 16
// bytes a level.
func laughs(levels int) []byte {
	var b bytes.Buffer
	b.WriteString("\x80\x02)r\x00\x00\x00\x00")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "0j%sj%s\x86r%s", le32(i-1), le32(i-1), le32(i))
	}
	return b.Bytes()
}

func le32(i int) string { return string([]byte{byte(i), byte(i >> 8), byte(i >> 16), byte(i >> 24)}) }

// maxReprLen bounds what Repr may print, whatever the value: reprValues
// values, each at most a quoted reprBytes-byte string and its length.
const maxReprLen = 1 << 15

// A value nested a million levels deep decodes, and prints (with Repr or
// any fmt verb) in a few bytes: it used to overflow the goroutine stack.
func TestDeepValuePrints(t *testing.T) {
	t.Parallel()
	v, err := Load(bytes.NewReader(append(deepTuple(1_000_000), '.')), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{Repr(v), fmt.Sprint(v), fmt.Sprintf("%#v|%s|%d", v, v, v)} {
		if len(s) > 200 || !strings.Contains(s, "...") {
			t.Fatalf("printed as %d bytes: %.200s", len(s), s)
		}
	}
	if got, want := Repr(v), "(((((((((...),),),),),),),),)"; got != want {
		t.Fatalf("Repr = %s, want %s", got, want)
	}
	// The same value in an error message.
	_, err = Load(bytes.NewReader(append(deepTuple(1_000_000), "Q."...)), nil)
	if !errors.Is(err, ErrUnsupported) || len(err.Error()) > 300 {
		t.Fatalf("err = %.300v (%d bytes)", err, len(err.Error()))
	}
}

// A 1 KB billion-laughs tuple of 2^100 leaves prints, in messages too,
// and is refused as a dict key quickly: it used to exhaust the memory.
func TestBillionLaughsPrintsShortAndIsRefusedAsDictKey(t *testing.T) {
	t.Parallel()
	bomb := laughs(100)
	v, err := Load(bytes.NewReader(append(bomb, '.')), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprint(v); len(s) > maxReprLen || !strings.HasPrefix(s, "(((((") {
		t.Fatalf("printed as %d bytes: %.200s", len(s), s)
	}

	_, err = Load(bytes.NewReader(append(bomb, "Q."...)), nil)
	if !errors.Is(err, ErrUnsupported) || len(err.Error()) > maxReprLen {
		t.Fatalf("as a persistent id: err = %.300v (%d bytes)", err, len(err.Error()))
	}

	key := append([]byte("\x80\x02}"), bomb[2:]...)
	_, err = Load(bytes.NewReader(append(key, "K\x01s."...)), nil)
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "dict key") {
		t.Fatalf("as a dict key: err = %v", err)
	}
	t.Log(err)
}

// Calls that copy the same memoized value over and over are charged for
// the copies, and stop at Options.MaxNodes.
func TestCopiesOfMemoizedValuesCountTowardMaxNodes(t *testing.T) {
	t.Parallel()
	repeat := strings.Repeat
	tests := []struct {
		name string
		in   string
	}{
		// l = [0]*1000; then [set(l), set(l), ...]: 1000 copies per call.
		{"set of a memoized list", "\x80\x02]r\x00\x00\x00\x00(" + repeat("K\x00", 1000) + "e0" +
			"](" + repeat("c__builtin__\nset\nj\x00\x00\x00\x00\x85R", 200) + "e."},
		// s = 'x'*100000; then [encode(s, 'latin1'), ...]: 100 KB per call.
		{"encode of a memoized str", "\x80\x02X\xa0\x86\x01\x00" + repeat("x", 100000) + "r\x00\x00\x00\x000" +
			"](" + repeat("c_codecs\nencode\nj\x00\x00\x00\x00X\x06\x00\x00\x00latin1\x86R", 200) + "e."},
		// [x, x, x, ...] with x from the memo: every push counts.
		{"memo fetches", "\x80\x02K\x01r\x00\x00\x00\x000(" + repeat("j\x00\x00\x00\x00", 1<<17) + "l."},
		{"DUP", "\x80\x02(K\x01" + repeat("2", 1<<17) + "l."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := &Options{Globals: Builtins(), MaxNodes: 1 << 16}
			_, err := Load(strings.NewReader(tt.in), opts)
			if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "more than 65536 values (Options.MaxNodes)") {
				t.Fatalf("err = %v", err)
			}
			t.Log(err)
			opts.MaxNodes = 1 << 30
			if _, err := Load(strings.NewReader(tt.in), opts); err != nil {
				t.Fatalf("with MaxNodes 2^30: %v", err)
			}
		})
	}
}

// Repr prints values as Python would, cutting long strings, long tuples
// and recursive lists short.
func TestReprIsPythonLikeAndBounded(t *testing.T) {
	t.Parallel()
	d := NewDict()
	_ = d.Set("a", Tuple{int64(1)})
	_ = d.Set(Bytes("b"), &List{Items: []any{nil, true, 2.5}})
	tests := []struct {
		v    any
		want string
	}{
		{d, `{"a": (1,), b"b": [None, True, 2.5]}`},
		{Tuple{}, "()"},
		{&Set{Items: []any{int64(1)}, Frozen: true}, "frozenset({1})"},
		{strings.Repeat("x", 100), `"` + strings.Repeat("x", reprBytes) + `"...(100 bytes)`},
		{&DType{Name: "f4", Order: '<'}, `numpy.dtype("<f4")`},
	}
	for _, tt := range tests {
		if got := Repr(tt.v); got != tt.want {
			t.Errorf("Repr = %s, want %s", got, tt.want)
		}
	}
	l := &List{}
	l.Items = []any{l}
	if got := fmt.Sprint(l); got != "[[[[[[[[[...]]]]]]]]]" {
		t.Errorf("recursive list printed as %s", got)
	}
	many := make(Tuple, 1000)
	if got := Repr(many); len(got) > 500 || !strings.HasSuffix(got, "None, ...)") {
		t.Errorf("a tuple of 1000 values printed as %s", got)
	}
}

// graph measures a decoded value as memory holds it: the elements of
// every distinct container and the bytes of every distinct string, bytes
// or array buffer. It walks without recursion, so deep values are fine.
func graph(v any) (elems, nbytes int64) {
	seen := map[uintptr]bool{}
	first := func(p unsafe.Pointer) bool {
		if p == nil || seen[uintptr(p)] {
			return false
		}
		seen[uintptr(p)] = true
		return true
	}
	todo := []any{v}
	for len(todo) > 0 {
		v := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		var items []any
		switch v := v.(type) {
		case string:
			if first(unsafe.Pointer(unsafe.StringData(v))) {
				nbytes += int64(len(v))
			}
		case Bytes:
			if len(v) > 0 && first(unsafe.Pointer(&v[0])) {
				nbytes += int64(len(v))
			}
		case *NDArray:
			if v.Array != nil && len(v.Array.Bytes()) > 0 && first(unsafe.Pointer(&v.Array.Bytes()[0])) {
				nbytes += int64(len(v.Array.Bytes()))
			}
		case Tuple:
			if len(v) > 0 && first(unsafe.Pointer(&v[0])) {
				items = v
			}
		case *List:
			if first(unsafe.Pointer(v)) {
				items = v.Items
			}
		case *Set:
			if first(unsafe.Pointer(v)) {
				items = v.Items
			}
		case *Dict:
			if first(unsafe.Pointer(v)) {
				items = append(append(append(items, v.Keys()...), v.Values()...), v.Attrs)
			}
		}
		elems += int64(len(items))
		todo = append(todo, items...)
	}
	return elems, nbytes
}

// TestInertGlobalsRunNothing decodes, with Options.Inert, a pickle that
// calls os.system and builds an argparse.Namespace: both become *Inert
// placeholders (their arguments and state dropped), FindInert finds them,
// and without Inert the same pickle is refused.
func TestInertGlobalsRunNothing(t *testing.T) {
	t.Parallel()
	// {'cmd': os.system('echo hi'), 'args': argparse.Namespace() with state {'lr': 0.1}}, protocol 2.
	p := []byte("\x80\x02}q\x00(X\x03\x00\x00\x00cmdq\x01cposix\nsystem\nq\x02X\x07\x00\x00\x00echo hiq\x03\x85q\x04Rq\x05" +
		"X\x04\x00\x00\x00argsq\x06cargparse\nNamespace\nq\x07)\x81q\x08}q\tX\x02\x00\x00\x00lrq\nG?\xb9\x99\x99\x99\x99\x99\x9asbu.")
	v, err := Load(bytes.NewReader(p), &Options{Inert: true})
	if err != nil {
		t.Fatal(err)
	}
	d := v.(*Dict)
	cmd, _ := d.Lookup("cmd")
	args, _ := d.Lookup("args")
	if c, ok := cmd.(*Inert); !ok || c.Module != "posix" || c.Name != "system" || !c.Instance {
		t.Errorf("os.system(...) decoded as %#v", cmd)
	}
	if a, ok := args.(*Inert); !ok || a.Name != "Namespace" {
		t.Errorf("argparse.Namespace decoded as %#v", args)
	}
	if in := FindInert(d); in == nil || in.Name != "system" {
		t.Errorf("FindInert = %v, want the first placeholder, posix.system", in)
	}
	if _, err := Load(bytes.NewReader(p), &Options{}); !errors.Is(err, ErrGlobal) {
		t.Errorf("without Inert: %v, want ErrGlobal", err)
	}
}
