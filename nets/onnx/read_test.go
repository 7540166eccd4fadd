package onnx

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/landscape-go/landscape/nets"
)

// pb builds protobuf messages for tests.
type pb []byte

func (b pb) bytes(num protowire.Number, v []byte) pb {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func (b pb) str(num protowire.Number, s string) pb { return b.bytes(num, []byte(s)) }

func (b pb) varint(num protowire.Number, v uint64) pb {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func (b pb) fixed32(num protowire.Number, v uint32) pb {
	b = protowire.AppendTag(b, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, v)
}

// tensorPB returns a float TensorProto with typed float_data.
func tensorPB(name string, dims []int64, vals []float32) pb {
	var t pb
	for _, d := range dims {
		t = t.varint(1, uint64(d))
	}
	t = t.varint(2, uint64(Float)).str(8, name)
	for _, v := range vals {
		t = t.fixed32(4, math.Float32bits(v))
	}
	return t
}

func valueInfoPB(name string, dims ...int64) pb {
	var shape pb
	for _, d := range dims {
		shape = shape.bytes(1, pb(nil).varint(1, uint64(d)))
	}
	tt := pb(nil).varint(1, uint64(Float)).bytes(2, shape)
	return pb(nil).str(1, name).bytes(2, pb(nil).bytes(1, tt))
}

func nodePB(name, op string, in, out []string, attrs ...pb) pb {
	n := pb(nil).str(3, name).str(4, op)
	for _, s := range in {
		n = n.str(1, s)
	}
	for _, s := range out {
		n = n.str(2, s)
	}
	for _, a := range attrs {
		n = n.bytes(5, a)
	}
	return n
}

func modelPB(opset int64, nodes []pb, inits []pb, inputs, outputs []pb) []byte {
	var g pb
	g = g.str(2, "test")
	for _, n := range nodes {
		g = g.bytes(1, n)
	}
	for _, t := range inits {
		g = g.bytes(5, t)
	}
	for _, v := range inputs {
		g = g.bytes(11, v)
	}
	for _, v := range outputs {
		g = g.bytes(12, v)
	}
	m := pb(nil).varint(1, 8).bytes(8, pb(nil).str(1, "").varint(2, uint64(opset))).bytes(7, g)
	return m
}

func TestDecodeRun(t *testing.T) {
	t.Parallel()
	data := modelPB(13,
		[]pb{nodePB("mm", "MatMul", []string{"x", "w"}, []string{"y"}), nodePB("act", "Relu", []string{"y"}, []string{"z"})},
		[]pb{tensorPB("w", []int64{2, 2}, []float32{1, -1, 2, 0})},
		[]pb{valueInfoPB("x", 1, 2)}, []pb{valueInfoPB("z", 1, 2)})
	m, err := Decode(data, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Opsets[""] != 13 || m.Graph.Opset != 13 || len(m.Graph.Nodes) != 2 {
		t.Fatalf("decoded %+v", m)
	}
	out, err := m.Graph.Run(map[string]*Tensor{"x": Floats([]int{1, 2}, []float32{1, 2})}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// [1 2]·[[1 -1] [2 0]] = [5 -1], ReLU gives [5 0].
	if z := out["z"].F; z[0] != 5 || z[1] != 0 {
		t.Errorf("z = %v, want [5 0]", z)
	}
	if sd := m.Graph.Weights(); sd.Len() != 1 {
		t.Errorf("Weights has %d tensors, want 1", sd.Len())
	}
}

func TestUnsupportedListsAll(t *testing.T) {
	t.Parallel()
	data := modelPB(11,
		[]pb{
			nodePB("a", "Foo", []string{"x"}, []string{"y"}),
			nodePB("b", "Relu", []string{"y"}, []string{"z"}),
			nodePB("c", "Bar", []string{"z"}, []string{"u"}),
			nodePB("d", "Foo", []string{"u"}, []string{"v"}),
		}, nil,
		[]pb{valueInfoPB("x", 1)}, []pb{valueInfoPB("v", 1)})
	m, err := Decode(data, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = m.Graph.Check()
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("Check: %v, want ErrUnsupported", err)
	}
	for _, s := range []string{"2 operator types at opset 11", "Bar (1 nodes: c)", "Foo (2 nodes: a, d)"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "w.bin"), make([]byte, 16), 0o644); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(filepath.Dir(dir), filepath.Base(dir)+"-secret")
	if err := os.WriteFile(outside, make([]byte, 16), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(outside) })
	if err := os.Symlink(outside, filepath.Join(dir, "link.bin")); err != nil {
		t.Fatal(err)
	}
	external := func(name string, kv ...string) pb {
		t := pb(nil).varint(1, 2).varint(1, 2).varint(2, uint64(Float)).str(8, name).varint(14, 1)
		for i := 0; i < len(kv); i += 2 {
			t = t.bytes(13, pb(nil).str(1, kv[i]).str(2, kv[i+1]))
		}
		return t
	}
	relu := []pb{nodePB("r", "Relu", []string{"w"}, []string{"y"})}
	out := []pb{valueInfoPB("y", 2, 2)}
	for _, tc := range []struct {
		name  string
		model []byte
		is    error
		want  []string
	}{
		{"external ok", modelPB(13, relu, []pb{external("w", "location", "w.bin")}, nil, out), nil, nil},
		{"external traversal", modelPB(13, relu, []pb{external("w", "location", "../x.bin")}, nil, out), ErrFormat, []string{`initializer "w"`, "../x.bin"}},
		{"external absolute", modelPB(13, relu, []pb{external("w", "location", "/etc/passwd")}, nil, out), ErrFormat, []string{"/etc/passwd"}},
		{"external symlink out", modelPB(13, relu, []pb{external("w", "location", "link.bin")}, nil, out), nil, []string{`initializer "w"`, "link.bin"}},
		{"external short", modelPB(13, relu, []pb{external("w", "location", "w.bin", "offset", "8")}, nil, out), ErrFormat, []string{"offset 8"}},
		{"external length", modelPB(13, relu, []pb{external("w", "location", "w.bin", "length", "4")}, nil, out), ErrFormat, []string{"length 4"}},
		{"too few values", modelPB(13, relu, []pb{tensorPB("w", []int64{2, 2}, []float32{1})}, nil, out), ErrFormat, []string{`initializer "w"`, "1 values for shape [2 2]"}},
		{"huge shape", modelPB(13, relu, []pb{tensorPB("w", []int64{1 << 40, 1 << 40}, nil)}, nil, out), ErrTooLarge, []string{`initializer "w"`}},
		{"too many dims", modelPB(13, relu, []pb{tensorPB("w", make([]int64, 17), nil)}, nil, out), ErrTooLarge, []string{"more than 16 dimensions"}},
		{"subgraph", modelPB(13, []pb{nodePB("cond", "If", []string{"c"}, []string{"y"}, pb(nil).str(1, "then_branch").varint(20, 5).bytes(6, nil))}, nil, nil, out), ErrUnsupported, []string{`node 0 "cond"`, `attribute "then_branch"`, "subgraph"}},
		{"truncated", modelPB(13, relu, nil, nil, out)[:10], ErrFormat, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".onnx")
			if err := os.WriteFile(path, tc.model, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Read(path, nil)
			if tc.want == nil && tc.is == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v does not wrap %v", err, tc.is)
			}
			for _, s := range append(tc.want, path) {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
}

func TestMaxNodes(t *testing.T) {
	t.Parallel()
	var nodes []pb
	for range 5 {
		nodes = append(nodes, nodePB("", "Relu", []string{"x"}, []string{"x"}))
	}
	_, err := Decode(modelPB(13, nodes, nil, nil, nil), "", &Limits{MaxNodes: 4})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("5 nodes with MaxNodes 4: %v", err)
	}
}

func TestTopologicalOrder(t *testing.T) {
	t.Parallel()
	data := modelPB(13,
		[]pb{nodePB("second", "Relu", []string{"y"}, []string{"z"}), nodePB("first", "Relu", []string{"x"}, []string{"y"})},
		nil, []pb{valueInfoPB("x", 1)}, []pb{valueInfoPB("z", 1)})
	m, err := Decode(data, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Graph.Check(); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), `node "second"`) {
		t.Errorf("Check: %v", err)
	}
}

func TestFloat16Rounding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want float32 }{
		{1, 1}, {65504, 65504}, {65520, float32(math.Inf(1))}, {1 + 1.0/2048, 1}, {1 + 3.0/2048, 1 + 2.0/1024},
		{5.96e-8, 5.960464477539063e-08}, {1e-9, 0}, {-2.5, -2.5},
	} {
		if got := roundTo(Float16, tc.in); got != tc.want {
			t.Errorf("roundTo(Float16, %g) = %g, want %g", tc.in, got, tc.want)
		}
	}
}

// allTensors returns the initializers and tensor attributes of g.
func allTensors(g *Graph) []*Tensor {
	var ts []*Tensor
	for _, t := range g.Initializers {
		ts = append(ts, t)
	}
	for _, n := range g.Nodes {
		for _, a := range n.Attrs {
			if a.T != nil {
				ts = append(ts, a.T)
			}
		}
	}
	return ts
}

// FuzzRead checks that Decode never panics and that decoded tensors never
// take more than DecodedFactor bytes per input byte.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"small_cnn.onnx", "tiny_mlp.onnx", "tiny_transformer.onnx"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		}
	}
	f.Add(modelPB(13, []pb{nodePB("mm", "MatMul", []string{"x", "w"}, []string{"y"})},
		[]pb{tensorPB("w", []int64{2, 2}, []float32{1, -1, 2, 0})}, []pb{valueInfoPB("x", 1, 2)}, []pb{valueInfoPB("y", 1, 2)}))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data, "", nil)
		if err != nil {
			return
		}
		var total int64
		for _, tt := range allTensors(m.Graph) {
			if len(tt.F)+len(tt.I) != tt.Len() {
				t.Fatalf("tensor shape %v with %d+%d values", tt.Shape, len(tt.F), len(tt.I))
			}
			total += tt.decodedBytes()
		}
		if total > DecodedFactor*int64(len(data)) {
			t.Fatalf("%d input bytes decoded to %d bytes of tensors", len(data), total)
		}
		_ = m.Graph.Check()
	})
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	data := modelPB(13,
		[]pb{nodePB("mm", "MatMul", []string{"x", "w"}, []string{"y"})},
		[]pb{tensorPB("w", []int64{2, 2}, []float32{1, -1, 2, 0})},
		[]pb{valueInfoPB("x", 1, 2)}, []pb{valueInfoPB("y", 1, 2)})
	m, err := Decode(data, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	g := m.Graph
	x := Floats([]int{1, 2}, []float32{1, 2})
	bad := &nets.StateDict{}
	bad.Set("w", nets.NewTensor(3, 2))
	for _, tc := range []struct {
		name    string
		inputs  map[string]*Tensor
		weights *nets.StateDict
		want    string
	}{
		{"missing input", nil, nil, `input "x" not given`},
		{"wrong shape", map[string]*Tensor{"x": Floats([]int{2, 1}, []float32{1, 2})}, nil, "the graph wants [1 2]"},
		{"wrong type", map[string]*Tensor{"x": Ints([]int{1, 2}, []int64{1, 2})}, nil, "element type int64"},
		{"wrong weight", map[string]*Tensor{"x": x}, bad, `weight "w" shape [3 2]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := g.Run(tc.inputs, tc.weights)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run: %v, want %q", err, tc.want)
			}
		})
	}
	// A point of a landscape: new weights of the same shape.
	w := &nets.StateDict{}
	w.Set("w", &nets.Tensor{Shape: []int{2, 2}, Data: []float32{0, 1, 1, 0}})
	out, err := g.Run(map[string]*Tensor{"x": x}, w)
	if err != nil {
		t.Fatal(err)
	}
	if y := out["y"].F; y[0] != 2 || y[1] != 1 {
		t.Errorf("y = %v with swapped weights, want [2 1]", y)
	}
}

// TestGelu checks Gelu, which ONNX 1.12's node tests predate (opset 20).
func TestGelu(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		approx string
		x      []float32
		want   []float32
	}{
		{"none", []float32{-1, 0, 1, 3}, []float32{-0.15865526, 0, 0.8413447, 2.9959502}},
		{"tanh", []float32{-1, 0, 1, 3}, []float32{-0.15880801, 0, 0.841192, 2.9963627}},
	} {
		n := &Node{OpType: "Gelu", Attrs: map[string]*Attr{"approximate": {Name: "approximate", Type: AttrString, S: tc.approx}}}
		out, err := ops["Gelu"](&opCtx{n: n, opset: 20}, []*Tensor{Floats([]int{len(tc.x)}, tc.x)})
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range tc.want {
			if got := out[0].F[i]; math.Abs(float64(got-w)) > 1e-6 {
				t.Errorf("Gelu %s (%g) = %g, want %g", tc.approx, tc.x[i], got, w)
			}
		}
	}
}
