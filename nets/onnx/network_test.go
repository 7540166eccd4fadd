package onnx

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/landscape-go/landscape/nets/npz"
)

// TestExportedNetworks runs networks exported by torch.onnx.export
// (testdata/make.py) and compares with PyTorch's outputs.
func TestExportedNetworks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ops  []string // op types the export must contain
	}{
		{"small_cnn", []string{"Conv", "BatchNormalization", "Relu", "MaxPool", "Add", "GlobalAveragePool", "Flatten", "Gemm"}},
		{"tiny_mlp", []string{"Gemm", "LayerNormalization", "Erf", "Tanh", "HardSwish", "LogSoftmax"}},
		{"tiny_transformer", []string{"MatMul", "Softmax", "Transpose", "Reshape", "Shape", "LayerNormalization"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := Read(filepath.Join("testdata", tc.name+".onnx"), nil)
			if err != nil {
				t.Fatal(err)
			}
			have := map[string]bool{}
			for _, n := range m.Graph.Nodes {
				have[n.OpType] = true
			}
			for _, op := range tc.ops {
				if !have[op] {
					t.Errorf("export has no %s node; it has %v", op, mapKeys(have))
				}
			}
			data, err := npz.Read(filepath.Join("testdata", tc.name+".npz"))
			if err != nil {
				t.Fatal(err)
			}
			x, _ := data.Get("input")
			want, _ := data.Get("output")
			in := m.Graph.DataInputs()
			if len(in) != 1 || len(m.Graph.Outputs) != 1 {
				t.Fatalf("graph has inputs %v, outputs %v", in, m.Graph.Outputs)
			}
			got, err := m.Graph.Run(map[string]*Tensor{in[0].Name: FromNets(x)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			y := got[m.Graph.Outputs[0].Name]
			if !slices.Equal(y.Shape, want.Shape) {
				t.Fatalf("output shape %v, PyTorch %v", y.Shape, want.Shape)
			}
			for i, w := range want.Data {
				if d := math.Abs(float64(y.F[i] - w)); d > 1e-4*math.Abs(float64(w))+1e-6 {
					t.Errorf("output %d: %g, PyTorch %g (difference %g)", i, y.F[i], w, d)
				}
			}
			// The weights round-trip: running with the graph's own weights
			// gives the same output.
			again, err := m.Graph.Run(map[string]*Tensor{in[0].Name: FromNets(x)}, m.Graph.Weights())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(again[m.Graph.Outputs[0].Name].F, y.F) {
				t.Error("running with Weights() changed the output")
			}
		})
	}
}

func mapKeys(m map[string]bool) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	slices.Sort(k)
	return k
}

// BenchmarkRunSmallCNN measures the reference evaluator on the exported
// small CNN (batch 2, 3x16x16).
func BenchmarkRunSmallCNN(b *testing.B) {
	m, err := Read(filepath.Join("testdata", "small_cnn.onnx"), nil)
	if err != nil {
		b.Fatal(err)
	}
	data, err := npz.Read(filepath.Join("testdata", "small_cnn.npz"))
	if err != nil {
		b.Fatal(err)
	}
	x, _ := data.Get("input")
	in := map[string]*Tensor{m.Graph.DataInputs()[0].Name: FromNets(x)}
	for b.Loop() {
		if _, err := m.Graph.Run(in, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(x.Shape[0]*b.N)/b.Elapsed().Seconds(), "samples/s")
}
