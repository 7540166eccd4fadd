package cpu

import "github.com/landscape-go/landscape/nets"

// The gradients of a strided convolution on the micro-kernels, by phases.
//
// A convolution of stride s reads input row s·i + ky − pad for output row
// i. Split the input's pixels by their rows and columns modulo s into s²
// phases: the pixels (s·i + ay, s·j + ax) of phase (ay, ax). A tap whose
// offset ky − pad is ay modulo s, ky − pad = s·dy + ay, reads phase row
// i + dy for output row i; so does every tap of that phase, each at its own
// dy. Then:
//
//   - the weights' gradient Σ x⋆gy of a tap is the product of its phase's
//     plane, shifted by (dy, dx), with gy: a stride-1 sum over gy's pixels,
//     run as weightGrad runs it for a stride-1 convolution (see
//     phasePlanes);
//   - the input gradient at the pixels of phase (ay, ax) sums, over the
//     taps of that phase, their weights times gy at output pixel
//     (i − dy, j − dx): a stride-1 product over gy's pixels with those few
//     taps, run on the kernels into the phase's own image, copied to
//     planes as any convolution's output is, then put in place (see
//     phaseGrad).
//
// Every product is made once, as in im2col's SGEMMs, but on the kernels and
// with no columns: each phase is a quarter of the input (for s = 2).

// planeTap says where the weights' gradient of one tap reads the input:
// the set of planes (the phase, ay·s + ax; 0 for a stride-1 convolution)
// and the offset in pixels of planeGeom(gyG) from gy's pixel.
type planeTap struct{ set, off int }

// phase is the input gradient of a strided convolution at the input pixels
// of one phase (see above).
type phase struct {
	ay, ax int
	taps   []int // the kernel's taps, ky·k + kx, that read this phase
	// st is the product, gy (in the layout gyG) to the phase's image of
	// input channels; nil where no tap reads the phase, whose gradient is
	// zero.
	st           *fastStep
	sums         []*fastStep // st's sums cut into chunks (see sumChunk)
	size         int         // floats of its packed weights
	packW, packV []float32   // W's and the direction's taps, packed for st
	gather       []float32   // the taps' weights, [input channel][output channel][tap]
}

// tapPhase returns the phase a and the shift d of tap k of a convolution
// of stride s and padding pad along one axis: its offset k − pad is
// s·d + a, with 0 ≤ a < s. For stride 1 the phase is 0 and the shift the
// offset.
func tapPhase(k, pad, s int) (a, d int) {
	off := k - pad
	d = off / s
	if off%s < 0 { // rounded down, not towards zero
		d--
	}
	return off - s*d, d
}

// planeTaps sets dc.wtaps, where the weights' gradient of convolution o
// reads each tap in planes of planeGeom(dc.gyG) (see planeTap), and
// dc.setsRead, the sets of planes (phases) some tap reads: one set for a
// stride-1 convolution, s² for stride s.
func (dc *directConv) planeTaps(o *nets.Op) {
	s := o.Stride
	pg := planeGeom(dc.gyG)
	dc.wtaps, dc.setsRead = dc.wtaps[:0], make([]bool, s*s)
	for ky := range o.Kernel {
		ay, dy := tapPhase(ky, o.Pad, s)
		for kx := range o.Kernel {
			ax, dx := tapPhase(kx, o.Pad, s)
			dc.wtaps = append(dc.wtaps, planeTap{set: ay*s + ax, off: pg.at(0, dy, dx) - pg.at(0, 0, 0)})
			dc.setsRead[ay*s+ax] = true
		}
	}
}

// planPhases plans the gradients of convolution o, of stride > 1 on inputs
// ci, by phases into dc: the layout of gy, where the weights' gradient
// reads each tap, and the input gradient's phases. It leaves dc alone
// where a tap would read a phase row past gy's last row (a kernel reaching
// more than a stride past its padding), which the im2col path then takes.
func planPhases(dc *directConv, o *nets.Op, ci [3]int, maxV int) {
	s, k, pad := o.Stride, o.Kernel, o.Pad
	if s < 2 || (k-1-pad) >= s {
		return
	}
	// The border gy needs: phase rows up to dy = -border above the first
	// output row, and gy rows read past its last by the phases' products.
	border := 0
	for a := range s {
		reach := 0 // the most rows past a phase pixel its taps read in gy
		for kk := range k {
			if at, d := tapPhase(kk, pad, s); at == a {
				border, reach = max(border, -d), max(reach, -d)
			}
		}
		rows, cols := (ci[1]-a+s-1)/s, (ci[2]-a+s-1)/s // the phase's rows (and columns, for ax = a)
		border = max(border, rows-1+reach-(o.H-1), cols-1+reach-(o.W-1))
	}
	dc.gyG = geom{c: o.C, h: o.H, w: o.W, cp: roundUp16(o.C), b: border}
	dc.planeTaps(o)
	for ay := range s {
		for ax := range s {
			p := &phase{ay: ay, ax: ax}
			h, w := (ci[1]-ay+s-1)/s, (ci[2]-ax+s-1)/s
			if h <= 0 || w <= 0 {
				continue // no input pixel is in this phase
			}
			var offs []int64
			for ky := range k {
				a, dy := tapPhase(ky, pad, s)
				for kx := range k {
					b, dx := tapPhase(kx, pad, s)
					if a == ay && b == ax {
						p.taps = append(p.taps, ky*k+kx)
						offs = append(offs, int64(4*(dc.gyG.at(0, -dy, -dx)-dc.gyG.at(0, 0, 0))))
					}
				}
			}
			if len(p.taps) > 0 {
				p.st = &fastStep{kind: fConv, res: -1, offs: offs,
					op:   nets.Op{Kind: nets.Conv, C: ci[0], H: h, W: w, Kernel: 1, Stride: 1},
					inG:  []geom{dc.gyG},
					outG: geom{c: ci[0], h: h, w: w, cp: roundUp16(ci[0])}}
				p.size = splitBlocks(p.st, len(p.taps), o.C, maxV)
				p.sums = chunkSums(p.st)
			} else {
				dc.phaseUnread = true
			}
			dc.phases = append(dc.phases, p)
		}
	}
}

// packPhases packs, for the current call, the weights W (and the
// direction's V; nil: none) of convolution o on inputs of cin channels
// for every phase's product: tap by tap, from gy's channels to the input's.
func (dc *directConv) packPhases(o *nets.Op, cin int, W, V []float32) {
	taps := o.Kernel * o.Kernel
	for _, p := range dc.phases {
		if p.st == nil {
			continue
		}
		pack := func(buf *[]float32, weight []float32) {
			if weight == nil {
				*buf = (*buf)[:0]
				return
			}
			nt := len(p.taps)
			if len(p.gather) != cin*o.C*nt {
				p.gather = make([]float32, cin*o.C*nt)
			}
			for c := range cin {
				for co := range o.C {
					for j, t := range p.taps {
						p.gather[(c*o.C+co)*nt+j] = weight[(co*cin+c)*taps+t]
					}
				}
			}
			if cap(*buf) < p.size {
				*buf = kernelBuffer(p.size)
			}
			*buf = (*buf)[:p.size]
			packConv(*buf, p.gather, nil, p.st.blocks, nil, nt, o.C, cin, cin)
		}
		pack(&p.packW, W)
		pack(&p.packV, V)
	}
}

// phasePlanes writes the sample x (g.c planes of g.h × g.w, the
// convolution's input) as the planes of the s² phases that some tap reads
// (read), set ay·s + ax after set, each g.c planes of planeGeom(gyG):
// pixel (i, j) of phase (ay, ax) is x's pixel (s·i + ay, s·j + ax), or
// zero past x's edge. It writes the planes' pixels only: their borders in
// dst must be zero.
func phasePlanes(dst, x []float32, g, gyG geom, s int, read []bool) {
	pg := planeGeom(gyG)
	n, hw := pg.size(1), g.h*g.w
	for ay := range s {
		for ax := range s {
			if !read[ay*s+ax] {
				continue
			}
			set := dst[(ay*s+ax)*g.c*n:][:g.c*n]
			cols := min(gyG.w, (g.w-ax+s-1)/s) // the phase's columns inside x
			for c := range g.c {
				plane, src := set[c*n:][:n], x[c*hw:][:hw]
				for i := range gyG.h {
					row := plane[pg.at(0, i, 0):][:gyG.w]
					y := s*i + ay
					if y >= g.h {
						clear(row)
						continue
					}
					line := src[y*g.w+ax:][:(cols-1)*s+1]
					for j := range cols {
						row[j] = line[j*s]
					}
					clear(row[cols:])
				}
			}
		}
	}
}

// phaseGrad writes the input gradient of the phases of dc, Wᵀ∗gy with gy
// in sc.a (and Wᵀ∗Rgy + Vᵀ∗gy with Rgy in sc.b, where rgx is not nil), to
// one sample's gx (and rgx), or adds it with add: each phase's product
// into the scratch's output, then to the phase's pixels. Where no tap
// reads some phase, a gradient to be set is cleared first.
func (sc *directScratch) phaseGrad(dc *directConv, gx, rgx []float32, add bool) {
	if !add && dc.phaseUnread {
		clear(gx)
		clear(rgx)
	}
	for _, p := range dc.phases {
		if p.st == nil {
			continue
		}
		sc.run(p.sums, sc.a, p.packW, nil, false)
		sc.putPhase(dc, p, gx, add)
		if rgx == nil {
			continue
		}
		sc.run(p.sums, sc.b, p.packW, nil, false)
		sc.run(p.sums, sc.a, p.packV, nil, true)
		sc.putPhase(dc, p, rgx, add)
	}
}

// putPhase writes phase p's image, in the scratch's output, to its pixels
// (s·i + ay, s·j + ax) of the sample x (g.c planes of g.h × g.w, g the
// convolution's input), or adds it there with add: by way of planes of the
// phase's own size, the layout copy of any convolution's output.
func (sc *directScratch) putPhase(dc *directConv, p *phase, x []float32, add bool) {
	s, pg, g := dc.fwd.op.Stride, p.st.outG, dc.fwd.inG[0]
	phw, hw := pg.h*pg.w, g.h*g.w
	img := sc.phase[:g.c*phw]
	fromChannelsLast(img, sc.out, pg, false)
	for c := range g.c {
		plane, src := x[c*hw:][:hw], img[c*phw:][:phw]
		for i := range pg.h {
			row := plane[(s*i+p.ay)*g.w+p.ax:][:(pg.w-1)*s+1]
			from := src[i*pg.w:][:pg.w]
			if add {
				for j, v := range from {
					row[j*s] += v
				}
				continue
			}
			for j, v := range from {
				row[j*s] = v
			}
		}
	}
}
