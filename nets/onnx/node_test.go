package onnx

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// onnxNodeData is where Debian's libonnx-testdata installs ONNX's backend
// node tests.
const onnxNodeData = "/usr/share/libonnx-testdata/data/node"

// TestONNXNodeTests runs every ONNX backend node test whose model the
// package accepts and compares the outputs with rtol 1e-3, atol 1e-5 as
// ONNX's backend test runner does (integers and bools exactly). Models
// with unsupported ops, types or features are out of scope and counted.
// Without the data it skips, unless LANDSCAPE_REQUIRE_ONNXDATA=1.
func TestONNXNodeTests(t *testing.T) {
	t.Parallel()
	dirs, _ := filepath.Glob(filepath.Join(onnxNodeData, "test_*"))
	if len(dirs) == 0 {
		if os.Getenv("LANDSCAPE_REQUIRE_ONNXDATA") == "1" {
			t.Fatalf("no ONNX node tests under %s (apt-get install libonnx-testdata)", onnxNodeData)
		}
		t.Skipf("no ONNX node tests under %s (apt-get install libonnx-testdata)", onnxNodeData)
	}
	var passed, attempted int
	outOfScope := map[string][]string{} // reason -> tests
	for _, dir := range dirs {
		name := filepath.Base(dir)
		if reason, ok := badNodeData[name]; ok {
			outOfScope[reason] = append(outOfScope[reason], name)
			continue
		}
		err := runNodeTest(dir)
		switch {
		case errors.Is(err, ErrUnsupported):
			reason := err.Error()
			if i := strings.Index(reason, "unsupported: "); i >= 0 {
				reason = reason[i+len("unsupported: "):]
			}
			if i := strings.Index(reason, "\n"); i >= 0 {
				reason = strings.TrimSpace(reason[i+1:])
				if j := strings.Index(reason, " ("); j >= 0 {
					reason = "op " + reason[:j]
				}
			}
			outOfScope[reason] = append(outOfScope[reason], name)
			continue
		case err != nil:
			attempted++
			t.Errorf("%s: %v", name, err)
		default:
			attempted++
			passed++
		}
	}
	out := 0
	reasons := make([]string, 0, len(outOfScope))
	for r, tests := range outOfScope {
		out += len(tests)
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool { return len(outOfScope[reasons[i]]) > len(outOfScope[reasons[j]]) })
	t.Logf("ONNX node tests: %d passed / %d attempted, %d out of scope, of %d", passed, attempted, out, len(dirs))
	if testing.Verbose() {
		for _, r := range reasons {
			t.Logf("  out of scope, %d: %s", len(outOfScope[r]), r)
		}
	}
}

// badNodeData lists node tests whose data contradict their model.
var badNodeData = map[string]string{
	// The data set gives "like" as shape [1], the model declares [3 4].
	"test_castlike_BFLOAT16_to_FLOAT":          "test data contradict the model's input shape",
	"test_castlike_BFLOAT16_to_FLOAT_expanded": "test data contradict the model's input shape",
	"test_castlike_FLOAT_to_BFLOAT16_expanded": "test data contradict the model's input shape",
	// ONNX 1.12 made these data by truncating float32 to bfloat16; Cast
	// rounds to nearest even, as PyTorch and ONNX from 1.14 on do.
	"test_cast_FLOAT_to_BFLOAT16":     "ONNX 1.12 data truncate to bfloat16",
	"test_castlike_FLOAT_to_BFLOAT16": "ONNX 1.12 data truncate to bfloat16",
}

// fixBFloat16 returns t as bfloat16 if it holds bfloat16 bits as uint16:
// NumPy has no bfloat16, so ONNX's test data store them so.
func fixBFloat16(t *Tensor, want DType) *Tensor {
	if want != BFloat16 || t.DType != Uint16 {
		return t
	}
	out := newTensor(BFloat16, t.Shape)
	for i, v := range t.I {
		out.F[i] = math.Float32frombits(uint32(v) << 16)
	}
	return out
}

func runNodeTest(dir string) error {
	m, err := Read(filepath.Join(dir, "model.onnx"), nil)
	if err != nil {
		return err
	}
	g := m.Graph
	if err := g.Check(); err != nil {
		return err
	}
	for domain := range m.Opsets {
		if domain != "" {
			return fmt.Errorf("opset domain %q: %w", domain, ErrUnsupported)
		}
	}
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	if len(sets) == 0 {
		return fmt.Errorf("no test data sets")
	}
	for _, set := range sets {
		inputs := map[string]*Tensor{}
		for i, v := range g.DataInputs() {
			p := filepath.Join(set, fmt.Sprintf("input_%d.pb", i))
			if _, err := os.Stat(p); err != nil {
				return fmt.Errorf("%s: optional input omitted: %w", p, ErrUnsupported)
			}
			tt, _, err := ReadTensor(p)
			if err != nil {
				return err
			}
			inputs[v.Name] = fixBFloat16(tt, v.DType)
		}
		got, err := g.Run(inputs, nil)
		if err != nil {
			return err
		}
		for i, v := range g.Outputs {
			want, _, err := ReadTensor(filepath.Join(set, fmt.Sprintf("output_%d.pb", i)))
			if err != nil {
				return err
			}
			want = fixBFloat16(want, v.DType)
			if err := compareTensor(got[v.Name], want, 1e-3, 1e-5); err != nil {
				return fmt.Errorf("%s output %d %q: %w", filepath.Base(set), i, v.Name, err)
			}
		}
	}
	return nil
}

// compareTensor checks got against want: same type class and shape,
// floats within atol + rtol·|want| (NaN matching NaN), integers equal.
func compareTensor(got, want *Tensor, rtol, atol float64) error {
	if got.DType.IsFloat() != want.DType.IsFloat() || (!want.DType.IsFloat() && (got.DType == Bool) != (want.DType == Bool)) {
		return fmt.Errorf("type %v, want %v", got.DType, want.DType)
	}
	if len(got.Shape) != len(want.Shape) || fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) {
		return fmt.Errorf("shape %v, want %v", got.Shape, want.Shape)
	}
	bad, first := 0, ""
	if want.DType.IsFloat() {
		for i, w := range want.F {
			g := float64(got.F[i])
			wf := float64(w)
			ok := math.Abs(g-wf) <= atol+rtol*math.Abs(wf) || (math.IsNaN(g) && math.IsNaN(wf)) || g == wf
			if !ok {
				if bad == 0 {
					first = fmt.Sprintf("element %d: %g, want %g", i, g, wf)
				}
				bad++
			}
		}
	} else {
		for i, w := range want.I {
			if got.I[i] != w {
				if bad == 0 {
					first = fmt.Sprintf("element %d: %d, want %d", i, got.I[i], w)
				}
				bad++
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d elements differ; %s", bad, want.Len(), first)
	}
	return nil
}
