package npz

import (
	"fmt"
	"io"
	"os"

	"github.com/landscape-go/landscape/internal/npy"
	"github.com/landscape-go/landscape/nets"
)

// Read reads the .npz checkpoint at path, as numpy.savez or
// numpy.savez_compressed wrote it, and returns a state dict whose names are
// the array names, in archive order, with every array converted to float32
// (the original type is recorded in DType).
func Read(path string) (*nets.StateDict, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("npz: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("npz: %w", err)
	}
	sd, err := read(f, st.Size(), npy.DecodeLimit(st.Size()))
	if err != nil {
		return nil, fmt.Errorf("npz: %s: %w", path, err)
	}
	return sd, nil
}

// ReadFrom reads an .npz checkpoint of the given size from r; see [Read].
func ReadFrom(r io.ReaderAt, size int64) (*nets.StateDict, error) {
	sd, err := read(r, size, npy.DecodeLimit(size))
	if err != nil {
		return nil, fmt.Errorf("npz: %w", err)
	}
	return sd, nil
}

// read reads an archive whose arrays may hold limit bytes in all, and as
// float32 limit bytes again.
func read(r io.ReaderAt, size, limit int64) (*nets.StateDict, error) {
	arrays, err := npy.ReadNPZLimit(r, size, limit)
	if err != nil {
		return nil, err
	}
	left := limit
	for _, a := range arrays {
		n := 4 * int64(a.Array.Len())
		if n > left {
			return nil, fmt.Errorf("%s: %d values need %d bytes as float32, %d left of the limit of %d for a %d-byte archive: %w",
				a.Name, a.Array.Len(), n, left, limit, size, npy.ErrTooLarge)
		}
		left -= n
	}
	sd := &nets.StateDict{}
	for _, a := range arrays {
		data, err := a.Array.Float32()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.Name, err)
		}
		sd.Set(a.Name, &nets.Tensor{Shape: a.Array.Shape, Data: data, DType: a.Array.DType})
	}
	return sd, nil
}
