//go:build linux && !android

package cuda

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/nets"
)

// Differentiator computes the gradient and exact Hessian-vector products
// of the mean cross-entropy loss of a network over one dataset on one
// NVIDIA GPU, batch norm in eval mode: the CUDA counterpart of the CPU
// backend's differentiator, with the same vectors and the same formulas.
// Reverse mode runs through every op, and Pearlmutter's R-operator
// (forward over reverse) gives H·v exactly, not as a difference of
// gradients.
//
// The data stays on the device, cut into chunks as large as free memory
// allows. A chunk's forward pass keeps every value and its tangent R{·}
// (one tape, unfused: the backward pass reads them all); the backward pass
// then adds each op's share to the gradients of its inputs and of the
// weights. Convolutions and their two backward products are cuDNN's, with
// deterministic FP32 algorithms; the linear layers cuBLAS's; everything
// else diff.cu's kernels, whose sums run in a fixed order. A product is
// therefore the same bits on every run of the same GPU and libraries, and
// agrees with the CPU's to float32 rounding.
type Differentiator struct {
	p      *backend.Problem
	data   *backend.Data
	a      *api
	g      *gpu
	t      *thread
	params []nets.Param
	// layout places every state-dict entry in the flat device vectors;
	// dlayout the differentiated ones in the callers' vectors; moves
	// tells the differentiated entries, the only ones whose gradient is
	// summed and whose direction enters the tangents.
	layout  map[string]int
	dlayout map[string]int
	moves   map[string]bool
	nparams int
	dim     int
	sizes   []int // per-sample floats of each value; value 0 is the input
	chunk   int   // samples per pass (the data padded to whole chunks)
	chunks  int
	// capacity is the samples the tape's values and gradients hold: a
	// chunk's, or a larger training batch's.
	capacity int
	convs    map[convShape]*convDesc

	center, dx, dy ptr // θ and the directions u and v, every entry
	w, v           ptr // the call's weights and direction (zero where nothing moves)
	grad, hv       ptr // the call's sums, every entry
	x, y           ptr // the data and its labels
	loss, hit, out ptr // per-sample losses and hits; their totals
	// The tape: each value, its tangent, its gradient and the gradient's
	// tangent, chunk × sizes[v] floats each. vals[0] is unused (the input
	// is read in place from x); rvals[0] stays zero (the data does not
	// move); argmax holds a max pooling's choices (nil for other ops).
	vals, rvals, grads, rgrs []ptr
	argmax                   []ptr
	workspace                ptr
	workspaceSize            uintptr

	// TrainStep's batch and labels, and each batch norm's training state
	// (by op; zero for other ops), allocated at the first step.
	trainX, trainY ptr
	bnTrain        []bnTrainState

	host []float32 // a vector over every entry, for uploads and downloads
	mu   sync.Mutex
}

var _ backend.Differentiator = (*Differentiator)(nil)

// maxDiffChunk bounds the samples per pass: a few hundred 32x32 images fill
// the largest GPUs' cores, and the tape of each costs memory.
const maxDiffChunk = 1024

// NewDifferentiator returns a differentiator of p's loss over its first
// dataset on the GPU opts names, with respect to the parameters named in
// params (nil: every learnable parameter; buffers are never
// differentiated), the vectors laid out as the CPU differentiator's: flat
// float32 over those parameters in net order. Arithmetic is FP32
// (opts.TF32 and opts.Benchmark do not apply); opts.MaxBatch bounds the
// chunk.
func NewDifferentiator(p *backend.Problem, params []string, opts *Options) (*Differentiator, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if len(p.Data) == 0 {
		return nil, errors.New("cuda: differentiator without data")
	}
	if err := diffSupported(p.Net); err != nil {
		return nil, err
	}
	if r := Probe(); len(r.Devices) == 0 {
		return nil, fmt.Errorf("cuda: no GPU to compute on: %s", r.Why)
	}
	a, err := loadAPI()
	if err != nil {
		return nil, err
	}
	return newDifferentiator(p, params, opts, a)
}

// newDifferentiator is NewDifferentiator after the checks, on the entry
// points of a.
func newDifferentiator(p *backend.Problem, params []string, opts *Options, a *api) (*Differentiator, error) {
	if opts == nil {
		opts = &Options{}
	}
	d := &Differentiator{p: p, data: p.Data[0], dlayout: map[string]int{}, moves: map[string]bool{}, convs: map[convShape]*convDesc{}}
	d.layout, d.nparams = flatLayout(p.Net)
	var err error
	if d.params, err = backend.DiffParams(p.Net, params); err != nil {
		return nil, err
	}
	for _, prm := range d.params {
		d.dlayout[prm.Name] = d.dim
		d.moves[prm.Name] = true
		d.dim += nets.NumElements(prm.Shape)
	}
	cfg := p.Net.Config
	d.sizes = append(d.sizes, cfg.InChannels*cfg.Height*cfg.Width)
	for _, o := range p.Net.Ops {
		d.sizes = append(d.sizes, o.C*o.H*o.W)
	}
	d.a, d.t = a, startThread()
	err = openOn(d.t, a, opts.Device, func(g *gpu) error {
		d.g = g
		return d.setup(opts.MaxBatch)
	})
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// diffSupported reports, as an error, why the differentiator cannot run
// n: it differentiates every op the evaluator runs (the zoo's and those of
// the mobile networks ONNX graphs lower to) but average pooling with
// padding, which the evaluator refuses too.
func diffSupported(n *nets.Net) error {
	if len(n.Ops) == 0 {
		return fmt.Errorf("cuda: model %s: gradients and Hessians are computed on the engines' ops, and the engines cannot run this network", n.Name)
	}
	for i := range n.Ops {
		o := &n.Ops[i]
		switch o.Kind {
		case nets.Conv, nets.Linear, nets.BatchNorm, nets.ReLU, nets.MaxPool, nets.GlobalAvgPool, nets.Concat,
			nets.Clip, nets.Sigmoid, nets.HardSigmoid, nets.HardSwish, nets.Mul, nets.ChannelShuffle, nets.Slice:
			continue
		case nets.Add:
			if len(o.In) == 2 {
				continue
			}
		case nets.AvgPool:
			if o.Pad == 0 {
				continue
			}
		}
		return fmt.Errorf("cuda: model %s: op %d, %v %s, is not differentiated on the GPU yet (the CPU differentiates it: --device cpu)", n.Name, i, o.Kind, o.Name)
	}
	return nil
}

// setup uploads the weights, directions and data, sizes the chunks from
// free memory and allocates the tape.
func (d *Differentiator) setup(chunkLimit int) error {
	p, g := d.p, d.g
	var err error
	alloc := g.allocator(&err)
	vec := 4 * d.nparams
	d.center, d.dx, d.dy, d.w, d.v, d.grad, d.hv = alloc(vec), alloc(vec), alloc(vec), alloc(vec), alloc(vec), alloc(vec), alloc(vec)
	d.out = alloc(16)
	if err != nil {
		return err
	}
	for _, up := range []struct {
		to ptr
		sd *nets.StateDict
	}{{d.center, p.Center}, {d.dx, p.X}, {d.dy, p.Y}} {
		if up.sd == nil { // no direction: it stays zero
			continue
		}
		if err := upload(g, up.to, flatten(up.sd, d.layout, d.nparams)); err != nil {
			return err
		}
	}
	d.host = make([]float32, d.nparams)

	// The chunk: what half the free memory holds after the data.
	n := d.data.N
	dataBytes := n * (4*d.sizes[0] + 4 + 8 + 4)
	perSample := 4 * d.sizes[0] // the input's zero tangent
	for v := 1; v < len(d.sizes); v++ {
		perSample += 4 * 4 * d.sizes[v] // value, tangent, gradient and its tangent
		if d.p.Net.Ops[v-1].Kind == nets.MaxPool {
			perSample += 4 * d.sizes[v]
		}
	}
	free, err := g.freeMemory()
	if err != nil {
		return err
	}
	budget := int(free)/2 - dataBytes - 512<<20 // half, less a margin for cuDNN's workspace
	if budget < perSample {
		return fmt.Errorf("cuda: %s has %d MiB free; the data needs %d MiB and one sample's tape %d KiB",
			g.name, free>>20, dataBytes>>20, perSample>>10)
	}
	limit := min(maxDiffChunk, n, budget/perSample)
	if chunkLimit > 0 {
		limit = min(limit, chunkLimit)
	}
	d.chunk, d.chunks = chunking(n, limit)
	padded := d.chunk * d.chunks
	d.x, d.y = alloc(4*padded*d.sizes[0]), alloc(4*padded)
	d.loss, d.hit = alloc(8*n), alloc(4*n)
	if err != nil {
		return err
	}
	if err := upload(g, d.x, d.data.X); err != nil {
		return err
	}
	if err := upload(g, d.y, d.data.Y); err != nil {
		return err
	}
	d.capacity = d.chunk
	nv := len(d.sizes)
	d.vals, d.rvals, d.grads, d.rgrs, d.argmax = make([]ptr, nv), make([]ptr, nv), make([]ptr, nv), make([]ptr, nv), make([]ptr, nv)
	d.rvals[0] = alloc(4 * d.chunk * d.sizes[0])
	for v := 1; v < nv; v++ {
		b := 4 * d.chunk * d.sizes[v]
		d.vals[v], d.rvals[v], d.grads[v], d.rgrs[v] = alloc(b), alloc(b), alloc(b), alloc(b)
		if d.p.Net.Ops[v-1].Kind == nets.MaxPool {
			d.argmax[v] = alloc(b)
		}
	}
	if err != nil {
		return err
	}
	// Every convolution's descriptors and algorithms now, and the
	// workspace as large as the largest of their products needs.
	for i := range p.Net.Ops {
		if o := &p.Net.Ops[i]; o.Kind == nets.Conv {
			if _, err := d.conv(o, d.chunk); err != nil {
				return fmt.Errorf("cuda: %s: %w", o.Name, err)
			}
		}
	}
	return nil
}

// conv returns the descriptors and algorithms of convolution o on a batch
// of n samples, growing the workspace to what they need.
func (d *Differentiator) conv(o *nets.Op, n int) (*convDesc, error) {
	in := d.shape(o.In[0])
	s := squareConv(n, in[:], o.C, o.Kernel, o.Stride, o.Pad, o.Group(), o.H, o.W)
	if cd, ok := d.convs[s]; ok {
		return cd, nil
	}
	cd := &convDesc{}
	d.convs[s] = cd // destroyed by Close even if this fails half-way
	if err := cd.init(d.a, d.g, s, false, false); err != nil {
		return nil, err
	}
	if err := cd.chooseBackward(d.a, d.g, s); err != nil {
		return nil, err
	}
	if need := max(cd.workspace, cd.bwdDataWorkspace, cd.bwdFilterWorkspace); need > d.workspaceSize {
		if err := d.g.free(d.workspace); err != nil {
			return nil, err
		}
		d.workspace, d.workspaceSize = 0, 0
		ws, err := d.g.alloc(int(need))
		if err != nil {
			return nil, err
		}
		d.workspace, d.workspaceSize = ws, need
	}
	return cd, nil
}

// shape returns C, H, W of value v.
func (d *Differentiator) shape(v int) [3]int {
	if v == 0 {
		cfg := d.p.Net.Config
		return [3]int{cfg.InChannels, cfg.Height, cfg.Width}
	}
	o := &d.p.Net.Ops[v-1]
	return [3]int{o.C, o.H, o.W}
}

// Params lists the differentiated parameters, in the order of the vectors.
func (d *Differentiator) Params() []nets.Param { return d.params }

// Dim is the length of the vectors: the number of differentiated scalars.
func (d *Differentiator) Dim() int { return d.dim }

// Describe names the device and the arithmetic.
func (d *Differentiator) Describe() string {
	dnn := ""
	if v := d.a.cudnnGetVersion(); v > 0 {
		dnn = fmt.Sprintf(", cuDNN %d.%d.%d", v/10000, v%10000/100, v%100)
	}
	return fmt.Sprintf("cuda:%d %s (compute %d.%d%s deterministic algorithms, FP32, chunks of %d)", d.g.dev, d.g.name, d.g.major, d.g.minor, dnn, d.chunk)
}

// Close frees the device memory and releases the context.
func (d *Differentiator) Close() error {
	if d.t == nil {
		return nil
	}
	release(d.t, d.a, d.g, d.convs)
	d.t = nil
	return nil
}

// Gradient writes to grad the gradient of the mean loss at the weights
// θ + at.X·u + at.Y·v and returns the loss.
func (d *Differentiator) Gradient(ctx context.Context, at backend.Coord, grad []float32) (float64, error) {
	return d.run(ctx, at, nil, grad, nil)
}

// HVP writes to hv the product of the Hessian of the mean loss at
// θ + at.X·u + at.Y·v with v, exactly (Pearlmutter's R-operator), and
// returns the loss.
func (d *Differentiator) HVP(ctx context.Context, at backend.Coord, v, hv []float32) (float64, error) {
	if len(v) != d.dim {
		return 0, fmt.Errorf("cuda: direction of %d values for %d parameters", len(v), d.dim)
	}
	return d.run(ctx, at, v, nil, hv)
}

// run computes the loss, and the gradient into grad and H·v into hv where
// they are not nil (v is nil for the gradient alone).
func (d *Differentiator) run(ctx context.Context, at backend.Coord, v, grad, hv []float32) (float64, error) {
	if grad != nil && len(grad) != d.dim || hv != nil && len(hv) != d.dim {
		return 0, fmt.Errorf("cuda: output of %d values for %d parameters", max(len(grad), len(hv)), d.dim)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.t == nil {
		return 0, errors.New("cuda: differentiator used after Close")
	}
	var loss float64
	err := d.t.do(func() error {
		g := d.g
		n := int64(d.nparams)
		dy := d.dy
		if d.p.Y == nil { // c + u·a, as the evaluator forms it
			dy = 0
		}
		if err := g.launch("form_weights", n, d.w, d.center, d.dx, dy, float32(at.X), float32(at.Y), n); err != nil {
			return err
		}
		if v != nil {
			clear(d.host)
			for _, p := range d.params {
				off, doff := d.layout[p.Name], d.dlayout[p.Name]
				copy(d.host[off:], v[doff:doff+nets.NumElements(p.Shape)])
			}
			if err := upload(g, d.v, d.host); err != nil {
				return err
			}
		}
		for _, sum := range []struct {
			to     ptr
			wanted bool
		}{{d.grad, grad != nil}, {d.hv, hv != nil}} {
			if sum.wanted {
				if err := g.zero(sum.to, 4*d.nparams); err != nil {
					return err
				}
			}
		}
		for k := range d.chunks {
			if err := ctx.Err(); err != nil {
				return err
			}
			lo := k * d.chunk
			b := &batch{input: d.x + ptr(4*lo*d.sizes[0]), labels: d.y, n: d.chunk, lo: lo, count: min(d.chunk, d.data.N-lo), of: d.data.N}
			if err := d.pass(b, grad != nil, v != nil); err != nil {
				return err
			}
		}
		sum, _, err := d.totals(d.data.N)
		if err != nil {
			return err
		}
		loss = sum / float64(d.data.N)
		for _, sum := range []struct {
			from ptr
			to   []float32
		}{{d.grad, grad}, {d.hv, hv}} {
			if sum.to == nil {
				continue
			}
			if err := download(g, d.host, sum.from); err != nil {
				return err
			}
			for _, p := range d.params {
				off, doff := d.layout[p.Name], d.dlayout[p.Name]
				copy(sum.to[doff:doff+nets.NumElements(p.Shape)], d.host[off:])
			}
		}
		return nil
	})
	return loss, err
}

// totals sums the losses and hits of the first n samples, in a fixed
// order, on the device.
func (d *Differentiator) totals(n int) (loss, hits float64, err error) {
	if err := d.g.launchGrid("total", 1, 1024, d.out, d.loss, d.hit, int64(n)); err != nil {
		return 0, 0, err
	}
	t := make([]float64, 2)
	err = download(d.g, t, d.out)
	return t[0], t[1], err
}

// batch is what one pass runs on: n samples from input (n × C·H·W on the
// device) with their labels, the first being sample lo of a set of of, of
// which the first count are real (the rest padding); with train, batch
// norm in training mode.
type batch struct {
	input, labels    ptr
	n, lo, count, of int
	train            bool
}

// pass runs batch b forward, through the loss and back, adding to d.grad
// (with wantGrad) the gradient of its losses' sum over b.of, and with
// tangent, H·v to d.hv.
func (d *Differentiator) pass(b *batch, wantGrad, tangent bool) error {
	g := d.g
	ops := d.p.Net.Ops
	for i := range ops {
		if err := d.forward(i, b, tangent); err != nil {
			return fmt.Errorf("%s: %w", ops[i].Name, err)
		}
	}
	last := len(ops)
	rz, rgz := ptr(0), ptr(0)
	if tangent {
		rz, rgz = d.rvals[last], d.rgrs[last]
	}
	if err := g.launch("xent_grad", int64(b.n), d.loss, d.hit, d.grads[last], rgz, d.vals[last], rz, b.labels, int32(b.count), int32(b.n),
		int32(d.sizes[last]), int64(b.lo), 1/float64(b.of)); err != nil {
		return err
	}
	for v := 1; v < last; v++ {
		if err := g.zero(d.grads[v], 4*b.n*d.sizes[v]); err != nil {
			return err
		}
		if tangent {
			if err := g.zero(d.rgrs[v], 4*b.n*d.sizes[v]); err != nil {
				return err
			}
		}
	}
	for i := len(ops) - 1; i >= 0; i-- {
		if err := d.backward(i, b, wantGrad, tangent); err != nil {
			return fmt.Errorf("%s, backward: %w", ops[i].Name, err)
		}
	}
	return nil
}

// entry returns the address of state-dict entry name in the flat vector
// at base.
func (d *Differentiator) entry(base ptr, name string) ptr { return base + ptr(4*d.layout[name]) }

// direction returns the direction's entry name, or 0 (null) where it does
// not move.
func (d *Differentiator) direction(name string) ptr {
	if !d.moves[name] {
		return 0
	}
	return d.entry(d.v, name)
}

// value returns the address of value v of batch b.
func (d *Differentiator) value(v int, b *batch) ptr {
	if v == 0 {
		return b.input
	}
	return d.vals[v]
}

// forward computes op i's value, and with tangent its tangent.
func (d *Differentiator) forward(i int, b *batch, tangent bool) error {
	g, a := d.g, d.a
	o := &d.p.Net.Ops[i]
	n, in, out := b.n, o.In[0], i+1
	x, y, rx, ry := d.value(in, b), d.vals[out], d.rvals[in], d.rvals[out]
	if !tangent {
		rx, ry = 0, 0
	}
	ci := d.shape(in)
	values := int64(n * d.sizes[out])
	planes := int64(n * ci[0])
	hw := o.H * o.W
	switch o.Kind {
	case nets.Conv:
		cd, err := d.conv(o, n)
		if err != nil {
			return err
		}
		conv := func(w, x, y ptr, beta *float32) error {
			return a.cudnn("cudnnConvolutionForward", a.cudnnConvolutionForward(g.dnn, &one, cd.x, uint64(x), cd.w, uint64(w), cd.conv, cd.algo,
				uint64(d.workspace), d.workspaceSize, beta, cd.y, uint64(y)))
		}
		return d.productForward(o, conv, in, x, y, rx, ry, o.Bias, values, hw)
	case nets.Linear:
		f := int32(d.sizes[in])
		// Row-major y[n][out] = x[n][f]·Wᵀ is column-major yᵀ = W·xᵀ, W
		// being [out][f] row-major, that is f×out column-major.
		gemm := func(w, x, y ptr, beta *float32) error {
			return a.cublas("cublasSgemm", a.cublasSgemm(g.blas, 1, 0, int32(o.C), int32(n), f, &one, uint64(w), f, uint64(x), f, beta, uint64(y), int32(o.C)))
		}
		return d.productForward(o, gemm, in, x, y, rx, ry, true, values, 1)
	case nets.BatchNorm:
		if b.train {
			return d.bnTrainForward(i, o, x, y, n)
		}
		return g.launch("bn_forward", values, y, ry, x, rx, d.entry(d.w, o.Name+".weight"), d.entry(d.w, o.Name+".bias"),
			d.entry(d.w, o.Name+".running_mean"), d.entry(d.w, o.Name+".running_var"), d.direction(o.Name+".weight"),
			d.direction(o.Name+".bias"), o.BNEps(), values, int32(o.C), int32(hw))
	case nets.ReLU:
		return g.launch("relu_forward", values, y, ry, x, rx, values)
	case nets.Add:
		other := o.In[1]
		if err := g.launch("sum2", values, y, x, d.value(other, b), values); err != nil {
			return err
		}
		if tangent {
			return g.launch("sum2", values, ry, rx, d.rvals[other], values)
		}
	case nets.MaxPool:
		return g.launch("maxpool_forward", values, y, d.argmax[out], ry, x, rx, planes, int32(ci[1]), int32(ci[2]), int32(o.Kernel),
			int32(o.Stride), int32(o.Pad), int32(o.H), int32(o.W))
	case nets.AvgPool, nets.GlobalAvgPool:
		return d.pool(o, ci, planes, values, "", [2]ptr{y, x}, [2]ptr{ry, rx})
	case nets.Clip, nets.Sigmoid, nets.HardSigmoid, nets.HardSwish:
		return g.launch("activate_forward", values, y, ry, x, rx, values, activation[o.Kind], o.Lo, o.Hi)
	case nets.ChannelShuffle, nets.Slice:
		return d.channels("channels", o, ci, values, [2]ptr{y, x}, [2]ptr{ry, rx})
	case nets.Mul:
		other := o.In[1]
		bs := d.shape(other)
		each := int32(hw / (bs[1] * bs[2]))
		if err := g.launch("mul", values, y, x, d.value(other, b), values, each); err != nil {
			return err
		}
		if tangent {
			return g.launch("mul_tangent", values, ry, rx, x, d.value(other, b), d.rvals[other], values, each)
		}
	case nets.Concat:
		off := 0
		for _, src := range o.In {
			c := d.shape(src)[0]
			total := int64(n * c * hw)
			if err := g.launch("place", total, y, d.value(src, b), total, int32(c), int32(o.C), int32(off), int32(hw)); err != nil {
				return err
			}
			if tangent {
				if err := g.launch("place", total, ry, d.rvals[src], total, int32(c), int32(o.C), int32(off), int32(hw)); err != nil {
					return err
				}
			}
			off += c
		}
	default:
		return fmt.Errorf("op %v not differentiated", o.Kind)
	}
	return nil
}

// backward adds op i's shares to the gradients of its inputs and, with
// wantGrad, of its parameters; with tangent, their tangents too, H·v's
// share going to d.hv.
func (d *Differentiator) backward(i int, b *batch, wantGrad, tangent bool) error {
	g, a := d.g, d.a
	o := &d.p.Net.Ops[i]
	n, in, out := b.n, o.In[0], i+1
	x, rx, gy, rgy := d.value(in, b), d.rvals[in], d.grads[out], d.rgrs[out]
	gx, rgx := d.grads[in], d.rgrs[in] // 0 for the input: its gradient is not wanted
	if !tangent {
		rx, rgy, rgx = 0, 0, 0
	}
	ci := d.shape(in)
	values := int64(n * d.sizes[out])
	inValues := int64(n * d.sizes[in])
	planes := int64(n * ci[0])
	hw := o.H * o.W
	switch o.Kind {
	case nets.Conv:
		cd, err := d.conv(o, n)
		if err != nil {
			return err
		}
		data := func(w, gy, gx ptr) error {
			return a.cudnn("cudnnConvolutionBackwardData", a.cudnnConvolutionBackwardData(g.dnn, &one, cd.w, uint64(w), cd.y, uint64(gy), cd.conv,
				cd.bwdData, uint64(d.workspace), d.workspaceSize, &one, cd.x, uint64(gx)))
		}
		filter := func(x, gy, gw ptr) error {
			return a.cudnn("cudnnConvolutionBackwardFilter", a.cudnnConvolutionBackwardFilter(g.dnn, &one, cd.x, uint64(x), cd.y, uint64(gy), cd.conv,
				cd.bwdFilter, uint64(d.workspace), d.workspaceSize, &one, cd.w, uint64(gw)))
		}
		return d.productBackward(o, data, filter, in, x, rx, gy, rgy, gx, rgx, o.Bias, n, hw, wantGrad, tangent)
	case nets.Linear:
		f, k := int32(d.sizes[in]), int32(o.C)
		// Column-major, W being f×k (k outputs): gxᵀ += W·gyᵀ.
		data := func(w, gy, gx ptr) error {
			return a.cublas("cublasSgemm", a.cublasSgemm(g.blas, 0, 0, f, int32(n), k, &one, uint64(w), f, uint64(gy), k, &one, uint64(gx), f))
		}
		// gW (f×k) += x·gyᵀ, x being f×n and gy k×n.
		filter := func(x, gy, gw ptr) error {
			return a.cublas("cublasSgemm", a.cublasSgemm(g.blas, 0, 1, f, k, int32(n), &one, uint64(x), f, uint64(gy), k, &one, uint64(gw), f))
		}
		return d.productBackward(o, data, filter, in, x, rx, gy, rgy, gx, rgx, true, n, 1, wantGrad, tangent)
	case nets.BatchNorm:
		if b.train {
			return d.bnTrainBackward(i, o, x, gy, gx, n)
		}
		gamma, beta := o.Name+".weight", o.Name+".bias"
		mean, vr := d.entry(d.w, o.Name+".running_mean"), d.entry(d.w, o.Name+".running_var")
		if in != 0 {
			if err := g.launch("bn_backward_x", values, gx, rgx, gy, rgy, d.entry(d.w, gamma), vr, d.direction(gamma), o.BNEps(), values,
				int32(o.C), int32(hw)); err != nil {
				return err
			}
		}
		if !d.moves[gamma] && !d.moves[beta] {
			return nil
		}
		// gγ += Σ gy·(x − μ)/σ, gβ += Σ gy; (H·v)γ += Σ (Rgy·(x − μ) +
		// gy·Rx)/σ, (H·v)β += Σ Rgy.
		if wantGrad {
			if err := g.launchGrid("channel_sums", uint32(o.C), sumsBlock, d.entry(d.grad, beta), d.entry(d.grad, gamma), gy, x, ptr(0), ptr(0),
				mean, vr, o.BNEps(), int32(n), int32(o.C), int32(hw)); err != nil {
				return err
			}
		}
		if tangent {
			return g.launchGrid("channel_sums", uint32(o.C), sumsBlock, d.entry(d.hv, beta), d.entry(d.hv, gamma), rgy, x, gy, rx,
				mean, vr, o.BNEps(), int32(n), int32(o.C), int32(hw))
		}
	case nets.ReLU:
		if in != 0 {
			return g.launch("relu_backward", values, gx, rgx, gy, rgy, d.vals[out], values)
		}
	case nets.Add:
		for _, src := range o.In {
			if src == 0 {
				continue
			}
			if err := g.launch("accumulate", values, d.grads[src], gy, values); err != nil {
				return err
			}
			if tangent {
				if err := g.launch("accumulate", values, d.rgrs[src], rgy, values); err != nil {
					return err
				}
			}
		}
	case nets.MaxPool:
		if in == 0 {
			return nil
		}
		for _, gs := range [][2]ptr{{gx, gy}, {rgx, rgy}} {
			if gs[0] == 0 {
				continue
			}
			if err := g.launch("maxpool_backward", inValues, gs[0], gs[1], d.argmax[out], planes, int32(ci[1]), int32(ci[2]), int32(o.Kernel),
				int32(o.Stride), int32(o.Pad), int32(o.H), int32(o.W)); err != nil {
				return err
			}
		}
	case nets.AvgPool, nets.GlobalAvgPool:
		if in == 0 {
			return nil
		}
		return d.pool(o, ci, planes, inValues, "_backward", [2]ptr{gx, gy}, [2]ptr{rgx, rgy})
	case nets.Clip, nets.Sigmoid, nets.HardSigmoid, nets.HardSwish:
		if in == 0 {
			return nil
		}
		return g.launch("activate_backward", values, gx, rgx, gy, rgy, x, d.vals[out], rx, values, activation[o.Kind], o.Lo, o.Hi)
	case nets.ChannelShuffle, nets.Slice:
		if in == 0 {
			return nil
		}
		return d.channels("channels_backward", o, ci, values, [2]ptr{gx, gy}, [2]ptr{rgx, rgy})
	case nets.Mul:
		other := o.In[1]
		bs := d.shape(other)
		each := int32(hw / (bs[1] * bs[2]))
		rb := d.rvals[other]
		if !tangent {
			rb = 0
		}
		if in != 0 {
			if err := g.launch("mul_backward_a", values, gx, rgx, gy, rgy, d.value(other, b), rb, values, each); err != nil {
				return err
			}
		}
		if other != 0 {
			rgb := d.rgrs[other]
			if !tangent {
				rgb = 0
			}
			planes := int64(n * d.sizes[other])
			return g.launch("mul_backward_b", planes, d.grads[other], rgb, gy, rgy, x, rx, planes, each)
		}
	case nets.Concat:
		off := 0
		for _, src := range o.In {
			c := d.shape(src)[0]
			total := int64(n * c * hw)
			if src != 0 {
				if err := g.launch("take", total, d.grads[src], gy, total, int32(c), int32(o.C), int32(off), int32(hw)); err != nil {
					return err
				}
				if tangent {
					if err := g.launch("take", total, d.rgrs[src], rgy, total, int32(c), int32(o.C), int32(off), int32(hw)); err != nil {
						return err
					}
				}
			}
			off += c
		}
	default:
		return fmt.Errorf("op %v not differentiated", o.Kind)
	}
	return nil
}

// pool runs average pooling o (kernels.cu's avgpool or gavgpool, or with
// suffix "_backward" diff.cu's adjoint) over n values, from each pair's
// second member to its first, skipping a pair whose first is null; ci is
// the input's shape, of planes planes in all.
func (d *Differentiator) pool(o *nets.Op, ci [3]int, planes, n int64, suffix string, pairs ...[2]ptr) error {
	for _, p := range pairs {
		if p[0] == 0 {
			continue
		}
		var err error
		if o.Kind == nets.GlobalAvgPool {
			err = d.g.launch("gavgpool"+suffix, n, p[0], p[1], planes, int32(ci[1]*ci[2]))
		} else {
			err = d.g.launch("avgpool"+suffix, n, p[0], p[1], planes, int32(ci[1]), int32(ci[2]), int32(o.Kernel), int32(o.Stride),
				int32(o.H), int32(o.W))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// channels runs kernel (kernels.cu's channels, or diff.cu's
// channels_backward) of shuffle or slice o over its n output values, for
// each pair (to, from) whose first is not null; ci is o's input's shape.
func (d *Differentiator) channels(kernel string, o *nets.Op, ci [3]int, n int64, pairs ...[2]ptr) error {
	groups := int32(0)
	if o.Kind == nets.ChannelShuffle {
		groups = int32(o.Groups)
	}
	for _, p := range pairs {
		if p[0] == 0 {
			continue
		}
		if err := d.g.launch(kernel, n, p[0], p[1], n, int32(o.C), int32(ci[0]), int32(o.H*o.W), groups, int32(o.From)); err != nil {
			return err
		}
	}
	return nil
}

// productForward computes the value of o, a convolution or linear layer
// whose product apply computes (y = w∗x + β·y), y = W∗x (+ b with bias),
// and with ry its tangent Ry = W∗Rx + V∗x (+ Vb), V the direction's
// weights, leaving out the terms that are zero: Rx of the network's input
// (in = 0), V and Vb where they do not move. values is y's length, of
// o.C channels of hw values.
func (d *Differentiator) productForward(o *nets.Op, apply func(w, x, y ptr, beta *float32) error, in int, x, y, rx, ry ptr, bias bool, values int64, hw int) error {
	g := d.g
	weight, b := o.Name+".weight", o.Name+".bias"
	if err := apply(d.entry(d.w, weight), x, y, &zero); err != nil {
		return err
	}
	if bias {
		if err := g.launch("add_channel", values, y, d.entry(d.w, b), values, int32(o.C), int32(hw)); err != nil {
			return err
		}
	}
	if ry == 0 {
		return nil
	}
	beta := &zero
	if in != 0 {
		if err := apply(d.entry(d.w, weight), rx, ry, beta); err != nil {
			return err
		}
		beta = &one
	}
	if d.moves[weight] {
		if err := apply(d.entry(d.v, weight), x, ry, beta); err != nil {
			return err
		}
		beta = &one
	}
	if beta == &zero {
		if err := g.zero(ry, 4*int(values)); err != nil {
			return err
		}
	}
	if bias && d.moves[b] {
		return g.launch("add_channel", values, ry, d.entry(d.v, b), values, int32(o.C), int32(hw))
	}
	return nil
}

// productBackward runs the backward pass of o, a convolution or linear
// layer whose input gradient data computes (gx += wᵀ∗gy) and whose
// weights' gradient filter computes (gw += x⋆gy): gx += Wᵀ∗gy, and with
// tangent Rgx += Wᵀ∗Rgy + Vᵀ∗gy (not for the network's input, in = 0);
// where the weights move, gW += x⋆gy (with wantGrad) and (H·v)W +=
// x⋆Rgy + Rx⋆gy (with tangent), and with bias, the bias's Σ gy and Σ Rgy
// over the n samples' hw values of each channel.
func (d *Differentiator) productBackward(o *nets.Op, data, filter func(w, gy, gx ptr) error, in int, x, rx, gy, rgy, gx, rgx ptr,
	bias bool, n, hw int, wantGrad, tangent bool) error {
	weight := o.Name + ".weight"
	W, V := d.entry(d.w, weight), d.entry(d.v, weight)
	if in != 0 {
		if err := data(W, gy, gx); err != nil {
			return err
		}
		if tangent {
			if err := data(W, rgy, rgx); err != nil {
				return err
			}
			if d.moves[weight] {
				if err := data(V, gy, rgx); err != nil {
					return err
				}
			}
		}
	}
	if d.moves[weight] {
		if wantGrad {
			if err := filter(x, gy, d.entry(d.grad, weight)); err != nil {
				return err
			}
		}
		if tangent {
			if err := filter(x, rgy, d.entry(d.hv, weight)); err != nil {
				return err
			}
			if in != 0 {
				if err := filter(rx, gy, d.entry(d.hv, weight)); err != nil {
					return err
				}
			}
		}
	}
	b := o.Name + ".bias"
	if !bias || !d.moves[b] {
		return nil
	}
	// Σ a over each channel added to out: a bias's gradient.
	sums := func(out, a ptr) error {
		return d.g.launchGrid("channel_sums", uint32(o.C), sumsBlock, out, ptr(0), a, ptr(0), ptr(0), ptr(0), ptr(0), ptr(0), float32(0),
			int32(n), int32(o.C), int32(hw))
	}
	if wantGrad {
		if err := sums(d.entry(d.grad, b), gy); err != nil {
			return err
		}
	}
	if tangent {
		return sums(d.entry(d.hv, b), rgy)
	}
	return nil
}

// sumsBlock is the threads per block of diff.cu's channel_sums (its
// SUMS_BLOCK).
const sumsBlock = 256
