package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/landscape-go/landscape/internal/hugemem"
)

// idxUbyte is the IDX element type code of unsigned bytes, the only one the
// MNIST family uses.
const idxUbyte = 0x08

// maxIDXBytes bounds the data size an IDX header may declare, so that a
// corrupt header cannot ask for an absurd allocation.
const maxIDXBytes = 1 << 40

// maxIDXImage bounds the pixels of one image, which is read whole into a
// buffer: 64 Mi, far beyond any dataset of the MNIST kind.
const maxIDXImage = 1 << 26

// idxHeader is the parsed header of an IDX file.
type idxHeader struct {
	dims []int
}

// readIDXHeader reads the magic number and dimensions of an IDX stream and
// checks that it holds unsigned bytes in ndim dimensions.
func readIDXHeader(r io.Reader, name string, ndim int) (idxHeader, error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return idxHeader{}, fmt.Errorf("data: %s: %w: reading IDX magic number: %w", name, ErrFormat, eofToUnexpected(err))
	}
	if magic[0] != 0 || magic[1] != 0 {
		return idxHeader{}, fmt.Errorf("data: %s: %w: magic number %#08x is not IDX", name, ErrFormat, binary.BigEndian.Uint32(magic[:]))
	}
	if magic[2] != idxUbyte {
		return idxHeader{}, fmt.Errorf("data: %s: %w: IDX element type %#02x, want %#02x (unsigned byte)", name, ErrFormat, magic[2], idxUbyte)
	}
	if int(magic[3]) != ndim {
		return idxHeader{}, fmt.Errorf("data: %s: %w: IDX magic %#08x has %d dimensions, want %d", name, ErrFormat, binary.BigEndian.Uint32(magic[:]), magic[3], ndim)
	}
	buf := make([]byte, 4*ndim)
	if _, err := io.ReadFull(r, buf); err != nil {
		return idxHeader{}, fmt.Errorf("data: %s: %w: reading IDX dimensions: %w", name, ErrFormat, eofToUnexpected(err))
	}
	h := idxHeader{dims: make([]int, ndim)}
	size := uint64(1)
	for i := range h.dims {
		d := binary.BigEndian.Uint32(buf[4*i:])
		h.dims[i] = int(d)
		if uint64(d) > math.MaxInt || d != 0 && size > min(maxIDXBytes, math.MaxInt)/uint64(d) {
			return idxHeader{}, fmt.Errorf("data: %s: %w: IDX dimensions %v too large", name, ErrFormat, dimsUpTo(buf, i))
		}
		size *= uint64(d)
	}
	return h, nil
}

func dimsUpTo(buf []byte, i int) []uint32 {
	out := make([]uint32, i+1)
	for j := range out {
		out[j] = binary.BigEndian.Uint32(buf[4*j:])
	}
	return out
}

// eofToUnexpected turns a bare io.EOF, which reads as success to many
// callers, into io.ErrUnexpectedEOF: a header cut short is a truncated file.
func eofToUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// openMaybeGzip wraps r in a gzip reader if it starts with the gzip magic
// bytes. The returned close function releases the gzip reader.
func openMaybeGzip(r io.Reader, name string) (*bufio.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("data: %s: %w", name, err)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("data: %s: %w: gzip: %w", name, ErrFormat, err)
		}
		return bufio.NewReaderSize(zr, 64<<10), nil
	}
	return br, nil
}

// expectEOF checks that r has nothing left after the data its header
// declared.
func expectEOF(r io.Reader, name string, declared uint64) error {
	var b [1]byte
	n, err := io.ReadFull(r, b[:])
	if n > 0 {
		return fmt.Errorf("data: %s: %w: trailing data after the %d bytes the IDX header declares", name, ErrFormat, declared)
	}
	if err != io.EOF {
		return fmt.Errorf("data: %s: %w: %w", name, ErrFormat, err)
	}
	return nil
}

// ReadIDX reads an MNIST-style dataset from two IDX streams, images (an
// N×H×W unsigned-byte array, magic 0x00000803) and labels (N unsigned bytes,
// magic 0x00000801), each gzipped or not; gzip is recognised by its magic
// bytes. kind must be MNIST or FashionMNIST and decides the default
// normalisation; split only labels the result. opts selects samples and
// normalisation as for [Load].
//
// The label stream is read whole (one byte per sample); the image stream is
// read once, converting only the selected images.
func ReadIDX(images, labels io.Reader, kind Kind, split string, opts *Options) (*Dataset, error) {
	return readIDX(images, labels, "images", "labels", kind, split, opts)
}

func readIDX(images, labels io.Reader, imgName, lblName string, kind Kind, split string, opts *Options) (*Dataset, error) {
	if kind != MNIST && kind != FashionMNIST {
		return nil, fmt.Errorf("data: %w: IDX files hold mnist or fashion-mnist, not %v", ErrKind, kind)
	}
	if err := checkSplit(split); err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &Options{}
	}
	if err := opts.check(kind); err != nil {
		return nil, err
	}

	// Labels first: they are small, and they give the count to check the
	// images against.
	lr, err := openMaybeGzip(labels, lblName)
	if err != nil {
		return nil, err
	}
	lh, err := readIDXHeader(lr, lblName, 1)
	if err != nil {
		return nil, err
	}
	n := lh.dims[0]
	lab, err := io.ReadAll(io.LimitReader(lr, int64(n)))
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w: %w", lblName, ErrFormat, err)
	}
	if len(lab) != n {
		return nil, fmt.Errorf("data: %s: %w: truncated: header declares %d labels, file holds %d", lblName, ErrFormat, n, len(lab))
	}
	if err := expectEOF(lr, lblName, uint64(n)); err != nil {
		return nil, err
	}
	classes := kind.Classes()
	for i, l := range lab {
		if int(l) >= classes {
			return nil, fmt.Errorf("data: %s: %w: label %d of sample %d, want < %d", lblName, ErrLabel, l, i, classes)
		}
	}

	ir, err := openMaybeGzip(images, imgName)
	if err != nil {
		return nil, err
	}
	ih, err := readIDXHeader(ir, imgName, 3)
	if err != nil {
		return nil, err
	}
	if ih.dims[0] != n {
		return nil, fmt.Errorf("data: %s: %w: %d images, but %s holds %d labels", imgName, ErrFormat, ih.dims[0], lblName, n)
	}
	h, w := ih.dims[1], ih.dims[2]
	if n > 0 && (h == 0 || w == 0 || h*w > maxIDXImage) {
		return nil, fmt.Errorf("data: %s: %w: image size %d×%d", imgName, ErrFormat, h, w)
	}
	sel, err := selectSamples(n, opts, imgName)
	if err != nil {
		return nil, err
	}
	mean, std, err := resolveNorm(kind, opts, 1, imgName)
	if err != nil {
		return nil, err
	}
	norm := newNormalizer(1, h*w, mean, std)

	count := sel.count(n)
	sz := h * w
	if err := opts.checkMemory(imgName, count, sz, 0); err != nil {
		return nil, err
	}
	d := &Dataset{
		Name: kind.String(), Split: split,
		N: count, C: 1, H: h, W: w,
		Classes: classes,
		// The label stream really held n labels, but the image stream
		// may hold fewer images than its header declares: the capacity
		// is bounded (full MNIST fits), and X grows as images arrive.
		X:       hugemem.Float32s(min(count*sz, 1<<26))[:0],
		Y:       make([]int32, 0, count),
		Indices: sel.indices(),
		Total:   n,
		Mean:    mean, Std: std,
	}
	buf := make([]byte, sz)
	next := 0 // position in sel of the next wanted image
	for i := range n {
		if sel != nil && (next == len(sel) || sel[next] != i) {
			if next == len(sel) {
				// Nothing more is wanted, but the rest of the file
				// is still checked for length.
				if _, err := ir.Discard(sz * (n - i)); err != nil {
					return nil, truncatedIDX(imgName, err, i, n, h, w)
				}
				break
			}
			if _, err := ir.Discard(sz); err != nil {
				return nil, truncatedIDX(imgName, err, i, n, h, w)
			}
			continue
		}
		next++
		if _, err := io.ReadFull(ir, buf); err != nil {
			return nil, truncatedIDX(imgName, err, i, n, h, w)
		}
		off := len(d.X)
		d.X = slices.Grow(d.X, sz)[:off+sz]
		norm.convert(d.X[off:], buf)
		d.Y = append(d.Y, int32(lab[i]))
	}
	if err := expectEOF(ir, imgName, uint64(n)*uint64(sz)); err != nil {
		return nil, err
	}
	return d, nil
}

func truncatedIDX(name string, err error, i, n, h, w int) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("data: %s: %w: truncated at image %d: header declares %d images of %d×%d", name, ErrFormat, i, n, h, w)
	}
	return fmt.Errorf("data: %s: %w: %w", name, ErrFormat, err)
}

// idxFileNames returns the base names of the images and labels files of a
// split, without the .gz some distributions add.
func idxFileNames(split string) (images, labels string) {
	p := "train"
	if split == Test {
		p = "t10k"
	}
	return p + "-images-idx3-ubyte", p + "-labels-idx1-ubyte"
}

// idxDirs returns the folders, in order, where loadIDX looks for the files:
// the folder itself, its raw/ subfolder, and torchvision's root layout.
func idxDirs(kind Kind, dir string) []string {
	sub := "MNIST"
	if kind == FashionMNIST {
		sub = "FashionMNIST"
	}
	return []string{dir, filepath.Join(dir, "raw"), filepath.Join(dir, sub, "raw")}
}

// findIDXFile returns the path of base in dir under one of its spellings:
// base, base.gz, or with the dot that some copies use before idx
// (train-images.idx3-ubyte), gzipped or not.
func findIDXFile(dir, base string) (string, bool) {
	dotted := strings.Replace(base, "-idx", ".idx", 1)
	for _, name := range []string{base + ".gz", base, dotted + ".gz", dotted} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, true
		}
	}
	return "", false
}

func loadIDX(spec Spec, split string, opts *Options) (*Dataset, error) {
	if _, err := os.Stat(spec.Path); err != nil {
		return nil, fmt.Errorf("data: %v: %w", spec, err)
	}
	imgBase, lblBase := idxFileNames(split)
	dirs := idxDirs(spec.Kind, spec.Path)
	for _, dir := range dirs {
		imgPath, ok := findIDXFile(dir, imgBase)
		if !ok {
			continue
		}
		lblPath, ok := findIDXFile(dir, lblBase)
		if !ok {
			return nil, fmt.Errorf("data: %v: found %s but no %s[.gz] beside it: %w", spec, imgPath, filepath.Join(dir, lblBase), fs.ErrNotExist)
		}
		return readIDXFiles(imgPath, lblPath, spec.Kind, split, opts)
	}
	return nil, fmt.Errorf("data: %v: no %s[.gz] in %s: %w", spec, imgBase, strings.Join(dirs, ", "), fs.ErrNotExist)
}

func readIDXFiles(imgPath, lblPath string, kind Kind, split string, opts *Options) (*Dataset, error) {
	imgs, err := os.Open(imgPath)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer imgs.Close()
	lbls, err := os.Open(lblPath)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer lbls.Close()
	return readIDX(imgs, lbls, imgPath, lblPath, kind, split, opts)
}
