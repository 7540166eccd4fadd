//go:build linux && !android

package cuda

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/backend/backendtest"
	"github.com/landscape-go/landscape/internal/fixture"
	"github.com/landscape-go/landscape/nets"
)

// BenchmarkGPUHVP times one Hessian-vector product on the GPU, FP32, of a
// zoo fixture's network and weights over LANDSCAPE_BENCH_SAMPLES (default
// 1024) random samples of its input shape, with respect to the parameters
// of rank > 1 (the reference's choice). bench/hessian.py --device cuda
// runs it against PyTorch's double backward on the same GPU.
func BenchmarkGPUHVP(b *testing.B) {
	requireGPU(b)
	n := 1024
	if s := os.Getenv("LANDSCAPE_BENCH_SAMPLES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			b.Fatalf("LANDSCAPE_BENCH_SAMPLES=%s: want a positive number", s)
		}
	}
	for _, name := range []string{"resnet20", "resnet56"} {
		b.Run(name, func(b *testing.B) {
			c := fixture.Load(b, name)
			net := c.Net(b)
			d := backendtest.RandomData(net, n, rand.New(rand.NewPCG(1, 2)))
			var params []string
			for _, p := range net.Params {
				if p.Kind == nets.Weight && len(p.Shape) > 1 {
					params = append(params, p.Name)
				}
			}
			diff, err := NewDifferentiator(&backend.Problem{Net: net, Center: c.Weights(b), Data: []*backend.Data{d}}, params, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer diff.Close()
			b.Log(diff.Describe())
			v, hv := make([]float32, diff.Dim()), make([]float32, diff.Dim())
			for i := range v {
				v[i] = float32(i%7 - 3)
			}
			ctx := context.Background()
			if _, err := diff.HVP(ctx, backend.Coord{}, v, hv); err != nil { // warm-up, untimed: PyTorch's has one too
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := diff.HVP(ctx, backend.Coord{}, v, hv); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
