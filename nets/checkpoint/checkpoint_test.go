package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/internal/pickle"
	"github.com/landscape-go/landscape/nets"
)

// Load tells each format by its content, whatever the file's extension,
// and returns the same state dict from each, with DataParallel's module.
// prefix stripped.
func TestLoadTellsFormatByContentAndStripsDataParallel(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/sd.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string][]float32
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file   string
		format Format
	}{
		{"zip.bin", TorchZip},
		{"legacy.pth.tar", TorchLegacy},
		{"arrays.pt", NPZ},
		{"weights.pt", SafeTensors},
		{"../../torch/testdata/dtypes_zip.pth", TorchZip},
		// torch.save(..., pickle_protocol=1): no 0x80 at the start.
		{"../../torch/testdata/protocol1_legacy.pt", TorchLegacy},
		{"../../safetensors/testdata/mixed.safetensors", SafeTensors},
		// torch.onnx.export, opsets 13 and 17.
		{"../../onnx/testdata/small_cnn.onnx", ONNX},
		{"../../onnx/testdata/tiny_mlp.onnx", ONNX},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			sd, format, err := Load(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if format != tt.format {
				t.Fatalf("format %v, want %v", format, tt.format)
			}
			if strings.Contains(tt.file, "..") {
				return
			}
			if got := sd.Names(); !slices.Equal(got, []string{"fc.weight", "fc.bias"}) {
				t.Fatalf("names %v: module. prefix not stripped?", got)
			}
			for name, w := range want {
				g, _ := sd.Get(name)
				if !slices.Equal(g.Data, w) {
					t.Fatalf("%s = %v, want %v", name, g.Data, w)
				}
			}
		})
	}
}

// StripDataParallel removes the module. prefix of DataParallel and the
// _orig_mod. prefix of torch.compile, in any order, only when every name
// starts with it, and reports whether it did.
func TestStripDataParallelOnlyWhenEveryNameHasThePrefix(t *testing.T) {
	t.Parallel()
	mk := func(names ...string) *nets.StateDict {
		sd := &nets.StateDict{}
		for _, n := range names {
			sd.Set(n, nets.NewTensor(1))
		}
		return sd
	}
	tests := []struct {
		in, want []string
	}{
		{[]string{"module.a", "module.b"}, []string{"a", "b"}},
		{[]string{"module.a", "b"}, []string{"module.a", "b"}},
		{[]string{"a.module.b"}, []string{"a.module.b"}},
		{[]string{"_orig_mod.a", "_orig_mod.b"}, []string{"a", "b"}},
		{[]string{"module._orig_mod.a", "module._orig_mod.b"}, []string{"a", "b"}},
		{[]string{"_orig_mod.module.a"}, []string{"a"}},
		{[]string{"_orig_mod.a", "b"}, []string{"_orig_mod.a", "b"}},
		{nil, nil},
	}
	for _, tt := range tests {
		sd := mk(tt.in...)
		changed := StripDataParallel(sd)
		if !slices.Equal(sd.Names(), tt.want) || changed != !slices.Equal(tt.in, tt.want) {
			t.Errorf("StripDataParallel(%v) = %v, %v", tt.in, sd.Names(), changed)
		}
	}
}

// A file in no known format is ErrUnknownFormat, with a message naming the
// file and showing what it holds: its first bytes, its size, a bare .npy,
// or a zip archive without data.pkl or .npy entries.
func TestUnknownFormatNamesTheFileAndWhatItHolds(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string
		substr  string
	}{
		{"elf.pt", "\x7fELF\x02\x01\x01\x00rest", `7f 45 4c 46`},
		{"empty.pt", "", "0 bytes"},
		{"text.pth", "hello, world", `"hello, world"`},
		{"array.npy", "\x93NUMPY\x01\x00", "single .npy"},
		{"other.zip", "", "neither data.pkl nor .npy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, tt.name)
			content := []byte(tt.content)
			if tt.name == "other.zip" {
				content = zipWith(t, "readme.txt")
			}
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
			_, format, err := Load(path)
			if !errors.Is(err, ErrUnknownFormat) || format != Unknown {
				t.Fatalf("err = %v, format %v", err, format)
			}
			if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, tt.substr) || !strings.HasPrefix(msg, "checkpoint: ") {
				t.Fatalf("message %q should name the file and show %q", msg, tt.substr)
			}
		})
	}
}

func zipWith(t *testing.T, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for _, n := range names {
		if _, err := z.Create(n); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A pickle calling posix.system is refused in either torch format, and the
// format is still reported.
func TestEvilPickleRefused(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"evil_zip.pt", "evil_legacy.pt"} {
		path := filepath.Join("..", "torch", "testdata", name)
		_, format, err := Load(path)
		if !errors.Is(err, pickle.ErrGlobal) || !strings.Contains(err.Error(), "posix.system") {
			t.Fatalf("%s: err = %v", name, err)
		}
		if format != TorchZip && format != TorchLegacy {
			t.Fatalf("%s: format %v", name, format)
		}
	}
}

// Each Format prints as its lowercase name, and a value outside the enum
// as Format(n).
func TestFormatStringNamesEachFormat(t *testing.T) {
	t.Parallel()
	for f, want := range map[Format]string{Unknown: "unknown", TorchZip: "torch-zip", TorchLegacy: "torch-legacy", SafeTensors: "safetensors", NPZ: "npz", ONNX: "onnx", 9: "Format(9)"} {
		if got := f.String(); got != want {
			t.Errorf("Format(%d).String() = %q, want %q", int(f), got, want)
		}
	}
}

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r io.ReaderAt
	n int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n += int64(n)
	return n, err
}

func FuzzDetect(f *testing.F) {
	files, _ := filepath.Glob("testdata/*")
	files = append(files, "../torch/testdata/protocol1_legacy.pt")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// A deflate bomb and an entry named twice: Detect reads neither.
	var bomb bytes.Buffer
	z := zip.NewWriter(&bomb)
	w, _ := z.Create("a/data/0")
	w.Write(make([]byte, 1<<22))
	z.Create("a/data.pkl")
	z.Create("a/data.pkl")
	z.Close()
	f.Add(bomb.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		r := &countingReaderAt{r: bytes.NewReader(b)}
		format, err := Detect(r, int64(len(b)))
		if (err == nil) == (format == Unknown) {
			t.Fatalf("format %v with err %v", format, err)
		}
		// Detect reads the head and a zip directory, never an entry:
		// archive/zip reads the directory's tail, then each record.
		if r.n > 2*int64(len(b))+1<<17 {
			t.Fatalf("read %d bytes of a %d-byte file", r.n, len(b))
		}
	})
}
