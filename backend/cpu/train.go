package cpu

import (
	"fmt"
	"math"

	"github.com/landscape-go/landscape/nets"
)

// This file trains: batch norm in training mode, and one step's gradient.

// bnMomentum is torch.nn.BatchNorm2d's default momentum.
const bnMomentum = 0.1

// trainParts is the number of parts a training batch's convolutions are
// cut into, each summing its samples' share of the weights' gradient: the
// grain of the parallelism and of the summation order, fixed so that the
// bits do not depend on the number of cores.
const trainParts = 8

// TrainStep runs one training step's passes on the n samples x (n × C·H·W)
// with labels y, at the weights w (every state-dict entry, flat, in the
// order of [Differentiator.Flatten]): batch norm in training mode,
// normalising each channel by the batch's mean and biased variance, and
// updating the running statistics in w as torch.nn.BatchNorm2d does
// (momentum 0.1, the unbiased variance, num_batches_tracked + 1). It
// writes to grad (the same layout; zero for buffers) the gradient of the
// batch's mean loss, and returns that loss and the number of correct
// predictions. Sums over a channel are taken in float64, as PyTorch's CPU
// kernels take them.
func (d *Differentiator) TrainStep(w, x []float32, y []int32, grad []float32) (loss float64, correct int, err error) {
	n := len(y)
	switch {
	case n == 0:
		return 0, 0, fmt.Errorf("cpu: training step on no samples")
	case len(x) != n*d.sizes[0]:
		return 0, 0, fmt.Errorf("cpu: training step on %d values for %d samples of %d", len(x), n, d.sizes[0])
	case len(w) != len(d.center) || len(grad) != len(d.center):
		return 0, 0, fmt.Errorf("cpu: training step with %d weights and %d gradients for %d", len(w), len(grad), len(d.center))
	}
	classes := d.p.Net.Config.Classes
	for i, l := range y {
		if l < 0 || int(l) >= classes {
			return 0, 0, fmt.Errorf("cpu: training step: sample %d has label %d, model %s has %d classes", i, l, d.p.Net.Name, classes)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.trainTape == nil || d.trainTape.capacity < n {
		// One batch: its convolutions' samples and its other products are
		// shared out over the workers.
		d.trainTape = d.newTape(n, trainParts, d.workers, false)
		d.trainTape.train, d.trainTape.gemm = true, splitGemm(d.gemm, d.workers)
	}
	clear(grad)
	d.prepareConvs(w, nil)
	sum, correct := d.trainTape.pass(d, w, nil, x, y, 1/float64(n), grad, nil)
	return sum / float64(n), correct, nil
}

// Flatten lays sd out as the flat weight vector of [Differentiator.TrainStep]:
// the entries of the network's state dict in order, an entry sd lacks (a
// num_batches_tracked) zero.
func (d *Differentiator) Flatten(sd *nets.StateDict) []float32 {
	w := make([]float32, len(d.center))
	for _, p := range d.p.Net.Params {
		if t, ok := sd.Get(p.Name); ok {
			copy(w[d.layout[p.Name].off:], t.Data)
		}
	}
	return w
}

// Entry returns the part of the flat vector w that holds the entry name.
func (d *Differentiator) Entry(w []float32, name string) []float32 { return d.param(w, name) }

// bnTrainForward normalises x by the batch's statistics: μ and the biased
// variance σ² per channel over the n samples' pixels, y = (x − μ)·γ/√(σ² +
// eps) + β (with relu, max(that, 0)), and moves the running statistics in
// w towards μ and the unbiased variance by the momentum.
func (t *tape) bnTrainForward(d *Differentiator, o *nets.Op, ci [3]int, w, x, y []float32, relu bool) {
	gamma, beta := d.param(w, o.Name+".weight"), d.param(w, o.Name+".bias")
	rmean, rvar := d.param(w, o.Name+".running_mean"), d.param(w, o.Name+".running_var")
	hw := ci[1] * ci[2]
	v := t.cur
	if t.bnMean[v] == nil {
		t.bnMean[v], t.bnInvStd[v] = make([]float32, ci[0]), make([]float32, ci[0])
	}
	count := float64(t.n * hw)
	t.split(ci[0], func(c0, c1 int) {
		for c := c0; c < c1; c++ {
			var s float64
			for smp := range t.n {
				off := (smp*ci[0] + c) * hw
				s += moments64(x[off:off+hw], 0, false)
			}
			mean := s / count
			var ss float64
			for smp := range t.n {
				off := (smp*ci[0] + c) * hw
				ss += moments64(x[off:off+hw], mean, true)
			}
			variance := ss / count
			invstd := 1 / math.Sqrt(variance+float64(o.BNEps()))
			t.bnMean[v][c], t.bnInvStd[v][c] = float32(mean), float32(invstd)
			alpha := float32(invstd * float64(gamma[c]))
			shift := float32(float64(beta[c]) - mean*invstd*float64(gamma[c]))
			for smp := range t.n {
				off := (smp*ci[0] + c) * hw
				affineTo(y[off:off+hw], x[off:off+hw], alpha, shift, relu)
			}
			unbiased := variance
			if count > 1 {
				unbiased = ss / (count - 1)
			}
			rmean[c] = float32((1-bnMomentum)*float64(rmean[c]) + bnMomentum*mean)
			rvar[c] = float32((1-bnMomentum)*float64(rvar[c]) + bnMomentum*unbiased)
		}
	})
	if nbt := d.param(w, o.Name+".num_batches_tracked"); nbt != nil {
		nbt[0]++
	}
}

// bnTrainBackward is the adjoint of bnTrainForward, the batch statistics
// depending on x: with x̂ = (x − μ)·s, s = 1/√(σ² + eps) and N the pixels
// of a channel, gx = γ·s·(gy − Σgy/N − x̂·Σ(gy·x̂)/N), gγ = Σ gy·x̂,
// gβ = Σ gy; gx is added to, or set with set.
func (t *tape) bnTrainBackward(d *Differentiator, o *nets.Op, ci [3]int, w, g, x, gy, gx []float32, set bool) {
	gamma := d.param(w, o.Name+".weight")
	gg, gb := d.param(g, o.Name+".weight"), d.param(g, o.Name+".bias")
	v := t.cur
	hw := ci[1] * ci[2]
	count := float64(t.n * hw)
	t.split(ci[0], func(c0, c1 int) {
		for c := c0; c < c1; c++ {
			mean, invstd := float64(t.bnMean[v][c]), float64(t.bnInvStd[v][c])
			var sumDy, dotp float64
			for smp := range t.n {
				off := (smp*ci[0] + c) * hw
				sum, dot := bnTrainSums(gy[off:off+hw], x[off:off+hw], mean)
				sumDy += sum
				dotp += dot
			}
			if gg != nil {
				gg[c] += float32(dotp * invstd)
				gb[c] += float32(sumDy)
			}
			if gx == nil {
				continue
			}
			k := dotp * invstd * invstd / count
			meanDy := sumDy / count
			scale := invstd * float64(gamma[c])
			for smp := range t.n {
				off := (smp*ci[0] + c) * hw
				bnTrainGrad(gx[off:off+hw], gy[off:off+hw], x[off:off+hw], meanDy, mean, k, scale, set)
			}
		}
	})
}

// splitGemm returns a product that computes C = op(A)·op(B) + β·C in
// parts on up to workers goroutines, each part a block of C's columns (or
// of its rows, where it has more rows), each by gemm: every element of C
// is still one sum in one order, so the bits do not depend on the split.
func splitGemm(gemm sgemmTFunc, workers int) sgemmTFunc {
	if workers < 2 {
		return gemm
	}
	return func(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		parts := min(workers, max(m, n)/16)
		if parts < 2 || m*n*k < 1<<16 {
			gemm(tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc)
			return
		}
		spread(workers, parts, func(p int) {
			if n >= m { // columns j0..j1 of C: of op(B) too
				j0, j1 := p*n/parts, (p+1)*n/parts
				bo := j0
				if tB {
					bo = j0 * ldb
				}
				gemm(tA, tB, m, j1-j0, k, a, lda, b[bo:], ldb, beta, c[j0:], ldc)
				return
			}
			i0, i1 := p*m/parts, (p+1)*m/parts // rows of C: of op(A) too
			ao := i0 * lda
			if tA {
				ao = i0
			}
			gemm(tA, tB, i1-i0, n, k, a[ao:], lda, b, ldb, beta, c[i0*ldc:], ldc)
		})
	}
}
