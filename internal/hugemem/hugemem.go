// Package hugemem allocates the large buffers that a run fills once, from
// start to end, and reads many times: model files read whole, decoded
// weights, datasets.
//
// Filling fresh memory costs a page fault per page touched. With 4 KiB
// pages that is 25,000 faults for 100 MB, and on a virtual machine each
// fault is a trip through the hypervisor: reading a 45 MB ONNX file into
// fresh memory measured 67 to 130 ms on this project's two-core VM, and 10
// to 16 ms where Linux backed the buffer with 2 MiB transparent huge pages.
// Linux gives those only where asked (transparent_hugepage "madvise", the
// common default), so the buffers here ask. Elsewhere, or where Linux
// declines, they are ordinary memory: the advice changes no value.
//
// The buffers that several streams read side by side at the same offsets
// (a network's activations, packed weights) are better left on small
// pages: huge pages line such arrays up on the same cache sets, and a
// training step measured slower with them.
package hugemem

import (
	"fmt"
	"io"
	"os"
	"unsafe"
)

// minSize is the smallest buffer worth the advice: one that spans a whole
// huge page whatever its alignment.
const minSize = 2 * hugePage

const hugePage = 2 << 20

// Bytes returns n zero bytes, on huge pages where the system allows.
func Bytes(n int) []byte {
	b := make([]byte, n)
	if n >= minSize {
		advise(unsafe.Pointer(unsafe.SliceData(b)), uintptr(n))
	}
	return b
}

// Float32s returns n zero float32s, on huge pages where the system allows.
func Float32s(n int) []float32 {
	f := make([]float32, n)
	if 4*n >= minSize {
		advise(unsafe.Pointer(unsafe.SliceData(f)), uintptr(4*n))
	}
	return f
}

// ReadFile reads the file at path whole, as os.ReadFile does, into a
// buffer from Bytes.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size != int64(int(size)) {
		return nil, fmt.Errorf("%s: %d bytes do not fit in memory", path, size)
	}
	b := Bytes(int(size))
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// A file that grew since Stat is read on, as os.ReadFile would.
	rest, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return append(b, rest...), nil
}
