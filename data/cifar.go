package data

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/landscape-go/landscape/internal/hugemem"
)

// CIFAR images are 3×32×32 bytes, stored channel-major (1024 red, 1024
// green, 1024 blue bytes, each plane row-major), which is already the CHW
// order a network wants.
const (
	cifarC     = 3
	cifarH     = 32
	cifarW     = 32
	cifarImage = cifarC * cifarH * cifarW
)

// cifarLayout describes where one CIFAR variant keeps its files.
type cifarLayout struct {
	binDir, pyDir     string   // archive folder names
	binTrain, binTest []string // binary layout file names
	pyTrain, pyTest   []string // Python layout file names
	labelBytes        int      // label bytes before each binary image: 1, or 2 (coarse, fine)
	pyLabelKey        string   // label key of the pickled dicts
}

var cifarLayouts = map[Kind]cifarLayout{
	CIFAR10: {
		binDir:   "cifar-10-batches-bin",
		pyDir:    "cifar-10-batches-py",
		binTrain: []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"},
		binTest:  []string{"test_batch.bin"},
		pyTrain:  []string{"data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"},
		pyTest:   []string{"test_batch"},

		labelBytes: 1,
		pyLabelKey: "labels",
	},
	CIFAR100: {
		binDir:   "cifar-100-binary",
		pyDir:    "cifar-100-python",
		binTrain: []string{"train.bin"},
		binTest:  []string{"test.bin"},
		pyTrain:  []string{"train"},
		pyTest:   []string{"test"},

		labelBytes: 2,
		pyLabelKey: "fine_labels",
	},
}

// cifarFiles finds the files of a split: the binary layout in the folder
// itself, then the Python layout there, then both below it in their archive
// folders. It reports whether the files found are of the binary layout.
func cifarFiles(spec Spec, split string) (paths []string, binary bool, err error) {
	if _, err := os.Stat(spec.Path); err != nil {
		return nil, false, fmt.Errorf("data: %v: %w", spec, err)
	}
	l := cifarLayouts[spec.Kind]
	binNames, pyNames := l.binTrain, l.pyTrain
	if split == Test {
		binNames, pyNames = l.binTest, l.pyTest
	}
	type candidate struct {
		dir    string
		names  []string
		binary bool
	}
	cands := []candidate{
		{spec.Path, binNames, true},
		{spec.Path, pyNames, false},
		{filepath.Join(spec.Path, l.binDir), binNames, true},
		{filepath.Join(spec.Path, l.pyDir), pyNames, false},
	}
	var tried []string
	for _, c := range cands {
		first := filepath.Join(c.dir, c.names[0])
		tried = append(tried, first)
		if !isFile(first) {
			continue
		}
		for _, name := range c.names {
			p := filepath.Join(c.dir, name)
			if !isFile(p) {
				return nil, false, fmt.Errorf("data: %v %s: missing %s: %w", spec, split, p, fs.ErrNotExist)
			}
			paths = append(paths, p)
		}
		return paths, c.binary, nil
	}
	return nil, false, fmt.Errorf("data: %v %s: none of %s: %w", spec, split, strings.Join(tried, ", "), fs.ErrNotExist)
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func loadCIFAR(spec Spec, split string, opts *Options) (*Dataset, error) {
	paths, binary, err := cifarFiles(spec, split)
	if err != nil {
		return nil, err
	}
	if !binary {
		return loadCIFARPython(spec.Kind, paths, split, opts)
	}
	files := make([]recordFile, len(paths))
	for i, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		files[i] = recordFile{r: f, size: st.Size(), name: p}
	}
	return readCIFARBin(files, spec.Kind, split, opts)
}

// recordFile is one CIFAR binary file: its contents, size and name for
// error messages.
type recordFile struct {
	r    io.ReaderAt
	size int64
	name string
}

// cifarChunk is the most records readCIFARBin reads with one ReadAt.
const cifarChunk = 256

// readCIFARBin reads the CIFAR binary records of files, in order, as one
// split. Each record is the label byte(s) followed by the 3072 image bytes;
// a CIFAR-100 record carries the coarse label, then the fine label, which
// is the one kept. Only the selected records are read.
func readCIFARBin(files []recordFile, kind Kind, split string, opts *Options) (*Dataset, error) {
	l, ok := cifarLayouts[kind]
	if !ok {
		return nil, fmt.Errorf("data: %w: CIFAR binary files hold cifar10 or cifar100, not %v", ErrKind, kind)
	}
	rec := int64(l.labelBytes + cifarImage)
	starts := make([]int, len(files)+1) // first global record of each file
	for i, f := range files {
		if f.size%rec != 0 {
			return nil, fmt.Errorf("data: %s: %w: size %d is not a multiple of the %v record size %d", f.name, ErrFormat, f.size, kind, rec)
		}
		starts[i+1] = starts[i] + int(f.size/rec)
	}
	total := starts[len(files)]
	name := files[0].name
	if len(files) > 1 {
		name = filepath.Dir(name)
	}
	sel, err := selectSamples(total, opts, name)
	if err != nil {
		return nil, err
	}
	mean, std, err := resolveNorm(kind, opts, cifarC, name)
	if err != nil {
		return nil, err
	}
	norm := newNormalizer(cifarC, cifarH*cifarW, mean, std)
	count := sel.count(total)
	if err := opts.checkMemory(name, count, cifarImage, 0); err != nil {
		return nil, err
	}
	classes := kind.Classes()
	d := &Dataset{
		Name: kind.String(), Split: split,
		N: count, C: cifarC, H: cifarH, W: cifarW,
		Classes: classes,
		X:       hugemem.Float32s(count * cifarImage),
		Y:       make([]int32, count),
		Indices: sel.indices(),
		Total:   total,
		Mean:    mean, Std: std,
	}
	buf := make([]byte, cifarChunk*rec)
	out := 0 // next sample of d to fill
	// Walk the selection in runs of consecutive records within one file,
	// each read with as few ReadAt calls as cifarChunk allows.
	fi := 0
	for out < count {
		g := out
		if sel != nil {
			g = sel[out]
		}
		for g >= starts[fi+1] {
			fi++
		}
		run := 1
		for out+run < count && run < cifarChunk {
			next := out + run
			if sel != nil {
				next = sel[out+run]
			}
			if next != g+run || next >= starts[fi+1] {
				break
			}
			run++
		}
		f := files[fi]
		local := int64(g - starts[fi])
		chunk := buf[:int64(run)*rec]
		if n, err := f.r.ReadAt(chunk, local*rec); n < len(chunk) {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("data: %s: reading record %d: %w", f.name, local, err)
		}
		for k := range run {
			r := chunk[int64(k)*rec : int64(k+1)*rec]
			label := int(r[l.labelBytes-1])
			if label >= classes {
				return nil, fmt.Errorf("data: %s: %w: label %d of record %d, want < %d", f.name, ErrLabel, label, local+int64(k), classes)
			}
			i := out + k
			d.Y[i] = int32(label)
			norm.convert(d.X[i*cifarImage:(i+1)*cifarImage], r[l.labelBytes:])
		}
		out += run
	}
	return d, nil
}
