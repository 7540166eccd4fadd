package data

import (
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
)

// Kind is a dataset format and, for the fixed datasets, the dataset itself:
// it decides the file layout, the number of classes and the default
// normalisation.
type Kind int

// The dataset kinds. The zero Kind is invalid.
const (
	CIFAR10      Kind = iota + 1 // CIFAR-10, binary or Python layout, 3×32×32, 10 classes
	CIFAR100                     // CIFAR-100 fine labels, binary or Python layout, 3×32×32, 100 classes
	MNIST                        // MNIST IDX files, 1×28×28, 10 classes
	FashionMNIST                 // Fashion-MNIST IDX files, 1×28×28, 10 classes
	NPZ                          // a NumPy .npz archive holding arrays x and y, or token ids (.npz or .npy)
)

var kindNames = [...]string{
	CIFAR10:      "cifar10",
	CIFAR100:     "cifar100",
	MNIST:        "mnist",
	FashionMNIST: "fashion-mnist",
	NPZ:          "npz",
}

// String returns the name ParseSpec accepts for k: "cifar10", "cifar100",
// "mnist", "fashion-mnist" or "npz".
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// valid reports whether k is one of the declared kinds.
func (k Kind) valid() bool { return k > 0 && int(k) < len(kindNames) }

// ParseKind parses a dataset kind name. Besides the names [Kind.String]
// returns it accepts the aliases "cifar-10", "cifar-100", "fashion_mnist",
// "fashionmnist" and "fmnist", in any letter case.
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "cifar10", "cifar-10":
		return CIFAR10, nil
	case "cifar100", "cifar-100":
		return CIFAR100, nil
	case "mnist":
		return MNIST, nil
	case "fashion-mnist", "fashion_mnist", "fashionmnist", "fmnist":
		return FashionMNIST, nil
	case "npz":
		return NPZ, nil
	}
	return 0, fmt.Errorf("data: %w %q: want cifar10, cifar100, mnist, fashion-mnist or npz", ErrKind, s)
}

// Classes returns the number of classes of the fixed dataset kinds, and 0
// for NPZ, whose class count comes from its labels.
func (k Kind) Classes() int {
	switch k {
	case CIFAR10, MNIST, FashionMNIST:
		return 10
	case CIFAR100:
		return 100
	}
	return 0
}

// Spec names a dataset on disk: a kind and the directory (for the fixed
// datasets) or file (for NPZ) that holds it.
type Spec struct {
	Kind Kind
	Path string
}

// ParseSpec parses a dataset specification "KIND:PATH", for example
// "cifar10:/data/cifar" or "npz:subset.npz". The kind is everything before
// the first colon, so PATH may itself contain colons. The kinds are those
// [ParseKind] accepts; PATH is a directory for cifar10, cifar100, mnist and
// fashion-mnist, and a file for npz, which may be given alone: "subset.npz".
func ParseSpec(s string) (Spec, error) {
	name, path, ok := strings.Cut(s, ":")
	if _, err := ParseKind(name); (!ok || err != nil) && strings.EqualFold(filepath.Ext(s), ".npz") {
		return Spec{Kind: NPZ, Path: s}, nil // a file is its kind: x.npz is npz:x.npz
	}
	if !ok {
		return Spec{}, fmt.Errorf("data: %w %q: want KIND:PATH, e.g. cifar10:/data/cifar or npz:test.npz", ErrSpec, s)
	}
	k, err := ParseKind(name)
	if err != nil {
		return Spec{}, fmt.Errorf("data: %w %q: %w", ErrSpec, s, err)
	}
	if path == "" {
		return Spec{}, fmt.Errorf("data: %w %q: empty path", ErrSpec, s)
	}
	return Spec{Kind: k, Path: path}, nil
}

// String returns s in the form ParseSpec reads.
func (s Spec) String() string { return s.Kind.String() + ":" + s.Path }

// Dataset is a labelled image dataset held in memory as normalised float32
// values, ready to be fed to a network in batches.
type Dataset struct {
	Name  string // kind name: "cifar10", "fashion-mnist", ...
	Split string // "train" or "test"

	// N is the number of samples held, C, H and W the shape of one image.
	N, C, H, W int

	// Classes is the number of classes; every label is in [0, Classes).
	Classes int

	// X holds the N images, N×C×H×W in row-major (NCHW) order, each value
	// normalised as torchvision's ToTensor and Normalize make it.
	X []float32

	// Y holds the N labels.
	Y []int32

	// Indices holds, for each sample, its position in the split's file
	// order. It is nil when the whole split was loaded in order.
	Indices []int

	// Total is the number of samples the split holds on disk, of which the
	// N above were loaded.
	Total int

	// Mean and Std are the per-channel normalisation that was applied, in
	// [0,1] units: 0 and 1 where the images were scaled to [0, 1] and no
	// more (bytes of an npz given no --mean). Both are nil for float images
	// from an npz file, which are taken as already normalised.
	Mean, Std []float64

	// Arrays names, for an npz, the arrays the split was read from: "x, y"
	// for an archive of one split, which every split reads, or "x_test,
	// y_test". It is empty for the other kinds, whose splits are files of
	// their own.
	Arrays string

	// Seq is, for token data (an npz of integer ids N x T), the positions
	// of a sample: X holds N x Seq token ids (as float32, exact below
	// 2^24), a sample being 1 x 1 x Seq, and Y the N x Seq next-token
	// targets; Classes is the vocabulary. It is 0 for images.
	Seq int
}

// SampleLen returns the number of float32 values of one image, C·H·W.
func (d *Dataset) SampleLen() int { return d.C * d.H * d.W }

// Image returns the values of image i, a slice of X of length SampleLen.
func (d *Dataset) Image(i int) []float32 {
	n := d.SampleLen()
	return d.X[i*n : (i+1)*n : (i+1)*n]
}

// Options controls which samples [Load] takes and how it normalises them.
// A nil *Options, like the zero value, loads every sample with the kind's
// default normalisation.
type Options struct {
	// Samples is the number of samples to load: 0 loads all of them, a
	// positive value the first Samples in file order (or a random subset,
	// see SampleSeed). Asking for more samples than the split holds is an
	// error.
	Samples int

	// SampleSeed, if not nil, makes Load take a random subset of Samples
	// samples instead of the first ones: the first Samples steps of a
	// Fisher–Yates shuffle driven by math/rand/v2's PCG seeded with
	// (*SampleSeed, 0), each step reducing one PCG output to a range by
	// Lemire's method. The chosen samples are kept in file order, and
	// [Dataset].Indices lists them. The same seed and split size select
	// the same samples on every run and platform. It requires Samples > 0.
	SampleSeed *uint64

	// Mean and Std are the per-channel normalisation, in [0,1] units, with
	// one entry per channel or a single entry for all channels. Nil means
	// the kind's default (see [DefaultNorm]). Both or neither must be set.
	Mean, Std []float64

	// Classes sets the number of classes of an NPZ dataset; 0 takes
	// max(y)+1. For the other kinds it must be 0 or the kind's class
	// count.
	Classes int

	// MaxBytes is the memory budget of Load: the most bytes it may
	// allocate for the samples it returns (4 per value and 4 per label)
	// and, for the Python CIFAR layout, for the pickled batches it decodes
	// whole. 0 means [DefaultMaxBytes]. A split beyond the budget is
	// refused before anything is allocated, with an error wrapping
	// [ErrTooLarge] that names the file and the sizes: load fewer samples
	// (Samples, the --samples flag) or raise the budget.
	MaxBytes int64
}

// DefaultMaxBytes is the memory budget of Load when [Options].MaxBytes is
// 0: 8 GiB, thirteen times CIFAR-10's training split as float32.
const DefaultMaxBytes = 8 << 30

// Sentinel errors, returned wrapped so that callers can test them with
// errors.Is. A missing file is reported wrapping fs.ErrNotExist.
var (
	ErrKind     = errors.New("unknown dataset kind")
	ErrSpec     = errors.New("bad dataset spec")
	ErrSplit    = errors.New("bad split")
	ErrFormat   = errors.New("malformed dataset file")
	ErrLabel    = errors.New("label out of range")
	ErrEmpty    = errors.New("empty dataset")
	ErrOption   = errors.New("bad dataset option")
	ErrTooLarge = errors.New("dataset too large for the memory budget")
)

// Splits are the split names Load accepts.
const (
	Train = "train"
	Test  = "test"
)

func checkSplit(split string) error {
	if split != Train && split != Test {
		return fmt.Errorf("data: %w %q: want %q or %q", ErrSplit, split, Train, Test)
	}
	return nil
}

// Load reads the split ("train" or "test") of the dataset spec names and
// returns it normalised in memory. If opts is nil, every sample is loaded
// with the kind's default normalisation.
//
// For CIFAR10 and CIFAR100, spec.Path is the extracted archive folder
// (cifar-10-batches-bin, cifar-10-batches-py, cifar-100-binary or
// cifar-100-python) or the folder holding it; the binary layout is tried
// before the Python one. For MNIST and FashionMNIST it is the folder holding
// the split's two IDX files (train-images-idx3-ubyte and
// train-labels-idx1-ubyte, or t10k-...), gzipped or not, its raw/
// subfolder, or a torchvision root with MNIST/raw or FashionMNIST/raw
// below it. For NPZ it is the .npz file; its
// arrays x_train and y_train (or x_test and y_test) are read if present,
// else x and y whatever the split.
//
// Only the selected samples are converted to float32; with a small
// Options.Samples the rest of the split is never held as floats. CIFAR
// binary files are read record by record, and IDX files and npz archives
// streamed; a pickled CIFAR batch is decoded whole first. What the split
// needs is checked against Options.MaxBytes before it is allocated.
func Load(spec Spec, split string, opts *Options) (*Dataset, error) {
	if err := checkSplit(split); err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &Options{}
	}
	if err := opts.check(spec.Kind); err != nil {
		return nil, err
	}
	switch spec.Kind {
	case CIFAR10, CIFAR100:
		return loadCIFAR(spec, split, opts)
	case MNIST, FashionMNIST:
		return loadIDX(spec, split, opts)
	case NPZ:
		return loadNPZ(spec, split, opts)
	}
	return nil, fmt.Errorf("data: %w %v", ErrKind, spec.Kind)
}

func (o *Options) check(k Kind) error {
	if !k.valid() {
		return fmt.Errorf("data: %w %v", ErrKind, k)
	}
	if o.Samples < 0 {
		return fmt.Errorf("data: %w: Samples %d is negative", ErrOption, o.Samples)
	}
	if o.SampleSeed != nil && o.Samples == 0 {
		return fmt.Errorf("data: %w: SampleSeed needs Samples > 0", ErrOption)
	}
	if (o.Mean == nil) != (o.Std == nil) {
		return fmt.Errorf("data: %w: set both Mean and Std or neither", ErrOption)
	}
	if o.Mean != nil && (len(o.Mean) == 0 || len(o.Std) == 0) {
		return fmt.Errorf("data: %w: Mean and Std must not be empty", ErrOption)
	}
	for i, s := range o.Std {
		if !(s > 0) {
			return fmt.Errorf("data: %w: Std[%d] = %v, want > 0", ErrOption, i, s)
		}
	}
	if o.Classes < 0 {
		return fmt.Errorf("data: %w: Classes %d is negative", ErrOption, o.Classes)
	}
	if o.MaxBytes < 0 {
		return fmt.Errorf("data: %w: MaxBytes %d is negative", ErrOption, o.MaxBytes)
	}
	if k != NPZ && o.Classes != 0 && o.Classes != k.Classes() {
		return fmt.Errorf("data: %w: Classes %d, but %v has %d", ErrOption, o.Classes, k, k.Classes())
	}
	return nil
}

// budget returns the memory budget, see [Options].MaxBytes.
func (o *Options) budget() int64 {
	if o.MaxBytes > 0 {
		return o.MaxBytes
	}
	return DefaultMaxBytes
}

// checkMemory checks, before anything is allocated for them, that count
// samples of sampleLen values, and held bytes besides, fit the memory
// budget.
func (o *Options) checkMemory(file string, count, sampleLen int, held int64) error {
	per := 4*int64(sampleLen) + 4
	if held <= o.budget() && int64(count) <= (o.budget()-held)/per {
		return nil
	}
	need := new(big.Int).Mul(big.NewInt(int64(count)), big.NewInt(per)) // may pass int64
	need.Add(need, big.NewInt(held))
	var also string
	if held > 0 {
		also = fmt.Sprintf(" (with the %d bytes of the decoded files)", held)
	}
	return fmt.Errorf("data: %s: %w: %d samples of %d values need %d bytes as float32%s, over the budget of %d bytes: load fewer with --samples (Options.Samples), or raise Options.MaxBytes",
		file, ErrTooLarge, count, sampleLen, need, also, o.budget())
}

// DefaultNorm returns the per-channel mean and standard deviation, in [0,1]
// units, that Load applies to kind when Options leave them unset:
//
//	cifar10        mean (125.3, 123.0, 113.9)/255, std (63.0, 62.1, 66.7)/255
//	cifar100       mean (129.3, 124.1, 112.4)/255, std (68.2, 65.4, 70.4)/255
//	mnist          mean 0.1307, std 0.3081
//	fashion-mnist  mean 0.2860, std 0.3530
//
// The CIFAR-10 constants are those of the reference implementation (Li et
// al.'s cifar10/dataloader.py); the divisions are done in float64 at run
// time, as Python does them, so the float32 values torch derives match bit
// for bit. NPZ has no default and returns nil, nil: uint8 images are then
// only scaled to [0,1].
func DefaultNorm(kind Kind) (mean, std []float64) {
	div := func(v ...float64) []float64 {
		out := make([]float64, len(v))
		d := 255.0
		for i, x := range v {
			out[i] = x / d
		}
		return out
	}
	switch kind {
	case CIFAR10:
		return div(125.3, 123.0, 113.9), div(63.0, 62.1, 66.7)
	case CIFAR100:
		return div(129.3, 124.1, 112.4), div(68.2, 65.4, 70.4)
	case MNIST:
		return []float64{0.1307}, []float64{0.3081}
	case FashionMNIST:
		return []float64{0.2860}, []float64{0.3530}
	}
	return nil, nil
}
