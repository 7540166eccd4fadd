package normalize

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/nets"
)

// ExampleNewPlane places three models of known coordinates: B − A = 3·e1
// and C − A = 1·e1 + 2·e2 + (bias change), with e1, e2 orthonormal over
// the matrix w and the bias b moving by 0.5 on each of its 4 entries in
// C. In weights mode the bias is covered, so v takes the part of C − A
// orthogonal to u, bias included.
func ExampleNewPlane() {
	a := planeModel(0, 0, 0)
	b := planeModel(3, 0, 0)
	c := planeModel(1, 2, 0.5)
	p, err := NewPlane(planeNet, a, b, c, Weights)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, pt := range p.Points {
		fmt.Printf("%c at (%.4f, %.4f), residual below 1e-6: %v\n", 'A'+i, pt.X, pt.Y, pt.Residual < 1e-6)
	}
	u, _ := p.X.Get("w")
	fmt.Println("u over w:", u.Data)
	_, hasCounter := p.X.Get("bn.num_batches_tracked")
	fmt.Println("counter in the directions:", hasCounter)
	// Output:
	// A at (0.0000, 0.0000), residual below 1e-6: true
	// B at (3.0000, 0.0000), residual below 1e-6: true
	// C at (1.0000, 2.2361), residual below 1e-6: true
	// u over w: [0.5 0.5 0.5 0.5 0 0 0 0]
	// counter in the directions: false
}

// TestPlaneBasisIsOrthonormal checks ‖u‖ = ‖v‖ = 1 and ⟨u, v⟩ = 0 to
// float32 rounding, and that A + X·u + Y·v gives back B and C, on models
// in general position.
func TestPlaneBasisIsOrthonormal(t *testing.T) {
	t.Parallel()
	mk := func(seed float64) *nets.StateDict {
		sd := &nets.StateDict{}
		w, b := nets.NewTensor(2, 4), nets.NewTensor(4)
		for i := range w.Data {
			w.Data[i] = float32(math.Sin(seed*float64(i+1)) * 3)
		}
		for i := range b.Data {
			b.Data[i] = float32(math.Cos(seed + float64(i)))
		}
		sd.Set("w", w)
		sd.Set("b", b)
		return sd
	}
	a, b, c := mk(1), mk(2), mk(3)
	for _, mode := range []Mode{Weights, States} {
		p, err := NewPlane(planeNet, a, b, c, mode)
		if err != nil {
			t.Fatal(err)
		}
		var uu, vv, uv float64
		for _, k := range p.X.Names() {
			u, _ := p.X.Get(k)
			v, _ := p.Y.Get(k)
			for i := range u.Data {
				uu += float64(u.Data[i]) * float64(u.Data[i])
				vv += float64(v.Data[i]) * float64(v.Data[i])
				uv += float64(u.Data[i]) * float64(v.Data[i])
			}
		}
		if math.Abs(uu-1) > 1e-6 || math.Abs(vv-1) > 1e-6 || math.Abs(uv) > 1e-6 {
			t.Errorf("%s: ‖u‖² %g, ‖v‖² %g, ⟨u,v⟩ %g", mode, uu, vv, uv)
		}
		for m, sd := range []*nets.StateDict{a, b, c} {
			pt := p.Points[m]
			if pt.Residual > 1e-6 {
				t.Errorf("%s: model %c is %g from its point in the plane", mode, 'A'+m, pt.Residual)
			}
			for _, k := range p.X.Names() {
				u, _ := p.X.Get(k)
				v, _ := p.Y.Get(k)
				a0, _ := a.Get(k)
				want, _ := sd.Get(k)
				for i := range u.Data {
					got := float64(a0.Data[i]) + pt.X*float64(u.Data[i]) + pt.Y*float64(v.Data[i])
					if math.Abs(got-float64(want.Data[i])) > 1e-5 {
						t.Errorf("%s: A + X·u + Y·v at %s[%d] = %g, model %c has %g", mode, k, i, got, 'A'+m, want.Data[i])
					}
				}
			}
		}
		if math.Abs(p.Points[1].Y) > 1e-6*p.Points[1].X || p.Points[0] != (PlanePoint{}) {
			t.Errorf("%s: A at %+v, B at %+v; want the origin and the x axis", mode, p.Points[0], p.Points[1])
		}
	}
}

// Three models that span no plane (B equal to A, C equal to A or on the
// line AB) are ErrDegenerate, and a model lacking an entry is an error
// naming it.
func TestDegeneratePlanesAndMissingEntriesAreErrors(t *testing.T) {
	t.Parallel()
	a := planeModel(0, 0, 0)
	missing := planeModel(1, 0, 0)
	missing.Delete("b")
	for _, tc := range []struct {
		name    string
		b, c    *nets.StateDict
		want    string
		isDegen bool
	}{
		{"B equals A", planeModel(0, 0, 0), planeModel(1, 1, 0), "B equals A", true},
		{"C on AB", planeModel(2, 1, 0), planeModel(-4, -2, 0), "C lies on the line", true},
		{"C equals A", planeModel(2, 1, 0), planeModel(0, 0, 0), "C equals A", true},
		{"missing key", missing, planeModel(1, 1, 0), "model B has no b", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewPlane(planeNet, a, tc.b, tc.c, Weights)
			if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, ErrDegenerate) != tc.isDegen {
				t.Errorf("error %v, want one mentioning %q (degenerate %v)", err, tc.want, tc.isDegen)
			}
		})
	}
}
