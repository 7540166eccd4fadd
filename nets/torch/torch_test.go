package torch

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/internal/pickle"
	"github.com/landscape-go/landscape/nets"
)

type wantTensor struct {
	Name  string    `json:"name"`
	Shape []int     `json:"shape"`
	DType string    `json:"dtype"`
	Data  []float64 `json:"data"`
}

func expected(t testing.TB) map[string][]wantTensor {
	t.Helper()
	b, err := os.ReadFile("testdata/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string][]wantTensor
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// Every fixture loads as expected.json records it: the tensor names in
// order, their shapes, dtypes and values.
func TestLoadGivesFixtureTensorsAsExpected(t *testing.T) {
	t.Parallel()
	want := expected(t)
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sd, err := Load(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			ws := want[name]
			gotNames := sd.Names()
			if len(gotNames) != len(ws) {
				t.Fatalf("names %v, want %d tensors", gotNames, len(ws))
			}
			for i, w := range ws {
				if gotNames[i] != w.Name {
					t.Fatalf("tensor %d is %s, want %s", i, gotNames[i], w.Name)
				}
				g, _ := sd.Get(w.Name)
				if !slices.Equal(g.Shape, w.Shape) || g.DType != w.DType || len(g.Data) != len(w.Data) {
					t.Fatalf("%s: %v %s (%d values), want %v %s (%d values)", w.Name, g.Shape, g.DType, len(g.Data), w.Shape, w.DType, len(w.Data))
				}
				for j, v := range w.Data {
					if math.Abs(float64(g.Data[j])-v) > 1e-6*math.Max(1, math.Abs(v)) {
						t.Fatalf("%s[%d] = %v, want %v", w.Name, j, g.Data[j], v)
					}
				}
			}
		})
	}
}

// Two tensors viewing one storage each get their own copy: writing to one
// leaves the other as it was.
func TestSharedStorageIsCopied(t *testing.T) {
	t.Parallel()
	sd, err := Load("testdata/views_zip.pt")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := sd.Get("same_a")
	b, _ := sd.Get("same_b")
	a.Data[0] = 99
	if b.Data[0] == 99 {
		t.Fatal("two tensors of one storage share their Data")
	}
}

// Read takes either format by its content, ReadZip and ReadLegacy each
// read their own, and ReadZip refuses a legacy file with ErrFormat.
func TestReadsZipAndLegacyCheckpointsAlike(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"bare_zip.pt", "bare_legacy.pt"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			sd, err := Read(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			if sd.Len() != 9 {
				t.Fatalf("%d tensors: %v", sd.Len(), sd.Names())
			}
			if strings.Contains(name, "legacy") {
				if _, err := ReadLegacy(bytes.NewReader(b)); err != nil {
					t.Fatal(err)
				}
				if _, err := ReadZip(bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrFormat) {
					t.Fatalf("ReadZip of a legacy file: %v", err)
				}
			} else if _, err := ReadZip(bytes.NewReader(b), int64(len(b))); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Checkpoints calling os.system or pickling a whole model are refused with
// pickle.ErrGlobal, naming the global and the file.
func TestForbiddenGlobalsAreRefusedNamingThem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file   string
		want   error
		substr string
	}{
		{"evil_zip.pt", pickle.ErrGlobal, "global posix.system is not allowed"},
		{"evil_legacy.pt", pickle.ErrGlobal, "global posix.system is not allowed"},
		{"whole_model_zip.pt", pickle.ErrGlobal, "global torch.nn.modules.container.Sequential is not allowed"},
		{"whole_model_legacy.pt", pickle.ErrGlobal, "is not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("testdata", tt.file)
			_, err := Load(path)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.substr) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want %v mentioning %q and the file", err, tt.want, tt.substr)
			}
		})
	}
}

// A checkpoint cut short anywhere, in either format, is an error after the
// torch: prefix.
func TestTruncatedCheckpointsAreErrors(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"dtypes_zip.pth", "dtypes_legacy.pth"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 1, 10, len(b) / 3, len(b) / 2, len(b) - 100, len(b) - 1} {
			if _, err := Read(bytes.NewReader(b[:n]), int64(n)); err == nil {
				t.Errorf("%s cut to %d bytes: no error", name, n)
			} else if !strings.HasPrefix(err.Error(), "torch: ") {
				t.Errorf("%s cut to %d bytes: error %q without prefix", name, n, err)
			}
		}
	}
}

// legacyFile assembles a legacy checkpoint around a hand-written pickle of
// the object, so tests can claim what real files never would.
func legacyFile(obj string, keys []string, storages ...[]byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.") // magic
	b.WriteString("\x80\x02M\xe9\x03.")                                        // 1001
	b.WriteString("\x80\x02}X\x0d\x00\x00\x00little_endian\x88s.")             // sys_info
	b.WriteString(obj)                                                         // object
	b.WriteString("\x80\x02(")                                                 // keys
	for _, k := range keys {
		b.WriteString("X" + string([]byte{byte(len(k)), 0, 0, 0}) + k)
	}
	b.WriteString("l.")
	for _, s := range storages {
		b.Write(s)
	}
	return b.Bytes()
}

// tensorPickle pickles {name: _rebuild_tensor_v2(FloatStorage key 'k' of
// numel elements, offset, size, stride)} at protocol 2, with the shape
// given as ready pickle opcodes.
func tensorPickle(numel string, offset, size, stride string) string {
	return "\x80\x02}X\x01\x00\x00\x00w" + tensorExpr(numel, offset, size, stride) + "s."
}

// tensorExpr pickles _rebuild_tensor_v2(FloatStorage key 'k' of numel
// elements, offset, size, stride), each argument given as pickle opcodes.
func tensorExpr(numel string, offset, size, stride string) string {
	return "ctorch._utils\n_rebuild_tensor_v2\n(" +
		"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x00kX\x03\x00\x00\x00cpu" + numel + "NtQ" +
		offset + size + stride + "\x89}t" + "R"
}

// Tensor headers claiming what the file does not hold (huge storages or
// shapes, views beyond their storage, negative strides, unlisted storages)
// and files that are no checkpoint are errors; a sound header beside them
// loads.
func TestHostileTensorHeadersAreErrors(t *testing.T) {
	t.Parallel()
	fourFloats := append([]byte{4, 0, 0, 0, 0, 0, 0, 0}, make([]byte, 16)...)
	tests := []struct {
		name string
		file []byte
		want error
	}{
		{"ok", legacyFile(tensorPickle("K\x04", "K\x00", "K\x02K\x02\x86", "K\x02K\x01\x86"), []string{"k"}, fourFloats), nil},
		{"storage claims 2^62 elements", legacyFile(tensorPickle("\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x40", "K\x00", "K\x02\x85", "K\x01\x85"), []string{"k"},
			[]byte{0, 0, 0, 0, 0, 0, 0, 0x40, 1, 2, 3}), nil},
		{"storage claims 2^40 elements", legacyFile(tensorPickle("\x8a\x06\x00\x00\x00\x00\x00\x01", "K\x00", "K\x02\x85", "K\x01\x85"), []string{"k"},
			[]byte{0, 0, 0, 0, 0, 0x01, 0, 0, 1, 2, 3}), io.ErrUnexpectedEOF},
		{"count disagrees with pickle", legacyFile(tensorPickle("K\x04", "K\x00", "K\x04\x85", "K\x01\x85"), []string{"k"},
			append([]byte{5, 0, 0, 0, 0, 0, 0, 0}, make([]byte, 20)...)), ErrFormat},
		{"view beyond storage", legacyFile(tensorPickle("K\x04", "K\x01", "K\x02K\x02\x86", "K\x02K\x01\x86"), []string{"k"}, fourFloats), ErrFormat},
		{"huge shape", legacyFile(tensorPickle("K\x04", "K\x00", "J\x00\x00\x00\x40J\x00\x00\x00\x40\x86", "K\x00K\x00\x86"), []string{"k"}, fourFloats), nil},
		{"negative stride", legacyFile(tensorPickle("K\x04", "K\x03", "K\x02\x85", "J\xff\xff\xff\xff\x85"), []string{"k"}, fourFloats), ErrFormat},
		{"size and stride lengths differ", legacyFile(tensorPickle("K\x04", "K\x00", "K\x02\x85", ")"), []string{"k"}, fourFloats), ErrFormat},
		{"storage never listed", legacyFile(tensorPickle("K\x04", "K\x00", "K\x04\x85", "K\x01\x85"), nil), ErrFormat},
		{"unknown storage key", legacyFile(tensorPickle("K\x04", "K\x00", "K\x04\x85", "K\x01\x85"), []string{"zz"}, fourFloats), ErrFormat},
		{"bad magic", []byte("\x80\x02K\x01."), ErrFormat},
		{"not a pickle", []byte("hello world"), nil},
		{"tar", append(make([]byte, 257), "ustar\x0000"...), ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sd, err := Read(bytes.NewReader(tt.file), int64(len(tt.file)))
			if tt.name == "ok" {
				if err != nil {
					t.Fatal(err)
				}
				if w, _ := sd.Get("w"); w == nil || !slices.Equal(w.Shape, []int{2, 2}) {
					t.Fatalf("got %v", sd.Names())
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			t.Log(err)
		})
	}
}

// A checkpoint dict holding no tensors, itself or under any key, is
// ErrNoStateDict, and the message lists the keys it does hold.
func TestCheckpointWithoutTensorsListsItsKeys(t *testing.T) {
	t.Parallel()
	file := legacyFile("\x80\x02}X\x05\x00\x00\x00epochK\x03s.", nil)
	_, err := Read(bytes.NewReader(file), int64(len(file)))
	if !errors.Is(err, ErrNoStateDict) || !strings.Contains(err.Error(), "epoch") {
		t.Fatalf("err = %v", err)
	}
}

// A state dict under any key StateDictKeys lists is found beside other
// entries, and one under another key is not but named. The list is a copy: changing
// it changes nothing for the next caller.
func TestStateDictIsFoundUnderEveryListedKey(t *testing.T) {
	t.Parallel()
	// {"epoch": 3, key: {"w": tensor of four floats}}
	wrapped := func(key string) []byte {
		inner := "}X\x01\x00\x00\x00w" + tensorExpr("K\x04", "K\x00", "K\x04\x85", "K\x01\x85") + "s"
		obj := "\x80\x02}(X" + le32(5) + "epochK\x03X" + le32(len(key)) + key + inner + "u."
		return legacyFile(obj, []string{"k"}, floats(4))
	}
	keys := StateDictKeys()
	if len(keys) == 0 || keys[0] != "state_dict" {
		t.Fatalf("StateDictKeys() = %q, want state_dict first", keys)
	}
	for _, k := range keys {
		b := wrapped(k)
		sd, err := Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("under %q: %v", k, err)
		}
		if w, ok := sd.Get("w"); !ok || !slices.Equal(w.Shape, []int{4}) {
			t.Fatalf("under %q: tensors %v", k, sd.Names())
		}
	}
	// One under another key is named, with the way to load it.
	b := wrapped("teacher")
	if _, err := Read(bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrNoStateDict) ||
		!strings.Contains(err.Error(), `but teacher holds a state dict`) || !strings.Contains(err.Error(), `torch.save(ckpt["teacher"], 'model.pt')`) {
		t.Fatalf("under \"teacher\": err = %v, want ErrNoStateDict naming the key", err)
	}
	keys[0] = "changed"
	if again := StateDictKeys(); again[0] != "state_dict" {
		t.Fatalf("after changing the returned slice, StateDictKeys() = %q", again)
	}
}

func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob("testdata/*_*.*")
	for _, name := range files {
		if strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".py") || strings.Contains(name, "whole_model_legacy") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// Hostile shapes, at the scale of the fuzzer's budget: stride-0 views,
	// one storage under many names, a deflated storage, an entry twice.
	f.Add(legacyFile(manyViews(40, "K\x04", "J\x00\x00\x01\x00\x85", "K\x00\x85"), []string{"k"}, floats(4)))
	f.Add(legacyFile(manyViews(40, "M\x00\x04", "M\x00\x04\x85", "K\x01\x85"), []string{"k"}, floats(1024)))
	pkl := []byte(tensorPickle("J"+le32(1<<19), "K\x00", "K\x01\x85", "K\x01\x85"))
	f.Add(zipFile(f, zipEntry{name: "a/data.pkl", body: pkl}, zipEntry{name: "a/data/k", zeros: 1 << 21, method: zip.Deflate}))
	f.Add(zipFile(f, zipEntry{name: "a/data.pkl", body: pkl}, zipEntry{name: "a/data.pkl", body: pkl}))
	// The budget the fuzzer checks: 1 MiB of slack rather than 256, so
	// that amplification reaches it quickly.
	const slack = 1 << 20
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := readBudget(bytes.NewReader(b), int64(len(b)), newBudget(int64(len(b)), slack))
		if err != nil {
			if strings.HasPrefix(err.Error(), "torch:") {
				t.Fatalf("prefix repeated: %v", err)
			}
			if len(err.Error()) > 3*len(b)+1<<16 {
				t.Fatalf("a %d-byte message for a %d-byte file", len(err.Error()), len(b))
			}
			return
		}
		total := int64(0)
		for _, n := range sd.Names() {
			tt, _ := sd.Get(n)
			size := 1
			for _, d := range tt.Shape {
				size *= d
			}
			if size != len(tt.Data) {
				t.Fatalf("%s: shape %v with %d values", n, tt.Shape, len(tt.Data))
			}
			total += 4 * int64(len(tt.Data))
		}
		if limit := decodeRatio*int64(len(b)) + slack; total > limit {
			t.Fatalf("%d bytes of tensors from a %d-byte file, over the limit of %d", total, len(b), limit)
		}
	})
}

// withPyTorch2Records returns the zip checkpoint b with the records PyTorch
// 2.1 and later add beside data.pkl: byteorder (here holding order),
// .format_version, .storage_alignment and .data/serialization_id.
func withPyTorch2Records(t *testing.T, b []byte, order string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	prefix := ""
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/data.pkl") {
			prefix = strings.TrimSuffix(f.Name, "data.pkl")
		}
		if err := zw.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range map[string]string{"byteorder": order, ".format_version": "1", ".storage_alignment": "64", ".data/serialization_id": "0123456789012345678901234567890123456789"} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: prefix + name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// PyTorch 2.1 and later write a byteorder record ("little", 6 bytes) into
// every zip checkpoint; a reader that wanted more bytes refused them all.
func TestPyTorch2RecordsAreReadAndByteorderChecked(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "bare_zip.pt"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	v2 := withPyTorch2Records(t, b, "little")
	got, err := Read(bytes.NewReader(v2), int64(len(v2)))
	if err != nil {
		t.Fatalf("a checkpoint with PyTorch 2's records: %v", err)
	}
	for _, k := range want.Names() {
		a, _ := want.Get(k)
		g, ok := got.Get(k)
		if !ok || !slices.Equal(a.Data, g.Data) {
			t.Errorf("%s differs with PyTorch 2's records", k)
		}
	}
	bad := withPyTorch2Records(t, b, "middle")
	if _, err := Read(bytes.NewReader(bad), int64(len(bad))); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "byteorder") {
		t.Errorf("byteorder \"middle\": %v", err)
	}
}

// Checkpoints written by torch.save of PyTorch 2.11 (testdata/make.py run
// on a GPU machine; its later fixtures need weights_only=False there) hold
// the same tensors as PyTorch 1.13 wrote.
func TestPyTorch211FilesReadAsPyTorch113Files(t *testing.T) {
	want := expected(t)
	for _, name := range []string{"bare_zip.pt", "wrapped_zip.pth"} {
		t.Run(name, func(t *testing.T) {
			sd, err := Load(filepath.Join("testdata", "torch2.11", name))
			if err != nil {
				t.Fatal(err)
			}
			w := want[name]
			if len(w) == 0 || sd.Len() != len(w) {
				t.Fatalf("%d tensors, want %d", sd.Len(), len(w))
			}
			for _, wt := range w {
				got, ok := sd.Get(wt.Name)
				if !ok || !slices.Equal(got.Shape, wt.Shape) {
					t.Errorf("%s: missing or shape %v, want %v", wt.Name, got.Shape, wt.Shape)
					continue
				}
				for i, v := range wt.Data {
					if float64(got.Data[i]) != v {
						t.Errorf("%s[%d] = %v, want %v", wt.Name, i, got.Data[i], v)
						break
					}
				}
			}
		})
	}
}

// A state dict written in torch.save's zip format reads back the same:
// names in order, shapes, values, and int64 kept as int64.
func TestWriteRoundTrip(t *testing.T) {
	t.Parallel()
	sd := &nets.StateDict{}
	w := nets.NewTensor(2, 3)
	for i := range w.Data {
		w.Data[i] = float32(i)*0.5 - 1
	}
	sd.Set("fc.weight", w)
	sd.Set("fc.bias", &nets.Tensor{Shape: []int{2}, Data: []float32{0.25, -3}, DType: "float32"})
	sd.Set("bn.num_batches_tracked", &nets.Tensor{Shape: []int{}, Data: []float32{42}, DType: "int64"})
	path := filepath.Join(t.TempDir(), "m.pt")
	if err := Write(path, sd); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Names(), sd.Names()) {
		t.Fatalf("names %v, want %v", got.Names(), sd.Names())
	}
	for _, n := range sd.Names() {
		a, _ := sd.Get(n)
		b, _ := got.Get(n)
		if !slices.Equal(a.Shape, b.Shape) || !slices.Equal(a.Data, b.Data) || a.DType != b.DType {
			t.Errorf("%s: %v %v %s, want %v %v %s", n, b.Shape, b.Data, b.DType, a.Shape, a.Data, a.DType)
		}
	}
}
