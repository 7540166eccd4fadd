package npy

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
)

// bombNPZ writes an archive whose x.npy is a uint8 array of n zeros,
// deflated (a thousandfold) or stored, written without holding n bytes.
func bombNPZ(t testing.TB, n int, method uint16) []byte {
	t.Helper()
	var out bytes.Buffer
	z := zip.NewWriter(&out)
	z.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	w, err := z.CreateHeader(&zip.FileHeader{Name: "x.npy", Method: method})
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteArray(w, &Array{Shape: []int{n}, DType: "uint8"}); err != nil { // the header alone
		t.Fatal(err)
	}
	for left := n; left > 0; left -= 1 << 20 {
		if _, err := w.Write(make([]byte, min(left, 1<<20))); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// A deflated entry of 300 MiB of zeros in a 300 KB archive is refused
// before its elements are read: it used to be decoded whole.
func TestNPZDeflateBombIsRefusedBeforeDecoding(t *testing.T) {
	t.Parallel()
	b := bombNPZ(t, 300<<20, zip.Deflate)
	_, err := ReadNPZFrom(bytes.NewReader(b), int64(len(b)))
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "npy: npz entry x.npy: uint8[314572800] needs 314572800 bytes") {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
	if DecodeLimit(int64(len(b))) >= 300<<20 || DecodeLimit(1<<40) != MaxDecodedBytes {
		t.Fatalf("DecodeLimit(%d) = %d", len(b), DecodeLimit(int64(len(b))))
	}
	// Stored, the same array is as large as its archive: it loads.
	small := bombNPZ(t, 1<<20, zip.Store)
	if a, err := ReadNPZFrom(bytes.NewReader(small), int64(len(small))); err != nil || a[0].Array.Len() != 1<<20 {
		t.Fatalf("a stored 1 MiB array: %v", err)
	}
}

// An entry whose header claims more (or fewer) bytes than the entry holds
// is refused before the elements are read, and so is an entry whose
// CRC-32 does not match.
func TestNPZEntryOfWrongSizeOrChecksumIsRefused(t *testing.T) {
	t.Parallel()
	good, err := os.ReadFile("testdata/stored.npz")
	if err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(good), int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	f := z.File[0]
	off, err := f.DataOffset()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		edit   func(b []byte)
		want   error
		substr string
	}{
		{"last byte flipped", func(b []byte) { b[off+int64(f.CompressedSize64)-1] ^= 1 }, zip.ErrChecksum, "zip: checksum error"},
		{"shape claims more", func(b []byte) {
			i := bytes.Index(b, []byte("'shape': (2, 3)"))
			copy(b[i:], "'shape': (2, 4)")
		}, ErrFormat, "float32[2 4] takes 160 bytes with its header, but the entry holds 152"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := slices.Clone(good)
			tt.edit(b)
			_, err := ReadNPZFrom(bytes.NewReader(b), int64(len(b)))
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.substr) || !strings.Contains(err.Error(), f.Name) {
				t.Fatalf("err = %v, want %v and %q", err, tt.want, tt.substr)
			}
		})
	}
}
