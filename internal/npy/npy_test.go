package npy

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// floats returns the values make.py stores in float fixtures: i/4 - 1.
func floats(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i)/4 - 1
	}
	return v
}

// ints returns the values make.py stores in integer fixtures: i - 3.
func ints(n int) []int64 {
	v := make([]int64, n)
	for i := range v {
		v[i] = int64(i) - 3
	}
	return v
}

func readFile(t *testing.T, name string) *Array {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, err := Read(f)
	if err != nil {
		t.Fatalf("Read(%s): %v", name, err)
	}
	return a
}

// Every fixture make.py wrote reads back with its shape, dtype, memory
// order and values, whatever its byte order, header version or layout.
func TestReadGivesFixtureValuesInEveryDTypeAndLayout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file    string
		shape   []int
		dtype   string
		fortran bool
		f32     []float32 // nil: not checked
		i64     []int64   // nil: not checked
	}{
		{file: "f4_le.npy", shape: []int{2, 3}, dtype: "float32", f32: floats(6)},
		{file: "f8_be.npy", shape: []int{2, 3}, dtype: "float64", f32: floats(6)},
		{file: "f2.npy", shape: []int{5}, dtype: "float16", f32: floats(5)},
		{file: "i4_be.npy", shape: []int{4}, dtype: "int32", i64: ints(4), f32: []float32{-3, -2, -1, 0}},
		{file: "i8_scalar.npy", shape: []int{}, dtype: "int64", i64: []int64{-7}},
		{file: "u1.npy", shape: []int{2, 3}, dtype: "uint8", i64: []int64{0, 1, 2, 3, 4, 5}},
		{file: "b1.npy", shape: []int{3}, dtype: "bool", f32: []float32{1, 0, 1}},
		{file: "u2_be.npy", shape: []int{3}, dtype: "uint16", i64: []int64{1, 256, 65535}},
		{file: "empty.npy", shape: []int{0, 3}, dtype: "float32", f32: []float32{}},
		{file: "f4_fortran.npy", shape: []int{2, 3, 4}, dtype: "float32", fortran: true, f32: floats(24)},
		{file: "i2_fortran.npy", shape: []int{3, 2}, dtype: "int16", fortran: true, i64: ints(6)},
		{file: "v2.npy", shape: []int{2, 3}, dtype: "float32", f32: floats(6)},
		{file: "v3.npy", shape: []int{2, 3}, dtype: "float32", f32: floats(6)},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			a := readFile(t, tt.file)
			if !slices.Equal(a.Shape, tt.shape) || a.DType != tt.dtype || a.Fortran != tt.fortran {
				t.Fatalf("got %v %s fortran=%v, want %v %s fortran=%v", a.Shape, a.DType, a.Fortran, tt.shape, tt.dtype, tt.fortran)
			}
			if tt.f32 != nil {
				got, err := a.Float32()
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(tt.f32) {
					t.Fatalf("Float32: %d values, want %d", len(got), len(tt.f32))
				}
				for i := range got {
					if math.Abs(float64(got[i]-tt.f32[i])) > 1e-6 {
						t.Fatalf("Float32()[%d] = %v, want %v", i, got[i], tt.f32[i])
					}
				}
			}
			if tt.i64 != nil {
				got, err := a.Int64()
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, tt.i64) {
					t.Fatalf("Int64() = %v, want %v", got, tt.i64)
				}
			}
		})
	}
}

// Uint8 returns a uint8 array's bytes; a conversion that cannot hold a
// value (a negative int32 as uint8, a fractional float32 as int64) is
// ErrRange.
func TestConversionsRefuseValuesOutOfRange(t *testing.T) {
	t.Parallel()
	a := readFile(t, "u1.npy")
	got, err := a.Uint8()
	if err != nil || !bytes.Equal(got, []byte{0, 1, 2, 3, 4, 5}) {
		t.Fatalf("Uint8() = %v, %v", got, err)
	}
	if !bytes.Equal(a.Bytes(), got) {
		t.Fatalf("Bytes() = %v", a.Bytes())
	}
	if _, err := readFile(t, "i4_be.npy").Uint8(); !errors.Is(err, ErrRange) {
		t.Fatalf("Uint8 of negative int32: err = %v, want ErrRange", err)
	}
	if _, err := readFile(t, "f4_le.npy").Int64(); !errors.Is(err, ErrRange) {
		t.Fatalf("Int64 of fractional float32: err = %v, want ErrRange", err)
	}
}

// Stored and deflated archives read alike: the arrays in archive order,
// with their values, and Get of a name not there finds nothing.
func TestReadNPZReadsStoredAndDeflatedAlike(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"stored.npz", "deflated.npz"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a, err := ReadNPZ(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Names(); !slices.Equal(got, []string{"x", "labels", "img"}) {
				t.Fatalf("names %v", got)
			}
			x, _ := a.Get("x")
			if f, _ := x.Float32(); !slices.Equal(f, floats(6)) {
				t.Fatalf("x = %v", f)
			}
			l, _ := a.Get("labels")
			if v, _ := l.Int64(); !slices.Equal(v, ints(4)) {
				t.Fatalf("labels = %v", v)
			}
			if _, ok := a.Get("nope"); ok {
				t.Fatal("Get(nope) found something")
			}
		})
	}
}

// An error in an entry names the file and the entry, with the package
// prefix once.
func TestReadNPZErrorNamesFile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/stored.npz")
	if err != nil {
		t.Fatal(err)
	}
	// Corrupt the magic of the first entry's data.
	i := bytes.Index(b, []byte(magic))
	b[i+1] = 'X'
	path := filepath.Join(t.TempDir(), "bad.npz")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ReadNPZ(path)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "bad.npz") || !strings.Contains(err.Error(), "x.npy") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), ": npy: ") {
		t.Fatalf("prefix repeated: %v", err)
	}
}

// Arrays Write wrote read back with their shapes and values, scalar and
// empty ones included, with the data aligned to 64 bytes.
func TestWriteRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		shape []int
		data  []float32
	}{
		{[]int{}, []float32{3.5}},
		{[]int{4}, floats(4)},
		{[]int{2, 3}, floats(6)},
		{[]int{0, 5}, []float32{}},
		{[]int{2, 1, 3}, floats(6)},
	}
	for _, tt := range tests {
		t.Run(shapeName(tt.shape), func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := Write(&buf, tt.shape, tt.data); err != nil {
				t.Fatal(err)
			}
			if buf.Len()%64 != 4*len(tt.data)%64 {
				t.Errorf("data not 64-byte aligned: file is %d bytes", buf.Len())
			}
			a, err := Read(&buf)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := a.Float32()
			if !slices.Equal(a.Shape, tt.shape) || !slices.Equal(got, tt.data) {
				t.Fatalf("got %v %v", a.Shape, got)
			}
		})
	}
}

// shapeName formats a shape for a subtest name: "2x3", "scalar".
func shapeName(shape []int) string {
	if len(shape) == 0 {
		return "scalar"
	}
	return strings.Trim(strings.ReplaceAll(fmt.Sprint(shape), " ", "x"), "[]")
}

// An archive WriteNPZ wrote reads back entry for entry: names, dtypes,
// shapes and bytes.
func TestWriteNPZRoundTrip(t *testing.T) {
	t.Parallel()
	src, err := ReadNPZ("testdata/stored.npz")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteNPZ(&buf, src); err != nil {
		t.Fatal(err)
	}
	got, err := ReadNPZFrom(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range src {
		g := got[i]
		if g.Name != n.Name || g.Array.DType != n.Array.DType || !slices.Equal(g.Array.Shape, n.Array.Shape) || !bytes.Equal(g.Array.Bytes(), n.Array.Bytes()) {
			t.Fatalf("entry %d: got %s %s %v, want %s %s %v", i, g.Name, g.Array.DType, g.Array.Shape, n.Name, n.Array.DType, n.Array.Shape)
		}
	}
}

// Malformed files (a bad magic or version, truncation, impossible shapes,
// unsupported dtypes, unparsable headers) are errors after the package
// prefix.
func TestMalformedNPYIsRefusedWithThePackagePrefix(t *testing.T) {
	t.Parallel()
	good, err := os.ReadFile("testdata/f4_le.npy")
	if err != nil {
		t.Fatal(err)
	}
	header := func(h string) []byte {
		b := []byte(magic + "\x01\x00")
		b = append(b, byte(len(h)), byte(len(h)>>8))
		return append(b, h...)
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, nil},
		{"bad magic", []byte("\x93NUMPZ\x01\x00\x00\x00"), ErrFormat},
		{"version 9", []byte(magic + "\x09\x00\x00\x00"), ErrFormat},
		{"truncated header", good[:20], nil},
		{"truncated data", good[:len(good)-1], nil},
		{"huge shape", header("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }\n"), nil},
		{"overflowing shape", header("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }\n"), ErrSize},
		{"negative dim", header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n"), ErrFormat},
		{"object", header("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }\n"), ErrDType},
		{"complex", header("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n"), ErrDType},
		{"structured", header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }\n"), ErrDType},
		{"no shape", header("{'descr': '<f4', 'fortran_order': False}\n"), ErrFormat},
		{"not a dict", header("[1, 2]\n"), ErrFormat},
		{"garbage header", header("{'descr': '<f4', 'fortran_order': Nope}\n"), ErrFormat},
		{"v2 huge header", []byte(magic + "\x02\x00\xff\xff\xff\x7f"), ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Read(bytes.NewReader(tt.in))
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "npy: ") {
				t.Fatalf("err %q lacks the package prefix", err)
			}
		})
	}
}

// float16 values (normal, subnormal, infinite and NaN) and bfloat16 values
// convert to float32 exactly.
func TestHalfPrecisionConvertsExactly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		bits uint16
		want float32
	}{
		{0x0000, 0}, {0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504},
		{0x0001, 5.9604645e-08}, {0x03ff, 6.097555e-05}, {0x3555, 0.33325195},
	}
	for _, tt := range tests {
		if got := Float16ToFloat32(tt.bits); got != tt.want {
			t.Errorf("Float16ToFloat32(%#04x) = %v, want %v", tt.bits, got, tt.want)
		}
	}
	if !math.IsInf(float64(Float16ToFloat32(0xfc00)), -1) || !math.IsNaN(float64(Float16ToFloat32(0x7e00))) {
		t.Error("inf/nan not preserved")
	}
	if got := BFloat16ToFloat32(0x3f80); got != 1 {
		t.Errorf("BFloat16ToFloat32(0x3f80) = %v", got)
	}
}

func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.npy")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		n := a.Len()
		size, _ := ItemSize(a.DType)
		if len(a.Bytes()) != n*size {
			t.Fatalf("%s%v holds %d bytes", a.DType, a.Shape, len(a.Bytes()))
		}
		if len(a.Bytes()) > len(b) {
			t.Fatalf("%d bytes of array from %d bytes of file", len(a.Bytes()), len(b))
		}
		if v, err := a.Float32(); err != nil || len(v) != n {
			t.Fatalf("Float32: %d values, %v", len(v), err)
		}
		_, _ = a.Int64()
		var buf bytes.Buffer
		if err := WriteArray(&buf, a); err != nil {
			t.Fatal(err)
		}
		back, err := Read(&buf)
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if !bytes.Equal(back.Bytes(), a.Bytes()) || !slices.Equal(back.Shape, a.Shape) {
			t.Fatal("round trip changed the array")
		}
	})
}

func FuzzReadNPZ(f *testing.F) {
	for _, name := range []string{"testdata/stored.npz", "testdata/deflated.npz"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// A deflated entry expanding 2 MiB of zeros a thousandfold.
	f.Add(bombNPZ(f, 2<<20, zip.Deflate))
	// The limit the fuzzer checks: 1 MiB of slack rather than 256, so that
	// a bomb reaches it quickly.
	const slack = 1 << 20
	f.Fuzz(func(t *testing.T, b []byte) {
		limit := decodeRatio*int64(len(b)) + slack
		a, err := ReadNPZLimit(bytes.NewReader(b), int64(len(b)), limit)
		if err != nil {
			return
		}
		total := int64(0)
		for _, n := range a {
			total += int64(len(n.Array.Bytes()))
		}
		if total > limit {
			t.Fatalf("%d bytes of arrays from a %d-byte archive, over the limit of %d", total, len(b), limit)
		}
	})
}
