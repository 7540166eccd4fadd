package cpu

import (
	"context"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/internal/fixture"
)

// BenchmarkHVP times one Hessian-vector product over the parameters of
// rank > 1 (the reference's choice) of resnet20 (1x28x28) and resnet56
// (3x32x32) over the 20 samples of their fixtures, on all cores;
// bench/hessian.py compares it with PyTorch's double backward.
func BenchmarkHVP(b *testing.B) {
	for _, name := range []string{"resnet20", "resnet56"} {
		b.Run(name, func(b *testing.B) {
			c := fixture.Load(b, name)
			ds, err := data.Load(data.Spec{Kind: data.NPZ, Path: c.Data}, "train", nil)
			if err != nil {
				b.Fatal(err)
			}
			net := c.Net(b)
			p := &backend.Problem{Net: net, Center: c.Weights(b),
				Data: []*backend.Data{{Name: "train", N: ds.N, C: ds.C, H: ds.H, W: ds.W, X: ds.X, Y: ds.Y}}}
			var params []string
			for _, prm := range net.Params {
				if len(prm.Shape) > 1 {
					params = append(params, prm.Name)
				}
			}
			d, err := NewDifferentiator(p, params, nil)
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
		})
	}
}
