package landscape

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/internal/fixture"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/checkpoint"
	"github.com/landscape-go/landscape/nets/npz"
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

// The provenance of a surface of an ONNX graph whose parameters come from
// a separate checkpoint fingerprints both files: the graph holds what the
// checkpoint does not (its activations, its wiring), so a part computed
// with another export of other operators is not resumed or merged as if
// it were the same network. A zoo model has no file to fingerprint.
func TestONNXProvenanceFingerprintsTheGraph(t *testing.T) {
	t.Parallel()
	c := fixture.Load(t, "resnet20")
	model, ckpt := filepath.Join(onnxDir, "resnet20.onnx"), c.CheckpointFile(t, "zip")
	for _, tc := range []struct{ model, ckpt, want string }{
		{model, ckpt, model},
		{model, "", model},
		{c.Model, ckpt, ""},
	} {
		job, err := Prepare(Spec{
			Model: tc.model, Checkpoint: tc.ckpt, ModelConfig: c.Config,
			Data: data.Spec{Kind: data.NPZ, Path: c.Data},
			Grid: grid.Grid{X: grid.Axis{Min: -1, Max: 1, Num: 3}},
		}, &Options{Device: Device{Name: "cpu", CPU: cpu.Options{Workers: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		prov := job.Provenance
		if err := job.Close(); err != nil {
			t.Fatal(err)
		}
		want := ""
		if tc.want != "" {
			want = sha256Of(t, tc.want)
		}
		if prov.Model.SHA256 != want {
			t.Errorf("model %s, checkpoint %q: the model's SHA-256 is %q, want %q", tc.model, tc.ckpt, prov.Model.SHA256, want)
		}
		if got, want := prov.Checkpoint.SHA256, sha256Of(t, CheckpointFor(tc.model, tc.ckpt)); got != want {
			t.Errorf("model %s, checkpoint %q: the checkpoint's SHA-256 is %q, want %q", tc.model, tc.ckpt, got, want)
		}
	}
}

func sha256Of(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
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
		{"resnet20_folded.onnx", "", []string{"resnet20_folded.onnx", "have lost their PyTorch names", "do_constant_folding=False"}},
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

// A graph the engines cannot run (layer norm, GELU, log_softmax) is
// computed by the reference evaluator: at the centre its loss on the
// exported samples is PyTorch's, batches of 3 fed to a graph exported for
// batches of 4, and images of 1x4x5 to its flattened input of 20.
func TestONNXGraphOffTheEnginesRunsOnTheReferenceEvaluator(t *testing.T) {
	t.Parallel()
	model := filepath.Join("..", "nets", "onnx", "testdata", "tiny_mlp.onnx")
	net, err := NewNet(model, nets.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(net.Ops) != 0 || net.Forward == nil || net.Config != (nets.Config{InChannels: 20, Height: 1, Width: 1, Classes: 5}) {
		t.Fatalf("net: %d ops, config %+v", len(net.Ops), net.Config)
	}
	weights, _, err := checkpoint.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	fix, err := npz.Read(filepath.Join("..", "nets", "onnx", "testdata", "tiny_mlp.npz"))
	if err != nil {
		t.Fatal(err)
	}
	x, _ := fix.Get("input")
	logp, _ := fix.Get("output")
	d := &data.Dataset{Name: "npz", Split: "test", N: 4, C: 1, H: 4, W: 5, Classes: 5, X: x.Data, Y: []int32{0, 1, 2, 3}}
	want, correct := 0.0, 0
	for i, y := range d.Y {
		row := logp.Data[i*5 : (i+1)*5]
		want -= float64(row[y]) / 4
		if slices.Index(row, slices.Max(row)) == int(y) {
			correct++
		}
	}
	s, err := Compute(context.Background(), &Input{Net: net, Weights: weights, Data: []*data.Dataset{d},
		Grid: grid.Grid{X: grid.Axis{Min: -0.5, Max: 0.5, Num: 3}}, BatchSize: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := s.Points[1].Values
	if math.Abs(got[0]-want) > 1e-5*want || got[1] != 25*float64(correct) {
		t.Errorf("centre: loss %.7g, accuracy %g%%; PyTorch %.7g, %g%%", got[0], got[1], want, 25*float64(correct))
	}
	if s.Provenance.Device == "" || !strings.Contains(s.Provenance.Arithmetic, "reference") {
		t.Errorf("provenance: device %q, arithmetic %q", s.Provenance.Device, s.Provenance.Arithmetic)
	}
	for _, p := range s.Points {
		if math.IsNaN(p.Values[0]) {
			t.Errorf("NaN at %g", p.X)
		}
	}
}

// A network that outputs probabilities (a final softmax) is scored as it
// trains, by PyTorch's NLLLoss of log p: the softmax is taken off, its
// input being the logits, on the engines and on the reference evaluator
// alike. The cross-entropy of the probabilities themselves would be a
// near-constant, about log 5 here.
func TestONNXProbabilitiesAreScoredAsTheyTrain(t *testing.T) {
	t.Parallel()
	fix, err := npz.Read(filepath.Join(onnxDir, "probs.npz"))
	if err != nil {
		t.Fatal(err)
	}
	x, _ := fix.Get("input")
	labels, _ := fix.Get("labels")
	d := &data.Dataset{Name: "npz", Split: "test", N: 6, C: 1, H: 8, W: 8, Classes: 5, X: x.Data}
	for _, l := range labels.Data {
		d.Y = append(d.Y, int32(l))
	}
	for _, name := range []string{"cnn", "mlp"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			model := filepath.Join(onnxDir, "probs_"+name+".onnx")
			net, err := NewNet(model, nets.Config{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if onEngines := len(net.Ops) > 0; onEngines != (name == "cnn") {
				t.Errorf("%s on the engines: %v", name, onEngines)
			}
			weights, _, err := checkpoint.Load(model)
			if err != nil {
				t.Fatal(err)
			}
			loss, _ := fix.Get(name + "_loss")
			correct, _ := fix.Get(name + "_correct")
			s, err := Compute(context.Background(), &Input{Net: net, Weights: weights, Data: []*data.Dataset{d},
				Grid: grid.Grid{X: grid.Axis{Min: 0, Max: 0, Num: 1}}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, want := s.Points[0].Values, float64(loss.Data[0])
			if math.Abs(got[0]-want) > 1e-5*want || math.Abs(got[1]-100*float64(correct.Data[0])/6) > 1e-9 {
				t.Errorf("loss %.7g, accuracy %g%%; PyTorch's NLLLoss of log p %.7g, %g of 6 right", got[0], got[1], want, correct.Data[0])
			}
		})
	}
}
