package data

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/landscape-go/landscape/internal/npy"
)

// Token ids N x T load as N sequences of T-1 inputs whose targets are the
// next tokens, or, with a y of the same shape, of T inputs with y's
// targets; the vocabulary is the largest id plus one unless given, and a
// subset takes whole sequences.
func TestTokensLoadAsSequencesWithTheirNextTokens(t *testing.T) {
	t.Parallel()
	ids := []float64{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9}
	x := array(t, "<i8", []int{3, 5}, ids)
	d, err := Load(Spec{NPZ, writeNPZ(t, nm("x", x))}, Test, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 3 || d.C != 1 || d.H != 1 || d.W != 4 || d.Seq != 4 || d.Classes != 10 || d.Mean != nil {
		t.Fatalf("dataset %d x %dx%dx%d, seq %d, %d classes", d.N, d.C, d.H, d.W, d.Seq, d.Classes)
	}
	wantX := []float32{3, 1, 4, 1, 9, 2, 6, 5, 5, 8, 9, 7}
	wantY := []int32{1, 4, 1, 5, 2, 6, 5, 3, 8, 9, 7, 9}
	if !slices.Equal(d.X, wantX) || !slices.Equal(d.Y, wantY) {
		t.Errorf("inputs %v, targets %v; want %v and %v", d.X, d.Y, wantX, wantY)
	}

	// The same ids as a .npy file.
	path := filepath.Join(t.TempDir(), "ids.npy")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(npy.WriteArray(f, x), f.Close()); err != nil {
		t.Fatal(err)
	}
	e, err := Load(Spec{NPZ, path}, Test, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.Seq != 4 || !slices.Equal(e.X, wantX) || !slices.Equal(e.Y, wantY) {
		t.Errorf(".npy: seq %d, inputs %v, targets %v", e.Seq, e.X, e.Y)
	}

	y := array(t, "<i4", []int{3, 5}, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14})
	seed := uint64(2)
	d, err = Load(Spec{NPZ, writeNPZ(t, nm("x", x), nm("y", y))}, Train, &Options{Samples: 2, SampleSeed: &seed, Classes: 20})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 2 || d.Seq != 5 || d.W != 5 || d.Classes != 20 || len(d.Indices) != 2 {
		t.Fatalf("subset: %d sequences of %d, %d classes, indices %v", d.N, d.Seq, d.Classes, d.Indices)
	}
	for k, i := range d.Indices {
		for j := range 5 {
			if d.X[k*5+j] != float32(ids[i*5+j]) || d.Y[k*5+j] != int32(i*5+j) {
				t.Fatalf("subset sequence %d (row %d): inputs %v, targets %v", k, i, d.X[k*5:k*5+5], d.Y[k*5:k*5+5])
			}
		}
	}
}

// Token data that cannot be a language model's is refused, naming the
// array, the position and the value at fault.
func TestMalformedTokensAreRefused(t *testing.T) {
	t.Parallel()
	ok := array(t, "<i8", []int{2, 3}, []float64{1, 2, 3, 4, 5, 6})
	tests := []struct {
		name   string
		arrays []npy.Named
		opts   *Options
		err    error
	}{
		{"negative id", []npy.Named{nm("x", array(t, "<i8", []int{2, 3}, []float64{1, 2, 3, 4, -5, 6}))}, nil, ErrLabel},
		{"id beyond float32", []npy.Named{nm("x", array(t, "<i8", []int{1, 2}, []float64{1, 1 << 24}))}, nil, ErrLabel},
		{"id beyond the vocabulary", []npy.Named{nm("x", ok)}, &Options{Classes: 6}, ErrLabel},
		{"target beyond the vocabulary", []npy.Named{nm("x", ok), nm("y", array(t, "<i8", []int{2, 3}, []float64{1, 2, 3, 4, 5, 9}))}, &Options{Classes: 7}, ErrLabel},
		{"one token", []npy.Named{nm("x", array(t, "<i8", []int{2, 1}, []float64{1, 2}))}, nil, ErrFormat},
		{"y of labels", []npy.Named{nm("x", ok), nm("y", array(t, "<i8", []int{2}, []float64{0, 1}))}, nil, ErrFormat},
		{"y of floats", []npy.Named{nm("x", ok), nm("y", array(t, "<f4", []int{2, 3}, []float64{1, 2, 3, 4, 5, 6}))}, nil, ErrFormat},
		{"normalised tokens", []npy.Named{nm("x", ok)}, &Options{Mean: []float64{0.5}, Std: []float64{0.2}}, ErrOption},
	}
	for _, tt := range tests {
		_, err := Load(Spec{NPZ, writeNPZ(t, tt.arrays...)}, Train, tt.opts)
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.err)
		}
	}
}
