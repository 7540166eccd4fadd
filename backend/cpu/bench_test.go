package cpu

import (
	"context"
	"fmt"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/backend/backendtest"
	"github.com/landscape-go/landscape/nets"
)

// BenchmarkForward measures images per second through whole networks, all
// cores, one grid point of 512 images per iteration, with each engine this
// machine has: the micro-kernels of each instruction set (Winograd and
// direct convolutions) and im2col + SGEMM. images/cpu-s is per second of
// CPU time, which other processes on the machine disturb less than the
// wall-clock rates.
func BenchmarkForward(b *testing.B) {
	type model struct {
		name string
		cfg  nets.Config
	}
	models := []model{{"resnet20", nets.Config{}}, {"resnet56", nets.Config{}}, {"resnet20", nets.Config{InChannels: 1, Height: 28, Width: 28}}}
	problems := map[model]*backend.Problem{}
	const n = 512
	// Engines outside: the generic one loads OpenBLAS, whose threads would
	// then disturb the others.
	for _, eng := range engines() {
		for _, m := range models {
			p := problems[m]
			if p == nil {
				p = backendtest.Problem(b, m.name, m.cfg, n, true)
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
