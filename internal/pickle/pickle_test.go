package pickle

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// allowData is the allowlist plain data and NumPy arrays need.
var allowData = &Options{Globals: Merge(Builtins(), NumPy())}

// canon renders a decoded value as make.py's canon renders the Python
// original.
func canon(v any) string {
	budget := 1 << 16
	return canonBudget(v, &budget)
}

// canonBudget is canon giving up after budget values, so that fuzzed
// pickles with cycles or exponential sharing render quickly.
func canonBudget(v any, budget *int) string {
	if *budget--; *budget < 0 {
		return "..."
	}
	join := func(items []any) string {
		s := make([]string, len(items))
		for i, e := range items {
			s[i] = canonBudget(e, budget)
		}
		return strings.Join(s, ",")
	}
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case int64:
		return fmt.Sprintf("i:%d", v)
	case *big.Int:
		return "i:" + v.String()
	case float64:
		return fmt.Sprintf("f:%016x", math.Float64bits(v))
	case string:
		return "s:" + hex.EncodeToString([]byte(v))
	case Bytes:
		return "b:" + hex.EncodeToString(v)
	case Tuple:
		return "(" + join(v) + ")"
	case *List:
		return "[" + join(v.Items) + "]"
	case *Dict:
		s := make([]string, 0, v.Len())
		for k, x := range v.All() {
			s = append(s, canonBudget(k, budget)+":"+canonBudget(x, budget))
		}
		return "{" + strings.Join(s, ",") + "}"
	case *Set:
		if v.Frozen {
			return "frozenset{" + join(v.Items) + "}"
		}
		return "set{" + join(v.Items) + "}"
	case *NDArray:
		a, err := AsArray(v)
		if err != nil {
			return "error:" + err.Error()
		}
		dims := make([]string, len(a.Shape))
		for i, d := range a.Shape {
			dims[i] = fmt.Sprint(d)
		}
		return fmt.Sprintf("nd:%s:%s:%s", a.DType, strings.Join(dims, "x"), hex.EncodeToString(a.Bytes()))
	}
	return fmt.Sprintf("unknown:%T", v)
}

func golden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func loadFile(t *testing.T, name string, opts *Options) (any, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Load(f, opts)
}

// The misc fixture, pickled at protocols 0 to 5, decodes to what make.py
// recorded from Python, and a list shared in the original is shared in the
// result.
func TestEveryProtocolDecodesLikePython(t *testing.T) {
	t.Parallel()
	want := golden(t, "misc.txt")
	for proto := range 6 {
		name := fmt.Sprintf("misc_p%d.pkl", proto)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v, err := loadFile(t, name, allowData)
			if err != nil {
				t.Fatal(err)
			}
			if got := canon(v); got != want {
				t.Fatalf("decoded\n%s\nwant\n%s", got, want)
			}
			d := v.(*Dict)
			s, _ := d.Get("shared")
			if tup := s.(Tuple); tup[0] != tup[1] {
				t.Error("shared list decoded as two lists")
			}
		})
	}
}

// CIFAR batches pickled by Python 2 and 3 at several protocols decode to
// the same data and labels; only their keys differ, bytes under Python 2.
func TestCIFARBatchesOfPython2And3DecodeAlike(t *testing.T) {
	t.Parallel()
	want := golden(t, "cifar.txt")
	for _, name := range []string{"cifar_py2_p0.pkl", "cifar_py2_p2.pkl", "cifar_py3_p2.pkl", "cifar_py3_p4.pkl", "cifar_py3_p5.pkl"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v, err := loadFile(t, name, allowData)
			if err != nil {
				t.Fatal(err)
			}
			d, ok := v.(*Dict)
			if !ok {
				t.Fatalf("top value is %s", TypeName(v))
			}
			data, ok1 := d.Lookup("data")
			labels, ok2 := d.Lookup("labels")
			if !ok1 || !ok2 {
				t.Fatalf("keys %v", canon(d))
			}
			sub := NewDict()
			_ = sub.Set("labels", labels)
			_ = sub.Set("data", data)
			if got := canon(sub); got != want {
				t.Fatalf("decoded\n%s\nwant\n%s", got, want)
			}
			arr, err := AsArray(data)
			if err != nil || arr.DType != "uint8" || !slices.Equal(arr.Shape, []int{4, 48}) {
				t.Fatalf("AsArray: %v %v", arr, err)
			}
			if l, ok := Ints(labels); !ok || len(l) != 4 {
				t.Fatalf("Ints(labels) = %v, %v", l, ok)
			}
			py2 := strings.HasPrefix(name, "cifar_py2")
			if _, isBytes := d.Keys()[0].(Bytes); isBytes != py2 {
				t.Fatalf("first key %#v: bytes=%v, want %v", d.Keys()[0], isBytes, py2)
			}
		})
	}
}

// os.system (posix.system) is refused at every protocol, even by the
// widest allowlist the package offers, with a GlobalError naming it.
func TestOSSystemIsRefusedByTheWidestAllowlist(t *testing.T) {
	t.Parallel()
	for _, proto := range []int{0, 2, 4} {
		name := fmt.Sprintf("evil_p%d.pkl", proto)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Even the most permissive allowlist this package offers must
			// not let os.system through.
			_, err := loadFile(t, name, allowData)
			if !errors.Is(err, ErrGlobal) {
				t.Fatalf("err = %v, want ErrGlobal", err)
			}
			var ge *GlobalError
			if !errors.As(err, &ge) || ge.Module+"."+ge.Name != "posix.system" {
				t.Fatalf("err = %#v", err)
			}
			if msg := err.Error(); msg != "pickle: global posix.system is not allowed" {
				t.Fatalf("message %q", msg)
			}
		})
	}
}

// With nil Options every global is refused, even collections.OrderedDict.
func TestNilOptionsRefusesEverything(t *testing.T) {
	t.Parallel()
	_, err := loadFile(t, "misc_p2.pkl", nil)
	var ge *GlobalError
	if !errors.As(err, &ge) || ge.Module+"."+ge.Name != "collections.OrderedDict" {
		t.Fatalf("err = %v", err)
	}
}

// Load reads up to the STOP opcode and no further, so pickles written one
// after another load one at a time.
func TestLoadStopsAtStop(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/misc_p2.pkl")
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(io.MultiReader(bytes.NewReader(b), bytes.NewReader(b), strings.NewReader("tail")))
	for range 2 {
		if _, err := Load(r, allowData); err != nil {
			t.Fatal(err)
		}
	}
	rest, _ := io.ReadAll(r)
	if string(rest) != "tail" {
		t.Fatalf("after two pickles: %q", rest)
	}
}

// Persistent IDs, binary and text, are handed to Options.PersistentLoad;
// without it they are ErrUnsupported.
func TestPersistentIDsGoThroughPersistentLoad(t *testing.T) {
	t.Parallel()
	// (BINUNICODE "x" BINPERSID) and PERSID "y\n", in a list: protocol 2.
	in := []byte("\x80\x02]q\x00(X\x01\x00\x00\x00xQPy\ne.")
	opts := &Options{PersistentLoad: func(pid any) (any, error) {
		return "pid=" + pid.(string), nil
	}}
	v, err := Load(bytes.NewReader(in), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := canon(v); got != canon(&List{Items: []any{"pid=x", "pid=y"}}) {
		t.Fatalf("got %s", got)
	}
	if _, err := Load(bytes.NewReader(in), nil); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("without PersistentLoad: err = %v", err)
	}
}

// A list that contains itself decodes to a list whose only item is that
// same list.
func TestRecursiveListHoldsItself(t *testing.T) {
	t.Parallel()
	// l = []; l.append(l), protocol 2.
	in := []byte("\x80\x02]q\x00h\x00a.")
	v, err := Load(bytes.NewReader(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	l := v.(*List)
	if len(l.Items) != 1 || l.Items[0] != any(l) {
		t.Fatalf("got %#v", l)
	}
}

// Malformed pickles (truncated, with impossible lengths, a broken stack,
// unknown opcodes or unsupported features) are errors, with the package
// prefix once.
func TestMalformedPicklesAreErrorsWithOnePrefix(t *testing.T) {
	t.Parallel()
	misc, err := os.ReadFile("testdata/misc_p4.pkl")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", io.ErrUnexpectedEOF},
		{"truncated", string(misc[:len(misc)/2]), io.ErrUnexpectedEOF},
		{"no stop", "\x80\x02K\x01", io.ErrUnexpectedEOF},
		{"huge BINBYTES8", "\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\x7fabc", io.ErrUnexpectedEOF},
		{"huge BINUNICODE", "\x80\x02X\xff\xff\xff\xffabc", io.ErrUnexpectedEOF},
		{"huge LONG4", "\x80\x02\x8b\xff\xff\xff\x7fabc", io.ErrUnexpectedEOF},
		{"negative BINSTRING", "T\xff\xff\xff\xffabc", ErrFormat},
		{"huge BINBYTES8 beyond int64", "\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\xffabc", ErrFormat},
		{"stack underflow", "\x80\x02R.", ErrFormat},
		{"pop across mark", "K\x01(\x85.", ErrFormat},
		{"missing memo", "\x80\x02h\x05.", ErrFormat},
		{"unknown opcode", "\xff", ErrFormat},
		{"stop with two values", "K\x01K\x02.", ErrFormat},
		{"stop with open mark", "(K\x01.", ErrFormat},
		{"unhashable key", "}]K\x01s.", nil},
		{"call a non-callable", "K\x01)R.", ErrFormat},
		{"protocol 6", "\x80\x06N.", ErrUnsupported},
		{"extension", "\x80\x02\x82\x01.", ErrUnsupported},
		{"out-of-band buffer", "\x80\x05\x97.", ErrUnsupported},
		{"bad float", "Fnope\n.", ErrFormat},
		{"bad string quote", "Sabc\n.", ErrFormat},
		{"setitem on list", "]K\x01K\x02s.", ErrFormat},
		{"build on int", "K\x01N b.", nil},
		{"stack global of ints", "\x80\x04K\x01K\x02\x93.", ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(strings.NewReader(tt.in), allowData)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "pickle: ") || strings.Contains(err.Error(), ": pickle: ") {
				t.Fatalf("err %q: prefix missing or repeated", err)
			}
		})
	}
}

// Text and binary scalar opcodes decode to the values Python gives them:
// bools from I01 and I00, big integers, escaped strings, LONG1 of every
// width.
func TestScalarOpcodesDecodeAsPythonDoes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want any
	}{
		{"I01\n.", true},
		{"I00\n.", false},
		{"I-42\n.", int64(-42)},
		{"I123456789012345678901234567890\n.", func() any { b, _ := new(big.Int).SetString("123456789012345678901234567890", 10); return b }()},
		{"L-5L\n.", int64(-5)},
		{"F1.5\n.", 1.5},
		{`S'a\'b\\\x41\101\n'` + "\n.", Bytes("a'b\\AA\n")},
		{`S"q"` + "\n.", Bytes("q")},
		{`Vcaf\u00e9\U0001f600` + "\n.", "café😀"},
		{"\x8a\x00.", int64(0)},
		{"\x8a\x01\xff.", int64(-1)},
		{"\x8a\x02\x00\x80.", int64(-32768)},
		{"\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01.", new(big.Int).Lsh(big.NewInt(1), 64)},
		{"J\xff\xff\xff\xff.", int64(-1)},
		{"M\xff\xff.", int64(65535)},
		{"G\x3f\xf8\x00\x00\x00\x00\x00\x00.", 1.5},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			t.Parallel()
			v, err := Load(strings.NewReader(tt.in), nil)
			if err != nil {
				t.Fatal(err)
			}
			if canon(v) != canon(tt.want) {
				t.Fatalf("got %s, want %s", canon(v), canon(tt.want))
			}
		})
	}
}

// Dict keys compare as in Python (1, True and 1.0 are one key; b"k" and
// "k" are two), and unhashable, too deep or too long keys are refused.
func TestDictKeysFollowPythonEqualityAndAreBounded(t *testing.T) {
	t.Parallel()
	d := NewDict()
	for _, kv := range [][2]any{{int64(1), "a"}, {true, "b"}, {1.0, "c"}, {Bytes("k"), "d"}, {"k", "e"}, {Tuple{int64(1), "x"}, "f"}} {
		if err := d.Set(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if d.Len() != 4 {
		t.Fatalf("Len = %d, want 4 (1, True and 1.0 are one key)", d.Len())
	}
	if v, _ := d.Get(int64(1)); v != "c" {
		t.Fatalf("d[1] = %v", v)
	}
	if v, _ := d.Lookup("k"); v != "e" {
		t.Fatalf("Lookup(k) = %v", v)
	}
	if err := d.Set(&List{}, 1); err == nil {
		t.Fatal("list key accepted")
	}
	deep := any(int64(0))
	for range maxKeyDepth + 5 {
		deep = Tuple{deep}
	}
	if err := d.Set(deep, 1); !errors.Is(err, ErrLimit) {
		t.Fatalf("deeply nested key: %v", err)
	}
	if err := d.Set(strings.Repeat("k", maxKeySize+1), 1); !errors.Is(err, ErrLimit) {
		t.Fatalf("a key of %d bytes: %v", maxKeySize+1, err)
	}
	if err := d.Set(Tuple{"a", Tuple{"b"}}, 1); err != nil || d.Len() != 5 {
		t.Fatalf("nested key: %v, Len %d", err, d.Len())
	}
	if _, ok := d.Get(Tuple{"a", "b"}); ok {
		t.Fatal(`("a", "b") found as ("a", ("b",))`)
	}
}

func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.pkl")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// Hostile shapes: deep nesting, a billion laughs (printed, as a
	// persistent id, as a dict key) and calls copying a memoized value.
	f.Add(append(deepTuple(10000), '.'))
	f.Add(append(laughs(40), '.'))
	f.Add(append(laughs(40), "Q."...))
	f.Add(append(append([]byte("\x80\x02}"), laughs(40)[2:]...), "K\x01s."...))
	f.Add([]byte("\x80\x02]r\x00\x00\x00\x00(K\x00K\x00K\x00K\x00e0](" + strings.Repeat("c__builtin__\nset\nj\x00\x00\x00\x00\x85R", 8) + "e."))
	// The bounds the fuzzer checks: a small value budget, so that
	// amplification reaches it.
	const maxNodes = 1 << 12
	f.Fuzz(func(t *testing.T, b []byte) {
		opts := &Options{
			Globals:        allowData.Globals,
			PersistentLoad: func(pid any) (any, error) { return pid, nil },
			MaxNodes:       maxNodes,
		}
		v, err := Load(bytes.NewReader(b), opts)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "pickle: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			// A message may quote the input (a global's name), but no more.
			if len(err.Error()) > 3*len(b)+maxReprLen {
				t.Fatalf("a %d-byte message for %d bytes of pickle", len(err.Error()), len(b))
			}
			return
		}
		if s := Repr(v); len(s) > maxReprLen {
			t.Fatalf("Repr is %d bytes", len(s))
		}
		_ = canon(v)
		// What the value holds is bounded by the budget and the input: an
		// element per value created, and the bytes of the input (text
		// opcodes may decode a byte into a 3-byte character) or 32 per
		// value charged to a call that copied them.
		elems, nbytes := graph(v)
		if elems > maxNodes {
			t.Fatalf("%d elements from %d bytes, over the budget of %d values", elems, len(b), maxNodes)
		}
		if nbytes > 3*int64(len(b))+32*maxNodes {
			t.Fatalf("%d bytes of strings and arrays from %d bytes, over the budget of %d values", nbytes, len(b), maxNodes)
		}
	})
}
