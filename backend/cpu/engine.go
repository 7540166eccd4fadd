package cpu

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/nets"
)

// Options tunes the CPU evaluator. The zero value (or nil) uses every core.
type Options struct {
	// Workers is the number of goroutines evaluating batches; 0 means
	// runtime.GOMAXPROCS(0).
	Workers int
	// Generic selects the portable engine, im2col and SGEMM, even where
	// this machine has the micro-kernels. Results agree to float32
	// rounding.
	Generic bool
	// NoWinograd computes every convolution of the micro-kernel engine
	// directly, without Winograd's F(4x4,3x3).
	NoWinograd bool
	// BLAS chooses the SGEMM of the generic engine: "" the first OpenBLAS
	// library found, "gonum" gonum's pure-Go SGEMM, or the path of a BLAS
	// library with cblas_sgemm.
	BLAS string

	kernels *kernelSet // instead of the machine's best (for tests)
}

// Evaluator evaluates loss surfaces on the CPU in float32.
type Evaluator struct {
	p       *backend.Problem
	plan    *plan     // im2col + SGEMM, channel-major
	fast    *fastPlan // micro-kernels, channels-last; nil where not available
	batch   int
	workers int
	gemm    sgemmFunc
	gemmT   sgemmTFunc // the reference evaluator's, for a transposed operand
	blas    string

	layout map[string]span // each state-dict entry: its values and place in a flat weight vector
	total  int             // the flat vector's length
	moving []span          // entries some direction moves
	// prepacked holds, per Conv/Linear step of the fast plan, its weight
	// in the kernels' order, or nil where it is packed from the tensors.
	prepacked []*prepacked
	bnEps     map[string]float32 // the batch norms by name, with their epsilon, for folding

	// reference is set for a network given by its Forward function, not
	// ops; forwardErr holds the first error a Forward call returned.
	reference  bool
	forwardErr firstError
}

var _ backend.Evaluator = (*Evaluator)(nil)

// span is where a state-dict entry lives in a flat vector of every
// entry, and, for an evaluator, its values: the centre's and the
// directions', read in place from the problem's tensors (a copy would be
// the size of the model three times over). u is nil where no direction
// moves the entry, v nil in 1D; where one direction moves it and the other
// does not, the other is zeros, so that it is formed as the reference forms
// it, from both.
type span struct {
	off, n       int
	center, u, v []float32
}

// New validates p and prepares an evaluator for it, which reads p's
// weights and directions in place.
func New(p *backend.Problem, opts *Options) (*Evaluator, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &Options{}
	}
	e := &Evaluator{p: p, batch: p.BatchSize, workers: opts.Workers}
	if e.batch <= 0 {
		e.batch = 128
	}
	if e.workers <= 0 {
		e.workers = runtime.GOMAXPROCS(0)
	}
	e.reference = len(p.Net.Ops) == 0
	if e.reference && p.Net.Forward == nil {
		return nil, fmt.Errorf("cpu: model %s has neither ops nor a Forward function", p.Net.Name)
	}
	if !e.reference && p.Net.Config.Seq > 0 {
		return nil, fmt.Errorf("cpu: model %s: the engines run image classifiers, not language models", p.Net.Name)
	}
	if !e.reference {
		e.plan = compile(p.Net)
	}
	if !opts.Generic && !e.reference {
		ks := fastKernels
		if opts.kernels != nil {
			ks = opts.kernels
		}
		e.fast = compileFast(p.Net, ks, fastSub, !opts.NoWinograd)
	}
	if e.fast == nil {
		// Loaded only when used: a loaded OpenBLAS costs the micro-kernels
		// several per cent of CPU time. The reference evaluator's matrix
		// products run on it too.
		e.gemm, e.blas = loadSgemm(opts.BLAS)
	}
	if e.reference {
		e.gemmT, _ = loadSgemmT(opts.BLAS) // for products with a transposed weight
	}
	e.layout, e.total = layoutOf(p)
	for _, prm := range p.Net.Params {
		if s := e.layout[prm.Name]; s.u != nil {
			e.moving = append(e.moving, s)
		}
	}
	if e.fast != nil {
		e.prepacked = make([]*prepacked, len(e.fast.packs))
		for i := range e.fast.steps {
			if st := &e.fast.steps[i]; st.kind == fConv || st.kind == fLinear {
				e.prepacked[st.pack] = e.prepack(st)
			}
		}
	}
	e.bnEps = map[string]float32{}
	for _, o := range p.Net.Ops {
		if o.Kind == nets.BatchNorm {
			e.bnEps[o.Name] = o.BNEps()
		}
	}
	return e, nil
}

func getOK(sd *nets.StateDict, k string) (*nets.Tensor, bool) {
	if sd == nil {
		return nil, false
	}
	return sd.Get(k)
}

// Describe says how many workers run and what computes the convolutions.
func (e *Evaluator) Describe() string {
	if e.reference {
		return fmt.Sprintf("cpu: %d workers, the reference evaluator (the engines cannot run this network)", e.workers)
	}
	if e.fast != nil {
		conv := "direct convolutions"
		if e.fast.winograd() {
			conv = "direct and Winograd F(4x4,3x3) convolutions"
		}
		return fmt.Sprintf("cpu: %d workers, %s kernels (%s)", e.workers, e.fast.ks.name, conv)
	}
	if e.reference {
		return fmt.Sprintf("cpu: %d workers, the reference evaluator with %s SGEMM", e.workers, e.blas)
	}
	return fmt.Sprintf("cpu: %d workers, %s SGEMM", e.workers, e.blas)
}

// Arithmetic implements [backend.Evaluator]: the engine and its
// convolutions (or the SGEMM of the portable engine), in FP32. The number
// of workers does not change the bits.
func (e *Evaluator) Arithmetic() string {
	if e.fast != nil {
		conv := "direct"
		if e.fast.winograd() {
			conv = "winograd"
		}
		return "cpu/" + strings.ToLower(strings.ReplaceAll(e.fast.ks.name, "-", "")) + "-" + conv + "/fp32"
	}
	lib := "gonum"
	if strings.HasPrefix(e.blas, "OpenBLAS") {
		lib = "openblas"
	}
	if e.reference {
		return "cpu/reference-" + lib + "/fp32"
	}
	return "cpu/generic-" + lib + "/fp32"
}

// winograd reports whether some convolution of the plan runs as Winograd.
func (p *fastPlan) winograd() bool {
	return slices.ContainsFunc(p.steps, func(st fastStep) bool { return st.wino })
}

// BatchSize implements [backend.Evaluator].
func (e *Evaluator) BatchSize() int { return e.batch }

// Close releases nothing: buffers belong to the garbage collector.
func (e *Evaluator) Close() error { return nil }

// job is one batch of one dataset at one point.
type job struct{ point, split, batch int }

// Evaluate implements [backend.Evaluator]. Work is split into batches of
// every point and dataset; workers take them in point order, so the points
// finish roughly in order and all cores share each point. Per-batch sums
// are added in batch order, so results do not depend on scheduling.
func (e *Evaluator) Evaluate(ctx context.Context, coords []backend.Coord, emit func(i int, values []float64)) error {
	nsplit := len(e.p.Data)
	batches := make([]int, nsplit)
	perPoint := 0
	for s, d := range e.p.Data {
		batches[s] = (d.N + e.batch - 1) / e.batch
		perPoint += batches[s]
	}
	jobs := make([]job, 0, len(coords)*perPoint)
	for i := range coords {
		for s := range nsplit {
			for b := range batches[s] {
				jobs = append(jobs, job{i, s, b})
			}
		}
	}
	lossSums := make([]float64, len(jobs))
	correct := make([]int, len(jobs))
	remaining := make([]atomic.Int32, len(coords))
	for i := range remaining {
		remaining[i].Store(int32(perPoint))
	}
	var next atomic.Int64
	var emitMu sync.Mutex
	finish := func(i int) {
		values := make([]float64, 0, 2*nsplit)
		k := i * perPoint
		for s, d := range e.p.Data {
			var loss float64
			var hits int
			for range batches[s] {
				loss += lossSums[k]
				hits += correct[k]
				k++
			}
			n := float64(d.N * d.Targets())
			values = append(values, loss/n, 100*float64(hits)/n)
		}
		emitMu.Lock()
		defer emitMu.Unlock()
		emit(i, values)
	}
	nw := min(e.workers, len(jobs))
	var cache *packCache
	if e.fast != nil {
		cache = e.newPackCache(nw)
	}
	var wg sync.WaitGroup
	for range nw {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := e.newEvalWorker(cache)
			defer w.done()
			for ctx.Err() == nil {
				j := int(next.Add(1) - 1)
				if j >= len(jobs) {
					return
				}
				jb := jobs[j]
				w.setPoint(jb.point, coords[jb.point])
				d := e.p.Data[jb.split]
				lo := jb.batch * e.batch
				lossSums[j], correct[j] = w.forward(d, lo, min(lo+e.batch, d.N))
				if remaining[jb.point].Add(-1) == 0 {
					finish(jb.point)
				}
			}
		}()
	}
	wg.Wait()
	if err := e.forwardErr.get(); err != nil {
		return err
	}
	return ctx.Err()
}

// evalWorker is one goroutine's state: weights at its current point and
// activation buffers.
type evalWorker interface {
	setPoint(i int, c backend.Coord)
	forward(d *backend.Data, lo, hi int) (loss float64, correct int)
	done() // gives back what the worker holds when it stops
}

func (e *Evaluator) newEvalWorker(cache *packCache) evalWorker {
	if e.fast != nil {
		return e.newFastWorker(cache)
	}
	if e.reference {
		return e.newForwardWorker()
	}
	return e.newWorker()
}

// pointWeights holds one goroutine's weights θ + αu + βv at its current
// point.
type pointWeights struct {
	e     *Evaluator
	point int
	w     []float32
}

func (e *Evaluator) newPointWeights() pointWeights {
	w := make([]float32, e.total)
	for _, s := range e.layout {
		copy(w[s.off:], s.center)
	}
	return pointWeights{e: e, point: -1, w: w}
}

// form sets the weights to point i and reports whether they changed.
func (pw *pointWeights) form(i int, c backend.Coord) bool {
	if pw.point == i {
		return false
	}
	pw.point = i
	for _, s := range pw.e.moving {
		pw.e.formTo(pw.w[s.off:][:s.n], s, c)
	}
	return true
}

// formTo sets dst to the weights in span s at point c (see [form]).
func (e *Evaluator) formTo(dst []float32, s span, c backend.Coord) {
	form(dst, s.center, s.u, s.v, float32(c.X), float32(c.Y))
}

// form sets dst to the weights cen + (u·a + v·b) as the reference forms
// them, every operation rounded to float32; u nil means cen alone, v nil
// cen + u·a. The explicit conversions keep the compiler from fusing a
// multiply and an add (as it may on arm64), which would round differently
// from PyTorch.
func form(dst, cen, u, v []float32, a, b float32) {
	switch {
	case u == nil:
		copy(dst, cen)
	case v == nil:
		for k := range dst {
			dst[k] = cen[k] + float32(u[k]*a)
		}
	default:
		for k := range dst {
			dst[k] = cen[k] + (float32(u[k]*a) + float32(v[k]*b))
		}
	}
}

func (pw *pointWeights) param(name string) []float32 {
	s := pw.e.layout[name]
	return pw.w[s.off:][:s.n]
}

// worker runs the im2col + SGEMM plan.
type worker struct {
	pointWeights
	scale  map[string][]float32 // folded batch norms at the current point
	shift  map[string][]float32
	slots  [][]float32
	col    []float32
	rowBuf []float32
}

func (e *Evaluator) newWorker() *worker {
	w := &worker{pointWeights: e.newPointWeights(), scale: map[string][]float32{}, shift: map[string][]float32{}}
	for name := range e.bnEps {
		c := e.layout[name+".weight"].n
		w.scale[name], w.shift[name] = make([]float32, c), make([]float32, c)
	}
	w.slots = make([][]float32, len(e.plan.slotSize))
	for i, s := range e.plan.slotSize {
		w.slots[i] = make([]float32, s*e.batch)
	}
	return w
}

func (w *worker) done() {}

// setPoint forms the weights at point i and refolds the batch norms.
func (w *worker) setPoint(i int, c backend.Coord) {
	if !w.form(i, c) {
		return
	}
	e := w.e
	for name, eps := range e.bnEps {
		bnScaleShift(w.scale[name], w.shift[name], w.param(name+".weight"), w.param(name+".bias"),
			w.param(name+".running_mean"), w.param(name+".running_var"), eps)
	}
}

// forward runs samples [lo, hi) of d through the network and returns their
// summed loss and number of correct predictions.
func (w *worker) forward(d *backend.Data, lo, hi int) (float64, int) {
	n := hi - lo
	p := w.e.plan
	// NCHW samples → CNHW input.
	in := w.slots[p.inputSlot]
	per := d.H * d.W
	for s := range n {
		src := d.X[(lo+s)*d.C*per:]
		for c := range d.C {
			copy(in[(c*n+s)*per:][:per], src[c*per:][:per])
		}
	}
	for i := range p.steps {
		w.run(&p.steps[i], n)
	}
	return crossEntropy(w.slots[p.logitsSlot], p.classes, n, d.Y[lo:hi])
}

// run executes one step for a batch of n samples.
func (w *worker) run(st *step, n int) {
	o := &st.op
	x := w.slots[st.in[0]]
	out := w.slots[st.out][:o.C*n*o.H*o.W]
	var scale, shift []float32
	if st.bn != "" {
		scale, shift = w.scale[st.bn], w.shift[st.bn]
	}
	switch o.Kind {
	case nets.Conv:
		w.conv(st, x, out, n)
		var bias []float32
		if o.Bias {
			bias = w.param(o.Name + ".bias")
		}
		epilogue(out, o.C, n*o.H*o.W, bias, scale, shift, st.clamp)
	case nets.Linear:
		w.linear(st, x, out, n)
		epilogue(out, o.C, n, w.param(o.Name+".bias"), scale, shift, st.clamp)
	case nets.BatchNorm:
		copy(out, x[:len(out)])
		epilogue(out, o.C, n*o.H*o.W, nil, w.scale[o.Name], w.shift[o.Name], st.clamp)
	case nets.ReLU:
		copy(out, x[:len(out)])
		epilogue(out, o.C, n*o.H*o.W, nil, nil, nil, &relu)
	case nets.Add:
		addTo(out, x[:len(out)], w.slots[st.in[1]][:len(out)])
		if st.clamp != nil {
			epilogue(out, o.C, n*o.H*o.W, nil, nil, nil, st.clamp)
		}
	case nets.MaxPool:
		maxPool(out, x, st.inC[0]*n, st.inH, st.inW, o.Kernel, o.Stride, o.Pad, o.H, o.W)
	case nets.AvgPool:
		avgPool(out, x, st.inC[0]*n, st.inH, st.inW, o.Kernel, o.Stride, o.H, o.W)
	case nets.GlobalAvgPool:
		globalAvgPool(out, x, st.inC[0]*n, st.inH*st.inW)
	case nets.Concat:
		off := 0
		for k, s := range st.in {
			m := st.inC[k] * n * o.H * o.W
			copy(out[off:off+m], w.slots[s][:m])
			off += m
		}
	case nets.Clip, nets.Sigmoid, nets.HardSigmoid, nets.HardSwish:
		activate(out, x[:len(out)], o)
	case nets.ChannelShuffle, nets.Slice:
		// CNHW: a channel of the batch is one block of n·h·w values.
		block := n * o.H * o.W
		for j := range o.C {
			copy(out[j*block:][:block], x[sourceChannel(o, j)*block:][:block])
		}
	case nets.Mul:
		// CNHW: a per-channel scale of each sample is one value per plane.
		mulTo(out, x[:len(out)], w.slots[st.in[1]][:st.inC[1]*n*st.inH1*st.inW1], o.H*o.W/(st.inH1*st.inW1))
	default:
		panic(fmt.Sprintf("cpu: op %v not implemented", o.Kind))
	}
}

// colBudget bounds the im2col buffer (in floats) so it stays in cache.
const colBudget = 1 << 18

// conv computes a convolution as GEMMs over chunks of output rows, one
// group after the other (a group's channels are consecutive rows of CNHW
// values), and a depthwise one directly.
func (w *worker) conv(st *step, x, out []float32, n int) {
	o := &st.op
	g := o.Group()
	ci, co, h, wd := st.inC[0]/g, o.C/g, st.inH, st.inW
	k := o.Kernel
	kk := ci * k * k
	weight := w.param(o.Name + ".weight")
	cols := n * o.H * o.W
	if o.Depthwise(st.inC[0]) {
		depthwise(out, x, weight, g*n, h, wd, k, o.Stride, o.Pad, o.H, o.W, n)
		return
	}
	for j := range g {
		w.convGroup(st, x[j*ci*n*h*wd:], weight[j*co*kk:], out[j*co*cols:], n, ci, co)
	}
}

// convGroup computes co output channels from ci input channels.
func (w *worker) convGroup(st *step, x, weight, out []float32, n, ci, co int) {
	o := &st.op
	h, wd := st.inH, st.inW
	k := o.Kernel
	kk := ci * k * k
	cols := n * o.H * o.W
	if k == 1 && o.Stride == 1 && o.Pad == 0 {
		w.e.gemm(co, cols, kk, weight, kk, x, cols, 0, out, cols)
		return
	}
	rows := n * o.H // (sample, output row) pairs, o.W columns each
	chunk := max(1, min(rows, colBudget/(kk*o.W)))
	if need := kk * chunk * o.W; len(w.col) < need {
		w.col = make([]float32, need)
	}
	for r0 := 0; r0 < rows; r0 += chunk {
		r1 := min(rows, r0+chunk)
		nc := (r1 - r0) * o.W
		im2colRows(w.col, x, ci, n, h, wd, k, o.Stride, o.Pad, o.H, o.W, r0, r1)
		w.e.gemm(co, nc, kk, weight, kk, w.col[:kk*nc], nc, 0, out[r0*o.W:], cols)
	}
}

// linear computes out[o][s] = Σ_f W[o][f]·x_s[f], x_s being sample s
// flattened in (c, h, w) order as PyTorch's view(N, -1) does.
func (w *worker) linear(st *step, x, out []float32, n int) {
	o := &st.op
	c, hw := st.inC[0], st.inH*st.inW
	f := c * hw
	weight := w.param(o.Name + ".weight")
	b := x
	if hw > 1 { // [c][s][hw] → [c·hw][s]
		if len(w.rowBuf) < f*n {
			w.rowBuf = make([]float32, f*n)
		}
		b = w.rowBuf[:f*n]
		for ch := range c {
			for s := range n {
				for p := range hw {
					b[(ch*hw+p)*n+s] = x[(ch*n+s)*hw+p]
				}
			}
		}
	}
	w.e.gemm(o.C, n, f, weight, f, b, n, 0, out, n)
}

// flatProblem lays the state-dict entries of p's network out one after
// the other in its order, and returns where each is, the centre θ (a
// missing num_batches_tracked 0) and the directions u and v (zero where
// absent; nil without a direction) as flat vectors.
func flatProblem(p *backend.Problem) (layout map[string]span, center, dx, dy []float32) {
	layout, total := layoutOf(p)
	flat := func(sd *nets.StateDict) []float32 {
		if sd == nil {
			return nil
		}
		v := make([]float32, total)
		for _, k := range sd.Names() {
			if s, ok := layout[k]; ok {
				t, _ := sd.Get(k)
				copy(v[s.off:], t.Data)
			}
		}
		return v
	}
	return layout, flat(p.Center), flat(p.X), flat(p.Y)
}

// layoutOf places the problem's parameters one after another in a flat
// vector of total floats, in the network's order, and gives each its
// tensors (see [span]).
func layoutOf(p *backend.Problem) (layout map[string]span, total int) {
	layout = map[string]span{}
	data := func(sd *nets.StateDict, k string) []float32 {
		if t, ok := getOK(sd, k); ok {
			return t.Data
		}
		return nil
	}
	for _, prm := range p.Net.Params {
		n := nets.NumElements(prm.Shape)
		s := span{off: total, n: n, center: data(p.Center, prm.Name)}
		s.u, s.v = data(p.X, prm.Name), data(p.Y, prm.Name)
		if s.center == nil { // a num_batches_tracked the checkpoint lacks
			s.center = make([]float32, n)
		}
		switch {
		case s.u == nil && s.v != nil:
			s.u = make([]float32, n)
		case s.u != nil && s.v == nil && p.Y != nil:
			s.v = make([]float32, n)
		}
		layout[prm.Name] = s
		total += n
	}
	return layout, total
}
