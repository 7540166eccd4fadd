package cpu

import (
	"sync"
	"sync/atomic"

	"github.com/landscape-go/landscape/backend"
)

// pointPack holds the weights of one grid point for the fast plan: each
// Conv and Linear step's weights θ + αu + βv packed for the kernels, with
// the batch norm that follows folded in, and the scale and shift of the
// batch norms. Workers at the same point share one, and the workers that
// want it while it is prepared pack its steps together.
type pointPack struct {
	e       *Evaluator
	coord   backend.Coord // the point, while preparing
	arenas  []*arena      // one per worker that may help prepare
	holds   int           // the point it holds or is being prepared for, -1 for none; guarded by packCache.mu
	users   int           // workers holding it; guarded by packCache.mu
	helpers int           // workers that have joined its preparation; guarded by packCache.mu
	ready   chan struct{} // closed once prepared
	tasks   []int         // the steps with weights to pack, by index
	next    atomic.Int32  // the next task to take
	done    atomic.Int32  // tasks finished
	packs   [][]float32   // per Conv/Linear step: weights [block][tap][k][16·v]
	biases  [][]float32   // per Conv/Linear step: cp floats, or nil
	scale   map[string][]float32
	shift   map[string][]float32
}

// arena holds the tensors a step is packed from, formed at the point.
type arena struct {
	buf  []float32
	used int       // floats in use
	tile []float32 // packWinograd's rows of one input channel
}

// packCache prepares each point's weights once, in the first worker that
// needs them, and reuses the buffers of points no worker holds.
type packCache struct {
	e     *Evaluator
	mu    sync.Mutex
	slots []*pointPack
	max   int
}

// newPackCache returns a cache for workers goroutines. Each holds one
// point at a time and gives it back before taking the next, so there is
// always one no worker holds.
func (e *Evaluator) newPackCache(workers int) *packCache {
	return &packCache{e: e, max: workers}
}

// acquire returns the weights of point i, prepared, for the caller to
// release when it moves on.
func (c *packCache) acquire(i int, coord backend.Coord) *pointPack {
	c.mu.Lock()
	var free *pointPack
	for _, pp := range c.slots {
		if pp.holds == i {
			pp.users++
			helper := -1
			if pp.helpers < len(pp.arenas) {
				helper = pp.helpers
				pp.helpers++
			}
			c.mu.Unlock()
			if helper >= 0 {
				pp.help(helper)
			}
			<-pp.ready
			return pp
		}
		if pp.users == 0 && (free == nil || pp.holds < free.holds) {
			free = pp
		}
	}
	if free == nil {
		if len(c.slots) >= c.max {
			panic("cpu: more points held than workers")
		}
		free = c.e.newPointPack(c.max)
		c.slots = append(c.slots, free)
	}
	free.holds, free.users, free.helpers = i, 1, 1
	free.begin(coord) // the batch norms, before any helper packs a step
	c.mu.Unlock()
	free.help(0) // others asking for point i help, then wait for ready
	<-free.ready
	return free
}

// release gives back a point taken with acquire.
func (c *packCache) release(pp *pointPack) {
	c.mu.Lock()
	pp.users--
	c.mu.Unlock()
}

// newPointPack returns buffers for a point's weights, prepared by up to
// workers goroutines (by one where a tensor is large: each needs an arena
// as large as the largest).
func (e *Evaluator) newPointPack(workers int) *pointPack {
	p := e.fast
	pp := &pointPack{e: e, holds: -1, scale: map[string][]float32{}, shift: map[string][]float32{}}
	pp.packs = make([][]float32, len(p.packs))
	pp.biases = make([][]float32, len(p.packs))
	for i, n := range p.packs {
		pp.packs[i] = kernelBuffer(n)
	}
	largest := 0 // floats of the largest tensors a step is packed from
	for i, st := range p.steps {
		if st.bn != "" {
			c := e.layout[st.bn+".weight"].n
			pp.scale[st.bn], pp.shift[st.bn] = make([]float32, c), make([]float32, c)
			largest = max(largest, 4*c)
		}
		if st.kind == fConv || st.kind == fLinear || st.kind == fDepthwise {
			largest = max(largest, e.layout[st.op.Name+".weight"].n+e.layout[st.op.Name+".bias"].n)
			pp.tasks = append(pp.tasks, i)
		}
		// The Winograd output transform always adds a bias, and so does
		// the depthwise convolution.
		if st.kind == fLinear || st.kind == fDepthwise || (st.kind == fConv && (st.bn != "" || st.op.Bias || st.wino)) {
			pp.biases[st.pack] = kernelBuffer(st.outG.cp)
		}
	}
	helpers := 1
	if largest <= 1<<22 { // 16 MB an arena
		helpers = max(1, workers)
	}
	for range helpers {
		pp.arenas = append(pp.arenas, &arena{buf: make([]float32, largest)})
	}
	return pp
}

// begin starts preparing the weights at point c: it folds the batch norms
// and opens the steps to pack to the helpers.
func (pp *pointPack) begin(c backend.Coord) {
	pp.coord = c
	pp.ready = make(chan struct{})
	pp.next.Store(0)
	pp.done.Store(0)
	ar := pp.arenas[0]
	for name := range pp.scale {
		ar.used = 0
		bnScaleShift(pp.scale[name], pp.shift[name], pp.param(ar, name+".weight"), pp.param(ar, name+".bias"),
			pp.param(ar, name+".running_mean"), pp.param(ar, name+".running_var"), pp.e.bnEps[name])
	}
	if len(pp.tasks) == 0 {
		close(pp.ready)
	}
}

// help packs steps of the point being prepared, in arena number slot,
// until none is left; whoever finishes the last closes ready.
func (pp *pointPack) help(slot int) {
	ar := pp.arenas[slot]
	steps := pp.e.fast.steps
	for {
		t := int(pp.next.Add(1) - 1)
		if t >= len(pp.tasks) {
			return
		}
		st := &steps[pp.tasks[t]]
		ar.used = 0
		if st.kind == fDepthwise {
			pp.packDepthwise(ar, st)
		} else {
			pp.pack(ar, st)
		}
		if int(pp.done.Add(1)) == len(pp.tasks) {
			close(pp.ready)
		}
	}
}

// param returns the named tensor at the point being prepared, formed in
// arena ar: θ + αu + βv.
func (pp *pointPack) param(ar *arena, name string) []float32 {
	s := pp.e.layout[name]
	dst := ar.buf[ar.used:][:s.n]
	ar.used += s.n
	pp.e.formTo(dst, s, pp.coord)
	return dst
}

// pack writes a Conv or Linear step's weights, times the folded batch
// norm's scale, in the kernels' order, and its bias (the conv's bias times
// the scale, plus the shift).
func (pp *pointPack) pack(ar *arena, st *fastStep) {
	o := &st.op
	in := st.inG[0]
	var scale, shift, bias []float32
	if st.bn != "" {
		scale, shift = pp.scale[st.bn], pp.shift[st.bn]
	}
	if o.Bias || st.kind == fLinear {
		bias = pp.param(ar, o.Name+".bias")
	}
	cout := st.outG.c
	dst := pp.packs[st.pack]
	if pre := pp.e.prepacked[st.pack]; pre != nil {
		pre.formTo(dst, scale, pp.coord)
		foldBias(pp.biases[st.pack], bias, scale, shift, cout)
		return
	}
	weight := pp.param(ar, o.Name+".weight")
	switch {
	case st.wino:
		pp.packWinograd(ar, st, weight, scale)
	case st.kind == fConv:
		packConv(dst, weight, scale, st.blocks, st.used, o.Kernel*o.Kernel, in.c/o.Group(), cout, cout/o.Group())
	default:
		packLinear(dst, weight, scale, st.blocks, in, cout)
	}
	foldBias(pp.biases[st.pack], bias, scale, shift, cout)
}

// packLinear writes a Linear layer's weights [cout][in.c·h·w], times scale
// (nil: 1), in the kernels' order: per block, [k][16·v lanes], the lanes
// past cout zero. A holds the features pixel by pixel (k = p·c + ch);
// PyTorch's view(N, -1) orders them channel by channel (ch·hw + p).
func packLinear(dst, weight, scale []float32, blocks []coBlock, in geom, cout int) {
	hw := in.h * in.w
	kn := in.c * hw
	for _, b := range blocks {
		lanes := 16 * b.v
		out := dst[b.bOff:][:kn*lanes]
		for l := range lanes {
			co := 16*b.vOff + l
			if co >= cout {
				for k := range kn {
					out[k*lanes+l] = 0
				}
				continue
			}
			for k := range kn {
				v := weight[co*kn+(k%in.c)*hw+k/in.c]
				if scale != nil {
					v *= scale[co]
				}
				out[k*lanes+l] = v
			}
		}
	}
}

// foldBias sets bv (nil: none wanted) to the bias of c output channels
// with the batch norm's scale and shift folded in: bias·scale + shift,
// bias nil meaning 0 and scale nil no batch norm.
func foldBias(bv, bias, scale, shift []float32, c int) {
	if bv == nil {
		return
	}
	clear(bv)
	for co := range c {
		var b float32
		if bias != nil {
			b = bias[co]
		}
		if scale != nil {
			b = b*scale[co] + shift[co]
		}
		bv[co] = b
	}
}

// packDepthwise writes a depthwise convolution's weights, times the
// folded batch norm's scale, tap by tap ([tap][cp], channels contiguous),
// and its bias (the conv's bias times the scale, plus the shift).
func (pp *pointPack) packDepthwise(ar *arena, st *fastStep) {
	o := &st.op
	weight := pp.param(ar, o.Name+".weight")
	var scale, shift, bias []float32
	if st.bn != "" {
		scale, shift = pp.scale[st.bn], pp.shift[st.bn]
	}
	if o.Bias {
		bias = pp.param(ar, o.Name+".bias")
	}
	c, cp, taps := st.outG.c, st.outG.cp, len(st.offs)
	dst := pp.packs[st.pack][:taps*cp]
	clear(dst)
	for ch := range c {
		for t := range taps {
			v := weight[ch*taps+t]
			if scale != nil {
				v *= scale[ch]
			}
			dst[t*cp+ch] = v
		}
	}
	foldBias(pp.biases[st.pack], bias, scale, shift, c)
}

// packConv writes a convolution's weights [cout][cin][taps] (cin per
// group, cout/coG groups), times scale (nil: 1), in the kernels' order:
// per block, [tap][k][16·v lanes] over the block's k input channels from
// b.cin, zero where a lane has no output channel or the input channel is
// of another group; only the taps marked in used (nil: all), the others
// never being read. It reads an input channel of a block's filters at a
// time, their taps in cache, and writes whole runs of lanes.
func packConv(dst, weight, scale []float32, blocks []coBlock, used []bool, taps, cin, cout, coG int) {
	for _, b := range blocks {
		lanes := 16 * b.v
		out := dst[b.bOff:][:taps*b.k*lanes]
		co0 := 16 * b.vOff
		live := max(0, min(lanes, cout-co0)) // lanes with an output channel
		for k := range b.k {
			c := b.cin + k // an input channel, of group c/cin
			cg := c % cin  // its index in its group
			for t := range taps {
				if used != nil && !used[t] {
					continue
				}
				row := out[(t*b.k+k)*lanes:][:lanes]
				for l := range live {
					co := co0 + l
					var v float32
					if coG == cout || co/coG == c/cin {
						v = weight[(co*cin+cg)*taps+t]
						if scale != nil {
							v *= scale[co]
						}
					}
					row[l] = v
				}
				clear(row[live:])
			}
		}
	}
}

// winogradFilter sets u to U = G g Gᵀ for the 3x3 filter g, G being
// Lavin and Gray's for F(4x4, 3x3):
//
//	G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
func winogradFilter(u *[36]float64, g []float32) {
	const sixth, twelfth, twentyfourth = 1.0 / 6, 1.0 / 12, 1.0 / 24
	var t [18]float64 // (G g)ᵀ: t[j*6+a]
	for j := range 3 {
		x0, x1, x2 := float64(g[j]), float64(g[3+j]), float64(g[6+j])
		s, p, q := x0+x2, x0*twentyfourth+x2*sixth, x1*twelfth
		t[j*6], t[j*6+1], t[j*6+2], t[j*6+3], t[j*6+4], t[j*6+5] = x0*0.25, -(s+x1)*sixth, -(s-x1)*sixth, p+q, p-q, x2
	}
	for a := range 6 {
		x0, x1, x2 := t[a], t[6+a], t[12+a]
		s, p, q := x0+x2, x0*twentyfourth+x2*sixth, x1*twelfth
		u[a*6], u[a*6+1], u[a*6+2], u[a*6+3], u[a*6+4], u[a*6+5] = x0*0.25, -(s+x1)*sixth, -(s-x1)*sixth, p+q, p-q, x2
	}
}

// packWinograd writes a 3x3 convolution's weights, times scale, as the 36
// planes U = G g Gᵀ (in float64, rounded once) of each filter g, in the
// kernels' order: [block][ξ][input channel][16·v].
func (pp *pointPack) packWinograd(ar *arena, st *fastStep, weight, scale []float32) {
	cin, cout := st.inG[0].c, st.outG.c
	dst := pp.packs[st.pack]
	for _, b := range st.blocks {
		lanes := 16 * b.v
		out := dst[b.bOff:][:36*cin*lanes]
		n := min(lanes, cout-16*b.vOff) // real output channels in the block
		if cap(ar.tile) < 36*lanes {
			ar.tile = make([]float32, 36*lanes)
		}
		tile := ar.tile[:36*lanes] // an input channel's 36 rows of the block's lanes
		clear(tile)                // the lanes past n stay zero
		var u [36]float64
		for ci := range cin {
			// The block's filters from input channel ci, transformed one
			// at a time into the tile, which then fills 36 runs of
			// consecutive lanes: rows written whole, not a float to each
			// of 36 rows far apart per filter.
			for l := range n {
				co := 16*b.vOff + l
				winogradFilter(&u, weight[(co*cin+ci)*9:][:9])
				s := 1.0
				if scale != nil {
					s = float64(scale[co])
				}
				for x, v := range u {
					tile[x*lanes+l] = float32(v * s)
				}
			}
			for x := range 36 {
				copy(out[(x*cin+ci)*lanes:][:lanes], tile[x*lanes:][:lanes])
			}
		}
	}
}

// prepacked is a convolution's weight, the centre's and the directions',
// in the kernels' order once and for all: rows of 16·v lanes, block by
// block, for each input channel the used taps (see [packConv]). A point's
// packing is then one pass over contiguous rows, θ + αu + βv formed lane
// by lane (by [form], as formTo forms it) and times the batch norm's scale,
// instead of forming the whole tensor and gathering it: a third as many
// bytes moved, a ninth for a 3x3 convolution over a 1x1 map. Where a grid
// is small against the model (resnet18 at 32x32: 11 million weights for
// a few hundred samples a point), packing is a third of the time.
type prepacked struct {
	center, u, v []float32 // u nil where no direction moves the weight, v nil in 1D
	rows         []packedRow
}

// packedRow is one row of prepacked weights: lanes floats from off in the
// prepacked arrays, going to at in the packed weights; its first live
// lanes are output channels co0 on, from input channel c and tap t.
type packedRow struct{ off, at, lanes, live, co0, c, t int }

// prepack returns st's weight prepacked, or nil where it is packed from
// the tensors at each point: for Winograd's filter transform, which does
// not commute with forming in floating point; for grouped convolutions,
// whose blocks hold zeros across groups that the scale must not touch; and
// for Linear layers, packed in another order (a classifier's few weights).
func (e *Evaluator) prepack(st *fastStep) *prepacked {
	o := &st.op
	if st.kind != fConv || st.wino || o.Group() != 1 {
		return nil
	}
	taps := o.Kernel * o.Kernel
	pre := &prepacked{}
	off := 0
	for _, b := range st.blocks {
		lanes := 16 * b.v
		co0 := 16 * b.vOff
		live := max(0, min(lanes, st.outG.c-co0))
		for k := range b.k {
			for t := range taps {
				if st.used != nil && !st.used[t] {
					continue
				}
				pre.rows = append(pre.rows, packedRow{off: off, at: b.bOff + (t*b.k+k)*lanes, lanes: lanes, live: live, co0: co0, c: b.cin + k, t: t})
				off += lanes
			}
		}
	}
	cin := st.inG[0].c
	gather := func(weight []float32) []float32 {
		if weight == nil {
			return nil
		}
		dst := make([]float32, off) // the lanes past cout stay zero
		for _, r := range pre.rows {
			row := dst[r.off:][:r.live]
			for l := range row {
				row[l] = weight[((r.co0+l)*cin+r.c)*taps+r.t]
			}
		}
		return dst
	}
	s := e.layout[o.Name+".weight"]
	pre.center, pre.u, pre.v = gather(s.center), gather(s.u), gather(s.v)
	return pre
}

// formTo writes the packed weights at point c, times scale (nil: 1), to
// dst, laid out as packConv lays them out.
func (pre *prepacked) formTo(dst, scale []float32, c backend.Coord) {
	a, b := float32(c.X), float32(c.Y)
	for _, r := range pre.rows {
		row := dst[r.at:][:r.lanes]
		lo, hi := r.off, r.off+r.live
		form(row[:r.live], pre.center[lo:hi], span32(pre.u, lo, hi), span32(pre.v, lo, hi), a, b)
		if scale != nil {
			for l, s := range scale[r.co0:][:r.live] {
				row[l] *= s
			}
		}
		clear(row[r.live:])
	}
}
