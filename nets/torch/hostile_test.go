package torch

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Hostile checkpoints are built here from hand-written pickles rather
// than committed: a few of them would be gigabytes to decode.

func le32(i int) string { return string(binary.LittleEndian.AppendUint32(nil, uint32(i))) }

// manyViews pickles a state dict of n tensors w0, w1, ..., each the view
// (offset 0, size, stride) of the same FloatStorage 'k' of numel elements.
func manyViews(n int, numel, size, stride string) string {
	var b strings.Builder
	b.WriteString("\x80\x02}(")
	for i := range n {
		name := fmt.Sprintf("w%d", i)
		b.WriteString("X" + le32(len(name)) + name + tensorExpr(numel, "K\x00", size, stride))
	}
	b.WriteString("u.")
	return b.String()
}

// floats returns a legacy storage record of n float32 values: the element
// count and the bytes.
func floats(n int) []byte {
	return append(binary.LittleEndian.AppendUint64(nil, uint64(n)), make([]byte, 4*n)...)
}

type zipEntry struct {
	name   string
	body   []byte
	zeros  int // zero bytes written after body
	method uint16
}

// zipFile writes entries into a zip archive.
func zipFile(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: e.method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.body); err != nil {
			t.Fatal(err)
		}
		for n := e.zeros; n > 0; n -= 1 << 20 {
			if _, err := w.Write(make([]byte, min(n, 1<<20))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// A checkpoint that decodes to gigabytes from kilobytes (stride-0 views,
// one storage under many names, a deflated storage) is refused before the
// memory is allocated, with an error naming the tensor or storage and the
// sizes. Tensors that really share a storage, as tied weights do, load.
func TestAmplifyingCheckpointsAreRefusedBeforeAllocating(t *testing.T) {
	t.Parallel()
	const sixteenMi = "J\x00\x00\x00\x01" // 1 << 24
	const oneMi = "J\x00\x00\x10\x00"     // 1 << 20
	tests := []struct {
		name   string
		file   func(testing.TB) []byte
		substr string // in the message
	}{
		{"200 stride-0 views of one element", func(testing.TB) []byte {
			// 12.8 GB of float32 from 11 KB: it used to be decoded.
			return legacyFile(manyViews(200, "K\x04", sixteenMi+"\x85", "K\x00\x85"), []string{"k"}, floats(4))
		}, "w4, 16777216 values as float32, needs 67108864 bytes, with 268435472 decoded before: over the limit of "},
		{"one 4 MB storage under 200 names", func(testing.TB) []byte {
			return legacyFile(manyViews(200, oneMi, oneMi+"\x85", "K\x01\x85"), []string{"k"}, floats(1<<20))
		}, "w95, 1048576 values as float32, needs 4194304 bytes, with 402653184 decoded before"},
		{"a deflated storage of 300 MiB", func(t testing.TB) []byte {
			const n = 300 << 20
			return zipFile(t,
				zipEntry{name: "a/data.pkl", body: []byte(tensorPickle("J"+le32(n/4), "K\x00", "K\x01\x85", "K\x01\x85"))},
				zipEntry{name: "a/data/k", zeros: n, method: zip.Deflate})
		}, "w: storage k (a/data/k) needs 314572800 bytes, with 4 decoded before: over the limit of "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := tt.file(t)
			_, err := Read(bytes.NewReader(b), int64(len(b)))
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), tt.substr) ||
				!strings.Contains(err.Error(), fmt.Sprintf("for a %d-byte file", len(b))) {
				t.Fatalf("err = %v, want ErrTooLarge mentioning %q", err, tt.substr)
			}
			t.Log(err)
			if strings.HasPrefix(tt.name, "a deflated") {
				return
			}
			// ReadLegacy does not know the size: it counts the bytes read.
			if _, err := ReadLegacy(bytes.NewReader(b)); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("ReadLegacy: %v", err)
			}
		})
	}

	// Tied weights: three names for one 4 MB storage.
	b := legacyFile(manyViews(3, oneMi, oneMi+"\x85", "K\x01\x85"), []string{"k"}, floats(1<<20))
	sd, err := Read(bytes.NewReader(b), int64(len(b)))
	if err != nil || sd.Len() != 3 {
		t.Fatalf("tied weights: %v", err)
	}
}

// The data.pkl of a zip checkpoint may claim at most 1024 times the file
// and never more than 256 MiB.
func TestOversizedDataPklIsRefused(t *testing.T) {
	t.Parallel()
	big := func(claim uint64, pad int) []byte {
		var out bytes.Buffer
		zw := zip.NewWriter(&out)
		w, err := zw.CreateRaw(&zip.FileHeader{Name: "a/data.pkl", Method: zip.Deflate, CompressedSize64: 2, UncompressedSize64: claim})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte{3, 0}) // an empty deflate stream
		w, _ = zw.CreateHeader(&zip.FileHeader{Name: "a/padding", Method: zip.Store})
		w.Write(make([]byte, pad))
		zw.Close()
		return out.Bytes()
	}
	small, large := big(1<<20, 0), big(300<<20, 300<<10)
	for _, tt := range []struct {
		file []byte
		want string
	}{
		{small, fmt.Sprintf("a/data.pkl claims 1048576 bytes, over the limit of %d for a %d-byte file", 1024*len(small), len(small))},
		{large, fmt.Sprintf("a/data.pkl claims 314572800 bytes, over the limit of 268435456 for a %d-byte file (1024 × its size, at most 256 MiB)", len(large))},
	} {
		_, err := Read(bytes.NewReader(tt.file), int64(len(tt.file)))
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("err = %v, want %q", err, tt.want)
		}
	}
}

// A zip entry whose bytes do not match its CRC-32 is refused: the
// checksum error used to be dropped, and the corrupt weights loaded.
func TestZipChecksumMismatchIsRefused(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/bare_zip.pt")
	if err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range z.File {
		if f.Name != "bare_zip/data/0" && f.Name != "bare_zip/data.pkl" {
			continue
		}
		off, err := f.DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		bad := slices.Clone(b)
		bad[off+int64(f.CompressedSize64)-1] ^= 1 // the last byte
		_, err = Read(bytes.NewReader(bad), int64(len(bad)))
		if !errors.Is(err, ErrFormat) || !errors.Is(err, zip.ErrChecksum) || !strings.Contains(err.Error(), f.Name+": zip: checksum error") {
			t.Errorf("%s with a byte flipped: err = %v", f.Name, err)
		}
	}
}

// An archive naming an entry twice is refused, naming it: which of the
// two a reader takes is anyone's guess.
func TestDuplicateZipEntryIsRefused(t *testing.T) {
	t.Parallel()
	pkl := []byte(tensorPickle("K\x01", "K\x00", "K\x01\x85", "K\x01\x85"))
	b := zipFile(t,
		zipEntry{name: "a/data.pkl", body: pkl},
		zipEntry{name: "a/data/k", body: make([]byte, 4)},
		zipEntry{name: "a/data/k", body: []byte{0, 0, 0x80, 0x3f}})
	_, err := Read(bytes.NewReader(b), int64(len(b)))
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "zip entry a/data/k appears twice") {
		t.Fatalf("err = %v", err)
	}
}

// Messages quoting pickled values stay short whatever the values: here a
// size argument that is a billion-laughs tuple of 2^60 leaves.
func TestMessagesQuotingHostileValuesStayShort(t *testing.T) {
	t.Parallel()
	var laughs strings.Builder
	laughs.WriteString(")r\x00\x00\x00\x00")
	for i := 1; i <= 60; i++ {
		laughs.WriteString("0j" + le32(i-1) + "j" + le32(i-1) + "\x86r" + le32(i))
	}
	file := legacyFile(tensorPickle("K\x04", "K\x00", laughs.String(), "K\x01\x85"), []string{"k"}, floats(4))
	_, err := Read(bytes.NewReader(file), int64(len(file)))
	if !errors.Is(err, ErrFormat) || len(err.Error()) > 1<<15 || !strings.Contains(err.Error(), "size (((((") {
		t.Fatalf("err = %.300v (%d bytes)", err, len(err.Error()))
	}
}

// torch.save(..., pickle_protocol=1) writes pickles that do not open with
// 0x80: the file starts with the magic number as decimal text.
func TestProtocol1CheckpointsLoad(t *testing.T) {
	t.Parallel()
	var want []wantTensor
	b, err := os.ReadFile("testdata/protocol1_legacy.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "protocol1_legacy.pt")
	head, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !LegacyMagic(head) {
		t.Errorf("LegacyMagic(%q...) = false", head[:30])
	}
	sd, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 || sd.Len() != len(want) {
		t.Fatalf("%d tensors, want %d", sd.Len(), len(want))
	}
	for _, w := range want {
		g, ok := sd.Get(w.Name)
		if !ok || !slices.Equal(g.Shape, w.Shape) || g.DType != w.DType {
			t.Fatalf("%s: %v", w.Name, g)
		}
		for i, v := range w.Data {
			if math.Abs(float64(g.Data[i])-v) > 0 {
				t.Fatalf("%s[%d] = %v, want %v", w.Name, i, g.Data[i], v)
			}
		}
	}
}

// LegacyMagic accepts a binary pickle's opening and PyTorch's magic number
// as protocols 0 and 1 write it, and refuses another number, a zip archive
// and an empty head.
func TestLegacyMagicRecognisesBinaryAndTextOpenings(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		head string
		want bool
	}{
		{"\x80\x02\x8a\x0a", true},
		{"\x80\x05\x95", true},
		{"L119547037146038801333356L\n.M\xe9\x03.", true},
		{"L119547037146038801333357L\n.", false},
		{"\x80\x01", false},
		{"PK\x03\x04", false},
		{"", false},
	} {
		if got := LegacyMagic([]byte(tt.head)); got != tt.want {
			t.Errorf("LegacyMagic(%q) = %v", tt.head, got)
		}
	}
}
