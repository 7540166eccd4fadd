package cuda

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/backend/backendtest"
	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/onnx"
)

// The plan decides what the GPU computes: which ops fuse, in which order the
// steps run and which buffers they share. These tests run a plan on the host,
// step by step as the GPU runs it (the kernels written out in plain Go), and
// ask for the CPU backend's loss on every zoo architecture. A plan that reads
// a buffer after it was reused, or fuses across a value read twice, fails here
// with no GPU in sight.

// hostRun executes plan p for weights w (by state-dict name) on n samples x
// and returns the logits, n×classes.
// after, if set, is called with each step's output.
func hostRun(p *plan, w func(string) []float32, x []float32, n int, after func(step int, out []float32)) []float32 {
	slots := make([][]float32, len(p.slotSize))
	for i, s := range p.slotSize {
		slots[i] = make([]float32, s*n)
		for j := range slots[i] {
			slots[i][j] = float32(math.NaN()) // stale data must not leak through
		}
	}
	at := func(s int) []float32 {
		if s == inputSlot {
			return x
		}
		return slots[s]
	}
	scale := make([]float32, p.channels)
	shift := make([]float32, p.channels)
	for _, f := range p.folds {
		for c := range f.channels {
			a, b := float32(1), float32(0)
			if f.bias != "" {
				b = w(f.bias)[c]
			}
			if f.bn != "" {
				invstd := 1 / float32(math.Sqrt(float64(w(f.bn + ".running_var")[c]+f.eps)))
				a = w(f.bn + ".weight")[c] * invstd
				b = b*a + (w(f.bn + ".bias")[c] - w(f.bn + ".running_mean")[c]*a)
			}
			scale[f.off+c], shift[f.off+c] = a, b
		}
	}
	for si, st := range p.steps {
		o := st.op
		in := st.inShape[0]
		x, y := at(st.in[0]), at(st.out)
		C, OH, OW := st.outShape[0], st.outShape[1], st.outShape[2]
		epilogue := true
		switch o.Kind {
		case nets.Conv:
			wt := w(o.Name + ".weight")
			k := o.Kernel
			ci, co := in[0]/o.Group(), C/o.Group() // per group
			for s := range n {
				for oc := range C {
					for oy := range OH {
						for ox := range OW {
							var sum float32
							for j := range ci {
								ic := oc/co*ci + j
								for ky := range k {
									iy := oy*o.Stride - o.Pad + ky
									if iy < 0 || iy >= in[1] {
										continue
									}
									for kx := range k {
										ix := ox*o.Stride - o.Pad + kx
										if ix < 0 || ix >= in[2] {
											continue
										}
										sum += x[((s*in[0]+ic)*in[1]+iy)*in[2]+ix] * wt[((oc*ci+j)*k+ky)*k+kx]
									}
								}
							}
							y[((s*C+oc)*OH+oy)*OW+ox] = sum
						}
					}
				}
			}
			x = y
		case nets.Linear:
			wt := w(o.Name + ".weight")
			f := in[0] * in[1] * in[2]
			for s := range n {
				for oc := range C {
					var sum float32
					for j := range f {
						sum += x[s*f+j] * wt[oc*f+j]
					}
					y[s*C+oc] = sum
				}
			}
			x = y
		case nets.BatchNorm, nets.ReLU, nets.Add:
		case nets.MaxPool, nets.AvgPool, nets.GlobalAvgPool:
			k, stride := o.Kernel, o.Stride
			if o.Kind == nets.GlobalAvgPool {
				k, stride = in[1], 1
			}
			for pl := range n * in[0] {
				for oy := range OH {
					for ox := range OW {
						m, sum := float32(math.Inf(-1)), float32(0)
						for yy := oy * stride; yy < min(oy*stride+k, in[1]); yy++ {
							for xx := ox * stride; xx < min(ox*stride+k, in[2]); xx++ {
								v := x[(pl*in[1]+yy)*in[2]+xx]
								m, sum = max(m, v), sum+v
							}
						}
						if o.Kind != nets.MaxPool {
							m = sum / float32(k*k)
						}
						y[(pl*OH+oy)*OW+ox] = m
					}
				}
			}
			epilogue = false
		case nets.Clip, nets.Sigmoid, nets.HardSigmoid, nets.HardSwish:
			for i := range n * C * OH * OW {
				v := x[i]
				switch o.Kind {
				case nets.Clip:
					v = min(max(v, o.Lo), o.Hi)
				case nets.Sigmoid:
					if v <= -87 {
						v = 0
					} else {
						v = float32(1 / (1 + math.Exp(-float64(v))))
					}
				case nets.HardSigmoid:
					v = min(max(v+3, 0), 6) / 6
				case nets.HardSwish:
					v = v * min(max(v+3, 0), 6) / 6
				}
				y[i] = v
			}
			epilogue = false
		case nets.ChannelShuffle, nets.Slice:
			hw := OH * OW
			for i := range n * C * hw {
				s, j, q := i/(C*hw), i/hw%C, i%hw
				src := o.From + j
				if o.Kind == nets.ChannelShuffle {
					src = j%o.Groups*(C/o.Groups) + j/o.Groups
				}
				y[i] = x[(s*in[0]+src)*hw+q]
			}
			epilogue = false
		case nets.Mul:
			b, each := at(st.in[1]), OH*OW/(st.inShape[1][1]*st.inShape[1][2])
			for i := range n * C * OH * OW {
				y[i] = x[i] * b[i/each]
			}
			epilogue = false
		case nets.Concat:
			off := 0
			hw := OH * OW
			for k, s := range st.in {
				c := st.inShape[k][0]
				src := at(s)
				for i := range n * c * hw {
					sample, ch, j := i/(c*hw), i/hw%c, i%hw
					y[(sample*C+off+ch)*hw+j] = src[i]
				}
				off += c
			}
			epilogue = false
		}
		hw := OH * OW
		for i := range n * C * hw {
			if !epilogue {
				break
			}
			v := x[i]
			if st.fold >= 0 {
				c := p.folds[st.fold].off + i/hw%C
				v = v*scale[c] + shift[c]
			}
			if st.res >= 0 {
				v += at(st.res)[i]
			}
			if st.relu {
				v = max(v, 0)
			}
			y[i] = v
		}
		if after != nil {
			after(si, y[:n*C*hw])
		}
	}
	return slots[p.logits][:n*p.classes]
}

// randomWeights gives net plausible weights: BN variances positive.
func randomWeights(net *nets.Net, seed uint64) *nets.StateDict {
	r := rand.New(rand.NewPCG(seed, 1))
	sd := &nets.StateDict{}
	for _, p := range net.Params {
		t := nets.NewTensor(p.Shape...)
		fan := 1
		if len(p.Shape) >= 2 {
			fan = len(t.Data) / p.Shape[0]
		}
		for i := range t.Data {
			v := r.NormFloat64() / math.Sqrt(float64(fan))
			switch {
			case strings.HasSuffix(p.Name, ".running_var"), len(p.Shape) == 1 && strings.HasSuffix(p.Name, ".weight"):
				v = 0.5 + r.Float64()
			case strings.HasSuffix(p.Name, ".num_batches_tracked"):
				v = 0
			}
			t.Data[i] = float32(v)
		}
		sd.Set(p.Name, t)
	}
	return sd
}

func TestPlanMatchesCPUOnEveryModel(t *testing.T) {
	for _, name := range nets.Models() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			size := 8
			if testing.Short() && !strings.HasPrefix(name, "resnet20") && name != "vgg9" && name != "densenet121" {
				t.Skip("-short: only resnet20, vgg9 and densenet121")
			}
			net, err := nets.New(name, nets.Config{InChannels: 3, Height: size, Width: size, Classes: 7})
			if err != nil {
				t.Fatal(err)
			}
			p, err := compile(net)
			if err != nil {
				t.Fatal(err)
			}
			planMatchesCPU(t, p, net, randomWeights(net, 7))
		})
	}
}

// The ops of mobile networks (grouped and depthwise convolutions, batch
// norm with eps 1e-3, ReLU6, hard-swish, SiLU, squeeze-and-excitation...),
// in a net exported from PyTorch (scripts/fixtures/make_onnx.py), run on
// the host as the GPU runs them give the CPU backend's loss.
func TestPlanMatchesCPUOnMobileOps(t *testing.T) {
	t.Parallel()
	net, sd := mobileNet(t)
	p, err := compile(net)
	if err != nil {
		t.Fatal(err)
	}
	planMatchesCPU(t, p, net, sd)
}

// mobileNet is testdata/onnx/mobile.onnx lowered onto nets' ops, with its
// weights.
func mobileNet(t *testing.T) (*nets.Net, *nets.StateDict) {
	t.Helper()
	m, err := onnx.Read(filepath.Join("..", "..", "testdata", "onnx", "mobile.onnx"), nil)
	if err != nil {
		t.Fatal(err)
	}
	net, sd, err := m.Graph.Net("mobile", nets.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return net, sd
}

// planMatchesCPU runs plan p of net on the host for three random samples
// and compares its loss with the CPU backend's.
func planMatchesCPU(t *testing.T, p *plan, net *nets.Net, sd *nets.StateDict) {
	t.Helper()
	const n = 3
	cfg := net.Config
	x := make([]float32, n*cfg.InChannels*cfg.Height*cfg.Width)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	labels := []int32{0, 3, int32(cfg.Classes - 1)}
	logits := hostRun(p, func(k string) []float32 { t, _ := sd.Get(k); return t.Data }, x, n, nil)
	var loss float64
	for s := range n {
		loss += backendtest.CrossEntropy(logits[s*cfg.Classes:(s+1)*cfg.Classes], int(labels[s])) / n
	}
	prob := &backend.Problem{Net: net, Center: sd, BatchSize: n,
		Data: []*backend.Data{{Name: "x", N: n, C: cfg.InChannels, H: cfg.Height, W: cfg.Width, X: x, Y: labels}}}
	ev, err := cpu.New(prob, &cpu.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	var want []float64
	if err := ev.Evaluate(context.Background(), []backend.Coord{{}}, func(_ int, v []float64) { want = v }); err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(loss - want[0]); !(d <= 1e-4*math.Max(1, want[0])) {
		t.Errorf("plan on the host: loss %.7g, CPU backend %.7g", loss, want[0])
	}
}

// TestPlanFusesResidualBlocks pins the fusion that makes the GPU fast: each
// basic block of ResNet-20 is two steps (conv-BN-ReLU, conv-BN-add-ReLU)
// plus one for a projection shortcut, and no step is left element-wise.
func TestPlanFusesResidualBlocks(t *testing.T) {
	net, err := nets.New("resnet20", nets.Config{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := compile(net)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[nets.OpKind]int{}
	residual := 0
	for _, st := range p.steps {
		kinds[st.op.Kind]++
		if st.res >= 0 {
			residual++
			if st.op.Kind != nets.Conv || !st.relu || st.fold < 0 {
				t.Errorf("residual step %v %s: want conv with fold and ReLU", st.op.Kind, st.op.Name)
			}
		}
	}
	// 1 stem + 9 blocks × 2 + 2 projections; 1 pool; 1 linear.
	if kinds[nets.Conv] != 21 || kinds[nets.GlobalAvgPool] != 1 || kinds[nets.Linear] != 1 || len(p.steps) != 23 || residual != 9 {
		t.Errorf("resnet20 compiles to %d steps %v with %d residual adds", len(p.steps), kinds, residual)
	}
	if len(p.slotSize) > 4 {
		t.Errorf("resnet20 needs %d buffers, want at most 4", len(p.slotSize))
	}
}
