package data

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// Hostile datasets are built here rather than committed: the largest
// would be gigabytes.

// npyHeader returns the .npy header of an array of the given descriptor
// and shape.
func npyHeader(descr string, shape ...int) []byte {
	dims := ""
	for _, d := range shape {
		dims += fmt.Sprintf("%d, ", d)
	}
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, strings.TrimSuffix(dims, " "))
	h += strings.Repeat(" ", 117-len(h)) + "\n"
	return append([]byte("\x93NUMPY\x01\x00\x76\x00"), h...)
}

// truncatedBomb returns an archive whose x.npy claims n 28×28 uint8
// images, but whose deflated stream stops after the first MiB of them, and
// whose y.npy stores n zero labels. Read whole, it is an error (and, were
// it complete, a huge decompression); its first images load.
func truncatedBomb(t testing.TB, n int) []byte {
	t.Helper()
	var out bytes.Buffer
	z := zip.NewWriter(&out)
	hdr := npyHeader("|u1", n, 28, 28)
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestSpeed)
	fw.Write(hdr)
	fw.Write(make([]byte, 1<<20))
	fw.Flush() // no final block: the stream just stops
	w, err := z.CreateRaw(&zip.FileHeader{Name: "x.npy", Method: zip.Deflate,
		CompressedSize64: uint64(comp.Len()), UncompressedSize64: uint64(len(hdr) + n*28*28)})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(comp.Bytes())
	w, _ = z.CreateHeader(&zip.FileHeader{Name: "y.npy", Method: zip.Store})
	w.Write(npyHeader("|u1", n))
	w.Write(make([]byte, n))
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// An npz archive claiming 5 GB of images, of which --samples 10 wants the
// first ten, loads them without decompressing the rest: it used to be
// decompressed whole (here, to a truncation error). Without --samples it
// is refused before anything is allocated, naming the way out.
func TestNPZReadsOnlyWhatIsNeeded(t *testing.T) {
	t.Parallel()
	const n = 6_700_000 // 5.25 GB of 28×28 images
	path := filepath.Join(t.TempDir(), "bomb.npz")
	writeFile(t, path, truncatedBomb(t, n))
	d, err := Load(Spec{NPZ, path}, Test, &Options{Samples: 10})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 10 || d.Total != n || len(d.X) != 10*28*28 {
		t.Fatalf("N %d of %d, %d values", d.N, d.Total, len(d.X))
	}
	seed := uint64(1)
	if _, err := Load(Spec{NPZ, path}, Test, &Options{Samples: 10, SampleSeed: &seed}); !errors.Is(err, ErrFormat) {
		t.Fatalf("random samples beyond the first MiB: err = %v, want the truncation", err)
	}
	_, err = Load(Spec{NPZ, path}, Test, nil)
	want := fmt.Sprintf("data: %s: dataset too large for the memory budget: 6700000 samples of 784 values need 21038000000 bytes as float32, over the budget of 8589934592 bytes: load fewer with --samples", path)
	if !errors.Is(err, ErrTooLarge) || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("all samples: err = %v\nwant %s", err, want)
	}
}

// zeroFile reads as size zero bytes without holding them.
type zeroFile struct{ size int64 }

func (z zeroFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= z.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), z.size-off))
	clear(p[:n])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// A 9 GB CIFAR binary file, loaded whole, is refused with a message naming
// the file, the sizes and --samples: it used to die in the runtime,
// allocating 37 GB. A few samples of it load.
func TestOversizedCIFARIsRefusedUnlessSampled(t *testing.T) {
	t.Parallel()
	const records = 3_000_000
	files := []recordFile{{r: zeroFile{records * 3073}, size: records * 3073, name: "huge.bin"}}
	_, err := readCIFARBin(files, CIFAR10, Train, &Options{})
	want := "data: huge.bin: dataset too large for the memory budget: 3000000 samples of 3072 values need 36876000000 bytes as float32, over the budget of 8589934592 bytes: load fewer with --samples (Options.Samples), or raise Options.MaxBytes"
	if !errors.Is(err, ErrTooLarge) || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	d, err := readCIFARBin(files, CIFAR10, Train, &Options{Samples: 10})
	if err != nil || d.N != 10 || d.Total != records {
		t.Fatalf("10 samples: %v", err)
	}
}

// The memory budget applies to every kind, the pickled CIFAR batches
// included (they are decoded whole).
func TestMaxBytesBoundsEveryKind(t *testing.T) {
	t.Parallel()
	img, lab := tinyIDX(3)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "t10k-images-idx3-ubyte"), img)
	writeFile(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"), lab)
	tests := []struct {
		name   string
		spec   Spec
		budget int64
		substr string
	}{
		{"cifar binary", Spec{CIFAR10, "testdata/cifar10"}, 20000, "2 samples of 3072 values need 24584 bytes"},
		{"cifar python files", Spec{CIFAR10, "testdata/cifar10/cifar-10-batches-py"}, 6000, "the pickled batches, decoded whole, take 6412 bytes"},
		{"cifar python samples", Spec{CIFAR10, "testdata/cifar10/cifar-10-batches-py"}, 20000, "2 samples of 3072 values need 30744 bytes as float32 (with the 6160 bytes of the decoded files)"},
		{"idx", Spec{FashionMNIST, dir}, 80, "3 samples of 6 values need 84 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(tt.spec, Test, &Options{MaxBytes: tt.budget})
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), tt.substr) {
				t.Fatalf("err = %v, want %q", err, tt.substr)
			}
			if _, err := Load(tt.spec, Test, &Options{MaxBytes: 1 << 20}); err != nil {
				t.Fatalf("with 1 MiB: %v", err)
			}
		})
	}
	if _, err := Load(Spec{CIFAR10, "testdata/cifar10"}, Test, &Options{MaxBytes: -1}); !errors.Is(err, ErrOption) {
		t.Fatalf("MaxBytes -1: %v", err)
	}
}

// A CIFAR python batch holding a tuple nested a million deep as a
// persistent id: the error message quoting it stays short. Printing it
// used to overflow the stack.
func TestDeepTupleInCIFARPickleGivesAShortError(t *testing.T) {
	t.Parallel()
	b := append([]byte("\x80\x02)"), bytes.Repeat([]byte{0x85}, 1_000_000)...)
	_, err := readCIFARPickle(bytes.NewReader(append(b, "Q."...)), "test_batch", "labels")
	if !errors.Is(err, ErrFormat) || len(err.Error()) > 300 {
		t.Fatalf("err = %.300v (%d bytes)", err, len(err.Error()))
	}
}
