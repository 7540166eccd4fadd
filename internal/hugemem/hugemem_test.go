package hugemem

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// The buffers are ordinary zeroed memory of the length asked, whether or
// not the advice took, on both sides of the size worth advising.
func TestBuffersAreZeroedAndSized(t *testing.T) {
	for _, n := range []int{0, 1, minSize/4 - 1, minSize / 4, minSize - 1, minSize, minSize + 12345, 3 * minSize} {
		b := Bytes(n)
		zeroed(t, "Bytes", b, n)
		zeroed(t, "Float32s", Float32s(n), n)
		// Every byte is memory of the buffer's own: written and read back.
		for i := range b {
			b[i] = byte(i)
		}
		for i := range b {
			if b[i] != byte(i) {
				t.Fatalf("Bytes(%d)[%d] reads back %d", n, i, b[i])
			}
		}
	}
}

// zeroed fails t unless buf, from fn(n), holds n zeros.
func zeroed[T byte | float32](t *testing.T, fn string, buf []T, n int) {
	t.Helper()
	if len(buf) != n {
		t.Fatalf("%s(%d): %d values", fn, n, len(buf))
	}
	for i, v := range buf {
		if v != 0 {
			t.Fatalf("%s(%d)[%d] = %v", fn, n, i, v)
		}
	}
}

// ReadFile reads what os.ReadFile reads, and fails where it fails.
func TestReadFileIsOSReadFile(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 4096, minSize + 7, 3 * minSize} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		path := filepath.Join(dir, "f")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(path)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: read %d bytes, not the file's", n, len(got))
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Fatalf("a missing file: %v, want a not-exist error", err)
	}
}
