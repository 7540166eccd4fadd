package data

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/landscape-go/landscape/internal/npy"
)

// array builds an npy array for the tests; values are stored as descr.
func array(t testing.TB, descr string, shape []int, values []float64) *npy.Array {
	t.Helper()
	var b []byte
	for _, v := range values {
		switch descr {
		case "|u1":
			b = append(b, byte(v))
		case "<f4":
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v)))
		case "<f8":
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		case "<i8":
			b = binary.LittleEndian.AppendUint64(b, uint64(int64(v)))
		case "<i4":
			b = binary.LittleEndian.AppendUint32(b, uint32(int32(v)))
		default:
			t.Fatalf("array: descr %s", descr)
		}
	}
	a, err := npy.FromBytes(descr, shape, false, b)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func nm(name string, a *npy.Array) npy.Named { return npy.Named{Name: name, Array: a} }

func writeNPZ(t testing.TB, arrays ...npy.Named) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "d.npz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := npy.WriteNPZ(f, arrays); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// ramp returns n values start, start+1, ... modulo 256.
func ramp(n, start int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64((start + 7*i) % 256)
	}
	return v
}

// An npz dataset loads from x and y, or Keras's x_test and y_test: uint8
// images scaled and normalised, float images taken as they are, in NCHW or
// NHW layout, whole or as a subset.
func TestNPZScalesBytesKeepsFloatsAndFindsKerasNames(t *testing.T) {
	t.Parallel()
	const n, c, h, w = 4, 2, 3, 3
	pix := ramp(n*c*h*w, 0)
	labels := []float64{3, 0, 1, 3}
	seed := uint64(5)
	floats := make([]float64, len(pix))
	for i, p := range pix {
		floats[i] = (p - 100) / 37
	}

	tests := []struct {
		name      string
		arrays    []npy.Named
		split     string
		opts      *Options
		c         int
		classes   int
		indices   []int
		want      func(i, j int) float32 // value j of sample i
		mean, std []float64
	}{
		{
			name:    "uint8 nchw",
			arrays:  []npy.Named{nm("x", array(t, "|u1", []int{n, c, h, w}, pix)), nm("y", array(t, "<i8", []int{n}, labels))},
			split:   Test,
			c:       c,
			classes: 4,
			want:    func(i, j int) float32 { return float32(pix[i*18+j]) / 255 },
			mean:    []float64{0, 0}, std: []float64{1, 1}, // ToTensor alone, recorded
		},
		{
			name:    "uint8 nchw normalised",
			arrays:  []npy.Named{nm("x", array(t, "|u1", []int{n, c, h, w}, pix)), nm("y", array(t, "<i4", []int{n}, labels))},
			split:   Test,
			opts:    &Options{Mean: []float64{0.25, 0.5}, Std: []float64{0.5, 2}, Classes: 10},
			c:       c,
			classes: 10,
			want: func(i, j int) float32 {
				m := []float32{0.25, 0.5}[j/9]
				s := []float32{0.5, 2}[j/9]
				return (float32(pix[i*18+j])/255 - m) / s
			},
			mean: []float64{0.25, 0.5}, std: []float64{0.5, 2},
		},
		{
			name:    "uint8 nhw",
			arrays:  []npy.Named{nm("x", array(t, "|u1", []int{n * c, h, w}, pix)), nm("y", array(t, "<i8", []int{n * c}, append(slices.Clone(labels), 0, 1, 2, 7)))},
			split:   Train,
			c:       1,
			classes: 8,
			want:    func(i, j int) float32 { return float32(pix[i*9+j]) / 255 },
			mean:    []float64{0}, std: []float64{1},
		},
		{
			name:    "float32 taken as is",
			arrays:  []npy.Named{nm("x", array(t, "<f4", []int{n, c, h, w}, floats)), nm("y", array(t, "<i8", []int{n}, labels))},
			split:   Test,
			c:       c,
			classes: 4,
			want:    func(i, j int) float32 { return float32(floats[i*18+j]) },
		},
		{
			name:    "float64 subset",
			arrays:  []npy.Named{nm("x", array(t, "<f8", []int{n, c, h, w}, floats)), nm("y", array(t, "<i8", []int{n}, labels))},
			split:   Test,
			opts:    &Options{Samples: 2, SampleSeed: &seed},
			c:       c,
			classes: 4,
			indices: randomSubset(n, 2, seed),
			want:    func(i, j int) float32 { return float32(floats[i*18+j]) },
		},
		{
			name: "keras layout",
			arrays: []npy.Named{
				nm("x_train", array(t, "|u1", []int{1, h, w}, ramp(9, 50))), nm("y_train", array(t, "<i8", []int{1}, []float64{9})),
				nm("x_test", array(t, "|u1", []int{n, c, h, w}, pix)), nm("y_test", array(t, "<i8", []int{n}, labels)),
			},
			split:   Test,
			opts:    &Options{Samples: 3},
			c:       c,
			classes: 4,
			indices: []int{0, 1, 2},
			want:    func(i, j int) float32 { return float32(pix[i*18+j]) / 255 },
			mean:    []float64{0, 0}, std: []float64{1, 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeNPZ(t, tt.arrays...)
			d, err := Load(Spec{NPZ, path}, tt.split, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if d.C != tt.c || d.H != h || d.W != w || d.Classes != tt.classes || d.Name != "npz" || d.Split != tt.split {
				t.Fatalf("got %v %s %d×%d×%d, %d classes; want %d×%d×%d, %d classes", d.Name, d.Split, d.C, d.H, d.W, d.Classes, tt.c, h, w, tt.classes)
			}
			if !slices.Equal(d.Indices, tt.indices) {
				t.Errorf("Indices = %v, want %v", d.Indices, tt.indices)
			}
			if !slices.Equal(d.Mean, tt.mean) || !slices.Equal(d.Std, tt.std) {
				t.Errorf("Mean, Std = %v, %v; want %v, %v", d.Mean, d.Std, tt.mean, tt.std)
			}
			yAll, _ := tt.arrays[len(tt.arrays)-1].Array.Int64()
			for k := range d.N {
				i := k
				if d.Indices != nil {
					i = d.Indices[k]
				}
				if int64(d.Y[k]) != yAll[i] {
					t.Errorf("label %d = %d, want %d", k, d.Y[k], yAll[i])
				}
				for j, v := range d.Image(k) {
					if want := tt.want(i, j); v != want {
						t.Fatalf("sample %d value %d = %v, want %v", k, j, v, want)
					}
				}
			}
		})
	}
}

// An npz dataset with missing arrays, wrong ranks, dtypes or lengths,
// labels out of range, no samples, or options that do not fit it is
// refused, and so is a file that is not a zip archive.
func TestMalformedNPZDatasetsAreRefused(t *testing.T) {
	t.Parallel()
	x := array(t, "|u1", []int{2, 1, 2, 2}, ramp(8, 0))
	y := array(t, "<i8", []int{2}, []float64{0, 1})
	tests := []struct {
		name   string
		arrays []npy.Named
		opts   *Options
		err    error
	}{
		{"no y", []npy.Named{nm("x", x)}, nil, ErrFormat},
		{"no x", []npy.Named{nm("images", x), nm("y", y)}, nil, ErrFormat},
		{"x rank", []npy.Named{nm("x", array(t, "|u1", []int{2, 4}, ramp(8, 0))), nm("y", y)}, nil, ErrFormat},
		{"x dtype", []npy.Named{nm("x", array(t, "<i4", []int{2, 2, 2}, ramp(8, 0))), nm("y", y)}, nil, ErrFormat},
		{"empty image", []npy.Named{nm("x", array(t, "|u1", []int{2, 0, 2}, nil)), nm("y", y)}, nil, ErrFormat},
		{"y length", []npy.Named{nm("x", x), nm("y", array(t, "<i8", []int{3}, []float64{0, 1, 2}))}, nil, ErrFormat},
		{"y rank", []npy.Named{nm("x", x), nm("y", array(t, "<i8", []int{2, 1}, []float64{0, 1}))}, nil, ErrFormat},
		{"y float", []npy.Named{nm("x", x), nm("y", array(t, "<f4", []int{2}, []float64{0, 1}))}, nil, ErrFormat},
		{"negative label", []npy.Named{nm("x", x), nm("y", array(t, "<i8", []int{2}, []float64{0, -1}))}, nil, ErrLabel},
		{"label beyond classes", []npy.Named{nm("x", x), nm("y", array(t, "<i8", []int{2}, []float64{0, 5}))}, &Options{Classes: 5}, ErrLabel},
		{"empty", []npy.Named{nm("x", array(t, "|u1", []int{0, 1, 2, 2}, nil)), nm("y", array(t, "<i8", []int{0}, nil))}, nil, ErrEmpty},
		{"norm of floats", []npy.Named{nm("x", array(t, "<f4", []int{2, 2, 2}, ramp(8, 0))), nm("y", y)}, &Options{Mean: []float64{0.5}, Std: []float64{0.5}}, ErrOption},
		{"channels", []npy.Named{nm("x", x), nm("y", y)}, &Options{Mean: []float64{0.5, 0.5}, Std: []float64{0.5, 0.5}}, ErrOption},
		{"samples", []npy.Named{nm("x", x), nm("y", y)}, &Options{Samples: 3}, ErrOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeNPZ(t, tt.arrays...)
			_, err := Load(Spec{NPZ, path}, Test, tt.opts)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Load error = %v, want %v", err, tt.err)
			}
			t.Log(err)
		})
	}

	// Not a zip archive at all.
	bad := filepath.Join(t.TempDir(), "bad.npz")
	writeFile(t, bad, []byte("not a zip"))
	if _, err := Load(Spec{NPZ, bad}, Test, nil); !errors.Is(err, npy.ErrFormat) {
		t.Errorf("Load of a non-zip error = %v, want npy.ErrFormat", err)
	}
}
