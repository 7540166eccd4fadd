package cpu

import (
	"slices"

	"github.com/landscape-go/landscape/backend/internal/slot"
	"github.com/landscape-go/landscape/nets"
)

// The fast engine stores values channels-last with a zero border of b
// pixels shared between neighbours, which lets a convolution read its taps
// as fixed offsets from the output pixel, with no im2col matrix:
//
//	lead | image 0: H rows of (W pixels + b zero pixels), b zero rows of W+b | image 1 ...
//
// Each pixel holds cp floats, the c channels and zeros up to a multiple of
// 16 for values a kernel writes. Pixel (s, y, x) is valid for -b ≤ y < H+b
// and -b ≤ x < W+b: the zero pixels ending row y-1 are the left border of
// row y, and the zero rows ending image s-1 (or the lead) are the top
// border of image s. b is the plan's largest convolution padding, 1 for
// most networks (3 where a 7x7 stem pads by 3, as torchvision's). Values
// of one pixel (pooled features, logits) are flat: [n][cp].
type geom struct {
	c, h, w, cp int
	b           int // the zero border, in pixels
	flat        bool
}

func (g geom) rowStride() int { return (g.w + g.b) * g.cp }

func (g geom) imageStride() int {
	if g.flat {
		return g.cp
	}
	return (g.h + g.b) * g.rowStride()
}

func (g geom) lead() int {
	if g.flat {
		return 0
	}
	return g.b * (g.rowStride() + g.cp)
}

// size is the number of floats a batch of n samples takes.
func (g geom) size(n int) int { return g.lead() + n*g.imageStride() }

// at is the offset of pixel (s, y, x).
func (g geom) at(s, y, x int) int { return g.lead() + s*g.imageStride() + y*g.rowStride() + x*g.cp }

func roundUp16(c int) int { return (c + 15) &^ 15 }

type fastKind int

const (
	fConv fastKind = iota
	fLinear
	fBN
	fReLU
	fAdd
	fMaxPool
	fAvgPool
	fGAP
	fConcat
	fDepthwise // a depthwise convolution, in Go
	fAct       // Clip, Sigmoid, HardSigmoid or HardSwish
	fMul
	fChannels // ChannelShuffle or Slice
)

// fastStep is one step of the fast engine. Conv and Linear steps run the
// micro-kernels with an epilogue that adds the bias and the folded batch
// norm's shift (its scale is folded into the weights), a residual (a fused
// Add) and a ReLU.
type fastStep struct {
	kind fastKind
	op   nets.Op
	bn   string // batch norm folded into a Conv or Linear, or applied by fBN
	relu bool
	// clamp is a ReLU or Clip ending a depthwise convolution, or nil.
	clamp *clamp
	// silu says that a Sigmoid step multiplies by its input: the Mul of
	// x·sigmoid(x) (nn.SiLU's export) fused into it.
	silu bool
	// src is, for a ChannelShuffle or Slice, the input channel of each
	// output channel.
	src  []int
	in   []int // slots
	inG  []geom
	res  int // slot of the residual added by a Conv or Linear, or -1
	out  int
	outG geom

	// Conv and Linear.
	same bool // stride-1 convolution keeping the size: rows run over whole images
	// across says that each kernel call takes one output pixel of every
	// sample of a pass (rows an image apart), not a run of pixels of one
	// image: on small maps it loads the weights fewer times. It reads only
	// the taps inside the image, those marked in used.
	across bool
	used   []bool
	offs   []int64   // tap offsets in bytes from the centre tap
	blocks []coBlock // output channels in kernel-sized blocks
	pack   int       // index of the step's packed weights in a worker

	// Winograd F(4x4, 3x3) convolutions.
	wino    bool
	tileIn  []int64 // per tile of a sub-batch, by sample, row, column: its input patch's corner, bytes
	tileOut []int64 // its first output pixel, bytes
	chunk   int     // tiles per pass through the transforms
}

// winogradOK reports whether a convolution from in runs as Winograd
// F(4x4, 3x3): 3x3, stride 1, padding 1, sizes that are multiples of 4.
func winogradOK(o nets.Op, in geom) bool {
	return o.Kind == nets.Conv && o.Group() == 1 && o.Kernel == 3 && o.Stride == 1 && o.Pad == 1 && !in.flat &&
		in.h%4 == 0 && in.w%4 == 0 && in.cp%16 == 0 && in.c >= 8
}

// coBlock is v vectors of 16 output channels from vector vOff, whose packed
// weights start at float bOff and which read k input values per tap from
// channel cin: all of them, or for a grouped convolution those of the
// groups the block's outputs belong to (their weights zero across groups).
type coBlock struct{ v, vOff, bOff, cin, k int }

// fastPlan is a forward pass compiled for the micro-kernels.
type fastPlan struct {
	ks       *kernelSet
	steps    []fastStep
	slotSize []int // floats, for a sub-batch
	sub      int   // samples per pass through the steps
	input    int   // slot and layout of the network input
	inputG   geom
	logits   int
	logitsG  geom
	packs    []int // floats of packed weights per Conv/Linear step
	classes  int
}

// fastSupported reports whether the fast engine can run op o.
func fastSupported(o nets.Op) bool {
	switch o.Kind {
	case nets.Conv:
		return o.Pad < o.Kernel && o.Kernel >= 1 && o.Stride >= 1
	case nets.BatchNorm, nets.ReLU, nets.Add, nets.MaxPool, nets.AvgPool, nets.GlobalAvgPool, nets.Linear, nets.Concat,
		nets.Clip, nets.Sigmoid, nets.HardSigmoid, nets.HardSwish, nets.Mul, nets.ChannelShuffle, nets.Slice:
		return true
	}
	return false
}

// compileFast compiles n for the micro-kernels ks with sub samples per pass,
// the 3x3 convolutions that allow it as Winograd F(4x4, 3x3) if wino, or
// returns nil if this machine has no kernels or n has an op they do not
// cover.
func compileFast(n *nets.Net, ks *kernelSet, sub int, wino bool) *fastPlan {
	if ks == nil {
		return nil
	}
	ops := n.Ops
	nv := len(ops) + 1
	cfg := n.Config
	channels := func(v int) int {
		if v == 0 {
			return cfg.InChannels
		}
		return ops[v-1].C
	}
	for _, o := range ops {
		if !fastSupported(o) {
			return nil
		}
	}
	border := 1
	for _, o := range ops {
		if o.Kind == nets.Conv {
			border = max(border, o.Pad)
		}
	}
	g := make([]geom, nv)
	g[0] = geom{c: cfg.InChannels, h: cfg.Height, w: cfg.Width, cp: cfg.InChannels}
	for i, o := range ops {
		in := g[o.In[0]]
		switch o.Kind {
		case nets.Conv:
			g[i+1] = geom{c: o.C, h: o.H, w: o.W, cp: roundUp16(o.C)}
		case nets.Linear:
			g[i+1] = geom{c: o.C, h: 1, w: 1, cp: roundUp16(o.C), flat: true}
		case nets.GlobalAvgPool:
			g[i+1] = geom{c: in.c, h: 1, w: 1, cp: in.cp, flat: true}
		case nets.Concat:
			g[i+1] = geom{c: o.C, h: o.H, w: o.W, cp: roundUp16(o.C)}
		case nets.Slice:
			g[i+1] = geom{c: o.C, h: o.H, w: o.W, cp: roundUp16(o.C), flat: in.flat}
		default: // BatchNorm, ReLU, Add, pools keep the channel layout
			g[i+1] = geom{c: in.c, h: o.H, w: o.W, cp: in.cp, flat: in.flat}
		}
	}
	for i := range g {
		g[i].b = border // one border for all: element-wise steps share offsets
	}
	readers, onlyReaderIs := soleReader(ops)

	// Fuse Conv/Linear + BN + ReLU, BN + ReLU and Add + ReLU.
	type fused struct {
		st         fastStep
		inV        []int
		resV       int
		result     int
		deleted    bool
		resultRead int // readers of the result
	}
	var fs []fused
	for i := 0; i < len(ops); i++ {
		o := ops[i]
		st := fastStep{op: o, res: -1}
		v := i + 1
		switch k := o.Kind; {
		case o.Depthwise(channels(o.In[0])):
			st.kind = fDepthwise
			if onlyReaderIs(v, i+1, nets.BatchNorm) {
				i++
				st.bn = ops[i].Name
				v = i + 1
			}
			if st.clamp = clampAfter(ops, v, onlyReaderIs); st.clamp != nil {
				i++
				v = i + 1
			}
		case k == nets.Conv, k == nets.Linear:
			st.kind = fConv
			if k == nets.Linear {
				st.kind = fLinear
			}
			if onlyReaderIs(v, i+1, nets.BatchNorm) {
				i++
				st.bn = ops[i].Name
				v = i + 1
			}
			if onlyReaderIs(v, i+1, nets.ReLU) {
				i++
				st.relu = true
				v = i + 1
			}
		case k == nets.BatchNorm, k == nets.Add:
			st.kind = fBN
			if k == nets.Add {
				st.kind = fAdd
			} else {
				st.bn = o.Name
			}
			if onlyReaderIs(v, i+1, nets.ReLU) {
				i++
				st.relu = true
				v = i + 1
			}
		case k == nets.ReLU:
			st.kind = fReLU
		case k == nets.MaxPool:
			st.kind = fMaxPool
		case k == nets.AvgPool:
			st.kind = fAvgPool
		case k == nets.GlobalAvgPool:
			st.kind = fGAP
		case k == nets.Concat:
			st.kind = fConcat
		case k == nets.Clip, k == nets.Sigmoid, k == nets.HardSigmoid, k == nets.HardSwish:
			st.kind = fAct
			if k == nets.Sigmoid && i+1 < len(ops) && readers[v] == 1 {
				if m := ops[i+1]; m.Kind == nets.Mul && g[m.In[0]] == g[m.In[1]] &&
					(slices.Equal(m.In, []int{o.In[0], v}) || slices.Equal(m.In, []int{v, o.In[0]})) {
					i++
					st.silu = true
					v = i + 1
				}
			}
		case k == nets.Mul:
			st.kind = fMul
		case k == nets.ChannelShuffle, k == nets.Slice:
			st.kind = fChannels
			for j := range o.C {
				st.src = append(st.src, sourceChannel(&o, j))
			}
		}
		fs = append(fs, fused{st: st, inV: o.In, resV: -1, result: v, resultRead: readers[v]})
	}

	// Fuse each Add into the later of its two producers when that is a
	// Conv or Linear step read by the Add alone: the other input becomes
	// the step's residual (a + b = b + a exactly).
	producer := make([]int, nv)
	for i := range producer {
		producer[i] = -1
	}
	for k, f := range fs {
		producer[f.result] = k
	}
	for k := range fs {
		a := &fs[k]
		if a.st.kind != fAdd || a.inV[0] == a.inV[1] {
			continue
		}
		p, q := a.inV[0], a.inV[1]
		if producer[p] < producer[q] {
			p, q = q, p
		}
		l := producer[p]
		if l < 0 {
			continue
		}
		f := &fs[l]
		if (f.st.kind != fConv && f.st.kind != fLinear) || f.resV >= 0 || f.st.relu || f.resultRead != 1 || g[q] != g[p] {
			continue
		}
		f.resV = q
		f.result = a.result
		f.resultRead = a.resultRead
		f.st.relu = a.st.relu
		producer[a.result] = l
		a.deleted = true
	}
	live := fs[:0]
	for _, f := range fs {
		if !f.deleted {
			live = append(live, f)
		}
	}
	fs = live

	// Buffers: a value's slot is reused once its last reader has run.
	size := make([]int, nv)
	for v := range size {
		size[v] = g[v].size(sub)
	}
	lastRead := make([]int, nv)
	for i := range lastRead {
		lastRead[i] = -1
	}
	for k, f := range fs {
		for _, v := range f.inV {
			lastRead[v] = k
		}
		if f.resV >= 0 {
			lastRead[f.resV] = k
		}
	}
	p := &fastPlan{ks: ks, sub: sub, classes: cfg.Classes}
	var slots slot.Allocator
	alloc := func(v int) int { return slots.Alloc(size[v]) }
	slotOf := make([]int, nv)
	slotOf[0] = alloc(0)
	p.input, p.inputG = slotOf[0], g[0]
	release := func(v, k int) {
		if lastRead[v] == k {
			slots.Release(slotOf[v])
		}
	}
	for k, f := range fs {
		st := f.st
		slotOf[f.result] = alloc(f.result)
		st.out, st.outG = slotOf[f.result], g[f.result]
		for _, v := range f.inV {
			st.in = append(st.in, slotOf[v])
			st.inG = append(st.inG, g[v])
		}
		if f.resV >= 0 {
			st.res = slotOf[f.resV]
		}
		switch st.kind {
		case fConv, fLinear:
			st.pack = len(p.packs)
			size := prepareGEMM(&st, sub, wino, len(ks.gemm)-1)
			if st.kind == fConv && !st.wino && acrossSamples(&st, sub, len(ks.gemm[st.blocks[0].v])-1) {
				// Blocks narrow enough for a kernel to take every sample
				// of a pass at once, where the kernel set has them.
				v := len(ks.gemm) - 1
				for v > 1 && len(ks.gemm[v])-1 < sub {
					v--
				}
				st.offs, st.blocks = nil, nil
				size = prepareGEMM(&st, sub, wino, v)
				st.across = true
				st.used = usedTaps(&st.op, st.inG[0])
			}
			p.packs = append(p.packs, size)
		case fDepthwise:
			st.pack = len(p.packs)
			p.packs = append(p.packs, prepareDepthwise(&st))
		}
		for _, v := range f.inV {
			release(v, k)
		}
		if f.resV >= 0 {
			release(f.resV, k)
		}
		p.steps = append(p.steps, st)
	}
	p.slotSize = slots.Size
	last := p.steps[len(p.steps)-1]
	p.logits, p.logitsG = last.out, last.outG
	if !p.logitsG.flat || p.logitsG.c != cfg.Classes {
		return nil // logits that are not one pixel: leave it to the SGEMM engine
	}
	return p
}

// prepareDepthwise sets a depthwise convolution's tap offsets, in bytes
// from the window's centre pixel (y·stride, x·stride), and returns the
// number of floats its packed weights take: cp per tap.
func prepareDepthwise(st *fastStep) int {
	o, in := &st.op, st.inG[0]
	for kh := range o.Kernel {
		for kw := range o.Kernel {
			st.offs = append(st.offs, int64(4*((kh-o.Pad)*in.rowStride()+(kw-o.Pad)*in.cp)))
		}
	}
	return len(st.offs) * st.outG.cp
}

// usedTaps marks the taps of convolution o from in that some output
// pixel's window has inside the image, as convAcross reads them: on a 1x1
// map with padding, the centre alone.
func usedTaps(o *nets.Op, in geom) []bool {
	k := o.Kernel
	used := make([]bool, k*k)
	for y := range o.H {
		ky0, ky1 := windowTaps(y, k, o.Stride, o.Pad, in.h)
		for x := range o.W {
			kx0, kx1 := windowTaps(x, k, o.Stride, o.Pad, in.w)
			for ky := ky0; ky < ky1; ky++ {
				for kx := kx0; kx < kx1; kx++ {
					used[ky*k+kx] = true
				}
			}
		}
	}
	return used
}

// acrossSamples reports whether convolution step st takes fewer kernel
// calls (each loading its weights) running an output pixel of every one of
// sub samples at a time than running rows of one image, kernels taking up
// to maxR rows.
func acrossSamples(st *fastStep, sub, maxR int) bool {
	og := st.outG
	calls := func(rows int) int { return (rows + maxR - 1) / maxR }
	byImage := sub * og.h * calls(og.w)
	if st.same {
		byImage = sub * calls((og.h-1)*(og.w+og.b)+og.w)
	}
	return og.h*og.w*calls(sub) < byImage
}

// prepareGEMM sets a Conv or Linear step's tap offsets and output blocks
// of at most maxV units of 16 channels, and returns the number of floats
// its packed weights take.
func prepareGEMM(st *fastStep, sub int, wino bool, maxV int) int {
	o := &st.op
	in := st.inG[0]
	taps, k := 1, in.c // a Linear's features: one tap of every valid value
	switch {
	case st.kind == fConv && wino && winogradOK(*o, in):
		st.wino = true
		taps = 36
		st.offs = []int64{0}
		out := st.outG
		for s := range sub {
			for ty := range in.h / 4 {
				for tx := range in.w / 4 {
					st.tileIn = append(st.tileIn, int64(4*in.at(s, 4*ty-1, 4*tx-1)))
					st.tileOut = append(st.tileOut, int64(4*out.at(s, 4*ty, 4*tx)))
				}
			}
		}
		// V and M of a chunk of tiles should stay in the core's cache.
		st.chunk = max(8, min(len(st.tileIn), wgChunkFloats/(36*(in.cp+out.cp))))
	case st.kind == fConv:
		taps = o.Kernel * o.Kernel
		st.same = o.Stride == 1 && o.H == in.h && o.W == in.w
		for kh := range o.Kernel {
			for kw := range o.Kernel {
				st.offs = append(st.offs, int64(4*((kh-o.Pad)*in.rowStride()+(kw-o.Pad)*in.cp)))
			}
		}
	default:
		k = in.c * in.h * in.w
		st.offs = []int64{0}
	}
	return splitBlocks(st, taps, k, maxV)
}

// splitBlocks cuts the output channels of a Conv or Linear step, whose
// products sum taps taps of k channels each, into blocks of at most maxV
// units of 16 channels, and returns the number of floats its packed
// weights take.
func splitBlocks(st *fastStep, taps, k, maxV int) int {
	o, in := &st.op, st.inG[0]
	g := o.Group()
	if g > 1 {
		// Blocks as wide as a group at most: a block reads the inputs of
		// every group it spans, multiplying most of them by zero.
		maxV = max(1, min(maxV, o.C/g/16))
	}
	vecs := st.outG.cp / 16
	nb := (vecs + maxV - 1) / maxV
	off, vOff := 0, 0
	for b := range nb {
		v := vecs / nb
		if b < vecs%nb {
			v++
		}
		blk := coBlock{v: v, vOff: vOff, bOff: off, k: k}
		if g > 1 {
			ci, co := in.c/g, o.C/g
			g0, g1 := 16*vOff/co, min(o.C, 16*(vOff+v))-1
			blk.cin, blk.k = g0*ci, (g1/co-g0+1)*ci
		}
		st.blocks = append(st.blocks, blk)
		off += taps * blk.k * 16 * v
		vOff += v
	}
	return off
}
