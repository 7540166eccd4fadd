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
// Entries whose names do not end in ".npy" are skipped.
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
	z, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("npy: npz: %v: %w", err, ErrFormat)
	}
	var out Archive
	seen := map[string]bool{}
	for _, e := range z.File {
		name, ok := strings.CutSuffix(e.Name, ".npy")
		if !ok || e.FileInfo().IsDir() {
			continue
		}
		if seen[name] {
			return nil, fmt.Errorf("npy: npz: duplicate entry %s: %w", e.Name, ErrFormat)
		}
		seen[name] = true
		a, err := readEntry(e)
		if err != nil {
			return nil, &prefixed{"npy: npz entry " + e.Name + ": ", err}
		}
		out = append(out, Named{Name: name, Array: a})
	}
	return out, nil
}

func readEntry(e *zip.File) (*Array, error) {
	rc, err := e.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	a, err := Read(rc)
	if err != nil {
		return nil, err
	}
	// Reading to the end makes archive/zip verify the entry's checksum.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return nil, err
	}
	return a, nil
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
