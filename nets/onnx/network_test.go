package onnx

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/landscape-go/landscape/nets"
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
		{"tiny_vit", []string{"Conv", "Concat", "Expand", "MatMul", "Softmax", "LayerNormalization", "Erf", "Gather", "Where"}},
		{"tiny_convnext", []string{"Conv", "Transpose", "LayerNormalization", "MatMul", "Erf", "GlobalAveragePool", "Gemm"}},
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
			// A backend's matrix product (here one summing in float64, in
			// another order) takes every MatMul and Gemm, and the output
			// still matches PyTorch's.
			calls := 0
			k := &nets.Kernels{MatMul: func(transB bool, mm, n, kk int, a, b, c []float32) {
				calls++
				for j := range n {
					for i := range mm {
						s := 0.0
						for l := kk - 1; l >= 0; l-- {
							bv := b[l*n+j]
							if transB {
								bv = b[j*kk+l]
							}
							s += float64(a[i*kk+l]) * float64(bv)
						}
						c[i*n+j] = float32(s)
					}
				}
			}}
			withK, err := m.Graph.RunWith(map[string]*Tensor{in[0].Name: FromNets(x)}, nil, k)
			if err != nil {
				t.Fatal(err)
			}
			products := 0
			for _, n := range m.Graph.Nodes {
				if n.OpType == "MatMul" || n.OpType == "Gemm" {
					products++
				}
			}
			if calls < products {
				t.Errorf("the kernel computed %d products, the graph has %d MatMul and Gemm nodes", calls, products)
			}
			for i, w := range want.Data {
				if g := withK[m.Graph.Outputs[0].Name].F[i]; math.Abs(float64(g-w)) > 1e-4*math.Abs(float64(w))+1e-6 {
					t.Errorf("with the kernel, output %d: %g, PyTorch %g", i, g, w)
				}
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

// TestTransposedWeightsAreReadInPlace runs the causal LM, whose
// nn.Linear layers the exporter wrote as MatMul of a transposed weight,
// with a backend's product: every such MatMul reads its weight in place
// as a transposed operand (no Transpose runs for it), and the logits are
// those of the plain evaluator to float32 rounding.
func TestTransposedWeightsAreReadInPlace(t *testing.T) {
	t.Parallel()
	m, err := Read(filepath.Join("..", "..", "testdata", "lm", "causal_lm.onnx"), nil)
	if err != nil {
		t.Fatal(err)
	}
	fused := transposedOperands(m.Graph)
	if len(fused) == 0 {
		t.Fatal("no MatMul of a transposed weight found in the LM's export")
	}
	data, err := npz.Read(filepath.Join("..", "..", "testdata", "lm", "causal_lm.data.npz"))
	if err != nil {
		t.Fatal(err)
	}
	x, _ := data.Get("x")
	in := m.Graph.DataInputs()[0]
	seq := x.Shape[1]
	if len(in.Shape) == 2 && in.Shape[1] > 0 {
		seq = int(in.Shape[1])
	}
	ids := make([]int64, 2*seq)
	for s := range 2 {
		for j := range seq {
			ids[s*seq+j] = int64(x.Data[s*x.Shape[1]+j])
		}
	}
	feed := func() map[string]*Tensor {
		return map[string]*Tensor{in.Name: {DType: in.DType, Shape: []int{2, seq}, I: slices.Clone(ids)}}
	}
	want, err := m.Graph.Run(feed(), nil)
	if err != nil {
		t.Fatal(err)
	}
	transposed := 0
	k := &nets.Kernels{MatMul: func(transB bool, mm, n, kk int, a, b, c []float32) {
		clear(c[:mm*n])
		if !transB {
			matmulTo(c, a, b, mm, kk, n)
			return
		}
		transposed++
		for i := range mm {
			for j := range n {
				s := float32(0)
				for l := range kk {
					s += a[i*kk+l] * b[j*kk+l]
				}
				c[i*n+j] = s
			}
		}
	}}
	got, err := m.Graph.RunWith(feed(), nil, k)
	if err != nil {
		t.Fatal(err)
	}
	if transposed != len(fused) {
		t.Errorf("%d products read a weight transposed; the export has %d MatMuls of a transposed weight", transposed, len(fused))
	}
	name := m.Graph.Outputs[0].Name
	w, g := want[name].F, got[name].F
	if len(g) != len(w) || len(w) == 0 {
		t.Fatalf("%d logits, the plain evaluator's %d", len(g), len(w))
	}
	for i := range w {
		if d := math.Abs(float64(g[i] - w[i])); d > 1e-5*math.Abs(float64(w[i]))+1e-5 {
			t.Fatalf("logit %d: %g, the plain evaluator's %g", i, g[i], w[i])
		}
	}
}
