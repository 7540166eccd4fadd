package landscape

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/internal/fixture"
)

// onnxDir holds the networks of scripts/fixtures/make_onnx.py.
const onnxDir = "../testdata/onnx"

// The zoo's resnet20 exported by torch.onnx.export gives PyTorch's losses
// at the fixture's points on its directions: with the export's own
// weights, and with the PyTorch checkpoint replacing them.
func TestONNXExportMatchesPyTorch(t *testing.T) {
	t.Parallel()
	c := fixture.Load(t, "resnet20")
	model := filepath.Join(onnxDir, "resnet20.onnx")
	forEachDevice(t, func(t *testing.T, device string) {
		for _, ckpt := range []struct{ name, file string }{{"own weights", ""}, {"checkpoint", c.CheckpointFile(t, "zip")}} {
			t.Run(ckpt.name, func(t *testing.T) {
				parallelOnCPU(t, device)
				testLossMatchesPyTorch(t, c, model, ckpt.file, c.DirectionFile(t), device)
			})
		}
	})
}

// An exported model and the zoo's give the same surface, bit for bit, on
// random directions: the export keeps the parameters' names, shapes and
// order, so the same directions are drawn.
func TestONNXSurfaceIsTheZooModelsSurface(t *testing.T) {
	t.Parallel()
	c := fixture.Load(t, "resnet20")
	ax := grid.Axis{Min: -0.5, Max: 0.5, Num: 3}
	surface := func(model, ckpt string) []float64 {
		s, err := Run(context.Background(), Spec{
			Model: model, Checkpoint: ckpt, ModelConfig: c.Config,
			Data:       data.Spec{Kind: data.NPZ, Path: c.Data},
			Directions: Directions{Seed: 7},
			Grid:       grid.Grid{X: ax, Y: &ax},
		}, &Options{Device: Device{Name: "cpu", CPU: cpu.Options{Workers: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Base(model); model != c.Model && s.Provenance.Model.Name != want {
			t.Errorf("provenance names the model %q, want %q", s.Provenance.Model.Name, want)
		}
		var v []float64
		for _, p := range s.Points {
			v = append(v, p.Values...)
		}
		return v
	}
	zoo := surface(c.Model, c.CheckpointFile(t, "zip"))
	exported := surface(filepath.Join(onnxDir, "resnet20.onnx"), "")
	for i := range zoo {
		if zoo[i] != exported[i] {
			t.Fatalf("value %d: zoo %v, export %v\nzoo    %v\nexport %v", i, zoo[i], exported[i], zoo, exported)
		}
	}
}

// A checkpoint that is not the exported model's is refused, with its
// missing and unexpected keys and the export call that keeps the names;
// a folded export is explained.
func TestONNXModelRefusesWhatDoesNotFit(t *testing.T) {
	t.Parallel()
	noshort := fixture.Load(t, "resnet20_noshort")
	for _, c := range []struct {
		model, ckpt string
		want        []string
	}{
		{"resnet20.onnx", noshort.CheckpointFile(t, "zip"), []string{"missing keys: layer2.0.shortcut.0.weight", "TrainingMode.PRESERVE"}},
		{"resnet20_folded.onnx", "", []string{"resnet20_folded.onnx", "lost its PyTorch name", "do_constant_folding=False"}},
	} {
		_, err := Prepare(Spec{
			Model: filepath.Join(onnxDir, c.model), Checkpoint: c.ckpt,
			Data: data.Spec{Kind: data.NPZ, Path: noshort.Data},
			Grid: grid.Grid{X: grid.Axis{Min: -1, Max: 1, Num: 3}},
		}, nil)
		if err == nil {
			t.Errorf("%s with %q: no error", c.model, c.ckpt)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s with %q: error does not say %q:\n%v", c.model, c.ckpt, w, err)
			}
		}
	}
}
