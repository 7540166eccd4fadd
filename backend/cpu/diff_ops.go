package cpu

import (
	"math"
	"slices"

	"github.com/landscape-go/landscape/nets"
)

// tape is one worker's scratch for a chunk of samples: every value of the
// forward pass, its gradient, and with a direction their tangents (the
// R-operator's R{·}), each n × C·H·W in sample-major NCHW order.
type tape struct {
	n                        int
	capacity                 int         // samples the buffers hold
	train                    bool        // batch norm in training mode (see Differentiator.TrainStep)
	bnMean, bnInvStd         [][]float32 // per value made by a batch norm in training mode
	cur                      int         // the value of the op being run
	gemm                     sgemmTFunc  // d's, or one that splits each product over the workers
	vals, grads, rvals, rgrs [][]float32
	argmax                   [][]int32 // per value made by MaxPool: the input index of each output
	parts                    []*convPart
	workers                  int // goroutines the parts run on
}

// workerTapes returns n workers' scratch, sized for d's chunks: made
// once and kept, since calls are serialised and a Lanczos run makes
// hundreds (a sync.Pool would drop them at every collection and make them
// anew).
func (d *Differentiator) workerTapes(n int) []*tape {
	for len(d.tapes) < n {
		d.tapes = append(d.tapes, d.newTape(d.chunk, 1, 1, true))
	}
	return d.tapes[:n]
}

// newTape returns scratch for chunks of up to chunk samples whose
// convolutions are cut into parts run on workers goroutines; with tangent,
// for the R-passes' tangents too (half its memory).
func (d *Differentiator) newTape(chunk, parts, workers int, tangent bool) *tape {
	t := &tape{capacity: chunk, gemm: d.gemm, workers: workers}
	nv := len(d.sizes)
	t.vals, t.grads, t.rvals, t.rgrs = make([][]float32, nv), make([][]float32, nv), make([][]float32, nv), make([][]float32, nv)
	t.argmax = make([][]int32, nv)
	var cols, weights, channels int
	for i, o := range d.p.Net.Ops {
		if o.Kind == nets.Conv {
			cin := d.shape(o.In[0])[0]
			// The columns of the input, or of the output's gradient
			// (see flipped).
			cols = max(cols, max(cin, o.C)*o.Kernel*o.Kernel*o.H*o.W)
			weights, channels = max(weights, roundUp16(o.C)*cin*o.Kernel*o.Kernel), max(channels, o.C)
		}
		if o.Kind == nets.MaxPool {
			t.argmax[i+1] = make([]int32, chunk*d.sizes[i+1])
		}
	}
	for v, sz := range d.sizes {
		t.vals[v] = make([]float32, chunk*sz)
		if tangent {
			t.rvals[v] = make([]float32, chunk*sz)
		}
	}
	// Gradients from the last value back, so that one that shares its
	// buffer (see Differentiator.sharesGrad) finds the other's made.
	for v := nv - 1; v > 0; v-- {
		sz := chunk * d.sizes[v]
		switch s := d.sharesGrad[v]; {
		case s >= 0:
			t.grads[v], t.rgrs[v] = t.grads[s], t.rgrs[s]
		case tangent:
			t.grads[v], t.rgrs[v] = make([]float32, sz), make([]float32, sz)
		default:
			t.grads[v] = make([]float32, sz)
		}
	}
	t.bnMean, t.bnInvStd = make([][]float32, nv), make([][]float32, nv)
	for range parts {
		t.parts = append(t.parts, newConvPart(cols, weights, channels))
	}
	return t
}

// shape returns C, H, W of value v.
func (d *Differentiator) shape(v int) [3]int {
	if v == 0 {
		c := d.p.Net.Config
		return [3]int{c.InChannels, c.Height, c.Width}
	}
	o := d.p.Net.Ops[v-1]
	return [3]int{o.C, o.H, o.W}
}

// chunk runs samples [lo, hi) at weights w: forward, loss, backward,
// adding the gradient of the sum of their losses divided by the whole
// dataset's size to g (full layout); with a direction v (full layout,
// zero where not differentiated) also the R-passes, adding H·v to r. It
// returns the sum of the chunk's losses.
func (t *tape) chunk(d *Differentiator, w, v []float32, lo, hi int, g, r []float32) float64 {
	sz0 := d.sizes[0]
	loss, _ := t.pass(d, w, v, d.data.X[lo*sz0:hi*sz0], d.data.Y[lo:hi], 1/float64(d.data.N), g, r)
	return loss
}

// pass runs the samples x with labels y forward and back at weights w,
// adding to g the gradient of inv times the sum of their losses (and with
// a direction v, H·v to r), and returns the loss sum and the number of
// correct predictions.
func (t *tape) pass(d *Differentiator, w, v, x []float32, y []int32, inv float64, g, r []float32) (float64, int) {
	t.n = len(y)
	n := t.n
	sz0 := d.sizes[0]
	copy(t.vals[0][:n*sz0], x)
	tangent := v != nil
	if tangent {
		clear(t.rvals[0][:n*sz0]) // the data does not move
	}
	ops := d.p.Net.Ops
	for i := range ops {
		t.forward(d, i, w, v)
	}
	last := len(ops)
	loss, correct := t.lossGrad(d, y, inv, last, tangent)
	for v := 1; v < last; v++ {
		if d.lastUse[v] >= 0 {
			continue // set by the first op to reach it
		}
		clear(t.grads[v][:n*d.sizes[v]]) // read by nothing: its gradient is zero
		if tangent {
			clear(t.rgrs[v][:n*d.sizes[v]])
		}
	}
	for i := len(ops) - 1; i >= 0; i-- {
		t.backward(d, i, w, v, g, r)
	}
	return loss, correct
}

// lossGrad computes the cross-entropy of the logits (value last) against
// the labels y, sets their gradient (p − onehot)·inv and, with a tangent,
// its R: p ⊙ (Rz − ⟨p, Rz⟩)·inv; it returns the loss sum and the number of
// correct (argmax) predictions.
func (t *tape) lossGrad(d *Differentiator, labels []int32, inv float64, last int, tangent bool) (float64, int) {
	k := d.sizes[last]
	sum := 0.0
	correct := 0
	p := make([]float64, k)
	for s := range t.n {
		z := t.vals[last][s*k : (s+1)*k]
		m := math.Inf(-1)
		for _, x := range z {
			m = math.Max(m, float64(x))
		}
		total := 0.0
		for j, x := range z {
			p[j] = math.Exp(float64(x) - m)
			total += p[j]
		}
		y := int(labels[s])
		sum += math.Log(total) + m - float64(z[y])
		if best := slices.Index(z, slices.Max(z)); best == y {
			correct++
		}
		gz := t.grads[last][s*k : (s+1)*k]
		for j := range p {
			p[j] /= total
			gz[j] = float32(p[j] * inv)
		}
		gz[y] -= float32(inv)
		if tangent {
			rz := t.rvals[last][s*k : (s+1)*k]
			dot := 0.0
			for j := range p {
				dot += p[j] * float64(rz[j])
			}
			rg := t.rgrs[last][s*k : (s+1)*k]
			for j := range p {
				rg[j] = float32(p[j] * (float64(rz[j]) - dot) * inv)
			}
		}
	}
	return sum, correct
}

// param returns the slice of the full-layout vector x that holds name.
func (d *Differentiator) param(x []float32, name string) []float32 {
	s, ok := d.layout[name]
	if !ok || x == nil {
		return nil
	}
	return x[s.off : s.off+s.n]
}

// diffSupported reports whether forward and backward below implement op
// o: an op they skipped would give a wrong gradient, not an error.
func diffSupported(o *nets.Op) bool {
	switch o.Kind {
	case nets.Conv, nets.Linear, nets.BatchNorm, nets.ReLU, nets.Add, nets.MaxPool, nets.AvgPool, nets.GlobalAvgPool, nets.Concat,
		nets.Clip, nets.Sigmoid, nets.HardSigmoid, nets.HardSwish, nets.Mul, nets.ChannelShuffle, nets.Slice:
		return true
	}
	return false
}

// forward computes op i's value, and with a direction v its tangent.
func (t *tape) forward(d *Differentiator, i int, w, v []float32) {
	o := &d.p.Net.Ops[i]
	n, out := t.n, i+1
	t.cur = out
	in := o.In[0]
	x, y := t.vals[in][:n*d.sizes[in]], t.vals[out][:n*d.sizes[out]]
	var rx, ry []float32
	if v != nil {
		rx, ry = t.rvals[in][:n*d.sizes[in]], t.rvals[out][:n*d.sizes[out]]
	}
	ci := d.shape(in)
	switch o.Kind {
	case nets.Conv:
		if o.Depthwise(ci[0]) {
			t.depthwiseForward(d, o, ci, w, v, x, y, rx, ry)
			break
		}
		t.convForward(d, o, ci, w, v, x, y, rx, ry)
	case nets.Linear:
		t.linearForward(d, o, d.sizes[in], w, v, x, y, rx, ry)
	case nets.BatchNorm:
		if t.train && d.reluAfter[i] {
			t.bnTrainForward(d, o, ci, w, x, t.vals[out+1][:len(y)], true)
			break
		}
		t.bnForward(d, o, ci, w, v, x, y, rx, ry)
	case nets.ReLU:
		if t.train && i > 0 && d.reluAfter[i-1] {
			break // the batch norm before it has written y
		}
		t.split(len(y), func(lo, hi int) {
			reluForward(y[lo:hi], x[lo:hi], span32(ry, lo, hi), span32(rx, lo, hi))
		})
	case nets.Add:
		b, rb := t.vals[o.In[1]], t.rvals[o.In[1]]
		t.split(len(y), func(lo, hi int) {
			sumInto(y[lo:hi], x[lo:hi], b[lo:hi])
			if ry != nil {
				sumInto(ry[lo:hi], rx[lo:hi], rb[lo:hi])
			}
		})
	case nets.MaxPool:
		t.maxPoolForward(o, ci, x, y, rx, ry, t.argmax[out])
	case nets.AvgPool, nets.GlobalAvgPool:
		global := o.Kind == nets.GlobalAvgPool
		avgPoolNCHW(y, x, n*ci[0], ci[1], ci[2], o.Kernel, o.Stride, o.H, o.W, global)
		if ry != nil {
			avgPoolNCHW(ry, rx, n*ci[0], ci[1], ci[2], o.Kernel, o.Stride, o.H, o.W, global)
		}
	case nets.Concat:
		t.concat(d, o, out, false)
		if v != nil {
			t.concat(d, o, out, true)
		}
	case nets.Clip, nets.Sigmoid, nets.HardSigmoid, nets.HardSwish:
		t.split(len(y), func(lo, hi int) {
			activationForward(o, y[lo:hi], x[lo:hi], span32(ry, lo, hi), span32(rx, lo, hi))
		})
	case nets.ChannelShuffle, nets.Slice:
		channelsForward(o, ci, n, y, x)
		if ry != nil {
			channelsForward(o, ci, n, ry, rx)
		}
	case nets.Mul:
		b, rb := t.vals[o.In[1]][:n*d.sizes[o.In[1]]], t.rvals[o.In[1]]
		t.split(len(b), func(lo, hi int) {
			mulForward(y, x, b, ry, rx, rb, len(y)/len(b), lo, hi)
		})
	}
}

// sets reports whether op i's backward sets the gradient of its k-th
// input rather than adding to it: the first op of the backward pass to
// reach that value, at its first place among the op's inputs.
func (d *Differentiator) sets(i, k int) bool {
	o := &d.p.Net.Ops[i]
	v := o.In[k]
	return v > 0 && d.lastUse[v] == i && !slices.Contains(o.In[:k], v)
}

// backward adds op i's contributions to the gradients of its inputs, or
// sets them where it is the first to reach them (see
// [Differentiator.sets]), and adds its parameters' to g, and with a
// direction the R-passes' to r.
func (t *tape) backward(d *Differentiator, i int, w, v, g, r []float32) {
	o := &d.p.Net.Ops[i]
	n, out := t.n, i+1
	t.cur = out
	in := o.In[0]
	gy := t.grads[out][:n*d.sizes[out]]
	var gx, rx, rgy, rgx []float32
	x := t.vals[in][:n*d.sizes[in]]
	if in > 0 {
		gx = t.grads[in][:n*d.sizes[in]]
	}
	if v != nil {
		rx, rgy = t.rvals[in][:n*d.sizes[in]], t.rgrs[out][:n*d.sizes[out]]
		if in > 0 {
			rgx = t.rgrs[in][:n*d.sizes[in]]
		}
	}
	set := d.sets(i, 0)
	if set && !setsInputGrad(o.Kind) {
		t.split(len(gx), func(lo, hi int) {
			clear(gx[lo:hi])
			clear(span32(rgx, lo, hi))
		})
	}
	ci := d.shape(in)
	switch o.Kind {
	case nets.Conv:
		if o.Depthwise(ci[0]) {
			t.depthwiseBackward(d, o, ci, w, v, g, r, x, rx, gy, rgy, gx, rgx, set)
			break
		}
		t.convBackward(d, o, ci, w, v, g, r, x, rx, gy, rgy, gx, rgx, set)
	case nets.Linear:
		t.linearBackward(d, o, d.sizes[in], w, v, g, r, x, rx, gy, rgy, gx, rgx, set)
	case nets.BatchNorm:
		t.bnBackward(d, o, ci, w, v, g, r, x, rx, gy, rgy, gx, rgx, set)
	case nets.ReLU:
		y := t.vals[out]
		t.split(len(gx), func(lo, hi int) {
			reluBackward(gx[lo:hi], gy[lo:hi], y[lo:hi], span32(rgx, lo, hi), span32(rgy, lo, hi), set)
		})
	case nets.Add:
		t.split(len(gy), func(lo, hi int) {
			for k, src := range o.In {
				if src == 0 || d.sharesGrad[src] == out {
					continue // no gradient, or gy itself
				}
				into := addInto
				if d.sets(i, k) {
					into = copyInto
				}
				into(t.grads[src][lo:hi], gy[lo:hi])
				if rgy != nil {
					into(t.rgrs[src][lo:hi], rgy[lo:hi])
				}
			}
		})
	case nets.MaxPool:
		idx := t.argmax[out][:len(gy)]
		for j, k := range idx {
			if gx != nil {
				gx[k] += gy[j]
			}
			if rgx != nil {
				rgx[k] += rgy[j]
			}
		}
	case nets.AvgPool, nets.GlobalAvgPool:
		if gx == nil {
			return
		}
		global := o.Kind == nets.GlobalAvgPool
		avgPoolBackNCHW(gx, gy, n*ci[0], ci[1], ci[2], o.Kernel, o.Stride, o.H, o.W, global)
		if rgx != nil {
			avgPoolBackNCHW(rgx, rgy, n*ci[0], ci[1], ci[2], o.Kernel, o.Stride, o.H, o.W, global)
		}
	case nets.Concat:
		t.concatBackward(d, i, gy, rgy)
	case nets.Clip, nets.Sigmoid, nets.HardSigmoid, nets.HardSwish:
		if gx == nil {
			return
		}
		y := t.vals[out]
		t.split(len(gx), func(lo, hi int) {
			activationBackward(o, gx[lo:hi], gy[lo:hi], x[lo:hi], y[lo:hi], span32(rx, lo, hi), span32(rgx, lo, hi), span32(rgy, lo, hi))
		})
	case nets.ChannelShuffle, nets.Slice:
		if gx == nil {
			return
		}
		channelsBackward(o, ci, n, gx, gy)
		if rgx != nil {
			channelsBackward(o, ci, n, rgx, rgy)
		}
	case nets.Mul:
		bv := o.In[1]
		b := t.vals[bv][:n*d.sizes[bv]]
		var gb, rb, rgb []float32
		if bv > 0 {
			gb = t.grads[bv][:len(b)]
		}
		if v != nil {
			rb = t.rvals[bv]
			if bv > 0 {
				rgb = t.rgrs[bv][:len(b)]
			}
		}
		if d.sets(i, 1) {
			clear(gb)
			clear(rgb)
		}
		t.split(len(b), func(lo, hi int) {
			mulBackward(gx, gb, gy, x, b, rx, rb, rgx, rgb, rgy, len(gy)/len(b), lo, hi)
		})
	}
}

// nonZero returns all ones where the bits of a are not all zero, and zero
// where a is +0: a ReLU's output is +0 exactly where it cut its input.
func nonZero(a float32) uint32 {
	b := math.Float32bits(a)
	return uint32(int32(b|-b) >> 31)
}

// span32 returns s[lo:hi], or nil for a nil s.
func span32(s []float32, lo, hi int) []float32 {
	if s == nil {
		return nil
	}
	return s[lo:hi]
}

// linearForward: y = x·Wᵀ + b over the flattened input; Ry = Rx·Wᵀ +
// x·Vᵀ + Vb.
func (t *tape) linearForward(d *Differentiator, o *nets.Op, in int, w, v, x, y, rx, ry []float32) {
	n, out := t.n, o.C
	W, B := d.param(w, o.Name+".weight"), d.param(w, o.Name+".bias")
	t.gemm(false, true, n, out, in, x, in, W, in, 0, y, out)
	for s := range n {
		addInto(y[s*out:(s+1)*out], B)
	}
	if ry == nil {
		return
	}
	VW, VB := d.param(v, o.Name+".weight"), d.param(v, o.Name+".bias")
	t.gemm(false, true, n, out, in, rx, in, W, in, 0, ry, out)
	t.gemm(false, true, n, out, in, x, in, VW, in, 1, ry, out)
	for s := range n {
		addInto(ry[s*out:(s+1)*out], VB)
	}
}

// linearBackward: gW += gyᵀ·x, gb += Σgy, gx += gy·W; RgW += Rgyᵀ·x +
// gyᵀ·Rx, Rgb += ΣRgy, Rgx += Rgy·W + gy·V; with set, gx and Rgx are set.
func (t *tape) linearBackward(d *Differentiator, o *nets.Op, in int, w, v, g, r, x, rx, gy, rgy, gx, rgx []float32, set bool) {
	n, out := t.n, o.C
	beta := float32(1) // of the input gradients' first products
	if set {
		beta = 0
	}
	W := d.param(w, o.Name+".weight")
	GW, GB := d.param(g, o.Name+".weight"), d.param(g, o.Name+".bias")
	if GW != nil {
		t.gemm(true, false, out, in, n, gy, out, x, in, 1, GW, in)
		for s := range n {
			addInto(GB, gy[s*out:(s+1)*out])
		}
	}
	if gx != nil {
		t.gemm(false, false, n, in, out, gy, out, W, in, beta, gx, in)
	}
	if rgy == nil {
		return
	}
	VW := d.param(v, o.Name+".weight")
	RW, RB := d.param(r, o.Name+".weight"), d.param(r, o.Name+".bias")
	t.gemm(true, false, out, in, n, rgy, out, x, in, 1, RW, in)
	t.gemm(true, false, out, in, n, gy, out, rx, in, 1, RW, in)
	for s := range n {
		addInto(RB, rgy[s*out:(s+1)*out])
	}
	if rgx != nil {
		t.gemm(false, false, n, in, out, rgy, out, W, in, beta, rgx, in)
		t.gemm(false, false, n, in, out, gy, out, VW, in, 1, rgx, in)
	}
}

// bnForward: y = (x − μ)·γ/σ + β (eval mode, σ = √(var + eps));
// Ry = Rx·γ/σ + (x − μ)/σ·Vγ + Vβ. In training mode, see bnTrainForward.
func (t *tape) bnForward(d *Differentiator, o *nets.Op, ci [3]int, w, v, x, y, rx, ry []float32) {
	if t.train {
		t.bnTrainForward(d, o, ci, w, x, y, false)
		return
	}
	gamma, beta := d.param(w, o.Name+".weight"), d.param(w, o.Name+".bias")
	mean, vr := d.param(w, o.Name+".running_mean"), d.param(w, o.Name+".running_var")
	var vg, vb []float32
	if ry != nil {
		vg, vb = d.param(v, o.Name+".weight"), d.param(v, o.Name+".bias")
	}
	hw := ci[1] * ci[2]
	for s := range t.n {
		for c := range ci[0] {
			std := bnStd(vr[c], o.BNEps())
			scale := gamma[c] / std
			shift := beta[c] - mean[c]*scale
			off := (s*ci[0] + c) * hw
			xs := x[off : off+hw]
			affineTo(y[off:off+hw], xs, scale, shift, false)
			if ry != nil {
				bnTangentTo(ry[off:off+hw], rx[off:off+hw], xs, scale, mean[c], vg[c]/std, vb[c])
			}
		}
	}
}

// bnBackward: gx += gy·γ/σ, gγ += Σ gy·(x − μ)/σ, gβ += Σ gy; Rgx +=
// Rgy·γ/σ + gy·Vγ/σ, Rgγ += Σ Rgy·(x − μ)/σ + gy·Rx/σ, Rgβ += Σ Rgy;
// with set, gx and Rgx are set. In training mode, see bnTrainBackward.
func (t *tape) bnBackward(d *Differentiator, o *nets.Op, ci [3]int, w, v, g, r, x, rx, gy, rgy, gx, rgx []float32, set bool) {
	if t.train {
		t.bnTrainBackward(d, o, ci, w, g, x, gy, gx, set)
		return
	}
	gamma := d.param(w, o.Name+".weight")
	mean, vr := d.param(w, o.Name+".running_mean"), d.param(w, o.Name+".running_var")
	gg, gb := d.param(g, o.Name+".weight"), d.param(g, o.Name+".bias")
	var vg, rg, rb []float32
	if rgy != nil {
		vg = d.param(v, o.Name+".weight")
		rg, rb = d.param(r, o.Name+".weight"), d.param(r, o.Name+".bias")
	}
	hw := ci[1] * ci[2]
	// The sums over x − μ are divided by σ once, at the end: no division
	// per value.
	for c := range ci[0] {
		std := bnStd(vr[c], o.BNEps())
		scale, m := gamma[c]/std, mean[c]
		var sg, sb, rsg, rsb float64
		for s := range t.n {
			off := (s*ci[0] + c) * hw
			xs, gys := x[off:off+hw:off+hw], gy[off:off+hw:off+hw]
			dot, sum := centredDot64(gys, xs, m, nil, nil)
			sg += dot
			sb += sum
			if gx != nil {
				if set {
					clear(gx[off : off+hw])
				}
				axpyTo(gx[off:off+hw], gys, scale)
			}
			if rgy == nil {
				continue
			}
			rxs, rgys := rx[off:off+hw:off+hw], rgy[off:off+hw:off+hw]
			dot, sum = centredDot64(rgys, xs, m, gys, rxs)
			rsg += dot
			rsb += sum
			if rgx != nil {
				if set {
					clear(rgx[off : off+hw])
				}
				axpy2To(rgx[off:off+hw], rgys, gys, scale, vg[c]/std)
			}
		}
		if gg != nil {
			gg[c] += float32(sg / float64(std))
			gb[c] += float32(sb)
		}
		if rgy != nil {
			rg[c] += float32(rsg / float64(std))
			rb[c] += float32(rsb)
		}
	}
}

// maxPoolForward takes the maximum of each window (the first, in window
// order, where several are equal, as PyTorch does), records where it
// was, and carries the tangent from there.
func (t *tape) maxPoolForward(o *nets.Op, ci [3]int, x, y, rx, ry []float32, idx []int32) {
	h, w := ci[1], ci[2]
	planes := t.n * ci[0]
	for p := range planes {
		base := p * h * w
		for oy := range o.H {
			y0, y1 := window(oy, o.Kernel, o.Stride, o.Pad, h)
			for ox := range o.W {
				x0, x1 := window(ox, o.Kernel, o.Stride, o.Pad, w)
				best, at := float32(math.Inf(-1)), -1
				for ky := y0; ky < y1; ky++ {
					for kx := x0; kx < x1; kx++ {
						if a := x[base+ky*w+kx]; a > best || at < 0 {
							best, at = a, base+ky*w+kx
						}
					}
				}
				j := (p*o.H+oy)*o.W + ox
				y[j], idx[j] = best, int32(at)
				if ry != nil {
					ry[j] = rx[at]
				}
			}
		}
	}
}

// avgPoolNCHW averages k×k windows with stride s (full windows, divisor
// k·k), or with global set, each whole plane (k and s unused).
func avgPoolNCHW(dst, x []float32, planes, h, w, k, s, oh, ow int, global bool) {
	if global {
		for p := range planes {
			sum := float32(0)
			for _, a := range x[p*h*w : (p+1)*h*w] {
				sum += a
			}
			dst[p] = sum / float32(h*w)
		}
		return
	}
	inv := 1 / float32(k*k)
	for p := range planes {
		for oy := range oh {
			for ox := range ow {
				sum := float32(0)
				for ky := range k {
					row := x[p*h*w+(oy*s+ky)*w+ox*s:]
					for kx := range k {
						sum += row[kx]
					}
				}
				dst[(p*oh+oy)*ow+ox] = sum * inv
			}
		}
	}
}

// avgPoolBackNCHW adds to gx the adjoint of avgPoolNCHW applied to gy.
func avgPoolBackNCHW(gx, gy []float32, planes, h, w, k, s, oh, ow int, global bool) {
	if global {
		for p := range planes {
			g := gy[p] / float32(h*w)
			plane := gx[p*h*w : (p+1)*h*w]
			for j := range plane {
				plane[j] += g
			}
		}
		return
	}
	inv := 1 / float32(k*k)
	for p := range planes {
		for oy := range oh {
			for ox := range ow {
				g := gy[(p*oh+oy)*ow+ox] * inv
				for ky := range k {
					row := gx[p*h*w+(oy*s+ky)*w+ox*s:]
					for kx := range k {
						row[kx] += g
					}
				}
			}
		}
	}
}

// concat joins the inputs' channels, sample by sample (their tangents
// with tangent set).
func (t *tape) concat(d *Differentiator, o *nets.Op, out int, tangent bool) {
	src, dst := t.vals, t.vals[out]
	if tangent {
		src, dst = t.rvals, t.rvals[out]
	}
	outSz := d.sizes[out]
	for s := range t.n {
		off := s * outSz
		for _, in := range o.In {
			sz := d.sizes[in]
			copy(dst[off:off+sz], src[in][s*sz:(s+1)*sz])
			off += sz
		}
	}
}

// concatBackward hands each input of op i its channels of the output's
// gradient.
func (t *tape) concatBackward(d *Differentiator, i int, gy, rgy []float32) {
	o := &d.p.Net.Ops[i]
	outSz := d.sizes[i+1]
	for s := range t.n {
		off := s * outSz
		for k, in := range o.In {
			sz := d.sizes[in]
			if in > 0 {
				into := addInto
				if d.sets(i, k) {
					into = copyInto
				}
				into(t.grads[in][s*sz:(s+1)*sz], gy[off:off+sz])
				if rgy != nil {
					into(t.rgrs[in][s*sz:(s+1)*sz], rgy[off:off+sz])
				}
			}
			off += sz
		}
	}
}

// copyInto sets dst to src.
func copyInto(dst, src []float32) { copy(dst, src) }

// setsInputGrad reports whether the backward of ops of kind k sets their
// first input's gradient themselves where asked (see
// [Differentiator.sets]); for the other kinds it is cleared first. Add,
// Concat and Mul handle each of their inputs.
func setsInputGrad(k nets.OpKind) bool {
	switch k {
	case nets.Conv, nets.Linear, nets.BatchNorm, nets.ReLU, nets.Add, nets.Concat:
		return true
	}
	return false
}
