package cpu

import (
	"sync"
	"sync/atomic"

	"github.com/landscape-go/landscape/nets"
)

// The differentiator's convolutions run sample by sample: one sample's
// im2col columns (kk × hw, a few hundred kilobytes) stay in the core's
// cache between the im2col and the GEMMs that read them, and its output
// (C × hw) is already the tape's layout. A whole chunk's columns side by
// side would be tens of megabytes, streamed through memory three times.
//
// A chunk's samples are cut into parts; each part sums its samples'
// shares of the weights' gradient (and H·v) on its own, and the parts are
// added in part order, so a training batch's parts can run on several
// cores with bits that do not depend on their number.

// convPart is the scratch of one part of a chunk's samples.
type convPart struct {
	cols, rcols, gcols []float32 // one sample's columns, kk × hw
	gw, gb, rw, rb     []float32 // the part's sums for a weight and a bias
	direct             *directScratch
}

func newConvPart(cols, weights, channels int) *convPart {
	return &convPart{
		cols: make([]float32, cols), rcols: make([]float32, cols), gcols: make([]float32, cols),
		gw: make([]float32, weights), gb: make([]float32, channels),
		rw: make([]float32, weights), rb: make([]float32, channels),
	}
}

// sums returns the part's sums for a weight and a bias, as long as their
// gradients and H·v (empty where those are nil), cleared.
func (p *convPart) sums(GW, GB, RW, RB []float32) (gw, gb, rw, rb []float32) {
	gw, gb, rw, rb = p.gw[:len(GW)], p.gb[:len(GB)], p.rw[:len(RW)], p.rb[:len(RB)]
	clear(gw)
	clear(gb)
	clear(rw)
	clear(rb)
	return gw, gb, rw, rb
}

// eachPart calls fn with each part and its range of the chunk's samples,
// on up to t.workers goroutines.
func (t *tape) eachPart(fn func(p *convPart, lo, hi int)) {
	k := len(t.parts)
	spread(t.workers, k, func(i int) { fn(t.parts[i], i*t.n/k, (i+1)*t.n/k) })
}

// split calls fn with t.workers ranges that cover [0, n), on as many
// goroutines: for work whose results do not depend on how it is cut.
func (t *tape) split(n int, fn func(lo, hi int)) {
	k := max(1, min(t.workers, n))
	spread(t.workers, k, func(i int) { fn(i*n/k, (i+1)*n/k) })
}

// spread calls fn(i) for every i < k, on up to workers goroutines.
func spread(workers, k int, fn func(i int)) {
	if k == 1 || workers < 2 {
		for i := range k {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	var next atomic.Int64
	for range min(workers, k) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < k; i = int(next.Add(1) - 1) {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// pointwise reports whether o is a 1×1 convolution of stride 1 without
// padding, whose columns are its input as it is.
func pointwise(o *nets.Op) bool { return o.Kernel == 1 && o.Stride == 1 && o.Pad == 0 }

// columns returns the columns of sample x (C×H×W) for o: x itself for a
// pointwise convolution, else its im2col in buf.
func columns(buf, x []float32, ci [3]int, o *nets.Op) []float32 {
	if pointwise(o) {
		return x
	}
	cols := buf[:ci[0]*o.Kernel*o.Kernel*o.H*o.W]
	im2col(cols, x, ci, o)
	return cols
}

// convGroups describes the groups of convolution o on inputs ci: each is
// the convolution op of its in channels of every sample to its op.C
// output channels, gIn, gOut and gW floats into a sample's input, output
// and the weights apart. A convolution of one group is its only group.
type convGroups struct {
	op            nets.Op
	in            [3]int
	n             int
	gIn, gOut, gW int
	inSz, outSz   int
	kk, hw        int
}

func groupsOf(o *nets.Op, ci [3]int) convGroups {
	n := o.Group()
	op := *o
	op.C, op.Groups = o.C/n, 0
	in := [3]int{ci[0] / n, ci[1], ci[2]}
	kk, hw := in[0]*o.Kernel*o.Kernel, o.H*o.W
	return convGroups{op: op, in: in, n: n, gIn: in[0] * ci[1] * ci[2], gOut: op.C * hw, gW: op.C * kk,
		inSz: ci[0] * ci[1] * ci[2], outSz: o.C * hw, kk: kk, hw: hw}
}

// sample returns group j of sample s of values x laid out as the inputs
// (in) or the outputs; nil for nil.
func (c *convGroups) sample(x []float32, s, j int, in bool) []float32 {
	if in {
		return span32(x, s*c.inSz+j*c.gIn, s*c.inSz+(j+1)*c.gIn)
	}
	return span32(x, s*c.outSz+j*c.gOut, s*c.outSz+(j+1)*c.gOut)
}

// weights returns group j's part of a weight (w true) or bias; nil for
// none (nil or empty: a part's sums for a bias the convolution lacks).
func (c *convGroups) weights(x []float32, j int, w bool) []float32 {
	if len(x) == 0 {
		return nil
	}
	if w {
		return span32(x, j*c.gW, (j+1)*c.gW)
	}
	return span32(x, j*c.op.C, (j+1)*c.op.C)
}

// convForward: y = W∗x + b; Ry = W∗Rx + V∗x + Vb, group by group.
func (t *tape) convForward(d *Differentiator, o *nets.Op, ci [3]int, w, v, x, y, rx, ry []float32) {
	c := groupsOf(o, ci)
	og, kk, hw := &c.op, c.kk, c.hw
	W, B := d.param(w, o.Name+".weight"), d.param(w, o.Name+".bias")
	VW, VB := d.param(v, o.Name+".weight"), d.param(v, o.Name+".bias")
	dataTangent := ry != nil && o.In[0] != 0 // the data's tangent is zero
	if dc := t.direct(d); dc != nil {
		t.directForward(dc, x, y, rx, ry, dataTangent)
		return
	}
	t.eachPart(func(p *convPart, lo, hi int) {
		for s := lo; s < hi; s++ {
			for j := range c.n {
				Wj := c.weights(W, j, true)
				cols := columns(p.cols, c.sample(x, s, j, true), c.in, og)
				ys := c.sample(y, s, j, false)
				d.gemm(false, false, og.C, hw, kk, Wj, kk, cols, hw, 0, ys, hw)
				addBias(ys, c.weights(B, j, false), hw)
				if ry == nil {
					continue
				}
				rys := c.sample(ry, s, j, false)
				beta := float32(0)
				if dataTangent {
					rcols := columns(p.rcols, c.sample(rx, s, j, true), c.in, og)
					d.gemm(false, false, og.C, hw, kk, Wj, kk, rcols, hw, 0, rys, hw)
					beta = 1
				}
				d.gemm(false, false, og.C, hw, kk, c.weights(VW, j, true), kk, cols, hw, beta, rys, hw)
				addBias(rys, c.weights(VB, j, false), hw)
			}
		}
	})
}

// convBackward: gW += gy·colsᵀ, gb += Σgy, gx += col2im(Wᵀ·gy); and
// RgW += Rgy·colsᵀ + gy·Rcolsᵀ, Rgb += ΣRgy, Rgx += col2im(Wᵀ·Rgy + Vᵀ·gy),
// group by group; with set, gx and Rgx are set.
func (t *tape) convBackward(d *Differentiator, o *nets.Op, ci [3]int, w, v, g, r, x, rx, gy, rgy, gx, rgx []float32, set bool) {
	c := groupsOf(o, ci)
	og, kk, hw := &c.op, c.kk, c.hw
	W, VW := d.param(w, o.Name+".weight"), d.param(v, o.Name+".weight")
	GW, GB := d.param(g, o.Name+".weight"), d.param(g, o.Name+".bias")
	RW, RB := d.param(r, o.Name+".weight"), d.param(r, o.Name+".bias")
	dataTangent := rgy != nil && o.In[0] != 0
	var fW, fV []float32 // each group's flipped weights, one after the other
	if gx != nil {
		fW, fV = d.flipW[t.cur-1], d.flipV[t.cur-1]
	}
	if dc := t.direct(d); dc != nil && dc.backward() {
		t.directBackward(dc, GW, GB, RW, RB, x, rx, gy, rgy, gx, rgx, dataTangent, set)
		return
	}
	t.eachPart(func(p *convPart, lo, hi int) {
		gw, gb, rw, rb := p.sums(GW, GB, RW, RB)
		for s := lo; s < hi; s++ {
			if set { // the sample's, in the core's cache for the products
				clear(span32(gx, s*c.inSz, (s+1)*c.inSz))
				clear(span32(rgx, s*c.inSz, (s+1)*c.inSz))
			}
			for j := range c.n {
				Wj, gxs := c.weights(W, j, true), c.sample(gx, s, j, true)
				fWj, fVj := c.weights(fW, j, true), c.weights(fV, j, true)
				cols := columns(p.cols, c.sample(x, s, j, true), c.in, og)
				gys := c.sample(gy, s, j, false)
				if GW != nil { // nil when only H·v is wanted
					d.gemm(false, true, kk, og.C, hw, cols, hw, gys, hw, 1, c.weights(gw, j, true), og.C)
					sumRows(c.weights(gb, j, false), gys, hw)
				}
				var gyCols []float32 // gy's columns, where its transpose is a convolution
				if gx != nil {
					gyCols = transposedConv(d, og, c.in, Wj, gys, nil, nil, fWj, nil, p.gcols, nil, gxs)
				}
				if rgy == nil {
					continue
				}
				rgys := c.sample(rgy, s, j, false)
				d.gemm(false, true, kk, og.C, hw, cols, hw, rgys, hw, 1, c.weights(rw, j, true), og.C)
				if dataTangent {
					rcols := columns(p.rcols, c.sample(rx, s, j, true), c.in, og)
					d.gemm(false, true, kk, og.C, hw, rcols, hw, gys, hw, 1, c.weights(rw, j, true), og.C)
				}
				sumRows(c.weights(rb, j, false), rgys, hw)
				if rgx != nil {
					transposedConv(d, og, c.in, Wj, rgys, c.weights(VW, j, true), gys, fWj, fVj, p.rcols, gyCols, c.sample(rgx, s, j, true))
				}
			}
		}
	})
	t.addConvParts(&c, GW, GB, RW, RB)
}

// addConvParts is addParts for a convolution, whose parts sum each
// group's weight gradient and H·v transposed, kk × C: cols·gyᵀ runs up to
// 1.5 times as fast as gy·colsᵀ where a layer has few output channels
// (OpenBLAS's kernels are the better for the larger m).
func (t *tape) addConvParts(c *convGroups, GW, GB, RW, RB []float32) {
	for _, p := range t.parts {
		addTransposed(c, GW, p.gw)
		addInto(GB, p.gb[:len(GB)])
		addTransposed(c, RW, p.rw)
		addInto(RB, p.rb[:len(RB)])
	}
}

// addTransposed adds to each group's weight sums w, C × kk, the sums s
// held transposed, kk × C.
func addTransposed(c *convGroups, w, s []float32) {
	if len(w) == 0 {
		return
	}
	C, kk := c.op.C, c.kk
	for j := range c.n {
		wj, sj := c.weights(w, j, true), c.weights(s, j, true)
		for co := range C {
			row := wj[co*kk:][:kk]
			for r := range row {
				row[r] += sj[r*C+co]
			}
		}
	}
}

// addParts adds the parts' sums for a weight and a bias, in part order, to
// their gradients and H·v (nil where not wanted).
func (t *tape) addParts(GW, GB, RW, RB []float32) {
	for _, p := range t.parts {
		addInto(GW, p.gw[:len(GW)])
		addInto(GB, p.gb[:len(GB)])
		addInto(RW, p.rw[:len(RW)])
		addInto(RB, p.rb[:len(RB)])
	}
}

// transposedConv adds Wᵀ∗a (and Vᵀ∗b where V is not nil) to one sample's
// input gradient gx: straight into gx for a pointwise convolution; as the
// convolution of a with the flipped weights fW (and of b, whose columns
// the caller has made as bCols, with fV) for a stride-1 convolution as
// large as its input (see [flipped]), returning a's columns, made in buf,
// for a later call's bCols; by way of the columns' gradient, in buf, for
// any other. It returns nil but for the flipped convolution.
func transposedConv(d *Differentiator, o *nets.Op, ci [3]int, W, a, V, b, fW, fV, buf, bCols, gx []float32) []float32 {
	kk, hw := ci[0]*o.Kernel*o.Kernel, o.H*o.W
	switch {
	case pointwise(o):
		d.gemm(true, false, kk, hw, o.C, W, kk, a, hw, 1, gx, hw)
		if V != nil {
			d.gemm(true, false, kk, hw, o.C, V, kk, b, hw, 1, gx, hw)
		}
	case fW != nil:
		kt := o.C * o.Kernel * o.Kernel
		aCols := columns(buf, a, [3]int{o.C, o.H, o.W}, o)
		d.gemm(false, false, ci[0], hw, kt, fW, kt, aCols, hw, 1, gx, hw)
		if V != nil {
			d.gemm(false, false, ci[0], hw, kt, fV, kt, bCols, hw, 1, gx, hw)
		}
		return aCols
	default:
		gcols := buf[:kk*hw]
		d.gemm(true, false, kk, hw, o.C, W, kk, a, hw, 0, gcols, hw)
		if V != nil {
			d.gemm(true, false, kk, hw, o.C, V, kk, b, hw, 1, gcols, hw)
		}
		col2im(gx, gcols, ci, o)
	}
	return nil
}

// prepareConvs readies every convolution for a call at weights w and
// direction v (nil: none): the packed weights of those the kernels run;
// and d.flipW and d.flipV, the flipped weights and direction of those
// whose input gradient is a convolution run as an SGEMM, each group's
// after the other (nil for any other op, or where v is nil).
func (d *Differentiator) prepareConvs(w, v []float32) {
	ops := d.p.Net.Ops
	if d.flipW == nil {
		d.flipW, d.flipV = make([][]float32, len(ops)), make([][]float32, len(ops))
	}
	for i := range ops {
		o := &ops[i]
		ci := d.shape(o.In[0])
		if dc := d.direct[i]; dc != nil {
			dc.pack(o, ci[0], d.param(w, o.Name+".weight"), d.param(w, o.Name+".bias"),
				d.param(v, o.Name+".weight"), d.param(v, o.Name+".bias"))
			continue
		}
		if o.Kind != nets.Conv || o.Depthwise(ci[0]) {
			continue
		}
		c := groupsOf(o, ci)
		d.flipW[i] = flipGroups(d.flipW[i], &c, d.param(w, o.Name+".weight"))
		d.flipV[i] = flipGroups(d.flipV[i], &c, d.param(v, o.Name+".weight"))
	}
}

// flipGroups returns the flipped weights W of every group of c in buf
// (grown as needed), nil where W is nil or its transpose is no
// convolution (see flipped).
func flipGroups(buf []float32, c *convGroups, W []float32) []float32 {
	if W == nil || !flippable(&c.op, c.in) {
		return nil
	}
	if cap(buf) < len(W) {
		buf = make([]float32, len(W))
	}
	buf = buf[:len(W)]
	for j := range c.n {
		flipped(buf[j*c.gW:], c.weights(W, j, true), &c.op, c.in)
	}
	return buf
}

// flippable reports whether the input gradient of convolution o on
// inputs ci is a convolution of the same shape (see flipped).
func flippable(o *nets.Op, ci [3]int) bool { return !pointwise(o) && transposable(o, ci) }

// flipped writes to dst the weights W of o (Cout × Cin × k × k) as those of
// its transpose where that is a convolution of the same shape: for stride
// 1 and padding (k−1)/2, so that output and input are as large, the input
// gradient of y = W∗x is gx = W'∗gy with W'[ci][co][ky][kx] =
// W[co][ci][k−1−ky][k−1−kx]. This turns the column-to-image scatter of
// the gradient into im2col's copies and one better-shaped product. It
// returns nil, doing nothing, for any other convolution (and for
// pointwise ones, which need no columns) or a nil W.
func flipped(dst, W []float32, o *nets.Op, ci [3]int) []float32 {
	if W == nil || !flippable(o, ci) {
		return nil
	}
	dst = dst[:len(W)]
	flipInto(dst, W, o, ci[0])
	return dst
}

// flipInto writes to dst the weights W of o, on inputs of cin channels,
// flipped: W'[ci][co][ky][kx] = W[co][ci][k−1−ky][k−1−kx].
func flipInto(dst, W []float32, o *nets.Op, cin int) {
	kk := o.Kernel * o.Kernel
	for co := range o.C {
		for c := range cin {
			src := W[(co*cin+c)*kk : (co*cin+c+1)*kk]
			out := dst[(c*o.C+co)*kk : (c*o.C+co+1)*kk]
			for j, a := range src {
				out[kk-1-j] = a
			}
		}
	}
}

// addBias adds b[c] to the hw values of every row c of y; nothing for nil.
func addBias(y, b []float32, hw int) {
	for c, bc := range b {
		row := y[c*hw : (c+1)*hw]
		for j := range row {
			row[j] += bc
		}
	}
}

// sumRows adds to dst[c] the sum of row c of x (rows of hw values).
func sumRows(dst, x []float32, hw int) {
	for c := range dst {
		s := 0.0
		for _, a := range x[c*hw : (c+1)*hw] {
			s += float64(a)
		}
		dst[c] += float32(s)
	}
}

// im2col writes one sample's k×k windows of x (C×H×W) into cols, kk rows
// of hw: row (c, ky, kx) gets the input pixel under that tap for every
// output pixel, zero outside the input.
func im2col(cols, x []float32, ci [3]int, o *nets.Op) {
	k, st, pad := o.Kernel, o.Stride, o.Pad
	h, w, oh, ow := ci[1], ci[2], o.H, o.W
	row := 0
	for c := range ci[0] {
		plane := x[c*h*w : (c+1)*h*w]
		for ky := range k {
			for kx := range k {
				dst := cols[row*oh*ow : (row+1)*oh*ow]
				x0, x1 := inside(ow, w, st, pad-kx)
				row++
				if x0 == x1 { // the tap is off the input for every output column
					clear(dst)
					continue
				}
				if st == 1 && ow == w {
					shiftedPlane(dst, plane, oh, h, w, ky-pad, kx-pad, x0, x1)
					continue
				}
				for oy := range oh {
					iy := oy*st - pad + ky
					line := dst[oy*ow : (oy+1)*ow]
					if iy < 0 || iy >= h {
						clear(line)
						continue
					}
					src := plane[iy*w : (iy+1)*w]
					clear(line[:x0])
					clear(line[x1:])
					if st == 1 {
						copy(line[x0:x1], src[x0-pad+kx:])
						continue
					}
					for ox := x0; ox < x1; ox++ {
						line[ox] = src[ox*st-pad+kx]
					}
				}
			}
		}
	}
}

// shiftedPlane writes to dst (oh rows of w) the plane (h rows of w)
// shifted by dy rows and dx columns, dst[oy][ox] = plane[oy+dy][ox+dx],
// zero outside the plane; columns [x0, x1) are the ones inside. It is
// im2col's row of one tap of a stride-1 convolution as wide as its input:
// one copy of the whole block, then the few pixels that wrapped around a
// row's end set to zero.
func shiftedPlane(dst, plane []float32, oh, h, w, dy, dx, x0, x1 int) {
	y0, y1 := min(oh, max(0, -dy)), max(0, min(oh, h-dy))
	y1 = max(y0, y1)
	clear(dst[:y0*w])
	clear(dst[y1*w:])
	if y0 == y1 {
		return
	}
	lo, hi := y0*w, y1*w // dst's span of rows inside
	src := (y0+dy)*w + dx
	if src < 0 { // the first row's first pixels: left of the plane
		lo, src = lo-src, 0
	}
	end := (y1+dy)*w + dx
	if over := end - len(plane); over > 0 { // the last row's last pixels: right of it
		hi -= over
	}
	if lo < hi {
		copy(dst[lo:hi], plane[src:])
	}
	if x0 == 0 && x1 == w { // nothing wrapped
		return
	}
	for base := y0 * w; base < y1*w; base += w {
		line := dst[base : base+w : base+w]
		for ox := range x0 { // a pixel or two: clear's call would cost more
			line[ox] = 0
		}
		for ox := x1; ox < w; ox++ {
			line[ox] = 0
		}
	}
}

// inside returns the range [lo, hi) of the out output columns whose tap,
// at input column ox·st − shift, lands inside an input of w columns.
func inside(out, w, st, shift int) (lo, hi int) {
	if shift > 0 {
		lo = (shift + st - 1) / st
	}
	if last := w - 1 + shift; last >= 0 {
		hi = last/st + 1
	}
	lo = min(lo, out)
	return lo, max(lo, min(hi, out))
}

// col2im adds the columns of cols (laid out as im2col writes them) back
// onto gx, one sample's C×H×W: the adjoint of im2col.
func col2im(gx, cols []float32, ci [3]int, o *nets.Op) {
	k, st, pad := o.Kernel, o.Stride, o.Pad
	h, w, oh, ow := ci[1], ci[2], o.H, o.W
	row := 0
	for c := range ci[0] {
		plane := gx[c*h*w : (c+1)*h*w]
		for ky := range k {
			for kx := range k {
				src := cols[row*oh*ow : (row+1)*oh*ow]
				x0, x1 := inside(ow, w, st, pad-kx)
				row++
				if x0 == x1 {
					continue
				}
				for oy := range oh {
					iy := oy*st - pad + ky
					if iy < 0 || iy >= h {
						continue
					}
					dst := plane[iy*w : (iy+1)*w]
					line := src[oy*ow : (oy+1)*ow]
					if st == 1 {
						addInto(dst[x0-pad+kx:x1-pad+kx], line[x0:x1])
						continue
					}
					for ox := x0; ox < x1; ox++ {
						dst[ox*st-pad+kx] += line[ox]
					}
				}
			}
		}
	}
}
