package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/nets"
)

type wantTensor struct {
	Name  string    `json:"name"`
	Shape []int     `json:"shape"`
	DType string    `json:"dtype"`
	Data  []float64 `json:"data"`
}

// Every fixture reads as expected.json records it: its tensors in the
// order of their data, with their shapes, dtypes and values, and its
// metadata.
func TestReadGivesFixtureTensorsAndMetadata(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string][]wantTensor
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	metas := map[string]map[string]string{
		"mixed.safetensors":  {"format": "pt", "note": "café"},
		"nometa.safetensors": nil,
	}
	for name, ws := range want {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sd, meta, err := Read(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(meta, metas[name]) {
				t.Errorf("metadata %v, want %v", meta, metas[name])
			}
			if sd.Len() != len(ws) {
				t.Fatalf("names %v, want %d tensors", sd.Names(), len(ws))
			}
			for i, w := range ws {
				if sd.Names()[i] != w.Name {
					t.Fatalf("tensor %d is %s, want %s (data order)", i, sd.Names()[i], w.Name)
				}
				g, _ := sd.Get(w.Name)
				if !slices.Equal(g.Shape, w.Shape) || g.DType != w.DType || len(g.Data) != len(w.Data) {
					t.Fatalf("%s: %v %s %d values, want %v %s %d", w.Name, g.Shape, g.DType, len(g.Data), w.Shape, w.DType, len(w.Data))
				}
				for j, v := range w.Data {
					if math.Abs(float64(g.Data[j])-v) > 1e-6 {
						t.Fatalf("%s[%d] = %v, want %v", w.Name, j, g.Data[j], v)
					}
				}
			}
		})
	}
}

// A file Write wrote reads back with the same names, shapes, values (as
// float32) and metadata; no temporary file is left beside it, and its
// header length is a multiple of 8.
func TestWriteRoundTrip(t *testing.T) {
	t.Parallel()
	src, _, err := Read("testdata/mixed.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "out.safetensors")
	meta := map[string]string{"b": "2", "a": "\"quoted\"\n"}
	if err := Write(path, src, meta); err != nil {
		t.Fatal(err)
	}
	got, gotMeta, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(gotMeta, meta) {
		t.Errorf("metadata %v, want %v", gotMeta, meta)
	}
	if !slices.Equal(got.Names(), src.Names()) {
		t.Fatalf("names %v, want %v", got.Names(), src.Names())
	}
	for _, n := range src.Names() {
		a, _ := src.Get(n)
		b, _ := got.Get(n)
		want := "float32" // every float type is written as float32; int64 stays
		if a.DType == "int64" {
			want = "int64"
		}
		if !slices.Equal(a.Shape, b.Shape) || !slices.Equal(a.Data, b.Data) || b.DType != want {
			t.Fatalf("%s: %v %v %s, want %v %v %s", n, b.Shape, b.Data, b.DType, a.Shape, a.Data, want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
	// Header is 8-byte aligned.
	raw, _ := os.ReadFile(path)
	if binary.LittleEndian.Uint64(raw)%8 != 0 {
		t.Error("header length not a multiple of 8")
	}
}

// Write refuses a tensor whose data does not fill its shape, naming it and
// leaving no file behind, and fails to write into a missing folder.
func TestWriteFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.safetensors")
	sd := &nets.StateDict{}
	sd.Set("w", &nets.Tensor{Shape: []int{3}, Data: []float32{1, 2}})
	if err := Write(path, sd, nil); err == nil || !strings.Contains(err.Error(), "w: shape [3]") {
		t.Fatalf("err = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("files left: %v", entries)
	}
	if err := Write(filepath.Join(dir, "missing", "x.safetensors"), sd, nil); err == nil {
		t.Fatal("write into a missing folder succeeded")
	}
}

// file assembles a safetensors file from a header and data.
func file(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// Malformed headers, offsets, shapes and dtypes are refused with ErrFormat
// or ErrDType, after the package prefix.
func TestMalformedFilesAreRefusedWithThePackagePrefix(t *testing.T) {
	t.Parallel()
	eight := make([]byte, 8)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrFormat},
		{"short", []byte{1, 2, 3}, ErrFormat},
		{"header beyond file", file(`{}`, nil)[:9], ErrFormat},
		{"huge header length", append(binary.LittleEndian.AppendUint64(nil, 1<<62), '{'), ErrFormat},
		{"not json", file(`{"a":`, nil), ErrFormat},
		{"not an object", file(`[1,2]`, nil), ErrFormat},
		{"trailing garbage", file(`{} x`, nil), ErrFormat},
		{"unknown dtype", file(`{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}`, eight), ErrDType},
		{"float8", file(`{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}`, eight), ErrDType},
		{"size mismatch", file(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, eight), ErrFormat},
		{"offsets beyond data", file(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, eight), ErrFormat},
		{"reversed offsets", file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}`, eight), ErrFormat},
		{"negative offset", file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}`, eight), ErrFormat},
		{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, eight), ErrFormat},
		{"duplicate", file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, eight), ErrFormat},
		{"huge tensor", file(`{"a":{"dtype":"F32","shape":[1099511627776,1024],"data_offsets":[0,4503599627370496]}}`, eight), ErrFormat},
		{"overflowing shape", file(`{"a":{"dtype":"F64","shape":[4611686018427387904,4],"data_offsets":[0,8]}}`, eight), ErrFormat},
		{"negative dim", file(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, eight), ErrFormat},
		{"missing shape", file(`{"a":{"dtype":"F32","data_offsets":[0,8]}}`, eight), ErrFormat},
		{"metadata not strings", file(`{"__metadata__":{"a":1}}`, nil), ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := ReadFrom(bytes.NewReader(tt.in), int64(len(tt.in)))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "safetensors: ") {
				t.Fatalf("err %q lacks the package prefix", err)
			}
		})
	}
}

// An error from Read names the file and the tensor at fault.
func TestReadErrorNamesTheFileAndTheTensor(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "broken.safetensors")
	if err := os.WriteFile(path, file(`{"w":{"dtype":"F32","shape":[9],"data_offsets":[0,36]}}`, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := Read(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "w:") {
		t.Fatalf("err = %v, want the file and the tensor named", err)
	}
}

// HeaderLooksValid accepts a real safetensors file and refuses the head of
// a zip archive.
func TestHeaderLooksValidAcceptsSafetensorsNotZip(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/mixed.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if !HeaderLooksValid(b, int64(len(b))) {
		t.Error("real file not recognised")
	}
	if HeaderLooksValid([]byte("PK\x03\x04\x00\x00\x00\x00{"), 100) {
		t.Error("zip recognised")
	}
}

func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.safetensors")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, _, err := ReadFrom(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, n := range sd.Names() {
			tt, _ := sd.Get(n)
			if nets.NumElements(tt.Shape) != len(tt.Data) {
				t.Fatalf("%s: shape %v with %d values", n, tt.Shape, len(tt.Data))
			}
		}
		var buf bytes.Buffer
		if err := WriteTo(&buf, sd, nil); err != nil {
			if strings.Contains(err.Error(), metadataKey) {
				return
			}
			t.Fatal(err)
		}
		if _, _, err := ReadFrom(bytes.NewReader(buf.Bytes()), int64(buf.Len())); err != nil {
			t.Fatalf("re-reading what WriteTo wrote: %v", err)
		}
	})
}
