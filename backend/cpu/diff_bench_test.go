package cpu

import (
	"context"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/internal/fixture"
)

// BenchmarkHVP times one Hessian-vector product of resnet20 over the 20
// samples of its fixture (1x28x28), on all cores; bench/hessian.py
// compares it with PyTorch's double backward.
func BenchmarkHVP(b *testing.B) {
	c := fixture.Load(b, "resnet20")
	ds, err := data.Load(data.Spec{Kind: data.NPZ, Path: c.Data}, "train", nil)
	if err != nil {
		b.Fatal(err)
	}
	p := &backend.Problem{Net: c.Net(b), Center: c.Weights(b),
		Data: []*backend.Data{{Name: "train", N: ds.N, C: ds.C, H: ds.H, W: ds.W, X: ds.X, Y: ds.Y}}}
	d, err := NewDifferentiator(p, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	v, hv := make([]float32, d.Dim()), make([]float32, d.Dim())
	for i := range v {
		v[i] = float32(i%7) - 3
	}
	for b.Loop() {
		if _, err := d.HVP(context.Background(), backend.Coord{}, v, hv); err != nil {
			b.Fatal(err)
		}
	}
}
