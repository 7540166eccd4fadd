package cpu

import (
	"fmt"
	"math"
	"sync"
	"unsafe"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/nets"
)

// fastWorker runs the fast plan: one goroutine's activation buffers and
// the packed weights of its current point, which it shares with the other
// workers.
type fastWorker struct {
	p     *fastPlan
	cache *packCache
	pp    *pointPack // the current point's weights, held until the next point
	slots [][]float32
	feat  []float32 // a Linear's gathered features
	wgV   []float32 // Winograd: transformed input tiles of a chunk, [tile][36][cp]
	wgM   []float32 // Winograd: their products with the weights, [tile][36][cp]
	sum   []float32 // per-channel sums of a pooling step
	offs  []int64   // a max pool window's pixels, bytes from its first
	args  kernelArgs
	wg    wgArgs
}

func (e *Evaluator) newFastWorker(cache *packCache) *fastWorker {
	p := e.fast
	w := &fastWorker{p: p, cache: cache}
	for _, st := range p.steps {
		if st.kind == fMaxPool {
			w.offs = make([]int64, 0, max(cap(w.offs), st.op.Kernel*st.op.Kernel))
		}
	}
	w.slots = make([][]float32, len(p.slotSize))
	for i, n := range p.slotSize {
		w.slots[i] = kernelBuffer(n)
	}
	var feat, wgV, wgM int
	for _, st := range p.steps {
		if st.kind == fLinear && !st.inG[0].flat {
			feat = max(feat, p.sub*st.inG[0].c*st.inG[0].h*st.inG[0].w)
		}
		if st.wino {
			wgV = max(wgV, st.chunk*36*st.inG[0].cp)
			wgM = max(wgM, st.chunk*36*st.outG.cp)
		}
		if st.kind == fGAP || st.kind == fAvgPool {
			w.sum = make([]float32, max(len(w.sum), st.inG[0].cp))
		}
	}
	w.feat, w.wgV, w.wgM = kernelBuffer(feat), kernelBuffer(wgV), kernelBuffer(wgM)
	return w
}

// guardFloats, when tests set it, surrounds every buffer the kernels read
// or write with that many NaNs and fills the buffer with NaNs too: a read
// out of bounds or of a value never written then shows as a NaN loss, and
// a write out of bounds as a changed guard (see guardsIntact).
var guardFloats = 0

// kernelBuffer returns n floats for the kernels to use.
func kernelBuffer(n int) []float32 {
	if guardFloats == 0 {
		return make([]float32, n)
	}
	b := make([]float32, n+2*guardFloats)
	for i := range b {
		b[i] = float32(math.NaN())
	}
	guarded.Lock()
	guarded.bufs = append(guarded.bufs, b)
	guarded.Unlock()
	return b[guardFloats : guardFloats+n : guardFloats+n]
}

var guarded struct {
	sync.Mutex
	bufs [][]float32
}

// guardsIntact reports a guard that is no longer NaN, and forgets the
// buffers made so far.
func guardsIntact() error {
	guarded.Lock()
	defer guarded.Unlock()
	defer func() { guarded.bufs = nil }()
	for _, b := range guarded.bufs {
		n := len(b) - 2*guardFloats
		for k, v := range b[:guardFloats] {
			if v == v {
				return fmt.Errorf("cpu: %g written %d floats before a buffer of %d", v, guardFloats-k, n)
			}
		}
		for k, v := range b[guardFloats+n:] {
			if v == v {
				return fmt.Errorf("cpu: %g written %d floats past a buffer of %d", v, k, n)
			}
		}
	}
	return nil
}

// setPoint takes the packed weights of point i, preparing them if no
// other worker has.
func (w *fastWorker) setPoint(i int, c backend.Coord) {
	if w.pp != nil && w.pp.holds == i {
		return
	}
	if w.pp != nil {
		w.cache.release(w.pp)
	}
	w.pp = w.cache.acquire(i, c)
}

// done releases the worker's point.
func (w *fastWorker) done() {
	if w.pp != nil {
		w.cache.release(w.pp)
		w.pp = nil
	}
}

// forward runs samples [lo, hi) of d through the network, sub samples at a
// time, and returns their summed loss (added sample by sample in order) and
// the number of correct predictions.
func (w *fastWorker) forward(d *backend.Data, lo, hi int) (float64, int) {
	p := w.p
	var loss float64
	var correct int
	for s0 := lo; s0 < hi; s0 += p.sub {
		n := min(p.sub, hi-s0)
		w.input(d, s0, n)
		for k := range p.steps {
			w.run(&p.steps[k], n)
		}
		var c int
		loss, c = crossEntropyRows(w.slots[p.logits], p.logitsG.cp, p.classes, n, d.Y[s0:s0+n], loss)
		correct += c
	}
	return loss, correct
}

// input copies n NCHW samples from s0 into the input slot.
func (w *fastWorker) input(d *backend.Data, s0, n int) {
	g := w.p.inputG
	dst := w.slots[w.p.input]
	per := d.C * d.H * d.W
	for s := range n {
		src := d.X[(s0+s)*per:][:per]
		for c := range d.C {
			plane := src[c*d.H*d.W:][:d.H*d.W]
			for y := range d.H {
				row := plane[y*d.W:][:d.W]
				o := g.at(s, y, 0) + c
				for x, v := range row {
					dst[o+x*g.cp] = v
				}
			}
		}
	}
	zeroPads(dst, g, n)
}

// zeroPads clears the border pixels of n samples of a spatial value.
func zeroPads(buf []float32, g geom, n int) {
	if g.flat {
		return
	}
	clear(buf[:g.lead()])
	for s := range n {
		for y := range g.h - 1 {
			clear(buf[g.at(s, y, g.w):][:g.b*g.cp])
		}
		// The last row's border pixels and the image's border rows, up to
		// the next image's first pixel.
		clear(buf[g.at(s, g.h-1, g.w):][:(g.b+1)*g.rowStride()-g.w*g.cp])
	}
}

func ptr(s []float32, i int) unsafe.Pointer { return unsafe.Pointer(&s[i]) }

// run executes one step for a batch of n samples.
func (w *fastWorker) run(st *fastStep, n int) {
	out := w.slots[st.out]
	og := st.outG
	switch st.kind {
	case fConv:
		w.conv(st, n)
	case fLinear:
		w.linear(st, n)
	case fBN:
		in, ig := w.slots[st.in[0]], st.inG[0]
		scale, shift := w.pp.scale[st.bn], w.pp.shift[st.bn]
		forPixels(og, n, func(o int) {
			src, dst := in[o:][:ig.c], out[o:][:ig.c]
			for c, v := range src {
				v = v*scale[c] + shift[c]
				if st.relu {
					v = max(v, 0)
				}
				dst[c] = v
			}
		})
		zeroPads(out, og, n)
	case fReLU:
		in := w.slots[st.in[0]][:og.size(n)]
		for i, v := range in {
			out[i] = max(v, 0)
		}
	case fAdd:
		a, b := w.slots[st.in[0]][:og.size(n)], w.slots[st.in[1]][:og.size(n)]
		dst := out[:og.size(n)]
		for i := range dst {
			v := a[i] + b[i]
			if st.relu {
				v = max(v, 0)
			}
			dst[i] = v
		}
	case fMaxPool, fAvgPool:
		w.pool(st, n)
	case fDepthwise:
		w.depthwise(st, n)
	case fAct:
		in, c := w.slots[st.in[0]], st.inG[0].c
		// Clip and Sigmoid a row of pixels at a time, all cp values of
		// each (those past its channels are not read).
		switch st.op.Kind {
		case nets.Clip:
			forRows(og, n, func(o, m int) { clampTo(out[o:][:m], in[o:][:m], st.op.Lo, st.op.Hi) })
		case nets.Sigmoid:
			forRows(og, n, func(o, m int) { sigmoidTo(out[o:][:m], in[o:][:m], st.silu) })
		default:
			forPixels(og, n, func(o int) {
				activate(out[o:][:c], in[o:][:c], &st.op)
			})
		}
		zeroPads(out, og, n)
	case fMul:
		w.mul(st, n)
	case fChannels:
		in, ig := w.slots[st.in[0]], st.inG[0]
		for s := range n {
			for y := range og.h {
				for x := range og.w {
					src, dst := in[ig.at(s, y, x):][:ig.c], out[og.at(s, y, x):][:og.c]
					for j, k := range st.src {
						dst[j] = src[k]
					}
				}
			}
		}
		zeroPads(out, og, n)
	case fGAP:
		in, ig := w.slots[st.in[0]], st.inG[0]
		inv := 1 / float32(ig.h*ig.w)
		for s := range n {
			sum := w.sum[:ig.c]
			clear(sum)
			for y := range ig.h {
				for x := range ig.w {
					for c, v := range in[ig.at(s, y, x):][:ig.c] {
						sum[c] += v
					}
				}
			}
			dst := out[og.at(s, 0, 0):][:ig.c]
			for c, v := range sum {
				dst[c] = v * inv
			}
		}
	case fConcat:
		off := 0
		for k, slot := range st.in {
			in, ig := w.slots[slot], st.inG[k]
			// Pixel by pixel: an input may be flat (a global average
			// pool's 1x1 output) where the concatenation is not.
			for s := range n {
				for y := range og.h {
					for x := range og.w {
						copy(out[og.at(s, y, x)+off:][:ig.c], in[ig.at(s, y, x):][:ig.c])
					}
				}
			}
			off += ig.c
		}
		zeroPads(out, og, n)
	}
}

// depthwise runs a depthwise convolution: each output pixel is the sum
// over the taps of the packed weights (the batch norm's scale folded in)
// times the input pixel under the tap, channel by channel, then the bias
// and the clamp. The input's zero border stands for the padding.
func (w *fastWorker) depthwise(st *fastStep, n int) {
	in, out := w.slots[st.in[0]], w.slots[st.out]
	ig, og := st.inG[0], st.outG
	pack, bias := w.pp.packs[st.pack], w.pp.biases[st.pack]
	c, cp, stride := og.c, og.cp, st.op.Stride
	lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
	if st.clamp != nil {
		lo, hi = st.clamp.lo, st.clamp.hi
	}
	for s := range n {
		for y := range og.h {
			for x := range og.w {
				centre := ig.at(s, y*stride, x*stride)
				dst := out[og.at(s, y, x):][:c]
				// Units of 16 channels in vector registers, the rest one
				// by one; each summed over the taps in order.
				for ch := depthwiseUnits(dst, in, pack, bias, centre, st.offs, cp, c, lo, hi); ch < c; ch++ {
					var a float32
					for t, off := range st.offs {
						a += pack[t*cp+ch] * in[centre+int(off/4)+ch]
					}
					dst[ch] = min(max(a+bias[ch], lo), hi)
				}
			}
		}
	}
	zeroPads(out, og, n)
}

// mul multiplies two values pixel by pixel, the second of the first's
// geometry or one pixel per sample (a per-channel scale).
func (w *fastWorker) mul(st *fastStep, n int) {
	a, b, out := w.slots[st.in[0]], w.slots[st.in[1]], w.slots[st.out]
	ag, bg, og := st.inG[0], st.inG[1], st.outG
	bcast := bg.h*bg.w == 1 && og.h*og.w > 1
	c := og.c
	for s := range n {
		for y := range og.h {
			for x := range og.w {
				o, q := og.at(s, y, x), bg.at(s, 0, 0)
				if !bcast {
					q = bg.at(s, y, x)
				}
				src, sc, dst := a[ag.at(s, y, x):][:c], b[q:][:c], out[o:][:c]
				for ch, v := range src {
					dst[ch] = v * sc[ch]
				}
			}
		}
	}
	zeroPads(out, og, n)
}

// forRows calls f with the offset and length of every row of valid
// pixels of n samples (all of them at once for flat values).
func forRows(g geom, n int, f func(o, m int)) {
	if g.flat {
		f(0, n*g.cp)
		return
	}
	for s := range n {
		for y := range g.h {
			f(g.at(s, y, 0), g.w*g.cp)
		}
	}
}

// forPixels calls f with the offset of every valid pixel of n samples.
func forPixels(g geom, n int, f func(o int)) {
	if g.flat {
		for s := range n {
			f(s * g.cp)
		}
		return
	}
	for s := range n {
		for y := range g.h {
			for x := range g.w {
				f(g.at(s, y, x))
			}
		}
	}
}

// conv runs a convolution through the micro-kernels: for a stride-1
// convolution that keeps the size, each image is one run of rows (its
// border pixels are computed too and cleared afterwards); otherwise each
// output row is.
func (w *fastWorker) conv(st *fastStep, n int) {
	in, out := w.slots[st.in[0]], w.slots[st.out]
	og := st.outG
	var res []float32
	if st.res >= 0 {
		res = w.slots[st.res]
	}
	pack, bias := w.pp.packs[st.pack], w.pp.biases[st.pack]
	// Each way of running sets the strides, taps and channels it uses.
	args := &w.args
	*args = kernelArgs{}
	if st.relu {
		args.relu = 1
	}
	switch {
	case st.wino:
		w.winograd(st, n, in, out, res, pack, bias)
	case st.across:
		w.convAcross(st, n, in, out, res, pack, bias)
	default:
		convImages(w.p.ks, args, st, n, in, out, res, pack, bias)
	}
	zeroPads(out, og, n)
}

// convImages runs convolution step st (neither Winograd nor across
// samples) on n samples of in, writing out: a whole image a kernel run
// for a stride-1 convolution that keeps the size, else an output row. It
// sets args' strides and tap offsets; its relu and accum are the caller's.
func convImages(ks *kernelSet, args *kernelArgs, st *fastStep, n int, in, out, res, pack, bias []float32) {
	ig, og, o := st.inG[0], st.outG, &st.op
	args.aStride, args.cStride = int64(4*o.Stride*ig.cp), int64(4*og.cp)
	args.setOffs(st.offs)
	args.bias, args.res = nil, nil
	call := func(a, c, rows int) {
		for _, b := range st.blocks {
			args.a = ptr(in, a+b.cin)
			args.k = int64(b.k)
			args.b = ptr(pack, b.bOff)
			args.c = ptr(out, c+16*b.vOff)
			if bias != nil {
				args.bias = ptr(bias, 16*b.vOff)
			}
			if res != nil {
				args.res = ptr(res, c+16*b.vOff)
			}
			runRows(ks, args, rows, b.v)
		}
	}
	for s := range n {
		if st.same {
			call(ig.at(s, 0, 0), og.at(s, 0, 0), (og.h-1)*(og.w+og.b)+og.w)
			continue
		}
		for y := range og.h {
			call(ig.at(s, y*o.Stride, 0), og.at(s, y, 0), og.w)
		}
	}
}

// convAcross runs a convolution on a small map one output pixel at a
// time, every sample of the pass in one kernel call (rows an image apart),
// and only over the taps whose input pixels are inside the image: on a 1x1
// map a 3x3 convolution's centre tap alone, and its weights alone read.
// Each row of valid taps is a run of consecutive taps, and so of packed
// weights; the runs after the first add to the output, and the last
// applies the bias, the residual and the ReLU.
func (w *fastWorker) convAcross(st *fastStep, n int, in, out, res, pack, bias []float32) {
	ig, og := st.inG[0], st.outG
	o := &st.op
	k := o.Kernel
	args := &w.args
	args.aStride, args.cStride = int64(4*ig.imageStride()), int64(4*og.imageStride())
	relu := args.relu
	for y := range og.h {
		ky0, ky1 := windowTaps(y, k, o.Stride, o.Pad, ig.h)
		for x := range og.w {
			kx0, kx1 := windowTaps(x, k, o.Stride, o.Pad, ig.w)
			a, c := ig.at(0, y*o.Stride, x*o.Stride), og.at(0, y, x)
			for ky := ky0; ky < ky1; ky++ {
				t0, t1 := ky*k+kx0, ky*k+kx1
				last := ky == ky1-1
				args.setOffs(st.offs[t0:t1])
				args.accum, args.relu = 0, 0
				if ky > ky0 {
					args.accum = 1
				}
				if last {
					args.relu = relu
				}
				for _, b := range st.blocks {
					args.a = ptr(in, a+b.cin)
					args.k = int64(b.k)
					args.b = ptr(pack, b.bOff+t0*b.k*16*b.v)
					args.c = ptr(out, c+16*b.vOff)
					args.bias, args.res = nil, nil
					if last && bias != nil {
						args.bias = ptr(bias, 16*b.vOff)
					}
					if last && res != nil {
						args.res = ptr(res, c+16*b.vOff)
					}
					runRows(w.p.ks, args, n, b.v)
				}
			}
		}
	}
	args.accum = 0
}

// winograd runs a 3x3 convolution as Winograd F(4x4, 3x3), a chunk of
// tiles at a time: the input transform into V, 36 products with the
// transformed weights into M (one batched kernel call per block of tiles),
// and the output transform with the epilogue into the output pixels.
func (w *fastWorker) winograd(st *fastStep, n int, in, out, res, pack, bias []float32) {
	ig, og := st.inG[0], st.outG
	ks := w.p.ks
	tiles := len(st.tileIn) / w.p.sub * n
	wg := &w.wg
	args := &w.args
	chunks := (tiles + st.chunk - 1) / st.chunk
	for c, t0 := 0, 0; c < chunks; c++ {
		nt := tiles / chunks // chunks as equal as can be: a small last one would re-read all the weights
		if c < tiles%chunks {
			nt++
		}
		t0 += nt
		*wg = wgArgs{src: ptr(in, 0), dst: ptr(w.wgV, 0), groups: int64(ig.cp / ks.lanes),
			rowStride: int64(4 * ig.rowStride()), pixStride: int64(4 * ig.cp), tileStride: int64(4 * 36 * ig.cp)}
		wg.setOffs(st.tileIn[t0-nt : t0])
		ks.wgInput(wg)
		*args = kernelArgs{k: int64(ig.c), aStride: int64(4 * 36 * ig.cp), cStride: int64(4 * 36 * og.cp),
			batch: 36, aBatch: int64(4 * ig.cp), cBatch: int64(4 * og.cp)}
		args.setOffs(st.offs)
		for _, b := range st.blocks {
			args.a = ptr(w.wgV, 0)
			args.b = ptr(pack, b.bOff)
			args.c = ptr(w.wgM, 16*b.vOff)
			runRows(w.p.ks, args, nt, b.v)
		}
		*wg = wgArgs{src: ptr(w.wgM, 0), dst: ptr(out, 0), groups: int64(og.cp / ks.lanes),
			rowStride: int64(4 * og.rowStride()), pixStride: int64(4 * og.cp), tileStride: int64(4 * 36 * og.cp),
			bias: ptr(bias, 0)}
		r := 0
		if res != nil {
			wg.res = ptr(res, 0)
			r = 1
		}
		relu := 0
		if st.relu {
			relu = 1
		}
		wg.setOffs(st.tileOut[t0-nt : t0])
		ks.wgOutputs[r][relu](wg)
	}
}

// linear runs a Linear layer as one kernel call per block of samples.
func (w *fastWorker) linear(st *fastStep, n int) {
	in, out := w.slots[st.in[0]], w.slots[st.out]
	ig, og := st.inG[0], st.outG
	a, stride := in, ig.cp
	if !ig.flat { // gather each sample's valid pixels
		f := ig.c * ig.h * ig.w
		a, stride = w.feat, f
		for s := range n {
			k := s * f
			for y := range ig.h {
				for x := range ig.w {
					copy(a[k:k+ig.c], in[ig.at(s, y, x):])
					k += ig.c
				}
			}
		}
	}
	args := &w.args
	*args = kernelArgs{k: int64(st.inG[0].c * st.inG[0].h * st.inG[0].w), aStride: int64(4 * stride), cStride: int64(4 * og.cp)}
	if st.relu {
		args.relu = 1
	}
	args.setOffs(st.offs)
	var res []float32
	if st.res >= 0 {
		res = w.slots[st.res]
	}
	for _, b := range st.blocks {
		args.a = ptr(a, 0)
		args.b = ptr(w.pp.packs[st.pack], b.bOff)
		args.c = ptr(out, 16*b.vOff)
		args.bias = ptr(w.pp.biases[st.pack], 16*b.vOff)
		if res != nil {
			args.res = ptr(res, 16*b.vOff)
		}
		runRows(w.p.ks, args, n, b.v)
	}
}

// pool runs a max or average pool over the valid pixels of each window.
func (w *fastWorker) pool(st *fastStep, n int) {
	in, out := w.slots[st.in[0]], w.slots[st.out]
	ig, og := st.inG[0], st.outG
	o := &st.op
	c := ig.c
	for s := range n {
		for oy := range og.h {
			y0, y1 := window(oy, o.Kernel, o.Stride, o.Pad, ig.h)
			for ox := range og.w {
				x0, x1 := window(ox, o.Kernel, o.Stride, o.Pad, ig.w)
				dst := out[og.at(s, oy, ox):][:c]
				if st.kind == fMaxPool {
					// The window's pixels as offsets from its first, in
					// bytes; whole units of 16 channels in vector registers.
					base, offs := ig.at(s, y0, x0), w.offs[:0]
					for y := y0; y < y1; y++ {
						for x := x0; x < x1; x++ {
							offs = append(offs, int64(4*(ig.at(s, y, x)-base)))
						}
					}
					w.offs = offs
					for ch := maxWindowUnits(dst, in, base, offs, c); ch < c; ch++ {
						m := float32(math.Inf(-1))
						for _, off := range offs {
							if v := in[base+int(off/4)+ch]; v > m || v != v { // NaN propagates, as in PyTorch
								m = v
							}
						}
						dst[ch] = m
					}
					continue
				}
				sum := w.sum[:c]
				clear(sum)
				for y := y0; y < y1; y++ {
					for x := x0; x < x1; x++ {
						for ch, v := range in[ig.at(s, y, x):][:c] {
							sum[ch] += v
						}
					}
				}
				inv := 1 / float32(o.Kernel*o.Kernel)
				for ch, v := range sum {
					dst[ch] = v * inv
				}
			}
		}
	}
	zeroPads(out, og, n)
}

// crossEntropyRows adds to loss the cross-entropy of each of n samples in
// order, the logits of sample s being logits[s·stride:][:classes], and
// returns it with the number of correct argmax predictions.
func crossEntropyRows(logits []float32, stride, classes, n int, y []int32, loss float64) (float64, int) {
	correct := 0
	for s := range n {
		row := logits[s*stride:][:classes]
		m := math.Inf(-1)
		best := 0
		for c, v32 := range row {
			v := float64(v32)
			if v > m || (v != v && m == m) {
				m, best = v, c
			}
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v) - m)
		}
		loss += m + math.Log(sum) - float64(row[y[s]])
		if best == int(y[s]) {
			correct++
		}
	}
	return loss, correct
}
