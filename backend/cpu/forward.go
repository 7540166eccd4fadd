package cpu

import (
	"fmt"
	"math"
	"sync"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/nets"
)

// This file evaluates networks given by a Forward function (see
// nets.Net.Forward) instead of ops: ONNX graphs the engines cannot run,
// computed by the reference evaluator, batch by batch, on all workers.

// forwardWorker is one goroutine's weights, as a state dict whose tensors
// are views of them.
type forwardWorker struct {
	pointWeights
	sd      *nets.StateDict
	logits  []float32
	kernels *nets.Kernels // lent to the Forward function
}

func (e *Evaluator) newForwardWorker() *forwardWorker {
	w := &forwardWorker{pointWeights: e.newPointWeights(), sd: &nets.StateDict{}}
	w.kernels = &nets.Kernels{MatMul: func(transB bool, m, n, k int, a, b, c []float32) {
		// β = 0: OpenBLAS does not read c, whose fresh pages would
		// otherwise be mapped to the zero page on reading and copied on
		// writing, a TLB shootdown each (a tenth of the LM's time).
		if transB {
			e.gemmT(false, true, m, n, k, a, k, b, k, 0, c, n)
			return
		}
		e.gemm(m, n, k, a, k, b, n, 0, c, n)
	}}
	for _, p := range e.p.Net.Params {
		s := e.layout[p.Name]
		w.sd.Set(p.Name, &nets.Tensor{Shape: p.Shape, DType: "float32", Data: w.w[s.off : s.off+s.n]})
	}
	return w
}

func (w *forwardWorker) done() {}

func (w *forwardWorker) setPoint(i int, c backend.Coord) { w.form(i, c) }

// forward runs samples [lo, hi) through the Forward function; an error is
// kept for Evaluate to return, and the batch's loss is NaN.
func (w *forwardWorker) forward(d *backend.Data, lo, hi int) (float64, int) {
	per, targets := d.C*d.H*d.W, d.Targets()
	classes := w.e.p.Net.Config.Classes
	out, err := w.e.p.Net.Forward(d.X[lo*per:hi*per], hi-lo, w.sd, w.kernels)
	n := (hi - lo) * targets // rows of logits: a sample's, or each of its positions'
	if err == nil && len(out) != n*classes {
		err = fmt.Errorf("cpu: model %s gave %d logits for %d samples of %d targets of %d classes", w.e.p.Net.Name, len(out), hi-lo, targets, classes)
	}
	if err != nil {
		w.e.forwardErr.set(err)
		return math.NaN(), 0
	}
	// Rows of logits → classes × n, as crossEntropy reads them.
	if cap(w.logits) < len(out) {
		w.logits = make([]float32, len(out))
	}
	t := w.logits[:len(out)]
	for s := range n {
		for c := range classes {
			t[c*n+s] = out[s*classes+c]
		}
	}
	return crossEntropy(t, classes, n, d.Y[lo*targets:hi*targets])
}

// firstError keeps the first error set.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}
