package data

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/landscape-go/landscape/internal/hugemem"
	"github.com/landscape-go/landscape/internal/pickle"
)

// cifarBatch is one decoded Python-layout CIFAR file: its images, n×3072
// bytes, and its labels.
type cifarBatch struct {
	name   string
	images []byte
	labels []int
}

// pickleGlobals is all a CIFAR batch may name: NumPy's array
// reconstruction and _codecs.encode, with which Python 3 writes bytes in a
// protocol 2 pickle.
var pickleGlobals = pickle.Merge(pickle.Builtins(), pickle.NumPy())

// readCIFARPickle decodes one pickled CIFAR batch: a dict holding "data", a
// uint8 array of shape (n, 3072) or (n, 3, 32, 32), and the labels under
// labelKey, a list (or array) of n ints. Keys may be str or bytes.
func readCIFARPickle(r io.Reader, name, labelKey string) (cifarBatch, error) {
	v, err := pickle.Load(r, &pickle.Options{Globals: pickleGlobals})
	if err != nil {
		return cifarBatch{}, fmt.Errorf("data: %s: %w: %w", name, ErrFormat, err)
	}
	d, ok := v.(*pickle.Dict)
	if !ok {
		return cifarBatch{}, fmt.Errorf("data: %s: %w: pickle holds a %s, want a dict", name, ErrFormat, pickle.TypeName(v))
	}
	dv, ok := d.Lookup("data")
	if !ok {
		return cifarBatch{}, fmt.Errorf("data: %s: %w: no key 'data'", name, ErrFormat)
	}
	arr, err := pickle.AsArray(dv)
	if err != nil {
		return cifarBatch{}, fmt.Errorf("data: %s: %w: 'data': %w", name, ErrFormat, err)
	}
	if arr.DType != "uint8" {
		return cifarBatch{}, fmt.Errorf("data: %s: %w: 'data' has dtype %s, want uint8", name, ErrFormat, arr.DType)
	}
	s := arr.Shape
	if len(s) != 2 && len(s) != 4 {
		return cifarBatch{}, fmt.Errorf("data: %s: %w: 'data' has %d dimensions, want (N, 3072) or (N, 3, 32, 32)", name, ErrFormat, len(s))
	}
	if !(len(s) == 2 && s[1] == cifarImage) && !(len(s) == 4 && s[1] == cifarC && s[2] == cifarH && s[3] == cifarW) {
		return cifarBatch{}, fmt.Errorf("data: %s: %w: 'data' has shape %v, want (N, 3072) or (N, 3, 32, 32)", name, ErrFormat, s)
	}
	n := s[0]

	lv, ok := d.Lookup(labelKey)
	if !ok {
		return cifarBatch{}, fmt.Errorf("data: %s: %w: no key '%s'", name, ErrFormat, labelKey)
	}
	labels, ok := pickle.Ints(lv)
	if !ok {
		// Re-pickled data may hold the labels as an array.
		la, err := pickle.AsArray(lv)
		if err != nil {
			return cifarBatch{}, fmt.Errorf("data: %s: %w: '%s' is a %s, want a list of ints", name, ErrFormat, labelKey, pickle.TypeName(lv))
		}
		if len(la.Shape) != 1 || !isIntDType(la.DType) {
			return cifarBatch{}, fmt.Errorf("data: %s: %w: '%s' is a %s array of %d dimensions, want integers of shape (N,)", name, ErrFormat, labelKey, la.DType, len(la.Shape))
		}
		l64, err := la.Int64()
		if err != nil {
			return cifarBatch{}, fmt.Errorf("data: %s: '%s': %w", name, labelKey, err)
		}
		labels = make([]int, len(l64))
		for i, l := range l64 {
			labels[i] = int(max(min(l, 1<<31), -1)) // range-checked by the caller
		}
	}
	if len(labels) != n {
		return cifarBatch{}, fmt.Errorf("data: %s: %w: %d images but %d labels", name, ErrFormat, n, len(labels))
	}
	return cifarBatch{name: name, images: arr.Bytes(), labels: labels}, nil
}

func isIntDType(dtype string) bool {
	switch dtype {
	case "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64":
		return true
	}
	return false
}

// loadCIFARPython reads the pickled batches of a split. Each file is
// decoded whole (its image bytes are held until the split is assembled);
// only the selected images are converted to float32.
func loadCIFARPython(kind Kind, paths []string, split string, opts *Options) (*Dataset, error) {
	l := cifarLayouts[kind]
	// The batches are decoded whole, whatever samples are wanted: their
	// sizes must fit the budget before one is read.
	var held int64
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		if held += st.Size(); held > opts.budget() {
			return nil, fmt.Errorf("data: %s: %w: the pickled batches, decoded whole, take %d bytes, over the budget of %d bytes (Options.MaxBytes); the binary layout is read record by record",
				p, ErrTooLarge, held, opts.budget())
		}
	}
	batches := make([]cifarBatch, len(paths))
	for i, p := range paths {
		b, err := readCIFARPickleFile(p, l.pyLabelKey)
		if err != nil {
			return nil, err
		}
		batches[i] = b
	}
	name := paths[0]
	if len(paths) > 1 {
		name = filepath.Dir(name)
	}
	return assembleCIFAR(batches, kind, split, opts, name)
}

func readCIFARPickleFile(path, labelKey string) (cifarBatch, error) {
	f, err := os.Open(path)
	if err != nil {
		return cifarBatch{}, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	return readCIFARPickle(bufio.NewReaderSize(f, 1<<20), path, labelKey)
}

// assembleCIFAR builds a Dataset from decoded batches, taking the samples
// opts selects across all of them in order.
func assembleCIFAR(batches []cifarBatch, kind Kind, split string, opts *Options, name string) (*Dataset, error) {
	classes := kind.Classes()
	total := 0
	for _, b := range batches {
		for i, l := range b.labels {
			if l < 0 || l >= classes {
				return nil, fmt.Errorf("data: %s: %w: label %d of sample %d, want in [0, %d)", b.name, ErrLabel, l, i, classes)
			}
		}
		total += len(b.labels)
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
	var held int64
	for _, b := range batches {
		held += int64(len(b.images)) + 8*int64(len(b.labels))
	}
	if err := opts.checkMemory(name, count, cifarImage, held); err != nil {
		return nil, err
	}
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
	bi, start := 0, 0 // batch of the next sample, and its first global index
	for i := range count {
		g := i
		if sel != nil {
			g = sel[i]
		}
		for g >= start+len(batches[bi].labels) {
			start += len(batches[bi].labels)
			bi++
		}
		b := &batches[bi]
		k := g - start
		d.Y[i] = int32(b.labels[k])
		norm.convert(d.X[i*cifarImage:(i+1)*cifarImage], b.images[k*cifarImage:(k+1)*cifarImage])
	}
	return d, nil
}
