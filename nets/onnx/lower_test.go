package onnx

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/backend/backendtest"
	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/npz"
)

// testdata/onnx is made by scripts/fixtures/make_onnx.py.
func exported(t *testing.T, name string) *Graph {
	t.Helper()
	m, err := Read(filepath.Join("..", "..", "testdata", "onnx", name), nil)
	if err != nil {
		t.Fatal(err)
	}
	return m.Graph
}

// The zoo's resnet20 exported by PyTorch lowers to the zoo's own resnet20:
// the same ops with the same settings, and the same state-dict entries in
// the same order, so that directions drawn for one are those of the other.
func TestExportedZooModelLowersToTheZooModel(t *testing.T) {
	t.Parallel()
	g := exported(t, "resnet20.onnx")
	net, sd, err := g.Net("resnet20.onnx", nets.Config{})
	if err != nil {
		t.Fatal(err)
	}
	zoo, err := nets.New("resnet20", nets.Config{InChannels: 1, Height: 28, Width: 28, Classes: 10})
	if err != nil {
		t.Fatal(err)
	}
	if net.Config != zoo.Config {
		t.Errorf("config %+v, want %+v", net.Config, zoo.Config)
	}
	if !reflect.DeepEqual(net.Ops, zoo.Ops) {
		for i := range min(len(net.Ops), len(zoo.Ops)) {
			if !reflect.DeepEqual(net.Ops[i], zoo.Ops[i]) {
				t.Errorf("op %d: %+v, want %+v", i, net.Ops[i], zoo.Ops[i])
				break
			}
		}
		t.Fatalf("%d ops, want %d", len(net.Ops), len(zoo.Ops))
	}
	if !reflect.DeepEqual(net.Params, zoo.Params) {
		for i := range min(len(net.Params), len(zoo.Params)) {
			if !reflect.DeepEqual(net.Params[i], zoo.Params[i]) {
				t.Errorf("param %d: %+v, want %+v", i, net.Params[i], zoo.Params[i])
				break
			}
		}
		t.Fatalf("%d params, want %d", len(net.Params), len(zoo.Params))
	}
	if err := zoo.Check(sd); err != nil {
		t.Errorf("the lowered weights do not fit the zoo model: %v", err)
	}
	if err := zoo.Check(g.Weights()); err != nil {
		t.Errorf("the graph's weights do not fit the zoo model: %v", err)
	}
}

// The export stores a parameter equal to another as an Identity of it;
// it is a parameter all the same: Weights lists it, and Run moves it alone.
func TestParameterStoredAsIdentityIsItsOwn(t *testing.T) {
	t.Parallel()
	g := exported(t, "resnet20.onnx")
	const alias = "layer3.0.shortcut.1.bias"
	src, ok := g.ParamAliases()[alias]
	if !ok {
		t.Fatalf("the export stores no %s as an Identity (aliases %v); remake the fixture's check", alias, g.ParamAliases())
	}
	w := g.Weights()
	a, _ := w.Get(alias)
	b, _ := w.Get(src)
	if !slices.Equal(a.Data, b.Data) || &a.Data[0] == &b.Data[0] {
		t.Fatalf("%s should be an equal copy of %s", alias, src)
	}
	x := Floats([]int{2, 1, 28, 28}, make([]float32, 2*28*28))
	for i := range x.F {
		x.F[i] = float32(i%17) / 17
	}
	run := func() []float32 {
		out, err := g.Run(map[string]*Tensor{"input": x}, w)
		if err != nil {
			t.Fatal(err)
		}
		return out["logits"].F
	}
	before := run()
	for i := range a.Data {
		a.Data[i] += 1
	}
	after := run()
	if slices.Equal(before, after) {
		t.Errorf("moving %s changed nothing", alias)
	}
	if !slices.Equal(b.Data, g.Initializers[src].F) {
		t.Errorf("moving %s moved %s", alias, src)
	}
}

// Nets with the other ops the engines run lower, and the CPU engines'
// loss and accuracy on their lowered forms are PyTorch's: "mixed" has max
// and average pooling, concatenation, a view, dropout and a final
// log_softmax; "mobile" the ops of mobile networks (grouped and depthwise
// convolutions, batch norm with eps 1e-3, ReLU6, Hardtanh, SiLU, sigmoid,
// hard-swish, hard-sigmoid, squeeze-and-excitation's per-channel product,
// ShuffleNet's chunk and channel shuffle).
func TestLoweredNetComputesPyTorchsLoss(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		ops  []nets.OpKind // kinds the lowered net must have
	}{
		{"mixed", []nets.OpKind{nets.MaxPool, nets.AvgPool, nets.Concat, nets.Linear}},
		{"mobile", []nets.OpKind{nets.Clip, nets.Sigmoid, nets.HardSigmoid, nets.HardSwish, nets.Mul, nets.GlobalAvgPool, nets.Slice, nets.ChannelShuffle}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			net, sd, err := exported(t, c.name+".onnx").Net(c.name, nets.Config{})
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range c.ops {
				if !slices.ContainsFunc(net.Ops, func(o nets.Op) bool { return o.Kind == k }) {
					t.Errorf("the lowered net has no %v op", k)
				}
			}
			fix, err := npz.Read(filepath.Join("..", "..", "testdata", "onnx", c.name+".npz"))
			if err != nil {
				t.Fatal(err)
			}
			x, _ := fix.Get("input")
			out, _ := fix.Get("output") // logits or log-probabilities, N x classes
			n, classes := x.Shape[0], out.Shape[1]
			if net.Config != (nets.Config{InChannels: 3, Height: 12, Width: 12, Classes: classes}) {
				t.Fatalf("config %+v", net.Config)
			}
			d := &backend.Data{Name: "test", N: n, C: 3, H: 12, W: 12, X: x.Data, Y: make([]int32, n)}
			wantLoss, correct := 0.0, 0
			for i := range n {
				d.Y[i] = int32(i % classes)
				row := out.Data[i*classes : (i+1)*classes]
				wantLoss += backendtest.CrossEntropy(row, int(d.Y[i])) / float64(n)
				if slices.Index(row, slices.Max(row)) == int(d.Y[i]) {
					correct++
				}
			}
			for _, generic := range []bool{false, true} {
				ev, err := cpu.New(&backend.Problem{Net: net, Center: sd, X: &nets.StateDict{}, Data: []*backend.Data{d}}, &cpu.Options{Generic: generic})
				if err != nil {
					t.Fatal(err)
				}
				var got []float64
				err = ev.Evaluate(context.Background(), []backend.Coord{{}}, func(_ int, v []float64) { got = slices.Clone(v) })
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(got[0]-wantLoss) > 1e-5*wantLoss || got[1] != 100*float64(correct)/float64(n) {
					t.Errorf("%s: loss %.7g, accuracy %g%%; PyTorch: %.7g, %g%%", ev.Describe(), got[0], got[1], wantLoss, 100*float64(correct)/float64(n))
				}
				ev.Close()
			}
		})
	}
}

// torch.onnx.export's defaults fold batch norm into the convolutions and
// rename the weights: the error says so and gives the export call that
// keeps them.
func TestFoldedExportIsExplained(t *testing.T) {
	t.Parallel()
	_, _, err := exported(t, "resnet20_folded.onnx").Net("resnet20_folded", nets.Config{})
	if !errors.Is(err, ErrNotLowerable) {
		t.Fatalf("error %v, want ErrNotLowerable", err)
	}
	for _, want := range []string{"lost its PyTorch name", "onnx::Conv_", "TrainingMode.PRESERVE", "do_constant_folding=False", "dynamo=False"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}

// The names the exporters make up for tensors they computed are told from
// state-dict keys: the TorchScript exporter's "onnx::Op_N" and the dynamo
// exporter's "val_N" (PyTorch 2.11's export of vit_b_16 stores each
// attention's in_proj_weight so).
func TestExporterNamesAreNotStateDictKeys(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"onnx::Conv_212": true, "val_82": true, "val_1047": true,
		"conv1.weight": false, "val_": false, "val_x": false, "val_1.weight": false, "interval_3": false,
	} {
		if got := exporterNamed(name); got != want {
			t.Errorf("exporterNamed(%q) = %v, want %v", name, got, want)
		}
	}
}

// A graph with ops the engines do not run yet gives one error naming the
// first node at fault and every op type that stands in the way; one whose
// input is not images is unsupported altogether.
func TestUnlowerableGraphSaysWhatStandsInTheWay(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		file string
		want []string
	}{
		{"tiny_mlp", []string{"(LayerNormalization): the engines do not run LayerNormalization yet", "op types the engines do not run yet: Div×1, Erf×1, LayerNormalization×1, Tanh×1"}},
	} {
		m, err := Read(filepath.Join("testdata", c.file+".onnx"), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = m.Graph.Net(c.file, nets.Config{})
		if !errors.Is(err, ErrNotLowerable) {
			t.Errorf("%s: error %v, want ErrNotLowerable", c.file, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error does not say %q:\n%v", c.file, w, err)
			}
		}
	}
}

func TestSequenceInputIsUnsupported(t *testing.T) {
	t.Parallel()
	m, err := Read(filepath.Join("testdata", "tiny_transformer.onnx"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = m.Graph.Net("tiny_transformer", nets.Config{})
	if !errors.Is(err, ErrUnsupported) || errors.Is(err, ErrNotLowerable) || !strings.Contains(err.Error(), `input "input" has shape [-1 -1 16]`) {
		t.Errorf("error %v, want ErrUnsupported naming the input", err)
	}
}

// Logits gives the graph whose one output is the logits: the output named
// "logits" of several, and a final softmax taken off (its input the
// output); a graph of several outputs none of them so named is left as it
// is, and the reference evaluator's error names its outputs.
func TestLogitsIsTheOutputNamedSoWithoutAFinalSoftmax(t *testing.T) {
	t.Parallel()
	g := exported(t, "probs_cnn.onnx")
	soft := g.Nodes[len(g.Nodes)-1]
	if soft.OpType != "Softmax" {
		t.Fatalf("probs_cnn.onnx ends in %s", soft.OpType)
	}
	two := *g
	two.Outputs = append([]ValueInfo{{Name: soft.Inputs[0], Kind: TensorKind}}, g.Outputs...)
	for _, tc := range []struct {
		g     *Graph
		label string
	}{{g, "one output"}, {&two, "pre-softmax values and logits"}} {
		l, n := tc.g.Logits()
		if n != soft || len(l.Outputs) != 1 || l.Outputs[0].Name != soft.Inputs[0] || len(l.Nodes) != len(g.Nodes)-1 {
			t.Errorf("%s: Logits took off %v, outputs %v, %d nodes of %d", tc.label, n, l.Outputs, len(l.Nodes), len(g.Nodes))
		}
	}
	if len(g.Nodes) == 0 || g.Nodes[len(g.Nodes)-1] != soft || g.Outputs[0].Name != "logits" {
		t.Error("Logits changed the graph it was given")
	}
	renamed := *soft
	renamed.Outputs = []string{"probabilities"}
	two.Nodes = append(slices.Clone(g.Nodes[:len(g.Nodes)-1]), &renamed)
	two.Outputs = []ValueInfo{two.Outputs[0], {Name: "probabilities", Kind: TensorKind}}
	if l, n := two.Logits(); l != &two || n != nil {
		t.Errorf("two outputs, none named logits: %v, %v", l.Outputs, n)
	}
	if _, err := two.ReferenceNet("two", nets.Config{}); err == nil || !strings.Contains(err.Error(), "2 outputs ("+soft.Inputs[0]+", probabilities)") {
		t.Errorf("reference evaluator: %v", err)
	}
}
