package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/landscape-go/landscape/internal/npy"
)

// fashionDir holds the real Fashion-MNIST files of Debian's
// dataset-fashion-mnist package.
const fashionDir = "/usr/share/datasets/fashion-mnist"

// expected returns the arrays testdata/make.py computed with torchvision.
func expected(t testing.TB) npy.Archive {
	t.Helper()
	a, err := npy.ReadNPZ(filepath.Join("testdata", "expected.npz"))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func expectedArray(t testing.TB, a npy.Archive, name string) *npy.Array {
	t.Helper()
	x, ok := a.Get(name)
	if !ok {
		t.Fatalf("expected.npz has no %s", name)
	}
	return x
}

func expectedFloat32(t testing.TB, a npy.Archive, name string) []float32 {
	t.Helper()
	v, err := expectedArray(t, a, name).Float32()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func expectedInt64(t testing.TB, a npy.Archive, name string) []int64 {
	t.Helper()
	v, err := expectedArray(t, a, name).Int64()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// sameBits reports the first index where got and want differ in their
// float32 bits, or -1.
func sameBits(got, want []float32) int {
	if len(got) != len(want) {
		return 0
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			return i
		}
	}
	return -1
}

// The installed Fashion-MNIST test split loads as torchvision loads it,
// and its subsets hold the full load's samples. Skipped when the dataset
// is not installed, unless LANDSCAPE_REQUIRE_DATA is set.
func TestFashionMNISTMatchesTorchvision(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(fashionDir); err != nil {
		if os.Getenv("LANDSCAPE_REQUIRE_DATA") != "" {
			t.Fatalf("Fashion-MNIST not installed (Debian package dataset-fashion-mnist) but LANDSCAPE_REQUIRE_DATA is set: %v", err)
		}
		t.Skipf("Fashion-MNIST not installed (Debian package dataset-fashion-mnist): %v", err)
	}
	exp := expected(t)
	d, err := Load(Spec{FashionMNIST, fashionDir}, Test, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 10000 || d.C != 1 || d.H != 28 || d.W != 28 || d.Classes != 10 || d.Total != 10000 {
		t.Fatalf("shape %d×%d×%d×%d, %d classes, total %d; want 10000×1×28×28, 10 classes", d.N, d.C, d.H, d.W, d.Classes, d.Total)
	}
	if len(d.X) != 10000*784 || len(d.Y) != 10000 || d.Indices != nil {
		t.Fatalf("len(X) = %d, len(Y) = %d, Indices %v", len(d.X), len(d.Y), d.Indices != nil)
	}
	if d.Name != "fashion-mnist" || d.Split != Test {
		t.Errorf("Name, Split = %q, %q", d.Name, d.Split)
	}
	hist := make([]int64, 10)
	for _, y := range d.Y {
		hist[y]++
	}
	if want := expectedInt64(t, exp, "fashion_test_hist"); !slices.Equal(hist, want) {
		t.Errorf("label histogram %v, want %v", hist, want)
	}
	idx := expectedInt64(t, exp, "fashion_test_idx")
	wantX := expectedFloat32(t, exp, "fashion_test_x")
	wantY := expectedInt64(t, exp, "fashion_test_y")
	for k, i := range idx {
		if at := sameBits(d.Image(int(i)), wantX[k*784:(k+1)*784]); at >= 0 {
			t.Errorf("image %d value %d = %v, torchvision %v", i, at, d.Image(int(i))[at], wantX[k*784+at])
		}
		if int64(d.Y[i]) != wantY[k] {
			t.Errorf("label %d = %d, want %d", i, d.Y[i], wantY[k])
		}
	}
	var sum float64
	for _, v := range d.X {
		sum += float64(v)
	}
	if want := expectedFloat32(t, exp, "fashion_test_sum")[0]; math.Abs(sum-float64(want)) > 1e-6*math.Abs(float64(want)) {
		t.Errorf("sum of normalised values %v, torchvision %v", sum, want)
	}

	// Subsets of the real file: the first 3, and a seeded random subset
	// holding the same values as the full load at the chosen positions.
	first, err := Load(Spec{FashionMNIST, fashionDir}, Test, &Options{Samples: 3})
	if err != nil {
		t.Fatal(err)
	}
	if first.N != 3 || !slices.Equal(first.X, d.X[:3*784]) || !slices.Equal(first.Y, d.Y[:3]) || !slices.Equal(first.Indices, []int{0, 1, 2}) {
		t.Errorf("first 3 samples differ from the full load")
	}
	seed := uint64(2018)
	sub, err := Load(Spec{FashionMNIST, fashionDir}, Test, &Options{Samples: 50, SampleSeed: &seed})
	if err != nil {
		t.Fatal(err)
	}
	if sub.N != 50 || len(sub.Indices) != 50 || sub.Total != 10000 {
		t.Fatalf("subset N %d, %d indices, total %d", sub.N, len(sub.Indices), sub.Total)
	}
	for k, i := range sub.Indices {
		if !slices.Equal(sub.Image(k), d.Image(i)) || sub.Y[k] != d.Y[i] {
			t.Fatalf("subset sample %d (file position %d) differs from the full load", k, i)
		}
	}
}

// idxFile returns an IDX file of unsigned bytes with the given dimensions.
func idxFile(dims []uint32, data []byte) []byte {
	b := []byte{0, 0, idxUbyte, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tinyIDX returns n images of 2×3 pixels, image i holding bytes 40i..40i+5,
// and labels i mod 10.
func tinyIDX(n int) (images, labels []byte) {
	pix := make([]byte, n*6)
	lab := make([]byte, n)
	for i := range n {
		for j := range 6 {
			pix[i*6+j] = byte(40*i + j)
		}
		lab[i] = byte(i % 10)
	}
	return idxFile([]uint32{uint32(n), 2, 3}, pix), idxFile([]uint32{uint32(n)}, lab)
}

// ReadIDX reads raw and gzipped IDX files, whole or as the first or a
// seeded random subset, normalised with MNIST's constants.
func TestReadIDXDecodesRawAndGzipWholeOrSampled(t *testing.T) {
	t.Parallel()
	img, lab := tinyIDX(5)
	seed := uint64(3)
	tests := []struct {
		name    string
		gz      bool
		opts    *Options
		indices []int
	}{
		{"raw", false, nil, []int{0, 1, 2, 3, 4}},
		{"gzip", true, nil, []int{0, 1, 2, 3, 4}},
		{"first 2", true, &Options{Samples: 2}, []int{0, 1}},
		{"all 5", false, &Options{Samples: 5}, []int{0, 1, 2, 3, 4}},
		{"random 3", false, &Options{Samples: 3, SampleSeed: &seed}, []int(randomSubset(5, 3, seed))},
		{"random 3 gzip", true, &Options{Samples: 3, SampleSeed: &seed}, []int(randomSubset(5, 3, seed))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			im, lb := img, lab
			if tt.gz {
				im, lb = gzipped(t, img), gzipped(t, lab)
			}
			d, err := ReadIDX(bytes.NewReader(im), bytes.NewReader(lb), MNIST, Train, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if d.N != len(tt.indices) || d.C != 1 || d.H != 2 || d.W != 3 || d.Total != 5 || d.Classes != 10 {
				t.Fatalf("got %d×%d×%d×%d of %d, want %d×1×2×3 of 5", d.N, d.C, d.H, d.W, d.Total, len(tt.indices))
			}
			m, s := float32(0.1307), float32(0.3081)
			for k, i := range tt.indices {
				if d.Y[k] != int32(i%10) {
					t.Errorf("label %d = %d, want %d", k, d.Y[k], i%10)
				}
				for j, v := range d.Image(k) {
					want := (float32(40*i+j)/255 - m) / s
					if v != want {
						t.Errorf("image %d value %d = %v, want %v", k, j, v, want)
					}
				}
			}
			if tt.opts == nil && d.Indices != nil {
				t.Errorf("Indices = %v, want nil for a full load", d.Indices)
			}
		})
	}
}

// IDX files with a bad magic, type or rank, counts that disagree, missing
// or trailing bytes, labels out of range, no images or a corrupt gzip
// stream are refused, and so are a kind or split IDX does not have.
func TestMalformedIDXIsRefused(t *testing.T) {
	t.Parallel()
	img, lab := tinyIDX(3)
	replace := func(b []byte, off int, v ...byte) []byte {
		b = slices.Clone(b)
		copy(b[off:], v)
		return b
	}
	tests := []struct {
		name     string
		img, lab []byte
		kind     Kind
		split    string
		err      error
	}{
		{"image magic", replace(img, 0, 1), lab, MNIST, Train, ErrFormat},
		{"image type", replace(img, 2, 0x0d), lab, MNIST, Train, ErrFormat},
		{"image rank", replace(img, 3, 2), lab, MNIST, Train, ErrFormat},
		{"label rank", img, replace(lab, 3, 3), MNIST, Train, ErrFormat},
		{"swapped", lab, img, MNIST, Train, ErrFormat},
		{"count mismatch", replace(img, 7, 2), lab, MNIST, Train, ErrFormat},
		{"truncated images", img[:len(img)-1], lab, MNIST, Train, ErrFormat},
		{"truncated labels", img, lab[:len(lab)-1], MNIST, Train, ErrFormat},
		{"trailing images", append(slices.Clone(img), 0), lab, MNIST, Train, ErrFormat},
		{"trailing labels", img, append(slices.Clone(lab), 0), MNIST, Train, ErrFormat},
		{"short header", img[:6], lab, MNIST, Train, ErrFormat},
		{"empty file", []byte{}, lab, MNIST, Train, ErrFormat},
		{"label 10", img, replace(lab, 10, 10), MNIST, Train, ErrLabel},
		{"zero images", idxFile([]uint32{0, 28, 28}, nil), idxFile([]uint32{0}, nil), MNIST, Train, ErrEmpty},
		{"zero width", idxFile([]uint32{1, 28, 0}, nil), idxFile([]uint32{1}, []byte{0}), MNIST, Train, ErrFormat},
		{"huge header", idxFile([]uint32{1 << 31, 1 << 16, 1 << 16}, nil), idxFile([]uint32{1}, []byte{0}), MNIST, Train, ErrFormat},
		{"huge count", idxFile([]uint32{1 << 30, 28, 28}, []byte{1, 2, 3}), idxFile([]uint32{1 << 30}, []byte{0}), MNIST, Train, ErrFormat},
		{"bad gzip", []byte{0x1f, 0x8b, 0, 0}, lab, MNIST, Train, ErrFormat},
		{"gzip checksum", func() []byte { z := gzipped(t, img); z[len(z)-8] ^= 1; return z }(), lab, MNIST, Train, ErrFormat},
		{"kind", img, lab, CIFAR10, Train, ErrKind},
		{"split", img, lab, MNIST, "val", ErrSplit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadIDX(bytes.NewReader(tt.img), bytes.NewReader(tt.lab), tt.kind, tt.split, nil)
			if !errors.Is(err, tt.err) {
				t.Fatalf("ReadIDX error = %v, want %v", err, tt.err)
			}
			t.Log(err)
		})
	}
}

// Load finds IDX files in the folders and under the names that MNIST's
// distributions and torchvision use, and names a missing or truncated file.
func TestLoadFindsIDXFilesInEveryKnownLayout(t *testing.T) {
	t.Parallel()
	img, lab := tinyIDX(4)
	tests := []struct {
		name     string
		kind     Kind
		sub      string // folder below the spec path
		img, lab string
		gz       bool
	}{
		{"flat gz", MNIST, "", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", true},
		{"flat raw", MNIST, "", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", false},
		{"dotted", MNIST, "", "t10k-images.idx3-ubyte", "t10k-labels.idx1-ubyte", false},
		{"mixed", FashionMNIST, "", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte", false},
		{"raw", FashionMNIST, "raw", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", false},
		{"torchvision mnist", MNIST, filepath.Join("MNIST", "raw"), "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte.gz", true},
		{"torchvision fashion", FashionMNIST, filepath.Join("FashionMNIST", "raw"), "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			dir := filepath.Join(root, tt.sub)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			im, lb := img, lab
			if tt.gz {
				im, lb = gzipped(t, img), gzipped(t, lab)
			}
			writeFile(t, filepath.Join(dir, tt.img), im)
			writeFile(t, filepath.Join(dir, tt.lab), lb)
			d, err := Load(Spec{tt.kind, root}, Test, nil)
			if err != nil {
				t.Fatal(err)
			}
			if d.N != 4 || d.Name != tt.kind.String() {
				t.Errorf("N = %d, Name %q", d.N, d.Name)
			}
			// The train split is absent.
			if _, err := Load(Spec{tt.kind, root}, Train, nil); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Load train error = %v, want fs.ErrNotExist", err)
			}
		})
	}

	// Images without labels name the missing file.
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "train-images-idx3-ubyte"), img)
	_, err := Load(Spec{MNIST, root}, Train, nil)
	if !errors.Is(err, fs.ErrNotExist) || !bytes.Contains([]byte(err.Error()), []byte("train-labels-idx1-ubyte")) {
		t.Errorf("Load without labels error = %v", err)
	}
	// A truncated file on disk names the file.
	writeFile(t, filepath.Join(root, "train-labels-idx1-ubyte"), lab)
	writeFile(t, filepath.Join(root, "train-images-idx3-ubyte"), img[:len(img)-3])
	_, err = Load(Spec{MNIST, root}, Train, nil)
	if !errors.Is(err, ErrFormat) || !bytes.Contains([]byte(err.Error()), []byte(filepath.Join(root, "train-images-idx3-ubyte"))) {
		t.Errorf("Load truncated error = %v", err)
	}
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkLoadFashionMNISTTest(b *testing.B) {
	if _, err := os.Stat(fashionDir); err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		if _, err := Load(Spec{FashionMNIST, fashionDir}, Test, nil); err != nil {
			b.Fatal(err)
		}
	}
}
