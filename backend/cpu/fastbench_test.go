package cpu

import (
	"fmt"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/backend/backendtest"
	"github.com/landscape-go/landscape/nets"
)

// BenchmarkLayers times single steps of ResNet-56 on one core, a sub-batch
// at a time: the stem, a 3x3 convolution of each stage directly and as
// Winograd F(4x4, 3x3), and the strided ones. GFLOP/s counts the
// multiply-adds of a direct convolution (2 per weight per output pixel),
// so Winograd's figure is what a direct convolution would need to match it.
func BenchmarkLayers(b *testing.B) {
	if fastKernels == nil {
		b.Skip("no micro-kernels on this machine")
	}
	p := backendtest.Problem(b, "resnet56", nets.Config{}, fastSub, true)
	for _, direct := range []bool{false, true} {
		e, err := New(p, &Options{Workers: 1, NoWinograd: direct})
		if err != nil {
			b.Fatal(err)
		}
		w := e.newFastWorker(e.newPackCache(1))
		w.setPoint(0, backend.Coord{X: 0.1, Y: 0.1})
		w.input(p.Data[0], 0, fastSub)
		seen := map[string]bool{}
		for k := range e.fast.steps {
			st := &e.fast.steps[k]
			if st.kind != fConv {
				continue
			}
			in := st.inG[0]
			name := fmt.Sprintf("%dx%dx%d-%dx%d-s%d-to-%d/", in.c, in.h, in.w, st.op.Kernel, st.op.Kernel, st.op.Stride, st.outG.c)
			switch {
			case st.wino:
				name += "winograd"
			case direct && winogradOK(st.op, in):
				name += "direct"
			case direct:
				continue // measured in the other plan
			default:
				name += "direct"
			}
			if seen[name] {
				continue
			}
			seen[name] = true
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					w.run(st, fastSub)
				}
				flops := float64(2*in.c*st.op.Kernel*st.op.Kernel*st.outG.c*st.outG.h*st.outG.w) * fastSub
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				b.ReportMetric(fastSub*float64(b.N)/b.Elapsed().Seconds(), "images/s")
			})
		}
		w.done()
	}
}
