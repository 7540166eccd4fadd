//go:build linux && !android

package cuda

import (
	"context"
	"errors"
	"fmt"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/nets"
)

// Evaluator evaluates loss surfaces on one NVIDIA GPU in float32. The
// datasets are uploaded once and stay on the device; at each point the
// weights θ + αu + βv are formed there, the forward passes run in batches
// as large as free memory allows, and the loss and accuracy are reduced
// there too, so only a few bytes per point cross the bus. Convolutions
// are cuDNN's, the classifier cuBLAS's, everything else kernels of our own
// compiled by NVRTC (kernels.cu).
type Evaluator struct {
	p         *backend.Problem
	a         *api
	g         *gpu
	t         *thread
	plan      *plan
	tf32      bool
	benchmark bool           // choose convolution algorithms by timing them
	layout    map[string]int // offset of each state-dict entry in the flat weights
	batch     int            // largest batch
	convs     map[convShape]*convDesc

	center, dx, dy, w ptr // flat weights: centre, directions, current point
	scale, shift      ptr // per-channel folds at the current point
	slots             []ptr
	workspace         ptr
	workspaceSize     uintptr
	sets              []deviceData
	out               ptr // 2 float64 per dataset: summed loss and hits
	outHost           []float64
	nparams           int

	// afterStep, if set, is called after each step of a forward pass, on
	// the device's thread: the tests compare every step with the host.
	afterStep func(step, n int) error
}

// deviceData is one dataset on the device, split into chunks of equal size
// (the last one padded with zeros, never counted).
type deviceData struct {
	n, chunk, chunks int
	x, y             ptr
	loss, hit        ptr // per sample
	perSample        int // floats
}

// maxBatch bounds the batch: beyond a few thousand 32x32 images one
// forward pass fills the largest GPUs, and more only costs memory.
const maxBatch = 4096

// New uploads p's weights, directions and data to the device opts name and
// prepares the forward pass. It fails with the reason when the driver, a
// library or the device is missing.
func New(p *backend.Problem, opts *Options) (*Evaluator, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &Options{}
	}
	if len(p.Net.Ops) == 0 {
		return nil, fmt.Errorf("cuda: model %s is not made of the engines' ops; the reference evaluator computes it on the CPU", p.Net.Name)
	}
	pl, err := compile(p.Net)
	if err != nil {
		return nil, err
	}
	if r := Probe(); len(r.Devices) == 0 {
		return nil, fmt.Errorf("cuda: no GPU to compute on: %s", r.Why)
	}
	a, err := loadAPI()
	if err != nil {
		return nil, err
	}
	return newEvaluator(p, pl, opts, a)
}

// newEvaluator is New after the checks, on the entry points of a.
func newEvaluator(p *backend.Problem, pl *plan, opts *Options, a *api) (*Evaluator, error) {
	e := &Evaluator{p: p, a: a, plan: pl, tf32: opts.TF32, layout: map[string]int{}, convs: map[convShape]*convDesc{}, t: startThread(),
		benchmark: opts.Benchmark}
	err := e.t.do(func() error {
		g, err := openGPU(a, opts.Device)
		if err != nil {
			return err
		}
		e.g = g
		return e.setup(opts.MaxBatch)
	})
	if err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// setup uploads the weights and data and allocates the activations.
func (e *Evaluator) setup(batchLimit int) error {
	p, g := e.p, e.g
	e.layout, e.nparams = flatLayout(p.Net)
	flat := func(sd *nets.StateDict) []float32 { return flatten(sd, e.layout, e.nparams) }
	var err error
	alloc := g.allocator(&err)
	e.center, e.dx, e.w = alloc(4*e.nparams), alloc(4*e.nparams), alloc(4*e.nparams)
	if p.Y != nil {
		e.dy = alloc(4 * e.nparams)
	}
	e.scale, e.shift = alloc(4*max(1, e.plan.channels)), alloc(4*max(1, e.plan.channels))
	e.out = alloc(8 * 2 * len(p.Data))
	e.outHost = make([]float64, 2*len(p.Data))
	if err != nil {
		return err
	}
	if err := upload(g, e.center, flat(p.Center)); err != nil {
		return err
	}
	if p.X != nil { // else no direction: the centre alone, dx stays zero
		if err := upload(g, e.dx, flat(p.X)); err != nil {
			return err
		}
	}
	if p.Y != nil {
		if err := upload(g, e.dy, flat(p.Y)); err != nil {
			return err
		}
	}

	// The batch: what free memory holds after the data, at most maxBatch.
	largest := 0
	var dataBytes int
	for _, d := range p.Data {
		largest = max(largest, d.N)
		dataBytes += d.N * (4*d.C*d.H*d.W + 4 + 8 + 4)
	}
	perSample := 0
	for _, s := range e.plan.slotSize {
		perSample += 4 * s
	}
	free, err := g.freeMemory()
	if err != nil {
		return err
	}
	budget := int(free)/2 - dataBytes - 512<<20 // half, less a margin for cuDNN's workspace
	limit := min(maxBatch, largest, max(1, budget/max(1, perSample)))
	if batchLimit > 0 {
		limit = min(limit, batchLimit)
	}
	if budget < perSample {
		return fmt.Errorf("cuda: %s has %d MiB free; the data needs %d MiB and one sample's activations %d KiB",
			g.name, free>>20, dataBytes>>20, perSample>>10)
	}
	for _, d := range p.Data {
		dd := deviceData{n: d.N, perSample: d.C * d.H * d.W}
		dd.chunk, dd.chunks = chunking(d.N, limit)
		padded := dd.chunk * dd.chunks
		e.batch = max(e.batch, dd.chunk)
		dd.x, dd.y = alloc(4*padded*dd.perSample), alloc(4*padded)
		dd.loss, dd.hit = alloc(8*d.N), alloc(4*d.N)
		if err != nil {
			return err
		}
		if err := upload(g, dd.x, d.X); err != nil {
			return err
		}
		if err := upload(g, dd.y, d.Y); err != nil {
			return err
		}
		e.sets = append(e.sets, dd)
	}
	for _, s := range e.plan.slotSize {
		e.slots = append(e.slots, alloc(4*s*e.batch))
	}
	if err != nil {
		return err
	}

	// Choose every convolution's algorithm now, then size the workspace.
	for _, dd := range e.sets {
		for i := range e.plan.steps {
			if st := &e.plan.steps[i]; st.op.Kind == nets.Conv {
				d, err := e.convDesc(convOf(st, dd.chunk))
				if err != nil {
					return err
				}
				e.workspaceSize = max(e.workspaceSize, d.workspace)
			}
		}
	}
	e.workspace = alloc(int(e.workspaceSize))
	return err
}

// align is the alignment, in floats, of weights and batches on the device.
const align = 64

// flatLayout places every state-dict entry of n in one flat vector, each
// on a 256-byte boundary, as cuDNN's vectorised kernels want their
// weights, and returns the offsets and the vector's length.
func flatLayout(n *nets.Net) (map[string]int, int) {
	layout := map[string]int{}
	size := 0
	for _, prm := range n.Params {
		layout[prm.Name] = size
		size += roundUp(nets.NumElements(prm.Shape), align)
	}
	return layout, size
}

// flatten returns the entries of sd at their places in a vector of size
// values laid out by layout; gaps and absent entries are zero.
func flatten(sd *nets.StateDict, layout map[string]int, size int) []float32 {
	v := make([]float32, size)
	for _, k := range sd.Names() {
		if off, ok := layout[k]; ok {
			t, _ := sd.Get(k)
			copy(v[off:], t.Data)
		}
	}
	return v
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// chunking cuts n samples into chunks of at most limit, as equal as they
// can be, each but a lone one starting on a 256-byte boundary (a multiple
// of align samples), and returns their size and number; the last is
// padded to the size.
func chunking(n, limit int) (chunk, chunks int) {
	chunks = (n + limit - 1) / limit
	chunk = (n + chunks - 1) / chunks
	if chunks > 1 {
		chunk = roundUp(chunk, align)
		chunks = (n + chunk - 1) / chunk
	}
	return chunk, chunks
}

// convOf returns the shape of conv step st on a batch of n.
func convOf(st *step, n int) convShape {
	in := st.inShape[0]
	return convShape{n: n, c: in[0], h: in[1], w: in[2], k: st.outShape[0], size: st.op.Kernel,
		stride: st.op.Stride, pad: st.op.Pad, groups: st.op.Group(), oh: st.outShape[1], ow: st.outShape[2]}
}

// activation numbers the element-wise functions of kernels.cu's activate.
var activation = map[nets.OpKind]int32{nets.Clip: 1, nets.Sigmoid: 2, nets.HardSigmoid: 3, nets.HardSwish: 4}

// Describe names the device, the libraries and the arithmetic.
// BatchSize implements [backend.Evaluator]: the largest batch, chosen
// from free memory.
func (e *Evaluator) BatchSize() int { return e.batch }

// Arithmetic implements [backend.Evaluator]: how cuDNN's algorithms
// are chosen and the convolutions' precision.
func (e *Evaluator) Arithmetic() string {
	choice, prec := "heuristic", "fp32"
	if e.benchmark {
		choice = "benchmark"
	}
	if e.tf32 {
		prec = "tf32"
	}
	return "cuda/" + choice + "/" + prec
}

func (e *Evaluator) Describe() string {
	arith := "FP32"
	if e.tf32 {
		arith = "TF32 convolutions"
	}
	dnn := ""
	if v := e.a.cudnnGetVersion(); v > 0 {
		dnn = fmt.Sprintf(", cuDNN %d.%d.%d", v/10000, v%10000/100, v%100)
	}
	choice := "heuristic"
	if e.benchmark {
		choice = "benchmarked"
	}
	return fmt.Sprintf("cuda:%d %s (compute %d.%d%s %s algorithms, %s, batch %d)", e.g.dev, e.g.name, e.g.major, e.g.minor, dnn, choice, arith, e.batch)
}

// Close frees the device memory and releases the context.
func (e *Evaluator) Close() error {
	if e.t == nil {
		return nil
	}
	release(e.t, e.a, e.g, e.convs)
	e.t = nil
	return nil
}

// release destroys the convolutions' descriptors, frees g's memory and
// context (g may be nil) on thread t, then stops t.
func release(t *thread, a *api, g *gpu, convs map[convShape]*convDesc) {
	t.do(func() error {
		for _, d := range convs {
			d.destroy(a)
		}
		if g != nil {
			g.close()
		}
		return nil
	})
	t.stop()
}

// Evaluate implements [backend.Evaluator]: the points one after another,
// each emitted as soon as it is done.
func (e *Evaluator) Evaluate(ctx context.Context, coords []backend.Coord, emit func(i int, values []float64)) error {
	if e.t == nil {
		return errors.New("cuda: Evaluate after Close")
	}
	return e.t.do(func() error {
		for i, c := range coords {
			if err := ctx.Err(); err != nil {
				return err
			}
			values, err := e.point(c)
			if err != nil {
				return fmt.Errorf("cuda: at (%g, %g): %w", c.X, c.Y, err)
			}
			emit(i, values)
		}
		return nil
	})
}

// point evaluates every dataset at c.
func (e *Evaluator) point(c backend.Coord) ([]float64, error) {
	g := e.g
	n := int64(e.nparams)
	var err error
	if e.dy == 0 {
		err = g.launch("form_weights", n, e.w, e.center, e.dx, ptr(0), float32(c.X), float32(0), n)
	} else {
		err = g.launch("form_weights", n, e.w, e.center, e.dx, e.dy, float32(c.X), float32(c.Y), n)
	}
	if err != nil {
		return nil, err
	}
	for _, f := range e.plan.folds {
		args := []any{e.scale + ptr(4*f.off), e.shift + ptr(4*f.off), int32(f.channels), ptr(0), ptr(0), ptr(0), ptr(0), ptr(0), f.eps}
		if f.bias != "" {
			args[3] = e.param(f.bias)
		}
		if f.bn != "" {
			args[4], args[5], args[6], args[7] = e.param(f.bn+".weight"), e.param(f.bn+".bias"), e.param(f.bn+".running_mean"), e.param(f.bn+".running_var")
		}
		if err := g.launchGrid("fold", uint32((f.channels+launchBlock-1)/launchBlock), launchBlock, args...); err != nil {
			return nil, err
		}
	}
	for s, dd := range e.sets {
		for k := range dd.chunks {
			lo := k * dd.chunk
			if err := e.forward(dd, lo); err != nil {
				return nil, err
			}
			count := min(dd.chunk, dd.n-lo)
			logits := e.slots[e.plan.logits]
			if err := g.launch("xent", int64(count), dd.loss, dd.hit, logits, dd.y, int32(count), int32(e.plan.classes), int64(lo)); err != nil {
				return nil, err
			}
		}
		if err := g.launchGrid("total", 1, 1024, e.out+ptr(16*s), dd.loss, dd.hit, int64(dd.n)); err != nil {
			return nil, err
		}
	}
	if err := download(g, e.outHost, e.out); err != nil {
		return nil, err
	}
	values := make([]float64, 0, len(e.outHost))
	for s, dd := range e.sets {
		values = append(values, e.outHost[2*s]/float64(dd.n), 100*e.outHost[2*s+1]/float64(dd.n))
	}
	return values, nil
}

// param returns the device address of a state-dict entry at the current
// point.
func (e *Evaluator) param(name string) ptr { return e.w + ptr(4*e.layout[name]) }

var one, zero = float32(1), float32(0)

// forward runs the batch of dd starting at sample lo through the network,
// leaving the logits in their slot.
func (e *Evaluator) forward(dd deviceData, lo int) error {
	g, a := e.g, e.a
	n := dd.chunk
	at := func(s int) ptr {
		if s == inputSlot {
			return dd.x + ptr(4*lo*dd.perSample)
		}
		return e.slots[s]
	}
	for i := range e.plan.steps {
		st := &e.plan.steps[i]
		o := &st.op
		x, y := at(st.in[0]), at(st.out)
		in := st.inShape[0]
		hw := st.outShape[1] * st.outShape[2]
		values := int64(n) * int64(st.outShape[0]*hw)
		epilogue := true
		switch o.Kind {
		case nets.Conv:
			d, err := e.convDesc(convOf(st, n))
			if err != nil {
				return err
			}
			rc := a.cudnnConvolutionForward(g.dnn, &one, d.x, uint64(x), d.w, uint64(e.param(o.Name+".weight")), d.conv, d.algo,
				uint64(e.workspace), e.workspaceSize, &zero, d.y, uint64(y))
			if err := a.cudnn("cudnnConvolutionForward "+o.Name, rc); err != nil {
				return err
			}
			x = y
		case nets.Linear:
			f := int32(in[0] * in[1] * in[2])
			// Row-major y[n][out] = x[n][f]·Wᵀ is column-major yᵀ = W·xᵀ,
			// W being [out][f] row-major, that is f×out column-major.
			rc := a.cublasSgemm(g.blas, 1, 0, int32(o.C), int32(n), f, &one, uint64(e.param(o.Name+".weight")), f,
				uint64(x), f, &zero, uint64(y), int32(o.C))
			if err := a.cublas("cublasSgemm "+o.Name, rc); err != nil {
				return err
			}
			x = y
		case nets.BatchNorm, nets.ReLU, nets.Add:
		case nets.MaxPool:
			if err := g.launch("maxpool", values, y, x, int64(n*in[0]), int32(in[1]), int32(in[2]), int32(o.Kernel), int32(o.Stride),
				int32(o.Pad), int32(st.outShape[1]), int32(st.outShape[2])); err != nil {
				return err
			}
			epilogue = false
		case nets.AvgPool:
			if err := g.launch("avgpool", values, y, x, int64(n*in[0]), int32(in[1]), int32(in[2]), int32(o.Kernel), int32(o.Stride),
				int32(st.outShape[1]), int32(st.outShape[2])); err != nil {
				return err
			}
			epilogue = false
		case nets.GlobalAvgPool:
			if err := g.launch("gavgpool", values, y, x, int64(n*in[0]), int32(in[1]*in[2])); err != nil {
				return err
			}
			epilogue = false
		case nets.Clip, nets.Sigmoid, nets.HardSigmoid, nets.HardSwish:
			if err := g.launch("activate", values, y, x, values, activation[o.Kind], o.Lo, o.Hi); err != nil {
				return err
			}
			epilogue = false
		case nets.ChannelShuffle, nets.Slice:
			groups := int32(0)
			if o.Kind == nets.ChannelShuffle {
				groups = int32(o.Groups)
			}
			if err := g.launch("channels", values, y, x, values, int32(st.outShape[0]), int32(in[0]), int32(hw), groups, int32(o.From)); err != nil {
				return err
			}
			epilogue = false
		case nets.Mul:
			b := st.inShape[1]
			if err := g.launch("mul", values, y, x, at(st.in[1]), values, int32(hw/(b[1]*b[2]))); err != nil {
				return err
			}
			epilogue = false
		case nets.Concat:
			off := 0
			for k, s := range st.in {
				c := st.inShape[k][0]
				if err := g.launch("place", int64(n*c*hw), y, at(s), int64(n*c*hw), int32(c), int32(st.outShape[0]), int32(off), int32(hw)); err != nil {
					return err
				}
				off += c
			}
			epilogue = false
		default:
			return fmt.Errorf("op %v not implemented", o.Kind)
		}
		if epilogue && (st.fold >= 0 || st.res >= 0 || st.relu || x != y) {
			if err := e.epilogue(st, x, y, at, values); err != nil {
				return err
			}
		}
		if e.afterStep != nil {
			if err := e.afterStep(i, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// epilogue applies st's scale and shift, residual and ReLU to the op's
// result x (values of them), writing y.
func (e *Evaluator) epilogue(st *step, x, y ptr, at func(int) ptr, values int64) error {
	scale, shift, res := ptr(0), ptr(0), ptr(0)
	if st.fold >= 0 {
		f := e.plan.folds[st.fold]
		scale, shift = e.scale+ptr(4*f.off), e.shift+ptr(4*f.off)
	}
	if st.res >= 0 {
		res = at(st.res)
	}
	relu := int32(0)
	if st.relu {
		relu = 1
	}
	hw := st.outShape[1] * st.outShape[2]
	return e.g.launch("epilogue", values, y, x, res, scale, shift, values, int32(st.outShape[0]), int32(hw), relu)
}
