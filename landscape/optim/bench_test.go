package optim

import "testing"

func BenchmarkStep(b *testing.B) {
	const n = 1 << 20
	for _, bc := range []struct {
		name string
		make func([]*Group) (Optimizer, error)
	}{
		{"sgd_momentum", func(g []*Group) (Optimizer, error) { return NewSGD(g, &SGDConfig{LR: 0.1, Momentum: 0.9}) }},
		{"adam", func(g []*Group) (Optimizer, error) { return NewAdam(g, nil) }},
		{"radam", func(g []*Group) (Optimizer, error) { return NewRAdam(g, nil) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			data, grad := make([]float32, n), make([]float32, n)
			for i := range grad {
				grad[i] = float32(i%7) - 3
			}
			opt, err := bc.make([]*Group{{Params: []Param{{Data: data, Grad: grad}}}})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				opt.Step()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "params/s")
		})
	}
}
