package data

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/internal/pickle"
)

// The synthetic CIFAR files of testdata/make.py load in every layout
// (binary or pickled, the parent folder or the batch folder) bit for bit
// as torchvision loads them.
func TestCIFARMatchesTorchvisionInEveryLayout(t *testing.T) {
	t.Parallel()
	exp := expected(t)
	tests := []struct {
		name  string
		kind  Kind
		dir   string
		split string
		n     int
	}{
		{"cifar10 bin parent train", CIFAR10, "cifar10", Train, 5},
		{"cifar10 bin parent test", CIFAR10, "cifar10", Test, 2},
		{"cifar10 bin folder train", CIFAR10, "cifar10/cifar-10-batches-bin", Train, 5},
		{"cifar10 bin folder test", CIFAR10, "cifar10/cifar-10-batches-bin", Test, 2},
		{"cifar100 bin parent train", CIFAR100, "cifar100", Train, 3},
		{"cifar100 bin folder test", CIFAR100, "cifar100/cifar-100-binary", Test, 2},
		{"cifar10 python train", CIFAR10, "cifar10/cifar-10-batches-py", Train, 5},
		{"cifar10 python test", CIFAR10, "cifar10/cifar-10-batches-py", Test, 2},
		{"cifar10 python3 protocol 2", CIFAR10, "cifar10-p2", Test, 2},
		{"cifar10 python3 protocol 4", CIFAR10, "cifar10-p4/cifar-10-batches-py", Test, 2},
		{"cifar100 python train", CIFAR100, "cifar100/cifar-100-python", Train, 3},
		{"cifar100 python test", CIFAR100, "cifar100/cifar-100-python", Test, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := Load(Spec{tt.kind, filepath.Join("testdata", filepath.FromSlash(tt.dir))}, tt.split, nil)
			if err != nil {
				t.Fatal(err)
			}
			if d.N != tt.n || d.Total != tt.n || d.C != 3 || d.H != 32 || d.W != 32 || d.Classes != tt.kind.Classes() {
				t.Fatalf("got %d×%d×%d×%d of %d, %d classes; want %d×3×32×32", d.N, d.C, d.H, d.W, d.Total, d.Classes, tt.n)
			}
			prefix := tt.kind.String() + "_" + tt.split
			if at := sameBits(d.X, expectedFloat32(t, exp, prefix+"_x")); at >= 0 {
				t.Errorf("X differs from torchvision at %d", at)
			}
			if got, want := toInt64(d.Y), expectedInt64(t, exp, prefix+"_y"); !slices.Equal(got, want) {
				t.Errorf("Y = %v, torchvision %v", got, want)
			}
			wantMean, wantStd := DefaultNorm(tt.kind)
			if !slices.Equal(d.Mean, wantMean) || !slices.Equal(d.Std, wantStd) {
				t.Errorf("Mean, Std = %v, %v; want %v, %v", d.Mean, d.Std, wantMean, wantStd)
			}
		})
	}
}

func toInt64(y []int32) []int64 {
	out := make([]int64, len(y))
	for i, v := range y {
		out[i] = int64(v)
	}
	return out
}

// Subsets, the first n or a seeded random choice, hold the same values as
// the full load at the positions they report, across batch files.
func TestCIFARSubsetsMatchTheFullLoad(t *testing.T) {
	t.Parallel()
	seeds := []uint64{0, 1, 7, 12345}
	for _, dir := range []string{"cifar10/cifar-10-batches-bin", "cifar10/cifar-10-batches-py"} {
		spec := Spec{CIFAR10, filepath.Join("testdata", filepath.FromSlash(dir))}
		full, err := Load(spec, Train, nil)
		if err != nil {
			t.Fatal(err)
		}
		check := func(name string, d *Dataset, want []int) {
			t.Helper()
			if !slices.Equal(d.Indices, want) || d.N != len(want) || d.Total != 5 {
				t.Fatalf("%s %s: Indices %v, N %d, Total %d; want %v", dir, name, d.Indices, d.N, d.Total, want)
			}
			for k, i := range want {
				if !slices.Equal(d.Image(k), full.Image(i)) || d.Y[k] != full.Y[i] {
					t.Errorf("%s %s: sample %d differs from sample %d of the full load", dir, name, k, i)
				}
			}
		}
		for n := 1; n <= 4; n++ {
			d, err := Load(spec, Train, &Options{Samples: n})
			if err != nil {
				t.Fatal(err)
			}
			want := make([]int, n)
			for i := range want {
				want[i] = i
			}
			check("first", d, want)
		}
		for _, seed := range seeds {
			d, err := Load(spec, Train, &Options{Samples: 3, SampleSeed: &seed})
			if err != nil {
				t.Fatal(err)
			}
			check("random", d, randomSubset(5, 3, seed))
		}
	}
}

// A custom mean and std of one value each apply to every channel.
func TestCIFARNormBroadcastsOneValueToEveryChannel(t *testing.T) {
	t.Parallel()
	spec := Spec{CIFAR10, filepath.Join("testdata", "cifar10")}
	d, err := Load(spec, Test, &Options{Mean: []float64{0.5}, Std: []float64{0.25}})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "cifar10", "cifar-10-batches-bin", "test_batch.bin"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range d.N {
		rec := raw[i*3073 : (i+1)*3073]
		if d.Y[i] != int32(rec[0]) {
			t.Errorf("label %d = %d, want %d", i, d.Y[i], rec[0])
		}
		for j, v := range d.Image(i) {
			if want := (float32(rec[1+j])/255 - 0.5) / 0.25; v != want {
				t.Fatalf("image %d value %d = %v, want %v", i, j, v, want)
			}
		}
	}
	if !slices.Equal(d.Mean, []float64{0.5, 0.5, 0.5}) || !slices.Equal(d.Std, []float64{0.25, 0.25, 0.25}) {
		t.Errorf("Mean, Std = %v, %v", d.Mean, d.Std)
	}
}

// CIFAR binaries of the wrong size, with labels out of range, empty, or
// with a batch missing are refused naming the file; so is a record past
// the end of a file that shrank.
func TestMalformedCIFARBinariesAreRefusedNamingTheFile(t *testing.T) {
	t.Parallel()
	src := filepath.Join("testdata", "cifar10", "cifar-10-batches-bin")
	rec, err := os.ReadFile(filepath.Join(src, "test_batch.bin"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		kind  Kind
		files map[string][]byte
		split string
		err   error
		msg   string // a part of the message
	}{
		{"size", CIFAR10, map[string][]byte{"test_batch.bin": rec[:5000]}, Test, ErrFormat, "test_batch.bin: malformed dataset file: size 5000 is not a multiple of the cifar10 record size 3073"},
		{"cifar100 record", CIFAR100, map[string][]byte{"test.bin": rec}, Test, ErrFormat, "size 6146 is not a multiple of the cifar100 record size 3074"},
		{"label", CIFAR10, map[string][]byte{"test_batch.bin": append([]byte{10}, rec[1:]...)}, Test, ErrLabel, "label 10 of record 0"},
		{"cifar100 label", CIFAR100, map[string][]byte{"test.bin": append([]byte{3, 100}, rec[1:3073]...)}, Test, ErrLabel, "label 100 of record 0"},
		{"empty", CIFAR10, map[string][]byte{"test_batch.bin": {}}, Test, ErrEmpty, "test_batch.bin"},
		{"missing batch", CIFAR10, map[string][]byte{"data_batch_1.bin": rec, "data_batch_2.bin": rec}, Train, fs.ErrNotExist, "data_batch_3.bin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, b := range tt.files {
				writeFile(t, filepath.Join(dir, name), b)
			}
			_, err := Load(Spec{tt.kind, dir}, tt.split, nil)
			if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Load error = %v, want %v containing %q", err, tt.err, tt.msg)
			}
		})
	}

	// A record past the end, as when the file shrinks after its size was
	// taken, is an error rather than zeros.
	files := []recordFile{{r: bytes.NewReader(rec[:3073]), size: 6146, name: "shrunk"}}
	if _, err := readCIFARBin(files, CIFAR10, Test, &Options{}); err == nil || !strings.Contains(err.Error(), "shrunk") {
		t.Errorf("readCIFARBin of a short file: %v", err)
	}
}

// Runs of records longer than one read chunk, and spanning two files,
// load intact, whole or as a subset.
func TestCIFARRunsAcrossChunksAndFilesLoadIntact(t *testing.T) {
	t.Parallel()
	const n = cifarChunk*2 + 3
	var all []byte
	for i := range n {
		rec := make([]byte, 3073)
		rec[0] = byte(i % 10)
		for j := range 3072 {
			rec[1+j] = byte(i + j)
		}
		all = append(all, rec...)
	}
	split := 100 * 3073
	files := []recordFile{
		{r: bytes.NewReader(all[:split]), size: int64(split), name: "a"},
		{r: bytes.NewReader(all[split:]), size: int64(len(all) - split), name: "b"},
	}
	seed := uint64(9)
	// Mean 0 and Std 1 leave ToTensor's x/255 unchanged, so the expected
	// values come straight from the bytes.
	zero, one := []float64{0}, []float64{1}
	plain := newNormalizer(3, 1024, nil, nil)
	want := make([]float32, 3072)
	for _, opts := range []*Options{
		{Mean: zero, Std: one},
		{Samples: 300, Mean: zero, Std: one},
		{Samples: 200, SampleSeed: &seed, Mean: zero, Std: one},
	} {
		d, err := readCIFARBin(files, CIFAR10, Train, opts)
		if err != nil {
			t.Fatal(err)
		}
		if d.Total != n {
			t.Fatalf("Total = %d, want %d", d.Total, n)
		}
		for k := range d.N {
			i := k
			if d.Indices != nil {
				i = d.Indices[k]
			}
			plain.convert(want, all[i*3073+1:(i+1)*3073])
			if d.Y[k] != int32(i%10) || !slices.Equal(d.Image(k), want) {
				t.Fatalf("Samples %d: sample %d (position %d) differs", opts.Samples, k, i)
			}
		}
	}
}

// Pickled CIFAR batches with bad labels, data or structure, or calling a
// forbidden global, are refused naming the batch file.
func TestMalformedCIFARPicklesAreRefusedNamingTheBatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dir string
		err error
		msg string
	}{
		{"label-range", ErrLabel, "label 10 of sample 1"},
		{"label-count", ErrFormat, "2 images but 3 labels"},
		{"labels-missing", ErrFormat, "no key 'labels'"},
		{"data-dtype", ErrFormat, "dtype int16"},
		{"data-shape", ErrFormat, "shape [2 100]"},
		{"not-dict", ErrFormat, "pickle holds a list"},
		{"global", pickle.ErrGlobal, "posix.system is not allowed"},
		{"truncated", ErrFormat, "test_batch"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			t.Parallel()
			_, err := Load(Spec{CIFAR10, filepath.Join("testdata", "bad", tt.dir)}, Test, nil)
			if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), "test_batch") {
				t.Fatalf("Load error = %v, want %v naming test_batch and containing %q", err, tt.err, tt.msg)
			}
			t.Log(err)
		})
	}
}
