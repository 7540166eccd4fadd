package cpu

import (
	"slices"
	"unsafe"

	"github.com/landscape-go/landscape/nets"
)

// The differentiator's convolutions run on the evaluator's micro-kernels
// where this machine has them: the forward product W∗x (and the tangent's
// W∗Rx + V∗x), and, where the input gradient is itself a convolution
// (stride 1, the output as large as the input), Wᵀ∗gy as the convolution
// of gy with the flipped weights and the weights' gradient Σ x⋆gy (see
// weightGrad). The tape keeps its values sample-major NCHW for every other
// op; a convolution copies each sample's input into the kernels'
// channels-last layout with its zero border (a few hundred kilobytes, in
// the core's cache), runs the kernels, and copies the output back. That
// replaces im2col's copies and OpenBLAS's packing of them, which were half
// of the time of a Hessian-vector product. Strided convolutions run their
// gradients on the kernels by phases (see diff_strided.go).

// directConv is the kernels' plan of one convolution and its weights
// packed for the current call.
type directConv struct {
	fwd *fastStep // x → y
	// bwd is gy → gx, the flipped convolution, nil where that is no
	// convolution; where it is, the weights' gradient runs on the kernels
	// too (see weightGrad).
	bwd *fastStep
	// fwdSums and bwdSums are their sums cut into chunks (see sumChunk).
	fwdSums, bwdSums []*fastStep
	// phases is the input gradient of a strided convolution, phase by
	// phase, where bwd is nil (see diff_strided.go).
	phases []*phase
	// gyG is the layout of the output gradient gy that the backward's
	// kernels read: bwd's input, or the phases'.
	gyG geom
	// wtaps says, tap by tap, where the weights' gradient reads the input,
	// in sets of planes of planeGeom(gyG), setsRead marking those some tap
	// reads: one set, or one per phase (see planeTaps); phaseUnread says
	// that some phase of the input no tap reads.
	wtaps       []planeTap
	setsRead    []bool
	phaseUnread bool
	// fwdSize and bwdSize are the floats of their packed weights.
	fwdSize, bwdSize int
	// The packed weights W and direction V of fwd, and the flipped ones of
	// bwd (empty where the call has no direction); the bias and the
	// direction's, padded to whole vectors (nil where there is none).
	packW, packV, packFW, packFV []float32
	bias, vbias                  []float32
	flip                         []float32 // the flipped weights or direction, before packing
}

// planDirect returns the kernels' plan of convolution o on inputs ci, or
// nil where the kernels do not run it (grouped and depthwise ones). Its
// gradients run on the kernels too where the input gradient is a
// convolution, or the convolution is strided and planPhases takes it.
func planDirect(ks *kernelSet, o *nets.Op, ci [3]int) *directConv {
	if ks == nil || o.Kind != nets.Conv || o.Group() > 1 {
		return nil
	}
	maxV := len(ks.gemm) - 1
	step := func(op nets.Op, in [3]int, cp int) (*fastStep, int) {
		st := &fastStep{kind: fConv, op: op, res: -1,
			inG:  []geom{{c: in[0], h: in[1], w: in[2], cp: cp, b: op.Pad}},
			outG: geom{c: op.C, h: op.H, w: op.W, cp: roundUp16(op.C), b: op.Pad}}
		return st, prepareGEMM(st, 1, false, maxV)
	}
	dc := &directConv{}
	dc.fwd, dc.fwdSize = step(*o, ci, ci[0])
	dc.fwdSums = chunkSums(dc.fwd)
	if transposable(o, ci) {
		t := *o
		t.C, t.H, t.W = ci[0], ci[1], ci[2]
		// gy's pixels as wide as the output's vectors: the weights'
		// gradient reads them as whole vectors of lanes.
		dc.bwd, dc.bwdSize = step(t, [3]int{o.C, o.H, o.W}, roundUp16(o.C))
		dc.bwdSums = chunkSums(dc.bwd)
		dc.gyG = dc.bwd.inG[0]
		dc.planeTaps(o)
		return dc
	}
	planPhases(dc, o, ci, maxV)
	return dc
}

// backward reports whether the gradients of dc's convolution run on the
// kernels.
func (dc *directConv) backward() bool { return dc.bwd != nil || dc.phases != nil }

// sumChunk bounds the products a kernel run adds up in one chain. A
// longer sum is cut into chunks of taps, or of the channels of one tap, or
// of pixels, each summed from zero and then added up, as OpenBLAS's
// blocking of the inner dimension does, but finer. Rounding matters at a
// ReLU, whose input within rounding of zero may land on either side, and
// in an adaptive optimizer, whose first step is lr·sign(g). Measured on
// resnet20's training gradient against float64 (rms relative error): one
// chain 8.5e-7 and chunks of 256 about the same, with one of 272,186
// entries of the wrong sign (which put AdaGrad's first step 4e-5 from
// PyTorch's) and vgg9's derivatives 2.7e-4 from float64 (a ReLU input of
// -3.1e-6 turned +4.8e-7); chunks of 64 4.1e-7 and no sign wrong, where
// the SGEMM engine has 6.7e-7. Each chunk's sums are added to the output
// by the kernels' epilogue, as a residual: the finer chunks cost about 2%.
const sumChunk = 64

// chunkSums returns the convolution step st cut into steps that each sum
// at most sumChunk products per output (st alone if it does): runs of
// whole taps, or a run of one tap's channels.
func chunkSums(st *fastStep) []*fastStep {
	taps, k := len(st.offs), st.blocks[0].k
	if taps*k <= sumChunk {
		return []*fastStep{st}
	}
	piece := func(t0, t1, k0, k1 int) *fastStep {
		p := *st
		p.offs = st.offs[t0:t1]
		p.blocks = slices.Clone(st.blocks)
		for i := range p.blocks {
			b := &p.blocks[i]
			b.bOff += (t0*k + k0) * 16 * b.v
			b.cin, b.k = k0, k1-k0
		}
		return &p
	}
	var out []*fastStep
	if k >= sumChunk {
		n := (k + sumChunk - 1) / sumChunk
		for t := range taps {
			for j := range n {
				out = append(out, piece(t, t+1, j*k/n, (j+1)*k/n))
			}
		}
		return out
	}
	n := (taps*k + sumChunk - 1) / sumChunk
	for j := range n {
		out = append(out, piece(j*taps/n, (j+1)*taps/n, 0, k))
	}
	return out
}

// transposable reports whether the input gradient of convolution o on
// inputs ci is a convolution of the same kernel and padding: for stride 1
// and padding (k−1)/2, output and input being as large.
func transposable(o *nets.Op, ci [3]int) bool {
	return o.Stride == 1 && o.Kernel == 2*o.Pad+1 && o.H == ci[1] && o.W == ci[2]
}

// pack packs the weights W and bias B (nil: none) of convolution o, on
// inputs of cin channels, and the direction's V and VB (nil: none), for
// the current call.
func (dc *directConv) pack(o *nets.Op, cin int, W, B, V, VB []float32) {
	taps := o.Kernel * o.Kernel
	packInto := func(buf *[]float32, st *fastStep, size int, weight []float32, cin, cout int) {
		if weight == nil { // none this call: the buffer is kept for the next
			*buf = (*buf)[:0]
			return
		}
		if cap(*buf) < size {
			*buf = kernelBuffer(size)
		}
		*buf = (*buf)[:size]
		packConv(*buf, weight, nil, st.blocks, nil, taps, cin, cout, cout)
	}
	packInto(&dc.packW, dc.fwd, dc.fwdSize, W, cin, o.C)
	packInto(&dc.packV, dc.fwd, dc.fwdSize, V, cin, o.C)
	if dc.bwd != nil {
		if len(dc.flip) != len(W) {
			dc.flip = make([]float32, len(W))
		}
		flip := dc.flip
		flipInto(flip, W, o, cin)
		packInto(&dc.packFW, dc.bwd, dc.bwdSize, flip, o.C, cin)
		var flipV []float32
		if V != nil {
			flipInto(flip, V, o, cin)
			flipV = flip
		}
		packInto(&dc.packFV, dc.bwd, dc.bwdSize, flipV, o.C, cin)
	}
	cp := dc.fwd.outG.cp
	padBias := func(buf *[]float32, b []float32) {
		if b == nil {
			*buf = nil
			return
		}
		if cap(*buf) < cp {
			*buf = kernelBuffer(cp)
		}
		*buf = (*buf)[:cp]
		clear((*buf)[copy(*buf, b):])
	}
	padBias(&dc.bias, B)
	padBias(&dc.vbias, VB)
	dc.packPhases(o, cin, W, V)
}

// directScratch is one part's buffers for the kernels, each one sample:
// the inputs of the convolution being run (x and Rx, or gy and Rgy) in the
// kernels' layout, or as planes (see planes); its output; and the kernels'
// arguments. There is a pair of inputs per layout, whose zero borders are
// made once and never written.
type directScratch struct {
	ks     *kernelSet
	inputs map[geom]*[2][]float32 // by layout
	planes map[geom]*[2][]float32 // by the layout they are planes of
	a, b   []float32              // the current inputs
	out    []float32
	blocks []float32 // gy's lanes gathered by block (see weightGrad)
	phase  []float32 // a phase's input gradient as planes (see putPhase)
	args   kernelArgs
}

// pair returns the pair of buffers of n floats kept in m for layout g,
// made zero the first time: not by kernelBuffer, which fills its buffers
// with NaNs when the tests guard them, for these borders are read as
// zeros.
func pair(m map[geom]*[2][]float32, g geom, n int) *[2][]float32 {
	p := m[g]
	if p == nil {
		p = &[2][]float32{make([]float32, n), make([]float32, n)}
		m[g] = p
	}
	return p
}

// use makes the pair of inputs of layout g the current ones, sc.a and sc.b.
func (sc *directScratch) use(g geom) {
	p := pair(sc.inputs, g, g.size(1))
	sc.a, sc.b = p[0], p[1]
}

// newDirectScratch returns scratch for the largest of the plans (nil
// where there are none) run on the kernels ks.
func newDirectScratch(ks *kernelSet, plans []*directConv) *directScratch {
	out, blocks, phase := 0, 0, 0
	for _, dc := range plans {
		if dc == nil {
			continue
		}
		for _, st := range []*fastStep{dc.fwd, dc.bwd} {
			if st != nil {
				out = max(out, st.outG.size(1))
			}
		}
		for _, p := range dc.phases {
			if p.st != nil {
				out = max(out, p.st.outG.size(1))
				phase = max(phase, p.st.outG.c*p.st.outG.h*p.st.outG.w)
			}
		}
		if dc.backward() {
			blocks = max(blocks, dc.gyG.size(1))
		}
	}
	if out == 0 {
		return nil
	}
	return &directScratch{ks: ks, inputs: map[geom]*[2][]float32{}, planes: map[geom]*[2][]float32{},
		out: kernelBuffer(out), blocks: kernelBuffer(blocks), phase: kernelBuffer(phase)}
}

// run computes the convolution whose sums are cut into the steps sums
// of the sample in (in their input layout) with the packed weights into
// the scratch's output, adding the bias (nil: none), and adding all that
// to the output where accum is set. Each chunk is summed from zero and
// then added to the output, as its residual (the kernels' epilogue adds
// it after the bias), but for the first where the output starts from
// zero.
func (sc *directScratch) run(sums []*fastStep, in, pack, bias []float32, accum bool) {
	sc.args.relu, sc.args.accum = 0, 0
	for i, st := range sums {
		var res, b []float32
		if accum || i > 0 {
			res = sc.out
		}
		if i == len(sums)-1 {
			b = bias
		}
		convImages(sc.ks, &sc.args, st, 1, in, sc.out, res, pack, b)
	}
}

// direct returns the kernels' plan of the convolution being run, nil
// where it runs as SGEMMs. It makes the tape's parts' scratch for the
// kernels the first time.
func (t *tape) direct(d *Differentiator) *directConv {
	dc := d.direct[t.cur-1]
	if dc == nil {
		return nil
	}
	for _, p := range t.parts {
		if p.direct == nil {
			p.direct = newDirectScratch(d.ks, d.direct)
		}
	}
	return dc
}

// directForward: y = W∗x + b; Ry = W∗Rx + V∗x + Vb, sample by sample.
func (t *tape) directForward(dc *directConv, x, y, rx, ry []float32, dataTangent bool) {
	ig, og := dc.fwd.inG[0], dc.fwd.outG
	inSz, outSz := ig.c*ig.h*ig.w, og.c*og.h*og.w
	t.eachPart(func(p *convPart, lo, hi int) {
		for s := lo; s < hi; s++ {
			p.direct.forward(dc, x[s*inSz:(s+1)*inSz], y[s*outSz:(s+1)*outSz],
				span32(rx, s*inSz, (s+1)*inSz), span32(ry, s*outSz, (s+1)*outSz), dataTangent)
		}
	})
}

// forward writes W∗x + b of one sample to y and, with ry, W∗Rx + V∗x + Vb
// to ry, leaving out the W∗Rx where the data's tangent is zero.
func (sc *directScratch) forward(dc *directConv, x, y, rx, ry []float32, dataTangent bool) {
	ig, og := dc.fwd.inG[0], dc.fwd.outG
	sc.use(ig)
	toChannelsLast(sc.a, x, ig)
	sc.run(dc.fwdSums, sc.a, dc.packW, dc.bias, false)
	fromChannelsLast(y, sc.out, og, false)
	if ry == nil {
		return
	}
	accum := false
	if dataTangent {
		toChannelsLast(sc.b, rx, ig)
		sc.run(dc.fwdSums, sc.b, dc.packW, nil, false)
		accum = true
	}
	sc.run(dc.fwdSums, sc.a, dc.packV, dc.vbias, accum)
	fromChannelsLast(ry, sc.out, og, false)
}

// gradsIn copies one sample's output gradient gy, and its tangent rgy
// (nil: none), to the kernels' layout, in sc.a and sc.b.
func (sc *directScratch) gradsIn(dc *directConv, gy, rgy []float32) {
	sc.use(dc.gyG)
	toChannelsLast(sc.a, gy, dc.gyG)
	if rgy != nil {
		toChannelsLast(sc.b, rgy, dc.gyG)
	}
}

// inputGrad adds Wᵀ∗gy of one sample to gx and, with rgx, Wᵀ∗Rgy +
// Vᵀ∗gy to rgx, or sets them with set: the flipped convolutions of gy and
// Rgy, which gradsIn has put in sc.a and sc.b, or for a strided
// convolution their phases'.
func (sc *directScratch) inputGrad(dc *directConv, gx, rgx []float32, set bool) {
	if dc.phases != nil {
		sc.phaseGrad(dc, gx, rgx, !set)
		return
	}
	st := dc.bwd
	sc.run(dc.bwdSums, sc.a, dc.packFW, nil, false)
	fromChannelsLast(gx, sc.out, st.outG, !set)
	if rgx == nil {
		return
	}
	sc.run(dc.bwdSums, sc.b, dc.packFW, nil, false)
	sc.run(dc.bwdSums, sc.a, dc.packFV, nil, true)
	fromChannelsLast(rgx, sc.out, st.outG, !set)
}

// planeGeom is the layout of one channel of a sample laid out as g: a
// plane of g.h × g.w values with g's zero border, each pixel at the
// place it has in g, counted in pixels.
func planeGeom(g geom) geom { return geom{c: 1, h: g.h, w: g.w, cp: 1, b: g.b} }

// xPlanes writes one sample's input x, and with rx its tangent, as the
// planes the weights' gradient of dc reads (see weightGrad): planes, or a
// strided convolution's phases' planes. It returns them (rxp nil where rx
// is).
func (sc *directScratch) xPlanes(dc *directConv, x, rx []float32) (xp, rxp []float32) {
	ig := dc.fwd.inG[0]
	key := planeGeom(dc.gyG)
	key.c = len(dc.setsRead) * ig.c
	p := pair(sc.planes, key, key.c*key.size(1))
	for i, src := range [][]float32{x, rx} {
		switch {
		case src == nil:
		case dc.phases == nil:
			planes(p[i], src, ig)
		default:
			phasePlanes(p[i], src, ig, dc.gyG, dc.fwd.op.Stride, dc.setsRead)
		}
	}
	if rx == nil {
		return p[0], nil
	}
	return p[0], p[1]
}

// planes writes the sample x (g.c planes of g.h × g.w) to dst as planes
// of planeGeom(g), one after the other: the rows of the weights'
// gradient, each read as a run of pixels. It writes the planes' pixels
// only: their borders in dst must be zero.
func planes(dst, x []float32, g geom) {
	pg := planeGeom(g)
	n, hw := pg.size(1), g.h*g.w
	for c := range g.c {
		plane := dst[c*n : (c+1)*n]
		for y := range g.h {
			copy(plane[pg.at(0, y, 0):][:g.w], x[c*hw+y*g.w:][:g.w])
		}
	}
}

// weightGrad adds to acc, the sums of a weight's gradient laid out
// [tap][input channel][output lane], the products of the input planes xp
// (see xPlanes) with the output gradient gy in the kernels' layout gyG:
// acc[t][c][o] += Σ_p x_t[c][p + shift(t)]·gy[p][o] over the sample's
// pixels p, x_t the set of planes tap t reads (see planeTap), one kernel
// run per tap and block of output lanes (the forward convolution's
// blocks) with a row per input channel, its sums cut into chunks of at
// most sumChunk pixels (border pixels, where gy is zero, included). Where
// there are several blocks, each block's lanes of gy are first gathered
// into a run of their own, pixel by pixel, as the kernels read them.
func (sc *directScratch) weightGrad(dc *directConv, xp, gy, acc []float32) {
	gg := dc.gyG
	pg := planeGeom(gg)
	first := pg.at(0, 0, 0)               // the first output pixel, in pixels
	pixels := (gg.h-1)*(gg.w+gg.b) + gg.w // from it to the last
	chunks := (pixels + sumChunk - 1) / sumChunk
	rows, lanes := dc.fwd.inG[0].c, gg.cp
	set := rows * pg.size(1) // a set of planes
	blocks := dc.fwd.blocks
	// at returns where block b's lanes of pixel p start in src.
	src, at := gy, func(b coBlock, p int) int { return p*lanes + 16*b.vOff }
	if len(blocks) > 1 {
		src = sc.blocks[:pixels*lanes]
		for _, b := range blocks {
			w, run := 16*b.v, src[pixels*16*b.vOff:][:pixels*16*b.v]
			for p := range pixels {
				copy(run[p*w:][:w], gy[(first+p)*lanes+16*b.vOff:][:w])
			}
		}
		at = func(b coBlock, p int) int { return pixels*16*b.vOff + (p-first)*16*b.v }
	}
	args := &sc.args
	*args = kernelArgs{aStride: int64(4 * pg.size(1)), cStride: int64(4 * lanes)}
	var off [1]int64
	for t, tap := range dc.wtaps {
		off[0] = int64(4 * tap.off)
		args.setOffs(off[:])
		planes := xp[tap.set*set:][:set]
		dst := acc[t*rows*lanes:][:rows*lanes]
		for j := range chunks {
			p0, p1 := first+j*pixels/chunks, first+(j+1)*pixels/chunks
			args.a, args.k = ptr(planes, p0), int64(p1-p0)
			for _, b := range blocks {
				// The chunk's sums, from zero, added to dst as a
				// residual.
				args.b = ptr(src, at(b, p0))
				args.c, args.res = ptr(dst, 16*b.vOff), ptr(dst, 16*b.vOff)
				runRows(sc.ks, args, rows, b.v)
			}
		}
	}
}

// directBackward: gW += Σ x⋆gy, gb += Σgy, gx += Wᵀ∗gy; and RgW +=
// Σ x⋆Rgy + Rx⋆gy, Rgb += ΣRgy, Rgx += Wᵀ∗Rgy + Vᵀ∗gy (gx and Rgx set
// with set): everything on the kernels but the bias sums, sample by
// sample, each part summing the weights' gradients laid out by tap (see
// weightGrad).
func (t *tape) directBackward(dc *directConv, GW, GB, RW, RB, x, rx, gy, rgy, gx, rgx []float32, dataTangent, set bool) {
	ig, og := dc.fwd.inG[0], dc.fwd.outG
	inSz, hw := ig.c*ig.h*ig.w, og.h*og.w
	outSz := og.c * hw
	taps := dc.fwd.op.Kernel * dc.fwd.op.Kernel
	sums := taps * ig.c * dc.gyG.cp // a weight's sums, by tap
	t.eachPart(func(p *convPart, lo, hi int) {
		sc := p.direct
		_, gb, _, rb := p.sums(nil, GB, nil, RB)
		var gw, rw []float32
		if len(GW) > 0 {
			gw = p.gw[:sums]
			clear(gw)
		}
		if len(RW) > 0 {
			rw = p.rw[:sums]
			clear(rw)
		}
		for s := lo; s < hi; s++ {
			gys, rgys := gy[s*outSz:(s+1)*outSz], span32(rgy, s*outSz, (s+1)*outSz)
			sc.gradsIn(dc, gys, rgys)
			var xp, rxp []float32
			if len(GW) > 0 || len(RW) > 0 {
				var rxs []float32
				if dataTangent && len(RW) > 0 {
					rxs = rx[s*inSz : (s+1)*inSz]
				}
				xp, rxp = sc.xPlanes(dc, x[s*inSz:(s+1)*inSz], rxs)
			}
			if len(GW) > 0 {
				sc.weightGrad(dc, xp, sc.a, gw)
				sumRows(gb, gys, hw)
			}
			if gx != nil {
				sc.inputGrad(dc, gx[s*inSz:(s+1)*inSz], span32(rgx, s*inSz, (s+1)*inSz), set)
			}
			if rgy == nil {
				continue
			}
			sc.weightGrad(dc, xp, sc.b, rw)
			if dataTangent {
				sc.weightGrad(dc, rxp, sc.a, rw)
			}
			sumRows(rb, rgys, hw)
		}
	})
	lanes := dc.gyG.cp
	for _, p := range t.parts {
		addByTap(GW, p.gw, taps, ig.c, lanes)
		addInto(GB, p.gb[:len(GB)])
		addByTap(RW, p.rw, taps, ig.c, lanes)
		addInto(RB, p.rb[:len(RB)])
	}
}

// addByTap adds to the weight w (C × cin × taps, nil: nothing) the sums s
// laid out [tap][cin][lanes].
func addByTap(w, s []float32, taps, cin, lanes int) {
	if len(w) == 0 {
		return
	}
	for co := range len(w) / (cin * taps) {
		for c := range cin {
			row := w[(co*cin+c)*taps:][:taps]
			for t := range row {
				row[t] += s[(t*cin+c)*lanes+co]
			}
		}
	}
}

// transposeBlock is the number of pixels the layout copies' loops move at
// a time: each channel's run of them is one cache line of the planes.
const transposeBlock = 16

// tiledPixels returns how many of the pixels of layout g, counted in the
// planes' order, the layout copies move as 16x16 tiles (16 pixels by 16
// channels, transposed in registers): every whole run of 16, whichever
// image rows it spans. None without AVX-512 or 16 channels.
func tiledPixels(g geom) int {
	if !hasTransposeTile || g.c < 16 {
		return 0
	}
	return (g.h * g.w) &^ 15
}

// tileRuns calls fn with each run of 16 pixels that tiledPixels covers:
// its first pixel p in the planes and its pixels' byte offsets in layout g.
func tileRuns(g geom, fn func(p int, offs *[16]int64)) {
	var offs [16]int64
	row, x := g.at(0, 0, 0), 0 // the next pixel: its row's offset, its column
	for p := 0; p < tiledPixels(g); p += 16 {
		for i := range offs {
			offs[i] = int64(4 * (row + x*g.cp))
			if x++; x == g.w {
				row, x = row+g.rowStride(), 0
			}
		}
		fn(p, &offs)
	}
}

// leftovers calls fn with each run of up to transposeBlock pixels of an
// image row of g, from pixel p of a plane and offset base in the layout,
// and the first of its channels that the tiles (see tileRuns) did not
// move.
func leftovers(g geom, fn func(base, p, n, c0 int)) {
	tp, ct := tiledPixels(g), g.c&^15
	for y := range g.h {
		for x0 := 0; x0 < g.w; x0 += transposeBlock {
			n := min(transposeBlock, g.w-x0)
			p := y*g.w + x0
			k := min(n, max(0, tp-p)) // the run's first k pixels were tiled
			if k > 0 && ct < g.c {
				fn(g.at(0, y, x0), p, k, ct)
			}
			if k < n {
				fn(g.at(0, y, x0+k), p+k, n-k, 0)
			}
		}
	}
}

// toChannelsLast writes the sample x (g.c planes of g.h × g.w) to dst in
// the kernels' layout g, one image. It writes the image's pixels' g.c
// channels only: the border and the lanes past g.c in dst must be zero.
func toChannelsLast(dst, x []float32, g geom) {
	dst = dst[:g.size(1)]
	hw, cp := g.h*g.w, g.cp
	ct := g.c &^ 15 // the channels of tiled pixels that tiles move
	tileRuns(g, func(p int, offs *[16]int64) {
		last := int(offs[15] / 4) // the offsets grow with the pixels
		for c := 0; c < ct; c += 16 {
			_, _ = dst[last+c+15], x[(c+15)*hw+p+15]
			transposeTileScatter(&dst[c], offs, &x[c*hw+p], 4*hw)
		}
	})
	leftovers(g, func(base, p, n, c0 int) {
		block := dst[base : base+(n-1)*cp+g.c]
		for c := c0; c < g.c; c++ {
			// block[i·cp + c] for i < n: in block, as its length says.
			to := unsafe.Pointer(&block[c])
			for i, v := range x[c*hw+p:][:n] {
				*(*float32)(unsafe.Add(to, 4*i*cp)) = v
			}
		}
	})
}

// fromChannelsLast writes to the sample y (g.c planes of g.h × g.w) the
// image src in the kernels' layout g, or adds it with add.
func fromChannelsLast(y, src []float32, g geom, add bool) {
	hw, cp := g.h*g.w, g.cp
	ct := g.c &^ 15
	tileRuns(g, func(p int, offs *[16]int64) {
		last := int(offs[15] / 4) // the offsets grow with the pixels
		for c := 0; c < ct; c += 16 {
			_, _ = src[last+c+15], y[(c+15)*hw+p+15]
			transposeTile(&y[c*hw+p], 4*hw, &src[c], offs, add)
		}
	})
	leftovers(g, func(base, p, n, c0 int) {
		block := src[base : base+(n-1)*cp+g.c]
		for c := c0; c < g.c; c++ {
			plane := y[c*hw+p:][:n]
			// block[i·cp + c] for i < n: in block, as its length says.
			from := unsafe.Pointer(&block[c])
			if add {
				for i := range plane {
					plane[i] += *(*float32)(unsafe.Add(from, 4*i*cp))
				}
				continue
			}
			for i := range plane {
				plane[i] = *(*float32)(unsafe.Add(from, 4*i*cp))
			}
		}
	})
}
