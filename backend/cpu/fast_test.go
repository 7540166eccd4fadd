package cpu

import (
	"context"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/backend/backendtest"
	"github.com/landscape-go/landscape/nets"
)

// evaluate runs e at coords and returns the values of each point.
func evaluate(t *testing.T, e *Evaluator, coords []backend.Coord) [][]float64 {
	t.Helper()
	got := make([][]float64, len(coords))
	if err := e.Evaluate(context.Background(), coords, func(i int, v []float64) { got[i] = v }); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestFastWorkersAgree checks that the numbers do not depend on the
// number of workers: each batch is computed the same way whoever computes
// it, and batch sums are added in batch order.
func TestFastWorkersAgree(t *testing.T) {
	t.Parallel()
	p := backendtest.Problem(t, "resnet20", nets.Config{Height: 8, Width: 8}, 45, true)
	p.BatchSize = 6
	coords := []backend.Coord{{X: 0, Y: 0}, {X: 0.5, Y: -0.25}, {X: -1, Y: 1}, {X: 0.25, Y: 0.75}, {X: 1, Y: 1}}
	var want [][]float64
	for _, workers := range []int{1, 2, 3, 7} {
		e, err := New(p, &Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		got := evaluate(t, e, coords)
		if want == nil {
			want = got
			continue
		}
		for i := range got {
			for k := range got[i] {
				if got[i][k] != want[i][k] {
					t.Errorf("%d workers, point %v: value %d is %.17g, with 1 worker %.17g", workers, coords[i], k, got[i][k], want[i][k])
				}
			}
		}
	}
}

// TestPackCacheShares checks that workers at the same point share one
// preparation and that every point gets the weights it asked for.
func TestPackCacheShares(t *testing.T) {
	t.Parallel()
	if fastKernels == nil {
		t.Skip("no micro-kernels on this machine")
	}
	p := backendtest.Problem(t, "resnet20", nets.Config{Height: 4, Width: 4}, 1, true)
	e, err := New(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	const workers = 4
	c := e.newPackCache(workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var pp *pointPack
			for i := range 20 {
				pt := i / 2 // pairs of jobs at each point
				if pp != nil {
					c.release(pp)
				}
				pp = c.acquire(pt, backend.Coord{X: float64(pt)})
				if pp.coord.X != float64(pt) {
					t.Errorf("worker %d: asked for point %d, got the weights of %g", w, pt, pp.coord.X)
				}
			}
			c.release(pp)
		}()
	}
	wg.Wait()
	if len(c.slots) > workers {
		t.Errorf("%d slots for %d workers", len(c.slots), workers)
	}
}

// TestFastForwardAllocatesNothing checks that a batch allocates no memory:
// buffers belong to the worker and the weights to the point.
func TestFastForwardAllocatesNothing(t *testing.T) {
	if fastKernels == nil {
		t.Skip("no micro-kernels on this machine")
	}
	p := backendtest.Problem(t, "resnet20", nets.Config{Height: 8, Width: 8}, 20, true)
	e, err := New(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := e.newFastWorker(e.newPackCache(1))
	w.setPoint(0, backend.Coord{X: 0.5})
	if n := testing.AllocsPerRun(5, func() { w.forward(p.Data[0], 3, 20) }); n != 0 {
		t.Errorf("a batch allocates %g times", n)
	}
}

// A stem as torchvision's (a 7x7 convolution padded by 3, a padded max
// pool) and a dense block (concatenation, average pooling, and a
// concatenation of global average pools, as torchvision's densenet121
// makes at 32x32) run on the micro-kernels, whose zero border is then 3
// pixels wide, as on the generic engine.
func TestFastEngineTakesWideBorders(t *testing.T) {
	t.Parallel()
	if fastKernels == nil {
		t.Skip("no micro-kernels on this machine")
	}
	b := newTestNet("stem", 3, 32, 5)
	conv := func(name string, in, c, k, s, p int) int { return b.conv(name, in, c, k, s, p, 1, false) }
	bnRelu := func(name string, in int) int { return b.op(nets.ReLU, b.bn(name, in, 0)) }
	x := bnRelu("bn0", conv("conv0", 0, 16, 7, 2, 3))
	x = b.Op(nets.Op{Kind: nets.MaxPool, In: []int{x}, Kernel: 3, Stride: 2, Pad: 1})
	y := conv("conv2", bnRelu("bn1", conv("conv1", bnRelu("bn1a", x), 16, 1, 1, 0)), 8, 3, 1, 1)
	x = b.Op(nets.Op{Kind: nets.Concat, In: []int{x, y}})
	x = conv("conv3", bnRelu("bn3", x), 16, 5, 1, 2)
	x = b.Op(nets.Op{Kind: nets.AvgPool, In: []int{x}, Kernel: 2, Stride: 2})
	g := b.Op(nets.Op{Kind: nets.GlobalAvgPool, In: []int{x}})
	x = b.Op(nets.Op{Kind: nets.Concat, In: []int{g, g}}) // of flat values, as densenet121's at 32x32
	b.Param("fc.weight", nets.Weight, 5, 32)
	b.Param("fc.bias", nets.Weight, 5)
	b.Op(nets.Op{Kind: nets.Linear, Name: "fc", In: []int{x}, C: 5})
	compareFastWithGeneric(t, b, 7, 3, nil, nil)
}

// The micro-kernel engine runs mobile networks' ops as the generic engine
// does: depthwise convolutions (strided, 5x5, with batch norm and ReLU6
// or ReLU fused, with a bias), hard-swish, squeeze-and-excitation (SiLU
// on a 1x1 value, hard-sigmoid, a per-channel product), ShuffleNet's
// chunk and channel shuffle, a grouped convolution, a sigmoid gate and a
// Clip standing alone.
func TestFastEngineRunsMobileOps(t *testing.T) {
	t.Parallel()
	if fastKernels == nil {
		t.Skip("no micro-kernels on this machine")
	}
	b := newTestNet("mobile", 3, 16, 5)
	conv, bn, op := b.conv, b.bn, b.op
	clip := func(in int, lo, hi float32) int { return b.Op(nets.Op{Kind: nets.Clip, In: []int{in}, Lo: lo, Hi: hi}) }

	x := op(nets.HardSwish, bn("bn0", conv("stem", 0, 16, 3, 1, 1, 1, false), 1e-3))
	x = clip(bn("bn1", conv("dw1", x, 16, 3, 2, 1, 16, false), 1e-3), 0, 6)
	s := conv("se1", op(nets.GlobalAvgPool, x), 8, 1, 1, 0, 1, true)
	s = op(nets.Mul, s, op(nets.Sigmoid, s))
	s = op(nets.HardSigmoid, conv("se2", s, 16, 1, 1, 0, 1, true))
	x = op(nets.Mul, x, s)
	x = conv("pw", x, 24, 1, 1, 0, 1, false)
	// ShuffleNet's unit: a chunk through a branch, the halves joined and
	// shuffled.
	half := b.Op(nets.Op{Kind: nets.Slice, In: []int{x}, From: 12, To: 24})
	x = b.Op(nets.Op{Kind: nets.Concat, In: []int{b.Op(nets.Op{Kind: nets.Slice, In: []int{x}, From: 0, To: 12}), conv("branch", half, 12, 1, 1, 0, 1, true)}})
	x = b.Op(nets.Op{Kind: nets.ChannelShuffle, In: []int{x}, Groups: 2})
	x = op(nets.ReLU, bn("bn3", conv("grouped", x, 24, 3, 1, 1, 3, false), 0)) // 8 channels a group: blocks span groups
	x = op(nets.ReLU, conv("dw2", x, 24, 5, 1, 2, 24, true))
	x = op(nets.Mul, x, op(nets.Sigmoid, x))
	x = clip(x, -1, 1)
	x = op(nets.GlobalAvgPool, x)
	b.Param("fc.weight", nets.Weight, 5, 24)
	b.Param("fc.bias", nets.Weight, 5)
	b.Op(nets.Op{Kind: nets.Linear, Name: "fc", In: []int{x}, C: 5})
	compareFastWithGeneric(t, b, 7, 3, nil, nil)
}

// On small maps the micro-kernel engine runs a convolution a pixel at a
// time across the samples, over the taps inside the image only (one on a
// 1x1 map, four to six on 2x2): with batch norm, residual additions and
// ReLUs, strided and not, its losses are the generic engine's.
func TestFastEngineSmallMaps(t *testing.T) {
	t.Parallel()
	if fastKernels == nil {
		t.Skip("no micro-kernels on this machine")
	}
	b := newTestNet("small", 3, 4, 5)
	conv := func(name string, in, c, s int) int { return b.conv(name, in, c, 3, s, 1, 1, false) }
	bn := func(name string, in int) int { return b.bn(name, in, 0) }
	relu := func(in int) int { return b.op(nets.ReLU, in) }
	add := func(a, c int) int { return b.op(nets.Add, a, c) }
	x := relu(bn("bn0", conv("c0", 0, 16, 1)))        // 4x4
	x = relu(bn("bn1", conv("c1", x, 32, 2)))         // 2x2
	x = relu(add(bn("bn2", conv("c2", x, 32, 1)), x)) // 2x2, residual
	x = relu(bn("bn3", conv("c3", x, 64, 2)))         // 1x1
	x = relu(add(bn("bn4", conv("c4", x, 64, 1)), x)) // 1x1, residual
	x = b.Op(nets.Op{Kind: nets.GlobalAvgPool, In: []int{x}})
	b.Param("fc.weight", nets.Weight, 5, 64)
	b.Param("fc.bias", nets.Weight, 5)
	b.Op(nets.Op{Kind: nets.Linear, Name: "fc", In: []int{x}, C: 5})
	// 20 samples: passes of 8, 8 and 4. Winograd would take the 4x4 maps.
	compareFastWithGeneric(t, b, 20, 20, &Options{NoWinograd: true}, func(p *fastPlan) {
		if !slices.ContainsFunc(p.steps, func(st fastStep) bool { return st.across }) {
			t.Error("no convolution runs across the samples")
		}
	})
}

// testNet builds networks for the engines' tests: each method adds an op
// and the state-dict entries it reads.
type testNet struct{ *nets.Builder }

func newTestNet(name string, channels, size, classes int) testNet {
	return testNet{nets.NewBuilder(name, nets.Config{InChannels: channels, Height: size, Width: size, Classes: classes})}
}

func (b testNet) conv(name string, in, c, k, s, p, groups int, bias bool) int {
	ci, _, _ := b.Shape(in)
	b.Param(name+".weight", nets.Weight, c, ci/max(groups, 1), k, k)
	if bias {
		b.Param(name+".bias", nets.Weight, c)
	}
	return b.Op(nets.Op{Kind: nets.Conv, Name: name, In: []int{in}, C: c, Kernel: k, Stride: s, Pad: p, Groups: groups, Bias: bias})
}

func (b testNet) bn(name string, in int, eps float32) int {
	c, _, _ := b.Shape(in)
	for _, s := range []string{".weight", ".bias"} {
		b.Param(name+s, nets.Weight, c)
	}
	for _, s := range []string{".running_mean", ".running_var"} {
		b.Param(name+s, nets.Buffer, c)
	}
	return b.Op(nets.Op{Kind: nets.BatchNorm, Name: name, In: []int{in}, Eps: eps})
}

func (b testNet) op(k nets.OpKind, in ...int) int { return b.Op(nets.Op{Kind: k, In: in}) }

// compareFastWithGeneric evaluates b's network (backendtest's weights,
// directions and samples, batches of batch) at three points on the
// micro-kernels (with opts) and on the generic engine, and holds the two
// to the same losses and accuracies; check, if not nil, looks at the
// micro-kernels' plan.
func compareFastWithGeneric(t *testing.T, b testNet, samples, batch int, opts *Options, check func(*fastPlan)) {
	t.Helper()
	net, err := b.Net()
	if err != nil {
		t.Fatal(err)
	}
	p := backendtest.ProblemFor(net, samples, true)
	p.BatchSize = batch
	coords := []backend.Coord{{X: 0, Y: 0}, {X: 0.5, Y: -0.25}, {X: -1, Y: 1}}
	fast, err := New(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	if fast.fast == nil {
		t.Fatal("the micro-kernels do not take the network")
	}
	if check != nil {
		check(fast.fast)
	}
	generic, err := New(p, &Options{Generic: true})
	if err != nil {
		t.Fatal(err)
	}
	backendtest.Compare(t, coords, evaluate(t, fast, coords), evaluate(t, generic, coords))
}

// TestPrepackedWeightsArePackedFormedWeights checks that a point's packed
// convolution weights made from prepacked rows are, bit for bit, those
// formed whole as θ + αu + βv and then packed: in 2D, in 1D, where one
// direction moves a weight and the other does not, where none does; with
// batch norms folded in; on maps small enough that some taps are never
// read; with output channels that do not fill the kernels' lanes.
func TestPrepackedWeightsArePackedFormedWeights(t *testing.T) {
	t.Parallel()
	if fastKernels == nil {
		t.Skip("no micro-kernels on this machine")
	}
	b := newTestNet("odd", 3, 4, 5)
	x := b.op(nets.ReLU, b.bn("bn0", b.conv("c0", 0, 20, 3, 1, 1, 1, true), 0)) // 4x4, 20 channels
	x = b.op(nets.ReLU, b.bn("bn1", b.conv("c1", x, 36, 3, 2, 1, 1, false), 0)) // 2x2
	x = b.op(nets.ReLU, b.conv("c2", x, 40, 3, 2, 1, 1, true))                  // 1x1
	x = b.op(nets.ReLU, b.bn("bn3", b.conv("c3", x, 24, 3, 1, 1, 1, false), 0)) // 1x1
	x = b.Op(nets.Op{Kind: nets.GlobalAvgPool, In: []int{x}})
	b.Param("fc.weight", nets.Weight, 5, 24)
	b.Param("fc.bias", nets.Weight, 5)
	b.Op(nets.Op{Kind: nets.Linear, Name: "fc", In: []int{x}, C: 5})
	odd, err := b.Net()
	if err != nil {
		t.Fatal(err)
	}
	resnet20, err := nets.New("resnet20", nets.Config{Height: 4, Width: 4}) // 4x4 on Winograd, then 2x2, 1x1
	if err != nil {
		t.Fatal(err)
	}
	for _, net := range []*nets.Net{odd, resnet20} {
		for _, dirs := range []string{"2D", "1D", "partial"} {
			p := backendtest.ProblemFor(net, 1, true)
			switch dirs {
			case "1D":
				p.Y = nil
			case "partial": // c0 moved by x alone, c1 by y alone, c2 by neither
				var convs []string
				for _, prm := range net.Params {
					if len(prm.Shape) == 4 {
						convs = append(convs, prm.Name)
					}
				}
				p.Y.Delete(convs[0])
				p.X.Delete(convs[1])
				p.X.Delete(convs[2])
				p.Y.Delete(convs[2])
			}
			e, err := New(p, &Options{NoWinograd: net == odd})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(e.fast.steps, func(st fastStep) bool {
				return st.kind == fConv && e.prepacked[st.pack] != nil && slices.Contains(st.used, false)
			}) {
				t.Errorf("%s, %s: no prepacked convolution skips a tap", net.Name, dirs)
			}
			at := backend.Coord{X: 0.375, Y: -1.25}
			packed := func() [][]float32 {
				pp := e.newPointPack(1)
				pp.begin(at)
				pp.help(0)
				return pp.packs
			}
			got := packed()
			prepackedSteps := e.prepacked
			e.prepacked = make([]*prepacked, len(prepackedSteps))
			want := packed()
			for _, st := range e.fast.steps {
				if st.kind != fConv || prepackedSteps[st.pack] == nil {
					continue
				}
				for i, w := range want[st.pack] {
					if math.Float32bits(got[st.pack][i]) != math.Float32bits(w) {
						t.Errorf("%s, %s: %s: packed float %d is %g, formed and packed %g", net.Name, dirs, st.op.Name, i, got[st.pack][i], w)
						break
					}
				}
			}
		}
	}
}
