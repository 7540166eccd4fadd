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
// cores, one grid point of 512 images per iteration, with each engine this
// machine has: the micro-kernels of each instruction set (Winograd and
// direct convolutions) and im2col + SGEMM. images/cpu-s is per second of
// CPU time, which other processes on the machine disturb less than the
// wall-clock rates.
func BenchmarkForward(b *testing.B) {
	type engine struct {
		name string
		opts Options
	}
	var engines []engine
	for _, ks := range kernelSets {
		engines = append(engines, engine{ks.name, Options{kernels: ks}}, engine{ks.name + "-direct", Options{kernels: ks, direct: true}})
	}
	engines = append(engines, engine{"generic", Options{Generic: true}})
	type model struct {
		name string
		cfg  nets.Config
	}
	models := []model{{"resnet20", nets.Config{}}, {"resnet56", nets.Config{}}, {"resnet20", nets.Config{InChannels: 1, Height: 28, Width: 28}}}
	problems := map[model]*backend.Problem{}
	const n = 512
	// Engines outside: the generic one loads OpenBLAS, whose threads would
	// then disturb the others.
	for _, eng := range engines {
		for _, m := range models {
			p := problems[m]
			if p == nil {
				p = syntheticProblem(b, m.name, m.cfg, n, true)
				problems[m] = p
			}
			c := p.Net.Config
			b.Run(fmt.Sprintf("%s-%dx%dx%d/%s", m.name, c.InChannels, c.Height, c.Width, eng.name), func(b *testing.B) {
				e, err := New(p, &eng.opts)
				if err != nil {
					b.Fatal(err)
				}
				i := 0
				cpu0 := processCPU()
				for b.Loop() {
					i++
					e.Evaluate(context.Background(), []backend.Coord{{X: 0.01 * float64(i)}}, func(int, []float64) {})
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
				if cpu := processCPU() - cpu0; cpu > 0 {
					b.ReportMetric(float64(n*b.N)/cpu, "images/cpu-s")
				}
			})
		}
	}
}
