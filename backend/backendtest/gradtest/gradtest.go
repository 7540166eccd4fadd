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
