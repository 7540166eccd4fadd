//go:build linux && !android

package cuda

import (
	"errors"
	"fmt"

	"github.com/landscape-go/landscape/nets"
)

// This file trains on the GPU: batch norm in training mode, and one
// step's gradient. The optimizer runs on the host, on the vectors the
// caller holds, so that its arithmetic is the CPU's to the bit.

// bnMomentum is torch.nn.BatchNorm2d's default momentum.
const bnMomentum = 0.1

// bnTrainState is a training-mode batch norm's per-channel scratch:
// bn_train_stats' mean, 1/std, scale and shift (float32) and
// bn_train_sums' coefficients (two float64 per channel).
type bnTrainState struct{ mean, invstd, a, b, coef ptr }

// TrainStep runs one training step's passes on the n samples x (n × C·H·W)
// with labels y, at the weights w (every state-dict entry, flat, in the
// layout of [Differentiator.Flatten]), as the CPU differentiator's
// TrainStep does: batch norm in training mode, normalising each channel by
// the batch's mean and biased variance, and updating the running
// statistics in w as torch.nn.BatchNorm2d does (momentum 0.1, the unbiased
// variance, num_batches_tracked + 1). It writes to grad (the same layout;
// zero for buffers) the gradient of the batch's mean loss with respect to
// every learnable parameter, and returns that loss and the number of
// correct predictions. A batch holds at most as many samples as the
// differentiator's dataset.
func (d *Differentiator) TrainStep(w, x []float32, y []int32, grad []float32) (loss float64, correct int, err error) {
	n := len(y)
	switch {
	case n == 0:
		return 0, 0, fmt.Errorf("cuda: training step on no samples")
	case n > d.data.N:
		return 0, 0, fmt.Errorf("cuda: training step on %d samples, more than the %d of the dataset the differentiator was made for", n, d.data.N)
	case len(x) != n*d.sizes[0]:
		return 0, 0, fmt.Errorf("cuda: training step on %d values for %d samples of %d", len(x), n, d.sizes[0])
	case len(w) != d.nparams || len(grad) != d.nparams:
		return 0, 0, fmt.Errorf("cuda: training step with %d weights and %d gradients for %d", len(w), len(grad), d.nparams)
	}
	classes := d.p.Net.Config.Classes
	for i, l := range y {
		if l < 0 || int(l) >= classes {
			return 0, 0, fmt.Errorf("cuda: training step: sample %d has label %d, model %s has %d classes", i, l, d.p.Net.Name, classes)
		}
	}
	for _, p := range d.p.Net.Params {
		if p.Kind == nets.Weight && !d.moves[p.Name] {
			return 0, 0, fmt.Errorf("cuda: training step with %s not differentiated: train with every parameter", p.Name)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.t == nil {
		return 0, 0, fmt.Errorf("cuda: differentiator used after Close")
	}
	err = d.t.do(func() error {
		g := d.g
		if err := d.trainSetup(n); err != nil {
			return err
		}
		if err := upload(g, d.w, w); err != nil {
			return err
		}
		if err := upload(g, d.trainX, x); err != nil {
			return err
		}
		if err := upload(g, d.trainY, y); err != nil {
			return err
		}
		if err := g.zero(d.grad, 4*d.nparams); err != nil {
			return err
		}
		b := &batch{input: d.trainX, labels: d.trainY, n: n, count: n, of: n, train: true}
		if err := d.pass(b, true, false); err != nil {
			return err
		}
		sum, hits, err := d.totals(n)
		if err != nil {
			return err
		}
		loss, correct = sum/float64(n), int(hits)
		if err := download(g, grad, d.grad); err != nil {
			return err
		}
		return download(g, w, d.w) // the running statistics moved
	})
	if err != nil {
		return 0, 0, err
	}
	for _, o := range d.p.Net.Ops {
		if o.Kind == nets.BatchNorm {
			if off, ok := d.layout[o.Name+".num_batches_tracked"]; ok {
				w[off]++
			}
		}
	}
	return loss, correct, nil
}

// trainSetup allocates, once, the batch's input and labels and each batch
// norm's training state, and grows the tape's values and gradients to
// hold n samples where a chunk of the dataset is smaller: a training
// step needs no tangents, and its batch is the caller's.
func (d *Differentiator) trainSetup(n int) error {
	g := d.g
	var err error
	alloc := g.allocator(&err)
	if n > d.capacity {
		for v := 1; v < len(d.sizes); v++ {
			for _, p := range []*ptr{&d.vals[v], &d.grads[v], &d.argmax[v]} {
				if *p != 0 {
					err = errors.Join(err, g.free(*p))
					*p = alloc(4 * n * d.sizes[v])
				}
			}
		}
		err = errors.Join(err, g.free(d.trainX), g.free(d.trainY))
		d.trainX, d.trainY = 0, 0
		if err != nil {
			return fmt.Errorf("cuda: a training batch of %d samples: %w", n, err)
		}
		d.capacity = n
	}
	if d.trainX != 0 {
		return nil
	}
	d.trainX, d.trainY = alloc(4*d.capacity*d.sizes[0]), alloc(4*d.capacity)
	if d.bnTrain == nil {
		d.bnTrain = make([]bnTrainState, len(d.p.Net.Ops))
		for i, o := range d.p.Net.Ops {
			if o.Kind == nets.BatchNorm {
				d.bnTrain[i] = bnTrainState{mean: alloc(4 * o.C), invstd: alloc(4 * o.C), a: alloc(4 * o.C), b: alloc(4 * o.C), coef: alloc(16 * o.C)}
			}
		}
	}
	if err != nil {
		d.trainX = 0 // try again next time
	}
	return err
}

// bnTrainForward normalises op i's input x (n samples) by the batch's
// statistics into y and moves the running statistics in d.w.
func (d *Differentiator) bnTrainForward(i int, o *nets.Op, x, y ptr, n int) error {
	g, st := d.g, &d.bnTrain[i]
	hw := o.H * o.W
	if err := g.launchGrid("bn_train_stats", uint32(o.C), sumsBlock, st.mean, st.invstd, st.a, st.b,
		d.entry(d.w, o.Name+".running_mean"), d.entry(d.w, o.Name+".running_var"), x, d.entry(d.w, o.Name+".weight"),
		d.entry(d.w, o.Name+".bias"), o.BNEps(), float32(bnMomentum), int32(n), int32(o.C), int32(hw)); err != nil {
		return err
	}
	values := int64(n * o.C * hw)
	return g.launch("epilogue", values, y, x, ptr(0), st.a, st.b, values, int32(o.C), int32(hw), int32(0))
}

// bnTrainBackward is the adjoint of bnTrainForward, the batch statistics
// depending on x: it adds γ's and β's gradients to d.grad and, unless op
// i reads the network's input, x's gradient to gx.
func (d *Differentiator) bnTrainBackward(i int, o *nets.Op, x, gy, gx ptr, n int) error {
	g, st := d.g, &d.bnTrain[i]
	hw := o.H * o.W
	if err := g.launchGrid("bn_train_sums", uint32(o.C), sumsBlock, d.entry(d.grad, o.Name+".weight"), d.entry(d.grad, o.Name+".bias"),
		st.coef, gy, x, st.mean, st.invstd, int32(n), int32(o.C), int32(hw)); err != nil {
		return err
	}
	if gx == 0 {
		return nil
	}
	values := int64(n * o.C * hw)
	return g.launch("bn_train_backward_x", values, gx, gy, x, st.coef, st.mean, st.invstd, d.entry(d.w, o.Name+".weight"), values,
		int32(o.C), int32(hw))
}

// Flatten lays sd out as the flat weight vector of [Differentiator.TrainStep]:
// every entry of the network's state dict at its place on the device, an
// entry sd lacks (a num_batches_tracked) zero.
func (d *Differentiator) Flatten(sd *nets.StateDict) []float32 {
	return flatten(sd, d.layout, d.nparams)
}

// Entry returns the part of the flat vector w that holds the entry name.
func (d *Differentiator) Entry(w []float32, name string) []float32 {
	off, ok := d.layout[name]
	if !ok {
		return nil
	}
	for _, p := range d.p.Net.Params {
		if p.Name == name {
			return w[off : off+nets.NumElements(p.Shape)]
		}
	}
	return nil
}
