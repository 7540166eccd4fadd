package normalize

import (
	"errors"
	"fmt"
	"math"

	"github.com/landscape-go/landscape/nets"
)

// ProjectOn projects every row added so far on given directions x and y
// instead of fitting its own components: how a second training run (say,
// with another optimiser) is drawn on the plane of the first run's PCA,
// around the first run's final model. A key absent from a direction is a
// zero direction there. Coordinates solve the 2x2 least-squares problem,
// which for orthonormal directions such as PCA components is the
// reference's cos projection ⟨w_i − w_final, u⟩.
func (p *PCA) ProjectOn(x, y *nets.StateDict) ([]Projection, error) {
	u, err := p.dirVector(x, "x direction")
	if err != nil {
		return nil, err
	}
	v, err := p.dirVector(y, "y direction")
	if err != nil {
		return nil, err
	}
	var uu, uv, vv float64
	for i := range u {
		uu += u[i] * u[i]
		uv += u[i] * v[i]
		vv += v[i] * v[i]
	}
	det := uu*vv - uv*uv
	if !(det > 1e-12*uu*vv) {
		return nil, fmt.Errorf("normalize: project on directions: %w: they are zero or parallel over the entries covered", ErrDegenerate)
	}
	out := make([]Projection, len(p.rows))
	for k, row := range p.rows {
		var du, dv, dd float64
		for i, d := range row {
			f := float64(d)
			du += f * u[i]
			dv += f * v[i]
			dd += f * f
		}
		a := (vv*du - uv*dv) / det
		b := (uu*dv - uv*du) / det
		var rr float64
		for i, d := range row {
			r := float64(d) - a*u[i] - b*v[i]
			rr += r * r
		}
		out[k] = Projection{X: a, Y: b, Residual: math.Sqrt(rr), Distance: math.Sqrt(dd), Frozen: p.frozenDist[k]}
	}
	return out, nil
}

// dirVector flattens a direction over the PCA's entries, zero where the
// direction has no tensor.
func (p *PCA) dirVector(d *nets.StateDict, what string) ([]float64, error) {
	if d == nil {
		return nil, errors.New("normalize: project on directions: no " + what)
	}
	full := &nets.StateDict{}
	for _, e := range p.entries {
		if t, ok := d.Get(e.name); ok {
			full.Set(e.name, t)
		} else {
			full.Set(e.name, nets.NewTensor(e.shape...))
		}
	}
	flat := make([]float32, p.dim)
	if err := flatten(flat, full, p.entries, what); err != nil {
		return nil, err
	}
	v := make([]float64, p.dim)
	for i, f := range flat {
		v[i] = float64(f)
	}
	return v, nil
}
