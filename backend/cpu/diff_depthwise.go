package cpu

import "github.com/landscape-go/landscape/nets"

// The differentiator's depthwise convolutions (one input and one output
// channel per group: MobileNet's, EfficientNet's) run channel by channel
// with direct loops: as grouped convolutions they would be a product of a
// 1 x k² matrix per channel and sample, the GEMMs' worst shape.

// depthwiseForward: y = W∗x + b; Ry = V∗x + W∗Rx + Vb.
func (t *tape) depthwiseForward(d *Differentiator, o *nets.Op, ci [3]int, w, v, x, y, rx, ry []float32) {
	c, h, wd, k := ci[0], ci[1], ci[2], o.Kernel
	inSz, ohw := c*h*wd, o.H*o.W
	W, B := d.param(w, o.Name+".weight"), d.param(w, o.Name+".bias")
	VW, VB := d.param(v, o.Name+".weight"), d.param(v, o.Name+".bias")
	dataTangent := ry != nil && o.In[0] != 0 // the data's tangent is zero
	t.eachPart(func(p *convPart, lo, hi int) {
		tmp := p.cols[:c*ohw]
		for s := lo; s < hi; s++ {
			xs, ys := x[s*inSz:][:inSz], y[s*c*ohw:][:c*ohw]
			depthwise(ys, xs, W, c, h, wd, k, o.Stride, o.Pad, o.H, o.W, 1)
			addBias(ys, B, ohw)
			if ry == nil {
				continue
			}
			rys := ry[s*c*ohw:][:c*ohw]
			depthwise(rys, xs, VW, c, h, wd, k, o.Stride, o.Pad, o.H, o.W, 1)
			if dataTangent {
				depthwise(tmp, rx[s*inSz:][:inSz], W, c, h, wd, k, o.Stride, o.Pad, o.H, o.W, 1)
				addInto(rys, tmp)
			}
			addBias(rys, VB, ohw)
		}
	})
}

// depthwiseBackward: gW += gy ⋆ x, gb += Σgy, gx += Wᵀ∗gy; and
// RgW += Rgy ⋆ x + gy ⋆ Rx, Rgb += ΣRgy, Rgx += Wᵀ∗Rgy + Vᵀ∗gy, ⋆ the
// correlation of each channel's output gradient with its input; with set,
// gx and Rgx are set.
func (t *tape) depthwiseBackward(d *Differentiator, o *nets.Op, ci [3]int, w, v, g, r, x, rx, gy, rgy, gx, rgx []float32, set bool) {
	c, h, wd := ci[0], ci[1], ci[2]
	inSz, outSz, ohw := c*h*wd, c*o.H*o.W, o.H*o.W
	W, VW := d.param(w, o.Name+".weight"), d.param(v, o.Name+".weight")
	GW, GB := d.param(g, o.Name+".weight"), d.param(g, o.Name+".bias")
	RW, RB := d.param(r, o.Name+".weight"), d.param(r, o.Name+".bias")
	dataTangent := rgy != nil && o.In[0] != 0
	t.eachPart(func(p *convPart, lo, hi int) {
		gw, gb, rw, rb := p.sums(GW, GB, RW, RB)
		for s := lo; s < hi; s++ {
			xs, gys := x[s*inSz:][:inSz], gy[s*outSz:][:outSz]
			if GW != nil { // nil when only H·v is wanted
				depthwiseFilterGrad(gw, gys, xs, o, ci)
				sumRows(gb, gys, ohw)
			}
			if gx != nil {
				if set {
					clear(gx[s*inSz:][:inSz])
				}
				depthwiseInputGrad(gx[s*inSz:][:inSz], gys, W, o, ci)
			}
			if rgy == nil {
				continue
			}
			rgys := rgy[s*outSz:][:outSz]
			depthwiseFilterGrad(rw, rgys, xs, o, ci)
			if dataTangent {
				depthwiseFilterGrad(rw, gys, rx[s*inSz:][:inSz], o, ci)
			}
			sumRows(rb, rgys, ohw)
			if rgx != nil {
				if set {
					clear(rgx[s*inSz:][:inSz])
				}
				depthwiseInputGrad(rgx[s*inSz:][:inSz], rgys, W, o, ci)
				depthwiseInputGrad(rgx[s*inSz:][:inSz], gys, VW, o, ci)
			}
		}
	})
	t.addParts(GW, GB, RW, RB)
}

// depthwiseFilterGrad adds to gw[c][ky][kx] the sum over one sample's
// output pixels of gy[c] times the input pixel under that tap.
func depthwiseFilterGrad(gw, gy, x []float32, o *nets.Op, ci [3]int) {
	h, w, k, st, pad := ci[1], ci[2], o.Kernel, o.Stride, o.Pad
	for c := range ci[0] {
		plane, g := x[c*h*w:][:h*w], gy[c*o.H*o.W:][:o.H*o.W]
		for ky := range k {
			for kx := range k {
				lo, hi := inside(o.W, w, st, pad-kx)
				var s float32
				for oy := range o.H {
					iy := oy*st - pad + ky
					if iy < 0 || iy >= h {
						continue
					}
					row, grow := plane[iy*w:][:w], g[oy*o.W:][:o.W]
					for ox := lo; ox < hi; ox++ {
						s += grow[ox] * row[ox*st-pad+kx]
					}
				}
				gw[(c*k+ky)*k+kx] += s
			}
		}
	}
}

// depthwiseInputGrad adds Wᵀ∗gy, one sample's input gradient, to gx.
func depthwiseInputGrad(gx, gy, W []float32, o *nets.Op, ci [3]int) {
	h, w, k, st, pad := ci[1], ci[2], o.Kernel, o.Stride, o.Pad
	for c := range ci[0] {
		plane, g := gx[c*h*w:][:h*w], gy[c*o.H*o.W:][:o.H*o.W]
		for ky := range k {
			for kx := range k {
				f := W[(c*k+ky)*k+kx]
				lo, hi := inside(o.W, w, st, pad-kx)
				for oy := range o.H {
					iy := oy*st - pad + ky
					if iy < 0 || iy >= h {
						continue
					}
					row, grow := plane[iy*w:][:w], g[oy*o.W:][:o.W]
					for ox := lo; ox < hi; ox++ {
						row[ox*st-pad+kx] += f * grow[ox]
					}
				}
			}
		}
	}
}
