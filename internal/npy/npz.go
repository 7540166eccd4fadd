package npy

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"strings"
)

// Named is one array of an .npz archive.
type Named struct {
	// Name is the entry name without its ".npy" suffix, the keyword
	// numpy.savez was given ("x_train", "conv1.weight").
	Name  string
	Array *Array
}

// Archive is the content of an .npz file, in the order of its entries.
type Archive []Named

// Get returns the array called name.
func (a Archive) Get(name string) (*Array, bool) {
	for _, n := range a {
		if n.Name == name {
			return n.Array, true
		}
	}
	return nil, false
}

// Names returns the array names in order.
func (a Archive) Names() []string {
	names := make([]string, len(a))
	for i, n := range a {
		names[i] = n.Name
	}
	return names
}

// ReadNPZ reads every array of the .npz file at path, as written by
// numpy.savez (entries stored) or numpy.savez_compressed (deflated).
// Entries whose names do not end in ".npy" are skipped. The arrays may
// hold [DecodeLimit] bytes in all, for the size of the file.
func ReadNPZ(path string) (Archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	a, err := ReadNPZFrom(f, st.Size())
	if err != nil {
		return nil, &prefixed{"npy: " + path + ": ", err}
	}
	return a, nil
}

// ReadNPZFrom reads every array of an .npz archive of the given size from
// r; see [ReadNPZ].
func ReadNPZFrom(r io.ReaderAt, size int64) (Archive, error) {
	return ReadNPZLimit(r, size, DecodeLimit(size))
}

// Limits on the bytes ReadNPZ decodes; see [DecodeLimit].
const (
	MaxDecodedBytes = 16 << 30
	decodeRatio     = 32
	decodeSlack     = 256 << 20
)

// DecodeLimit returns the most array bytes [ReadNPZ] decodes from an
// archive of size bytes: 32 times its size plus 256 MiB, and at most
// [MaxDecodedBytes] (16 GiB). Stored arrays take about the archive's size,
// and real arrays (weights, images) deflate by a few times at most; a
// deflated entry of zeros, though, expands a thousandfold, so that a
// 1 MB archive could otherwise demand gigabytes.
func DecodeLimit(size int64) int64 {
	if size >= (MaxDecodedBytes-decodeSlack)/decodeRatio {
		return MaxDecodedBytes
	}
	return decodeRatio*size + decodeSlack
}

// ReadNPZLimit reads every array of an .npz archive of the given size
// from r, as [ReadNPZFrom] does, but lets the arrays hold limit bytes in
// all rather than [DecodeLimit](size). An array beyond the limit is an
// error wrapping [ErrTooLarge], found from its header before its elements
// are read.
func ReadNPZLimit(r io.ReaderAt, size, limit int64) (Archive, error) {
	entries, err := Entries(r, size)
	if err != nil {
		return nil, err
	}
	var out Archive
	left := limit
	for _, e := range entries {
		a, err := readEntry(e.File, func(h *Header) error {
			if h.DataLen > left {
				return fmt.Errorf("npy: %s%v needs %d bytes, %d left of the limit of %d for a %d-byte archive (32 × its size + 256 MiB, at most 16 GiB): %w",
					h.DType, h.Shape, h.DataLen, left, limit, size, ErrTooLarge)
			}
			left -= h.DataLen
			return nil
		})
		if err != nil {
			return nil, &prefixed{"npy: npz entry " + e.File.Name + ": ", err}
		}
		out = append(out, Named{Name: e.Name, Array: a})
	}
	return out, nil
}

// Entry is one .npy entry of an .npz archive.
type Entry struct {
	Name string // the array name, the entry name without ".npy"
	File *zip.File
}

// Entries returns the .npy entries of an .npz archive of the given size,
// in archive order, without reading them; [OpenEntry] reads one. Entries
// whose names do not end in ".npy" are skipped, and an array name given
// twice is an error.
func Entries(r io.ReaderAt, size int64) ([]Entry, error) {
	z, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("npy: npz: %v: %w", err, ErrFormat)
	}
	var out []Entry
	seen := map[string]bool{}
	for _, f := range z.File {
		name, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok || f.FileInfo().IsDir() {
			continue
		}
		if seen[name] {
			return nil, fmt.Errorf("npy: npz: duplicate entry %s: %w", f.Name, ErrFormat)
		}
		seen[name] = true
		out = append(out, Entry{Name: name, File: f})
	}
	return out, nil
}

// OpenEntry opens the .npy entry e of an .npz archive and reads its
// header, checking that the elements it claims fit in the entry. The
// caller reads the elements from rc, as much of them as it needs, and
// closes rc; reading rc to its end makes archive/zip check the entry's
// CRC-32.
func OpenEntry(e *zip.File) (h *Header, rc io.ReadCloser, err error) {
	rc, err = e.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("npy: %w: %w", err, ErrFormat)
	}
	h, err = ReadHeader(rc)
	if err == nil && uint64(h.Len)+uint64(h.DataLen) != e.UncompressedSize64 {
		err = fmt.Errorf("npy: %s%v takes %d bytes with its header, but the entry holds %d: %w",
			h.DType, h.Shape, h.Len+h.DataLen, e.UncompressedSize64, ErrFormat)
	}
	if err != nil {
		rc.Close()
		return nil, nil, err
	}
	return h, rc, nil
}

// readEntry reads the array of e, calling check with its header before
// reading the elements.
func readEntry(e *zip.File, check func(*Header) error) (*Array, error) {
	h, rc, err := OpenEntry(e)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if err := check(h); err != nil {
		return nil, err
	}
	data, err := readBounded(rc, h.DataLen)
	if err != nil {
		return nil, fmt.Errorf("npy: reading %d bytes of %s%v: %w", h.DataLen, h.DType, h.Shape, err)
	}
	// The entry ends with the array; reading its end makes archive/zip
	// check the CRC-32.
	var extra [1]byte
	switch n, err := io.ReadFull(rc, extra[:]); {
	case n > 0:
		return nil, fmt.Errorf("npy: data after the %d bytes of %s%v: %w", h.DataLen, h.DType, h.Shape, ErrFormat)
	case err != io.EOF:
		return nil, fmt.Errorf("npy: %w: %w", err, ErrFormat)
	}
	return FromBytes(h.Descr, h.Shape, h.Fortran, data)
}

// WriteNPZ writes arrays to w as an uncompressed .npz archive, each under
// its name with ".npy" appended, as numpy.savez does.
func WriteNPZ(w io.Writer, arrays Archive) error {
	z := zip.NewWriter(w)
	for _, n := range arrays {
		fw, err := z.CreateHeader(&zip.FileHeader{Name: n.Name + ".npy", Method: zip.Store})
		if err != nil {
			return fmt.Errorf("npy: npz entry %s: %w", n.Name, err)
		}
		if err := WriteArray(fw, n.Array); err != nil {
			return fmt.Errorf("npy: npz entry %s: %w", n.Name, err)
		}
	}
	if err := z.Close(); err != nil {
		return fmt.Errorf("npy: npz: %w", err)
	}
	return nil
}

// prefixed adds context to an error from this package without repeating
// the "npy: " prefix, and keeps it available to [errors.Is].
type prefixed struct {
	prefix string
	err    error
}

func (e *prefixed) Error() string { return e.prefix + strings.TrimPrefix(e.err.Error(), "npy: ") }
func (e *prefixed) Unwrap() error { return e.err }
