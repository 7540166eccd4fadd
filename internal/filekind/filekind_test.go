package filekind

import (
	"os"
	"path/filepath"
	"testing"
)

const testdata = "../../testdata"

// The files landscape reads and writes, and the ones given in their place
// by mistake, are each told for what they are.
func TestOfTellsTheFilesLandscapeMeets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, contents string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(contents), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		path string
		want Kind
	}{
		{filepath.Join(testdata, "zoo", "resnet20.pt"), Zip},
		{filepath.Join(testdata, "zoo", "resnet20.npz"), Zip},
		{filepath.Join(testdata, "zoo", "resnet20.t7"), Pickle},
		{filepath.Join(testdata, "zoo", "resnet20.safetensors"), SafeTensors},
		{filepath.Join(testdata, "onnx", "resnet20.onnx"), ONNX},
		{filepath.Join(testdata, "trajectory", "tiny.json"), JSON},
		{write("path.csv", "checkpoint,x,y,residual\nrun/model_1.t7,-0.8,0.5,0.01\n"), CSV},
		{write("hessian.json", "\n  {\"model\": \"resnet20\"}\n"), JSON},
		{write("s.parquet", "PAR1\x15\x04\x15\x00PAR1"), Parquet},
		{write("a.npy", "\x93NUMPY\x01\x00v\x00{'descr': '<f4'"), NPY},
		{write("legacy0.t7", "L119547037146038801333356L\n.\x80\x02"), Pickle},
		{write("fig.png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), PNG},
		{write("fig.pdf", "%PDF-1.4\n"), PDF},
		{write("fig.svg", "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\">"), SVG},
		{write("notes.txt", "hello\n"), Text},
		{write("empty", ""), Empty},
		{write("noise.bin", "\x00\x01\x02\x03\xfe\xff"), Unknown},
		{filepath.Join(dir, "missing"), Unknown},
		{dir, Unknown},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			t.Parallel()
			if got := Of(tt.path); got != tt.want {
				t.Errorf("Of(%s) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}

// A safetensors header length beyond the file is no safetensors file,
// and text cut at HeadSize inside a character is still text.
func TestDetectEdges(t *testing.T) {
	t.Parallel()
	if got := Detect([]byte("\xff\x00\x00\x00\x00\x00\x00\x00{\"a\""), 12); got != Unknown {
		t.Errorf("header length past the end: %v, want %v", got, Unknown)
	}
	head := make([]byte, HeadSize)
	for i := range head {
		head[i] = 'a'
	}
	copy(head[HeadSize-3:], "é€") // é, then the first byte of €
	copy(head, "a,b\n")
	if got := Detect(head, 4096); got != CSV {
		t.Errorf("CSV cut inside a character: %v, want %v", got, CSV)
	}
	if got := Kind(99).String(); got != "Kind(99)" {
		t.Errorf("Kind(99).String() = %q", got)
	}
}

func FuzzDetect(f *testing.F) {
	f.Add([]byte("checkpoint,x,y\n"), int64(15))
	f.Add([]byte("PAR1"), int64(4))
	f.Add([]byte("\x10\x00\x00\x00\x00\x00\x00\x00{\"x.a\":{}}  "), int64(26))
	f.Fuzz(func(t *testing.T, head []byte, size int64) {
		if size < int64(len(head)) {
			size = int64(len(head))
		}
		if len(head) > HeadSize {
			head = head[:HeadSize]
		}
		if k := Detect(head, size); k.String() == "" {
			t.Errorf("Detect(%q, %d) = %d, which has no phrase", head, size, int(k))
		}
	})
}
