package cpu

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/nets"
)

// syntheticProblem builds a problem with random weights (BN variances
// positive) and random data, for benchmarks and scheduling tests.
func syntheticProblem(tb testing.TB, model string, cfg nets.Config, n int, withDirs bool) *backend.Problem {
	tb.Helper()
	net, err := nets.New(model, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	// random fills sd with He-scaled weights times scale, BN weights and
	// variances in [0.5, 1.5); directions (weightsOnly) skip buffers.
	random := func(sd *nets.StateDict, scale float64, weightsOnly bool) {
		for _, p := range net.Params {
			if weightsOnly && p.Kind != nets.Weight {
				continue
			}
			t := nets.NewTensor(p.Shape...)
			if len(p.Shape) <= 1 {
				for i := range t.Data {
					t.Data[i] = float32(0.5 + rng.Float64())
				}
			} else {
				std := scale * math.Sqrt(2/float64(nets.NumElements(p.Shape[1:])))
				for i := range t.Data {
					t.Data[i] = float32(rng.NormFloat64() * std)
				}
			}
			sd.Set(p.Name, t)
		}
	}
	center := &nets.StateDict{}
	random(center, 1, false)
	p := &backend.Problem{Net: net, Center: center}
	if withDirs {
		p.X, p.Y = &nets.StateDict{}, &nets.StateDict{}
		random(p.X, 0.1, true)
		random(p.Y, 0.1, true)
	}
	c := net.Config
	d := &backend.Data{Name: "synthetic", N: n, C: c.InChannels, H: c.Height, W: c.Width,
		X: make([]float32, n*c.InChannels*c.Height*c.Width), Y: make([]int32, n)}
	for i := range d.X {
		d.X[i] = float32(rng.NormFloat64())
	}
	for i := range d.Y {
		d.Y[i] = int32(rng.IntN(c.Classes))
	}
	p.Data = []*backend.Data{d}
	return p
}

// BenchmarkForward measures images per second through whole networks, all
// cores, one grid point per iteration.
func BenchmarkForward(b *testing.B) {
	for _, bc := range []struct {
		model string
		cfg   nets.Config
	}{
		{"resnet20", nets.Config{}},
		{"resnet56", nets.Config{}},
		{"resnet20", nets.Config{InChannels: 1, Height: 28, Width: 28}},
	} {
		b.Run(fmt.Sprintf("%s-%dx%d", bc.model, bc.cfg.Height, bc.cfg.Width), func(b *testing.B) {
			const n = 512
			p := syntheticProblem(b, bc.model, bc.cfg, n, true)
			e, err := New(p, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%s", e.Describe())
			i := 0
			for b.Loop() {
				i++
				e.Evaluate(context.Background(), []backend.Coord{{X: 0.01 * float64(i)}}, func(int, []float64) {})
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
		})
	}
}
