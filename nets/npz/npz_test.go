package npz

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/internal/npy"
)

// Stored and deflated archives of one state dict read alike: the names in
// archive order, each shape and dtype, and the values as float32.
func TestReadsStoredAndCompressedArchivesAlike(t *testing.T) {
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

// An object array, bytes that are not a zip archive and a missing file are
// errors callers can test with errors.Is; the first names the file after
// the package prefix.
func TestObjectArraysNonZipsAndMissingFilesAreErrors(t *testing.T) {
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
	f.Add(bomb(f, 1<<21))
	// The limit the fuzzer checks: 1 MiB of slack rather than 256, so that
	// a bomb reaches it quickly.
	f.Fuzz(func(t *testing.T, b []byte) {
		limit := 32*int64(len(b)) + 1<<20
		sd, err := read(bytes.NewReader(b), int64(len(b)), limit)
		if err != nil {
			return
		}
		total := int64(0)
		for _, n := range sd.Names() {
			tt, _ := sd.Get(n)
			total += 4 * int64(len(tt.Data))
		}
		if total > limit {
			t.Fatalf("%d bytes of float32 from a %d-byte archive, over the limit of %d", total, len(b), limit)
		}
	})
}

// bomb writes an archive whose w.npy holds n uint8 zeros, deflated,
// without holding n bytes: npy.WriteArray of an array without data writes
// its header alone, and the zeros follow a MiB at a time.
func bomb(t testing.TB, n int) []byte {
	t.Helper()
	var out bytes.Buffer
	z := zip.NewWriter(&out)
	z.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	w, err := z.CreateHeader(&zip.FileHeader{Name: "w.npy", Method: zip.Deflate})
	if err != nil {
		t.Fatal(err)
	}
	if err := npy.WriteArray(w, &npy.Array{Shape: []int{n}, DType: "uint8"}); err != nil {
		t.Fatal(err)
	}
	for left := n; left > 0; left -= 1 << 20 {
		if _, err := w.Write(make([]byte, min(left, 1<<20))); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// A 300 KB archive of a deflated array of 300 MiB of zeros is refused
// before the array is read, naming the file and the sizes.
func TestDeflateBombIsRefusedBeforeDecoding(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bomb.npz")
	if err := os.WriteFile(path, bomb(t, 300<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Read(path)
	if !errors.Is(err, npy.ErrTooLarge) || !strings.Contains(err.Error(), "npz: "+path+": npy: npz entry w.npy: uint8[314572800] needs 314572800 bytes") {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
	// Within the archive's limit, float32 may not take more either.
	b := bomb(t, 1<<20)
	if _, err := read(bytes.NewReader(b), int64(len(b)), 3<<20); !errors.Is(err, npy.ErrTooLarge) || !strings.Contains(err.Error(), "w: 1048576 values need 4194304 bytes as float32") {
		t.Fatalf("as float32: err = %v", err)
	}
}
