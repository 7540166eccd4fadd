package cpu

import (
	"context"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/internal/fixture"
)

// BenchmarkHVP times one Hessian-vector product over the parameters of
// rank > 1 (the reference's choice) of resnet20 (1x28x28), resnet56
// (3x32x32) and the wider vgg9 and wrn56_2 over the 20 samples of their
// fixtures, on all cores; bench/hessian.py compares it with PyTorch's
// double backward.
func BenchmarkHVP(b *testing.B) {
	for _, name := range []string{"resnet20", "resnet56", "vgg9", "wrn56_2"} {
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
			// One product first, untimed, as bench/hessian.py warms PyTorch
			// up: the first makes the scratch (and touches its pages).
			if _, err := d.HVP(context.Background(), backend.Coord{}, v, hv); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := d.HVP(context.Background(), backend.Coord{}, v, hv); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTrainStep times one training step's passes (batch norm in
// training mode) of resnet20 on a batch of 128 samples of 1x28x28 (its
// fixture's 20, repeated), on all cores; bench/train.py compares it with
// PyTorch's forward, backward and SGD step.
func BenchmarkTrainStep(b *testing.B) {
	c := fixture.Load(b, "resnet20")
	ds, err := data.Load(data.Spec{Kind: data.NPZ, Path: c.Data}, "train", nil)
	if err != nil {
		b.Fatal(err)
	}
	const n = 128
	per := ds.C * ds.H * ds.W
	x, y := make([]float32, n*per), make([]int32, n)
	for i := range n {
		copy(x[i*per:(i+1)*per], ds.X[(i%ds.N)*per:])
		y[i] = ds.Y[i%ds.N]
	}
	p := &backend.Problem{Net: c.Net(b), Center: c.Weights(b),
		Data: []*backend.Data{{Name: "train", N: n, C: ds.C, H: ds.H, W: ds.W, X: x, Y: y}}}
	d, err := NewDifferentiator(p, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	w := d.Flatten(p.Center)
	grad := make([]float32, len(w))
	// One step first, untimed, as bench/train.py warms PyTorch up: the
	// first makes the batch's scratch, hundreds of megabytes of fresh pages.
	if _, _, err := d.TrainStep(w, x, y, grad); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := d.TrainStep(w, x, y, grad); err != nil {
			b.Fatal(err)
		}
	}
}
