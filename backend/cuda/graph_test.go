//go:build linux && !android

package cuda

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/backend/backendtest"
	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/onnx"
)

// graphProblem returns a problem for the ONNX model at path run as a
// reference net (the graph interpreted): its own weights at the centre,
// random directions, n random samples (images, or token sequences for a
// language model).
func graphProblem(t *testing.T, path string, n int) *backend.Problem {
	t.Helper()
	m, err := onnx.Read(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimSuffix(filepath.Base(path), ".onnx")
	net, err := m.Graph.ReferenceNet(name, nets.Config{})
	if err != nil {
		t.Fatal(err)
	}
	p := backendtest.ProblemFor(net, n, true)
	own := m.Graph.Weights()
	for _, k := range own.Names() {
		w, _ := own.Get(k)
		p.Center.Set(k, w)
	}
	if seq := net.Config.Seq; seq > 0 {
		rng := rand.New(rand.NewPCG(3, 4))
		d := p.Data[0]
		d.Seq, d.Y = seq, make([]int32, n*seq)
		for i := range d.X {
			d.X[i] = float32(rng.IntN(net.Config.Classes))
		}
		for i := range d.Y {
			d.Y[i] = int32(rng.IntN(net.Config.Classes))
		}
	}
	return p
}

// graphModels are ONNX exports whose operators the engines do not run,
// with PyTorch's tests of their own (nets/onnx's TestExportedNetworks,
// landscape's TestCausalLM...): ViT and ConvNeXt as torchvision builds
// them, small; an MLP with layer norm, GELU and a final log-softmax; the
// causal transformer language model.
var graphModels = []string{
	filepath.Join("..", "..", "nets", "onnx", "testdata", "tiny_vit.onnx"),
	filepath.Join("..", "..", "nets", "onnx", "testdata", "tiny_convnext.onnx"),
	filepath.Join("..", "..", "nets", "onnx", "testdata", "tiny_mlp.onnx"),
	filepath.Join("..", "..", "testdata", "lm", "causal_lm.onnx"),
}

// graphInterpreterMatchesTheCPU runs ONNX graphs of operators the
// engines lack (attention, layer norm, GELU, permutes) through the graph
// interpreter of the evaluators newEval makes, at the centre and off it,
// over several batches with the last padded, against the CPU's reference
// evaluator: losses within tol relative, accuracies equal.
func graphInterpreterMatchesTheCPU(t *testing.T, newEval func(p *backend.Problem, opts *Options) (*Evaluator, error), tol float64) {
	for _, path := range graphModels {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".onnx"), func(t *testing.T) {
			p := graphProblem(t, path, 7)
			coords := []backend.Coord{{}, {X: 0.5, Y: -0.25}, {X: -1, Y: 1}}
			want, err := cpu.New(p, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer want.Close()
			got, err := newEval(p, &Options{MaxBatch: 3})
			if err != nil {
				t.Fatal(err)
			}
			defer got.Close()
			if got.BatchSize() != 3 && got.feed.Batch == 0 {
				t.Errorf("batch %d, want the 3 asked for", got.BatchSize())
			}
			backendtest.CompareWithin(t, coords, backendtest.Evaluate(t, got, coords), backendtest.Evaluate(t, want, coords), tol)
		})
	}
}

// TestGPUGraphInterpreterMatchesTheCPU is
// TestHostGraphInterpreterMatchesTheCPU on the GPU, where cuBLAS and
// cuDNN sum in orders of their own.
func TestGPUGraphInterpreterMatchesTheCPU(t *testing.T) {
	requireGPU(t)
	graphInterpreterMatchesTheCPU(t, New, 1e-5)
}
