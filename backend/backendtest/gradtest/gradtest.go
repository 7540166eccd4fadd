// Package gradtest holds a backend's derivatives to PyTorch's autograd on
// the zoo fixtures (testdata/grad). It is apart from backendtest, which
// packages below the fixtures' readers use.
package gradtest

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/internal/fixture"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/npz"
	"github.com/landscape-go/landscape/nets/onnx"
)

// MatchPyTorch computes, for zoo fixture c with the
// differentiator newDiff makes, the gradient of the mean loss over its
// samples and the product of the Hessian with the fixture's x direction,
// at the centre, and compares each parameter's with torch.autograd's
// (double backward, float64; testdata/grad, made by
// scripts/fixtures/make_grad.py): the norms within a relative tol, the dot
// products with a probe within tol times the norms' product, tol being
// 1e-4, or where PyTorch's own float32 computation is further from
// float64 than that (the deep nets on random data), four times PyTorch's
// float32 error. The loss agrees within 1e-5.
func MatchPyTorch(t *testing.T, c *fixture.Case, newDiff func(*backend.Problem) (backend.Differentiator, error)) {
	t.Helper()
	want := readGradFixture(t, c.Name)
	ds, err := data.Load(data.Spec{Kind: data.NPZ, Path: c.Data}, "train", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &backend.Problem{Net: c.Net(t), Center: c.Weights(t), BatchSize: 8,
		Data: []*backend.Data{{Name: "train", N: ds.N, C: ds.C, H: ds.H, W: ds.W, X: ds.X, Y: ds.Y}}}
	d, err := newDiff(p)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	x, _ := c.Directions(t)
	v := make([]float32, d.Dim())
	off := 0
	for _, prm := range d.Params() {
		n := nets.NumElements(prm.Shape)
		if tx, ok := x.Get(prm.Name); ok {
			copy(v[off:off+n], tx.Data)
		}
		off += n
	}
	grad, hv := make([]float32, d.Dim()), make([]float32, d.Dim())
	loss, err := d.Gradient(context.Background(), backend.Coord{}, grad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.HVP(context.Background(), backend.Coord{}, v, hv); err != nil {
		t.Fatal(err)
	}
	if rel := math.Abs(loss-want[""][0]) / want[""][0]; rel > 1e-5 {
		t.Errorf("loss %.8g, PyTorch %.8g", loss, want[""][0])
	}
	off = 0
	bad := 0
	for _, prm := range d.Params() {
		n := nets.NumElements(prm.Shape)
		w, ok := want[prm.Name]
		if !ok {
			t.Fatalf("the fixture has no %s", prm.Name)
		}
		pr := probe(prm.Name, n)
		pn := 0.0
		for _, a := range pr {
			pn += a * a
		}
		pn = math.Sqrt(pn)
		for k, vec := range [][]float32{grad[off : off+n], hv[off : off+n]} {
			norm, dot := 0.0, 0.0
			for i, a := range vec {
				norm += float64(a) * float64(a)
				dot += float64(a) * pr[i]
			}
			norm = math.Sqrt(norm)
			wantNorm, wantDot, torch32 := w[2*k], w[2*k+1], w[4+k]
			what := [2]string{"gradient", "H·v"}[k]
			tol := max(1e-4, 4*torch32)
			if math.Abs(norm-wantNorm) > tol*wantNorm+1e-7 || math.Abs(dot-wantDot) > tol*wantNorm*pn+1e-7 {
				if bad++; bad <= 5 {
					t.Errorf("%s of %s: norm %.7g (PyTorch %.7g), probe %.7g (PyTorch %.7g); tolerance %.2g (PyTorch float32's error %.2g)",
						what, prm.Name, norm, wantNorm, dot, wantDot, tol, torch32)
				}
			}
		}
		off += n
	}
}

// readGradFixture reads testdata/grad/<name>.json (made by
// scripts/fixtures/make_grad.py): by parameter, the gradient's norm and
// probe, H·v's, and PyTorch's float32 errors of each; under "" the loss.
func readGradFixture(t *testing.T, name string) map[string][6]float64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(filepath.Dir(fixture.Dir(t)), "grad", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Loss   float64                      `json:"loss"`
		Params []map[string]json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	out := map[string][6]float64{"": {raw.Loss}}
	for _, p := range raw.Params {
		var key string
		var v [6]float64
		json.Unmarshal(p["key"], &key)
		for i, f := range []string{"grad_norm", "grad_probe", "hvp_norm", "hvp_probe", "grad_err32", "hvp_err32"} {
			if err := json.Unmarshal(p[f], &v[i]); err != nil {
				t.Fatalf("%s: %s of %s: %v (remake the fixture)", name, f, key, err)
			}
		}
		out[key] = v
	}
	return out
}

// probe is make_grad.py's probe of a parameter: levels('probe.<key>') / 6.
func probe(key string, n int) []float64 {
	p := make([]float64, n)
	for i, l := range fixture.Levels("probe."+key, n) {
		p[i] = float64(l) / 6
	}
	return p
}

// MobileMatchesPyTorch holds the differentiator newDiff makes, on the ops
// of mobile networks (grouped and depthwise convolutions, batch norm with
// eps 1e-3, ReLU6, Hardtanh, SiLU, sigmoid, hard-swish, hard-sigmoid,
// squeeze-and-excitation's product, ShuffleNet's chunk and shuffle), to
// PyTorch's double backward: testdata/onnx/mobile.onnx's gradient and H·v
// (scripts/fixtures/make_onnx.py, float64) within 1e-4 relative,
// parameter by parameter.
func MobileMatchesPyTorch(t *testing.T, newDiff func(*backend.Problem) (backend.Differentiator, error)) {
	t.Helper()
	dir := filepath.Join(filepath.Dir(fixture.Dir(t)), "onnx")
	m, err := onnx.Read(filepath.Join(dir, "mobile.onnx"), nil)
	if err != nil {
		t.Fatal(err)
	}
	net, sd, err := m.Graph.Net("mobile", nets.Config{})
	if err != nil {
		t.Fatal(err)
	}
	fix, err := npz.Read(filepath.Join(dir, "mobile.npz"))
	if err != nil {
		t.Fatal(err)
	}
	x, _ := fix.Get("input")
	n, cfg := x.Shape[0], net.Config
	y := make([]int32, n)
	for i := range y {
		y[i] = int32(i % cfg.Classes)
	}
	p := &backend.Problem{Net: net, Center: sd,
		Data: []*backend.Data{{Name: "test", N: n, C: cfg.InChannels, H: cfg.Height, W: cfg.Width, X: x.Data, Y: y}}}
	d, err := newDiff(p)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	flat := func(prefix string) []float32 {
		var out []float32
		for _, prm := range d.Params() {
			tt, ok := fix.Get(prefix + prm.Name)
			if !ok {
				t.Fatalf("mobile.npz has no %s%s (remake it)", prefix, prm.Name)
			}
			out = append(out, tt.Data...)
		}
		return out
	}
	grad, hv := make([]float32, d.Dim()), make([]float32, d.Dim())
	if _, err := d.Gradient(context.Background(), backend.Coord{}, grad); err != nil {
		t.Fatal(err)
	}
	if _, err := d.HVP(context.Background(), backend.Coord{}, flat("v."), hv); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what      string
		got, want []float32
	}{{"gradient", grad, flat("grad.")}, {"H·v", hv, flat("hvp.")}} {
		off := 0
		for _, prm := range d.Params() {
			k := nets.NumElements(prm.Shape)
			var diff, norm float64
			for i := off; i < off+k; i++ {
				e := float64(c.got[i]) - float64(c.want[i])
				diff += e * e
				norm += float64(c.want[i]) * float64(c.want[i])
			}
			if rel := math.Sqrt(diff / norm); !(rel <= 1e-4) {
				t.Errorf("%s of %s: relative error %.3g (norm %.6g)", c.what, prm.Name, rel, math.Sqrt(norm))
			}
			off += k
		}
	}
}
