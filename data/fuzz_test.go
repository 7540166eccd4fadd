package data

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/landscape-go/landscape/internal/npy"
)

// checkDataset fails t unless d is consistent: sizes agree and every label
// is in range.
func checkDataset(t *testing.T, d *Dataset) {
	t.Helper()
	if d.N <= 0 || d.N > d.Total || len(d.X) != d.N*d.C*d.H*d.W || len(d.Y) != d.N {
		t.Fatalf("inconsistent dataset: N %d of %d, %d×%d×%d, len(X) %d, len(Y) %d", d.N, d.Total, d.C, d.H, d.W, len(d.X), len(d.Y))
	}
	if d.Indices != nil && len(d.Indices) != d.N {
		t.Fatalf("%d indices for %d samples", len(d.Indices), d.N)
	}
	for i, y := range d.Y {
		if y < 0 || int(y) >= d.Classes {
			t.Fatalf("label %d = %d, outside [0, %d)", i, y, d.Classes)
		}
	}
}

// fuzzBudget is the memory budget the fuzz targets give Load: small, so
// that inputs claiming many samples reach it.
const fuzzBudget = 1 << 20

// checkBudget fails t if d holds more than opts' memory budget allows.
func checkBudget(t *testing.T, d *Dataset, opts *Options) {
	t.Helper()
	if held := 4*int64(len(d.X)) + 4*int64(len(d.Y)); held > opts.budget() {
		t.Fatalf("%d bytes of samples, over the budget of %d", held, opts.budget())
	}
}

func FuzzReadIDX(f *testing.F) {
	img, lab := tinyIDX(3)
	f.Add(img, lab, uint8(0))
	f.Add(gzipped(f, img), gzipped(f, lab), uint8(2))
	f.Add(img[:len(img)-1], lab, uint8(1))
	f.Add(idxFile([]uint32{1, 1, 1}, []byte{7}), idxFile([]uint32{1}, []byte{9}), uint8(1))
	f.Add(idxFile([]uint32{0xffffffff, 28, 28}, nil), idxFile([]uint32{2}, []byte{1, 2}), uint8(0))
	f.Fuzz(func(t *testing.T, images, labels []byte, samples uint8) {
		seed := uint64(samples)
		for _, opts := range []*Options{{MaxBytes: fuzzBudget}, {Samples: int(samples), MaxBytes: fuzzBudget}, {Samples: int(samples % 4), SampleSeed: &seed, MaxBytes: fuzzBudget}} {
			if opts.SampleSeed != nil && opts.Samples == 0 {
				continue
			}
			d, err := ReadIDX(bytes.NewReader(images), bytes.NewReader(labels), FashionMNIST, Test, opts)
			if err != nil {
				continue
			}
			checkDataset(t, d)
			checkBudget(t, d, opts)
		}
	})
}

func FuzzReadCIFARBin(f *testing.F) {
	for _, p := range []string{
		filepath.Join("testdata", "cifar10", "cifar-10-batches-bin", "test_batch.bin"),
		filepath.Join("testdata", "cifar100", "cifar-100-binary", "test.bin"),
	} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false, uint8(0))
		f.Add(b, true, uint8(1))
	}
	f.Add([]byte{}, false, uint8(0))
	f.Add(make([]byte, 3074), true, uint8(1))
	f.Add(make([]byte, 400*3073), false, uint8(0)) // beyond the budget, whole
	f.Fuzz(func(t *testing.T, b []byte, cifar100 bool, samples uint8) {
		kind := CIFAR10
		if cifar100 {
			kind = CIFAR100
		}
		// The same bytes as one file and split across two.
		half := len(b) / 2
		for _, files := range [][]recordFile{
			{{r: bytes.NewReader(b), size: int64(len(b)), name: "a.bin"}},
			{{r: bytes.NewReader(b[:half]), size: int64(half), name: "a.bin"}, {r: bytes.NewReader(b[half:]), size: int64(len(b) - half), name: "b.bin"}},
		} {
			seed := uint64(samples)
			for _, opts := range []*Options{{MaxBytes: fuzzBudget}, {Samples: int(samples % 8), MaxBytes: fuzzBudget}, {Samples: 1, SampleSeed: &seed, MaxBytes: fuzzBudget}} {
				d, err := readCIFARBin(files, kind, Train, opts)
				if err != nil {
					continue
				}
				checkDataset(t, d)
				checkBudget(t, d, opts)
			}
		}
	})
}

func FuzzReadCIFARPickle(f *testing.F) {
	for _, p := range []string{
		filepath.Join("testdata", "cifar10", "cifar-10-batches-py", "test_batch"),
		filepath.Join("testdata", "cifar10-p2", "cifar-10-batches-py", "test_batch"),
		filepath.Join("testdata", "cifar10-p4", "cifar-10-batches-py", "test_batch"),
		filepath.Join("testdata", "bad", "label-count", "test_batch"),
	} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// Hostile pickles: deep nesting in a message, a billion laughs as a
	// dict key.
	f.Add(append(append([]byte("\x80\x02)"), bytes.Repeat([]byte{0x85}, 10000)...), "Q."...))
	laughs := []byte("\x80\x02})q\x00")
	for i := 1; i < 60; i++ {
		laughs = append(laughs, '0', 'h', byte(i-1), 'h', byte(i-1), 0x86, 'q', byte(i))
	}
	f.Add(append(laughs, "K\x01s."...))
	f.Fuzz(func(t *testing.T, b []byte) {
		batch, err := readCIFARPickle(bytes.NewReader(b), "test_batch", "labels")
		if err != nil {
			if len(err.Error()) > 3*len(b)+1<<16 {
				t.Fatalf("a %d-byte message for %d bytes of pickle", len(err.Error()), len(b))
			}
			return
		}
		if len(batch.images) != len(batch.labels)*cifarImage {
			t.Fatalf("%d image bytes for %d labels", len(batch.images), len(batch.labels))
		}
		opts := &Options{MaxBytes: fuzzBudget}
		d, err := assembleCIFAR([]cifarBatch{batch}, CIFAR10, Test, opts, "test_batch")
		if err != nil {
			return
		}
		checkDataset(t, d)
		checkBudget(t, d, opts)
	})
}

func FuzzReadNPZ(f *testing.F) {
	for _, arrays := range [][]npy.Named{
		{nm("x", array(f, "|u1", []int{2, 1, 2, 2}, ramp(8, 0))), nm("y", array(f, "<i8", []int{2}, []float64{0, 1}))},
		{nm("x_test", array(f, "<f4", []int{3, 2, 2}, ramp(12, 5))), nm("y_test", array(f, "<i4", []int{3}, []float64{2, 0, 1}))},
	} {
		b, err := os.ReadFile(writeNPZ(f, arrays...))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
		f.Add(b, uint8(1))
	}
	f.Add(truncatedBomb(f, 100000), uint8(10))
	f.Fuzz(func(t *testing.T, b []byte, samples uint8) {
		seed := uint64(samples)
		for _, opts := range []*Options{{MaxBytes: fuzzBudget}, {Samples: int(samples), MaxBytes: fuzzBudget}, {Samples: int(samples%4) + 1, SampleSeed: &seed, MaxBytes: fuzzBudget}} {
			d, err := readNPZ(bytes.NewReader(b), int64(len(b)), "d.npz", Test, opts)
			if err != nil {
				continue
			}
			checkDataset(t, d)
			checkBudget(t, d, opts)
		}
	})
}
