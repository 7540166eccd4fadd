package npz

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/internal/npy"
)

func TestRead(t *testing.T) {
	t.Parallel()
	want := []struct {
		name  string
		shape []int
		dtype string
	}{
		{"conv1.weight", []int{2, 1, 2, 2}, "float32"},
		{"conv1.bias", []int{2}, "float64"},
		{"bn1.weight", []int{2}, "float16"},
		{"bn1.num_batches_tracked", []int{}, "int64"},
		{"fc.weight", []int{3, 2}, "float32"},
	}
	for _, file := range []string{"state.npz", "state_compressed.npz"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			sd, err := Read(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			if sd.Len() != len(want) {
				t.Fatalf("names %v", sd.Names())
			}
			for i, w := range want {
				if sd.Names()[i] != w.name {
					t.Fatalf("tensor %d is %s, want %s", i, sd.Names()[i], w.name)
				}
				g, _ := sd.Get(w.name)
				if !slices.Equal(g.Shape, w.shape) || g.DType != w.dtype {
					t.Fatalf("%s: %v %s, want %v %s", w.name, g.Shape, g.DType, w.shape, w.dtype)
				}
				if w.name == "bn1.num_batches_tracked" {
					if g.Data[0] != 5 {
						t.Fatalf("%s = %v", w.name, g.Data)
					}
					continue
				}
				for j, v := range g.Data {
					if want := float32(j)/8 - 1; math.Abs(float64(v-want)) > 1e-3 {
						t.Fatalf("%s[%d] = %v, want %v", w.name, j, v, want)
					}
				}
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	path := filepath.Join("testdata", "object.npz")
	_, err := Read(path)
	if !errors.Is(err, npy.ErrDType) || !strings.Contains(err.Error(), path) || !strings.HasPrefix(err.Error(), "npz: ") {
		t.Fatalf("object array: err = %v", err)
	}
	if _, err := ReadFrom(bytes.NewReader([]byte("not a zip")), 9); !errors.Is(err, npy.ErrFormat) {
		t.Fatalf("not a zip: err = %v", err)
	}
	if _, err := Read(filepath.Join("testdata", "missing.npz")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: err = %v", err)
	}
}

func FuzzReadFrom(f *testing.F) {
	for _, name := range []string{"state.npz", "state_compressed.npz"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ReadFrom(bytes.NewReader(b), int64(len(b)))
	})
}
