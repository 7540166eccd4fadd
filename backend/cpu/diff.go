package cpu

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/nets"
)

// Differentiator computes the gradient and exact Hessian-vector products
// of the mean cross-entropy loss of a network over one dataset, on the
// CPU, batch norm in eval mode: reverse mode through every op of package
// nets, and Pearlmutter's R-operator (forward over reverse) for H·v, so
// that H·v is exact, not a difference of gradients.
//
// The data is cut into chunks of BatchSize samples, and the chunks are
// dealt to a fixed number of slices, each summed in chunk order, the
// slices then in slice order: results are the same bits whatever the
// number of workers.
type Differentiator struct {
	p       *backend.Problem
	data    *backend.Data
	gemm    sgemmTFunc
	blas    string
	workers int
	chunk   int
	params  []nets.Param    // differentiated, in the order of the vectors
	layout  map[string]span // every entry of the weights vector
	dlayout map[string]span // the differentiated entries of the vectors
	center  []float32       // θ, every entry
	dx, dy  []float32       // u and v over every entry; nil if absent
	tapes   []*tape         // the workers' scratch, kept from call to call
	sizes   []int           // per-sample size of every value
	// lastUse is, per value, the last op in forward order that reads it
	// (-1: none), the first of the backward pass to reach its gradient:
	// that op sets the gradient rather than adding to it, so that no
	// gradient is cleared before a pass (see Differentiator.sets).
	lastUse []int
	// sharesGrad is, per value, the value whose gradient buffer its own
	// gradient is (-1: its own): an input of an Add that nothing else reads
	// has the Add's output gradient as its gradient, so the Add's backward
	// need not copy it.
	sharesGrad []int
	// reluAfter marks the batch norms whose output only the ReLU right
	// after them reads: in training mode the batch norm writes the ReLU's
	// output in the same pass and its own output is never written (its
	// backward reads its input, the ReLU's its output).
	reluAfter []bool
	mu        sync.Mutex // serialises calls: they share the scratch

	trainTape *tape // TrainStep's scratch, batch norm in training mode
	// ks is the micro-kernels that run the convolutions of direct (per
	// op; nil for other ops), nil where they all run as SGEMMs.
	ks     *kernelSet
	direct []*directConv
	// flipW and flipV hold, per op, a convolution's flipped weights and
	// direction (see flipped), made once a call for every chunk.
	flipW, flipV [][]float32
	// partG and partR hold each slice's sums of the gradient and of H·v
	// over every entry, reused from call to call.
	partG, partR [][]float32
	// w and vAll are a call's weights θ + αu + βv, formed as the
	// evaluator forms them (see [form]) so that derivatives are taken at
	// the weights a surface's point was evaluated at, and its direction
	// over every entry (zero where not differentiated), reused likewise.
	w, vAll []float32
}

var _ backend.Differentiator = (*Differentiator)(nil)

// diffSlices is the number of partial sums a gradient is accumulated in:
// the parallelism of a call, and the grain of its fixed summation order.
const diffSlices = 16

// NewDifferentiator returns a differentiator of p's loss over its first
// dataset with respect to the parameters named in params (nil: every
// learnable parameter, the Weight entries; buffers are never
// differentiated). The vectors of its methods are flat float32 slices over
// those parameters in net order (see [Differentiator.Params]).
// p.BatchSize bounds the chunk size (0 means 32); a dataset of fewer than
// 16 chunks' samples is cut in smaller chunks, so that every slice has work.
func NewDifferentiator(p *backend.Problem, params []string, opts *Options) (*Differentiator, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if len(p.Data) == 0 {
		return nil, errors.New("cpu: differentiator without data")
	}
	if err := differentiable(p.Net); err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &Options{}
	}
	d := &Differentiator{p: p, data: p.Data[0], workers: opts.Workers, chunk: p.BatchSize, dlayout: map[string]span{}}
	if d.workers <= 0 {
		d.workers = runtime.GOMAXPROCS(0)
	}
	// Chunks of at most BatchSize (32 by default), and small enough that
	// every slice gets one, so that a small dataset still spreads over
	// the cores: the data and BatchSize alone decide, not the workers.
	if d.chunk <= 0 {
		d.chunk = 32
	}
	d.chunk = min(d.chunk, max(1, (d.data.N+diffSlices-1)/diffSlices))
	d.gemm, d.blas = loadSgemmT(opts.BLAS)
	if !opts.Generic {
		d.ks = fastKernels
		if opts.kernels != nil {
			d.ks = opts.kernels
		}
	}
	var err error
	if d.params, err = backend.DiffParams(p.Net, params); err != nil {
		return nil, err
	}
	d.layout, d.center, d.dx, d.dy = flatProblem(p)
	dtotal := 0
	for _, prm := range d.params {
		n := nets.NumElements(prm.Shape)
		d.dlayout[prm.Name] = span{off: dtotal, n: n}
		dtotal += n
	}

	cfg := p.Net.Config
	d.sizes = append(d.sizes, cfg.InChannels*cfg.Height*cfg.Width)
	for _, o := range p.Net.Ops {
		d.sizes = append(d.sizes, o.C*o.H*o.W)
	}
	d.lastUse = slices.Repeat([]int{-1}, len(d.sizes))
	uses := make([]int, len(d.sizes))
	for i, o := range p.Net.Ops {
		for _, v := range o.In {
			d.lastUse[v] = i
			uses[v]++
		}
	}
	d.sharesGrad = slices.Repeat([]int{-1}, len(d.sizes))
	d.reluAfter = make([]bool, len(p.Net.Ops))
	for i, o := range p.Net.Ops {
		switch o.Kind {
		case nets.Add:
			for k, v := range o.In {
				if uses[v] == 1 && d.sets(i, k) {
					d.sharesGrad[v] = i + 1
				}
			}
		case nets.BatchNorm:
			next := i + 1 // the next op, and the value the batch norm makes
			d.reluAfter[i] = next < len(p.Net.Ops) && p.Net.Ops[next].Kind == nets.ReLU && p.Net.Ops[next].In[0] == next && uses[next] == 1
		}
	}
	d.direct = make([]*directConv, len(p.Net.Ops))
	for i := range p.Net.Ops {
		o := &p.Net.Ops[i]
		if ci := d.shape(o.In[0]); !o.Depthwise(ci[0]) {
			d.direct[i] = planDirect(d.ks, o, ci)
		}
	}
	return d, nil
}

// differentiable reports, as an error, why the differentiator cannot run
// n: it differentiates the engines' ops, and a network the engines cannot
// run (evaluated by its Forward function) has none.
func differentiable(n *nets.Net) error {
	if len(n.Ops) == 0 {
		return fmt.Errorf("cpu: model %s: gradients and Hessians are computed on the engines' ops, and the engines cannot run this network (only its loss is computed, by the reference evaluator)", n.Name)
	}
	for i := range n.Ops {
		if o := &n.Ops[i]; !diffSupported(o) {
			what := o.Kind.String()
			if o.Group() > 1 {
				what = fmt.Sprintf("grouped %v", o.Kind)
			}
			return fmt.Errorf("cpu: model %s: op %d, %s %s, cannot be differentiated yet", n.Name, i, what, o.Name)
		}
	}
	return nil
}

// Params lists the differentiated parameters, in the order of the vectors.
func (d *Differentiator) Params() []nets.Param { return d.params }

// Dim is the length of the vectors: the number of differentiated scalars.
func (d *Differentiator) Dim() int {
	n := 0
	for _, p := range d.params {
		n += nets.NumElements(p.Shape)
	}
	return n
}

// Describe says what computes the derivatives.
func (d *Differentiator) Describe() string {
	if d.ks != nil {
		return fmt.Sprintf("cpu: %d workers, %s kernels and %s SGEMM", d.workers, d.ks.name, d.blas)
	}
	return fmt.Sprintf("cpu: %d workers, %s SGEMM", d.workers, d.blas)
}

// Close releases nothing: buffers belong to the garbage collector.
func (d *Differentiator) Close() error { return nil }

// Gradient writes to grad the gradient of the mean loss at the weights
// θ + at.X·u + at.Y·v and returns the loss.
func (d *Differentiator) Gradient(ctx context.Context, at backend.Coord, grad []float32) (float64, error) {
	return d.run(ctx, at, nil, grad, nil)
}

// HVP writes to hv the product of the Hessian of the mean loss at
// θ + at.X·u + at.Y·v with v, exactly (Pearlmutter's R-operator), and
// returns the loss.
func (d *Differentiator) HVP(ctx context.Context, at backend.Coord, v, hv []float32) (float64, error) {
	if len(v) != d.Dim() {
		return 0, fmt.Errorf("cpu: direction of %d values for %d parameters", len(v), d.Dim())
	}
	return d.run(ctx, at, v, nil, hv)
}

// run computes the loss, and the gradient into grad and H·v into hv where
// they are not nil (v is nil for the gradient alone).
func (d *Differentiator) run(ctx context.Context, at backend.Coord, v, grad, hv []float32) (float64, error) {
	dim := d.Dim()
	if grad != nil && len(grad) != dim || hv != nil && len(hv) != dim {
		return 0, fmt.Errorf("cpu: output of %d values for %d parameters", max(len(grad), len(hv)), dim)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	// The weights and the direction over every entry, kept from call to
	// call: fresh ones cost page faults at every product.
	if d.w == nil {
		d.w = make([]float32, len(d.center))
	}
	w := d.w
	form(w, d.center, d.dx, d.dy, float32(at.X), float32(at.Y))
	// The direction over every entry: zero where nothing is differentiated.
	var vAll []float32
	if v != nil {
		if d.vAll == nil {
			d.vAll = make([]float32, len(d.center))
		}
		vAll = d.vAll
		for _, p := range d.params {
			s, ds := d.layout[p.Name], d.dlayout[p.Name]
			copy(vAll[s.off:s.off+s.n], v[ds.off:ds.off+ds.n])
		}
	}
	d.prepareConvs(w, vAll)
	chunks := (d.data.N + d.chunk - 1) / d.chunk
	slices := min(diffSlices, chunks)
	// Each slice's sums over every entry, kept from call to call (calls
	// are serialised): a Lanczos run of hundreds of products would
	// otherwise allocate them hundreds of times.
	partG, partR := d.partials(&d.partG, grad != nil, slices), d.partials(&d.partR, v != nil, slices)
	losses := make([]float64, slices)
	errs := make([]error, slices)
	var wg sync.WaitGroup
	work := make(chan int)
	for _, t := range d.workerTapes(min(d.workers, slices)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				var g, r []float32
				if partG != nil {
					g = partG[s]
				}
				if partR != nil {
					r = partR[s]
				}
				for c := s; c < chunks; c += slices {
					if err := ctx.Err(); err != nil {
						errs[s] = err
						break
					}
					lo := c * d.chunk
					hi := min(lo+d.chunk, d.data.N)
					losses[s] += t.chunk(d, w, vAll, lo, hi, g, r)
				}
			}
		}()
	}
	for s := range slices {
		work <- s
	}
	close(work)
	wg.Wait()
	loss := 0.0
	for s := range slices {
		if errs[s] != nil {
			return 0, errs[s]
		}
		loss += losses[s]
	}
	d.sumSlices(grad, partG)
	d.sumSlices(hv, partR)
	return loss / float64(d.data.N), nil
}

// partials returns slices zeroed vectors over every entry, kept in *keep
// and grown as needed, or nil if they are not wanted.
func (d *Differentiator) partials(keep *[][]float32, wanted bool, slices int) [][]float32 {
	if !wanted {
		return nil
	}
	for len(*keep) < slices {
		*keep = append(*keep, make([]float32, len(d.center)))
	}
	parts := (*keep)[:slices]
	for _, p := range parts {
		clear(p)
	}
	return parts
}

// sumSlices writes to out the differentiated entries of the slices' sums
// parts, added in slice order in float64; nothing if out is nil.
func (d *Differentiator) sumSlices(out []float32, parts [][]float32) {
	if out == nil {
		return
	}
	for _, p := range d.params {
		s, ds := d.layout[p.Name], d.dlayout[p.Name]
		for i := range s.n {
			sum := 0.0
			for _, part := range parts {
				sum += float64(part[s.off+i])
			}
			out[ds.off+i] = float32(sum)
		}
	}
}

// bnStd returns sqrt(var + eps) in float32, as PyTorch computes it.
func bnStd(v, eps float32) float32 { return float32(math.Sqrt(float64(v + eps))) }
