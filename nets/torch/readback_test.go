package torch

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/nets"
)

// writtenTo, where set, is where TestPyTorchReadsWhatWriteWrites writes its
// checkpoint instead of checking it: testdata/make_readback.py runs it so.
var writtenTo = flag.String("written", "", "write TestPyTorchReadsWhatWriteWrites's checkpoint to this path (for testdata/make_readback.py) and check nothing")

// readback is what PyTorch made of the checkpoint Write wrote
// (testdata/written_by_go.json, by testdata/make_readback.py).
type readback struct {
	File    string `json:"file_sha256"` // of the whole checkpoint PyTorch read
	Torch   string `json:"torch"`
	Loader  string `json:"loader"` // how it was read and loaded
	Tensors []struct {
		Name   string `json:"name"`
		Shape  []int  `json:"shape"`
		DType  string `json:"dtype"`
		SHA256 string `json:"sha256"` // of its values' bytes as PyTorch holds them
	} `json:"tensors"`
}

// writtenCheckpoint is what 'landscape train --torch' writes for the zoo's
// resnet20 on 1x28x28 images (Fashion-MNIST's), as after training: its
// weights at PyTorch's default initialisation from seed 1, its batch norms'
// running statistics moved off 0 and 1 and num_batches_tracked counted, an
// int64 as PyTorch keeps it.
func writtenCheckpoint(t *testing.T) *nets.StateDict {
	t.Helper()
	net, err := nets.New("resnet20", nets.Config{InChannels: 1, Height: 28, Width: 28, Classes: 10})
	if err != nil {
		t.Fatal(err)
	}
	sd, err := net.Initialise(1)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range sd.Names() {
		w, _ := sd.Get(name)
		for j := range w.Data {
			switch {
			case strings.HasSuffix(name, ".running_mean"):
				w.Data[j] = float32(i%7-3) * 0.01 * float32(j+1)
			case strings.HasSuffix(name, ".running_var"):
				w.Data[j] = 0.5 + 0.03*float32((i+j)%11)
			case strings.HasSuffix(name, ".num_batches_tracked"):
				w.Data[j] = 2400
			}
		}
	}
	return sd
}

// TestPyTorchReadsWhatWriteWrites: PyTorch's torch.load reads a checkpoint
// as 'landscape train --torch' writes it, and load_state_dict(strict=True)
// puts it into PyTorch's own resnet20, every tensor with its name, shape,
// dtype and the very bits written. testdata/written_by_go.json is what
// PyTorch read back (each tensor's bytes hashed); this test keeps Write's
// output today the file it read. Regenerate both with
// /usr/bin/python3 testdata/make_readback.py.
func TestPyTorchReadsWhatWriteWrites(t *testing.T) {
	sd := writtenCheckpoint(t)
	var b bytes.Buffer
	if err := WriteTo(&b, sd); err != nil {
		t.Fatal(err)
	}
	if *writtenTo != "" {
		if err := os.WriteFile(*writtenTo, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	raw, err := os.ReadFile("testdata/written_by_go.json")
	if err != nil {
		t.Fatal(err)
	}
	var rb readback
	if err := json.Unmarshal(raw, &rb); err != nil {
		t.Fatal(err)
	}
	t.Logf("PyTorch %s: %s", rb.Torch, rb.Loader)
	if sum := sha256.Sum256(b.Bytes()); hex.EncodeToString(sum[:]) != rb.File {
		t.Fatalf("Write's checkpoint is no longer the file PyTorch read (SHA-256 %x, PyTorch read %s): "+
			"if the change is meant, run /usr/bin/python3 testdata/make_readback.py", sum, rb.File)
	}
	names := sd.Names()
	if len(rb.Tensors) != len(names) {
		t.Fatalf("PyTorch read %d tensors, Write wrote %d", len(rb.Tensors), len(names))
	}
	for i, got := range rb.Tensors {
		w, _ := sd.Get(names[i])
		var values []byte
		for _, v := range w.Data {
			values = w.AppendValue(values, v)
		}
		sum := sha256.Sum256(values)
		dtype := cmp.Or(w.DType, "float32")
		if got.Name != names[i] || !slices.Equal(got.Shape, w.Shape) || got.DType != dtype || got.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("tensor %d: PyTorch read %s %v %s (values' SHA-256 %s), Write wrote %s %v %s (%x)",
				i, got.Name, got.Shape, got.DType, got.SHA256, names[i], w.Shape, dtype, sum)
		}
	}
}
