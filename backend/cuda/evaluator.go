//go:build linux && !android

package cuda

import (
	"context"
	"errors"
	"fmt"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/onnx"
)

// Evaluator evaluates loss surfaces on one NVIDIA GPU in float32. The
// datasets are uploaded once and stay on the device; at each point the
// weights θ + αu + βv are formed there, the forward passes run in batches
// as large as free memory allows, and the loss and accuracy are reduced
// there too, so only a few bytes per point cross the bus. Convolutions
// are cuDNN's, the classifier cuBLAS's, everything else kernels of our own
// compiled by NVRTC (kernels.cu). A network given by an ONNX graph of
// other operators runs on the graph interpreter (graph.go, graph.cu).
type Evaluator struct {
	p         *backend.Problem
	a         *api
	g         *gpu
	t         *thread
	plan      *plan       // the engines' ops, or nil for a graph
	graph     *onnx.Graph // the graph, or nil
	feed      onnx.Feed
	run       *graphPlan
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
	// prof, if set, times the graph's batch work (Options.Profile).
	prof *graphProfile
}

// deviceData is one dataset on the device, split into chunks of equal size
// (the last one padded with zeros, never counted).
type deviceData struct {
	n, chunk, chunks int
	x, y             ptr
	loss, hit        ptr // per target
	perSample        int // floats
	targets          int // labels per sample
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
	var pl *plan
	if g := graphOf(p.Net); g != nil && len(p.Net.Ops) == 0 {
		if err := checkGraph(g, p.Net); err != nil {
			return nil, err
		}
	} else {
		var err error
		if pl, err = compile(p.Net); err != nil {
			return nil, err
		}
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

// Runs returns nil if the evaluator can run net, and else why not: net
// must be made of the engines' ops, or be an ONNX graph whose nodes on
// the data and the weights the graph interpreter runs. It needs no GPU.
func Runs(net *nets.Net) error {
	if g := graphOf(net); g != nil && len(net.Ops) == 0 {
		return checkGraph(g, net)
	}
	_, err := compile(net)
	return err
}

// newEvaluator is New after the checks, on the entry points of a: pl is
// the network's plan, or nil for a network given by its ONNX graph.
func newEvaluator(p *backend.Problem, pl *plan, opts *Options, a *api) (*Evaluator, error) {
	var graph *onnx.Graph
	var feed onnx.Feed
	if pl == nil {
		if graph = graphOf(p.Net); graph == nil {
			return nil, fmt.Errorf("cuda: model %s has neither the engines' ops nor an ONNX graph", p.Net.Name)
		}
		var err error
		if feed, _, err = graph.Feed(p.Net.Config); err != nil {
			return nil, err
		}
	}
	e := &Evaluator{p: p, a: a, plan: pl, graph: graph, feed: feed, tf32: opts.TF32, layout: map[string]int{},
		convs: map[convShape]*convDesc{}, t: startThread(), benchmark: opts.Benchmark}
	if graph != nil && opts.Profile != nil {
		e.prof = newGraphProfile(opts.Profile)
	}
	err := openOn(e.t, a, opts.Device, func(g *gpu) error {
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
	if e.plan != nil {
		e.scale, e.shift = alloc(4*max(1, e.plan.channels)), alloc(4*max(1, e.plan.channels))
	}
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
		dataBytes += d.N * (4*d.C*d.H*d.W + d.Targets()*(4+8+4))
	}
	perSample := 0
	if e.plan != nil {
		for _, s := range e.plan.slotSize {
			perSample += 4 * s
		}
	} else if perSample, err = e.graphBytes(largest); err != nil {
		return err
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
	if e.feed.Batch > 0 {
		limit = e.feed.Batch
	}
	if budget < perSample {
		return fmt.Errorf("cuda: %s has %d MiB free; the data needs %d MiB and one sample's activations %d KiB",
			g.name, free>>20, dataBytes>>20, perSample>>10)
	}
	for _, d := range p.Data {
		dd := deviceData{n: d.N, perSample: d.C * d.H * d.W, targets: d.Targets()}
		dd.chunk, dd.chunks = chunking(d.N, limit)
		if e.graph != nil { // planned for one batch size
			dd.chunk, dd.chunks = limit, (d.N+limit-1)/limit
		}
		padded := dd.chunk * dd.chunks
		e.batch = max(e.batch, dd.chunk)
		dd.x, dd.y = alloc(4*padded*dd.perSample), alloc(4*padded*dd.targets)
		dd.loss, dd.hit = alloc(8*d.N*dd.targets), alloc(4*d.N*dd.targets)
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
	if e.graph != nil {
		if err != nil {
			return err
		}
		return e.setupGraph()
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
	return squareConv(n, in[:], st.outShape[0], st.op.Kernel, st.op.Stride, st.op.Pad, st.op.Group(), st.outShape[1], st.outShape[2])
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
	graph := ""
	if e.graph != nil {
		graph = ", the ONNX graph interpreted"
	}
	return fmt.Sprintf("cuda:%d %s (compute %d.%d%s %s algorithms, %s, batch %d%s)", e.g.dev, e.g.name, e.g.major, e.g.minor, dnn, choice, arith, e.batch, graph)
}

// Close frees the device memory and releases the context.
func (e *Evaluator) Close() error {
	if e.t == nil {
		return nil
	}
	release(e.t, e.a, e.g, e.convs)
	e.t = nil
	if e.prof != nil {
		return e.prof.report()
	}
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
	if e.graph != nil {
		err = runSteps(e.run.perPoint)
	}
	if err != nil {
		return nil, err
	}
	for _, f := range e.foldsOf() {
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
			logits, err := e.logits(dd, lo)
			if err != nil {
				return nil, err
			}
			rows := min(dd.chunk, dd.n-lo) * dd.targets
			if err := g.launch("xent", int64(rows), dd.loss, dd.hit, logits, dd.y, int32(rows), int32(e.classes()), int64(lo*dd.targets)); err != nil {
				return nil, err
			}
		}
		if err := g.launchGrid("total", 1, 1024, e.out+ptr(16*s), dd.loss, dd.hit, int64(dd.n*dd.targets)); err != nil {
			return nil, err
		}
	}
	if err := download(g, e.outHost, e.out); err != nil {
		return nil, err
	}
	values := make([]float64, 0, len(e.outHost))
	for s, dd := range e.sets {
		n := float64(dd.n * dd.targets)
		values = append(values, e.outHost[2*s]/n, 100*e.outHost[2*s+1]/n)
	}
	return values, nil
}

// classes returns the number of logits per target.
func (e *Evaluator) classes() int {
	if e.plan == nil {
		return e.p.Net.Config.Classes
	}
	return e.plan.classes
}

// foldsOf returns the plan's folds; a graph has none.
func (e *Evaluator) foldsOf() []fold {
	if e.plan == nil {
		return nil
	}
	return e.plan.folds
}

// logits runs the batch of dd starting at sample lo through the network
// and returns where its logits are.
func (e *Evaluator) logits(dd deviceData, lo int) (ptr, error) {
	if e.graph == nil {
		return e.slots[e.plan.logits], e.forward(dd, lo)
	}
	bytes := uintptr(4 * dd.chunk * dd.perSample)
	if err := e.a.cu("cuMemcpyDtoD", e.a.cuMemcpyDtoD(uint64(e.run.input), uint64(dd.x)+uint64(4*lo*dd.perSample), bytes)); err != nil {
		return 0, err
	}
	if e.prof != nil {
		return e.run.logits, e.prof.run(e.a, e.run)
	}
	return e.run.logits, runSteps(e.run.perBatch)
}

// graphBytes plans the graph for a small batch and returns the device
// memory one sample takes, over-estimated by the plan's fixed part.
func (e *Evaluator) graphBytes(largest int) (int, error) {
	n := min(largest, 4)
	if e.feed.Batch > 0 {
		n = e.feed.Batch
	}
	trial, err := e.planGraph(n)
	if err != nil {
		return 0, err
	}
	e.freePlan(trial)
	return (trial.bytes + n - 1) / n, nil
}

// setupGraph plans the graph for the batch and sizes cuDNN's workspace.
func (e *Evaluator) setupGraph() error {
	run, err := e.planGraph(e.batch)
	if err != nil {
		return err
	}
	e.run = run
	for _, d := range run.convs {
		e.workspaceSize = max(e.workspaceSize, d.workspace)
	}
	e.workspace, err = e.g.alloc(int(e.workspaceSize))
	return err
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
