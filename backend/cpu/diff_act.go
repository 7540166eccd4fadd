package cpu

import "github.com/landscape-go/landscape/nets"

// The differentiator's element-wise functions and products. An activation
// y = f(x) has Ry = f'(x)·Rx, gx += f'(x)·gy and
// Rgx += f'(x)·Rgy + f''(x)·Rx·gy; its derivatives are PyTorch's (the
// masks of hardtanh_backward, hardsigmoid_backward and
// hardswish_backward, and the second derivatives their double backward
// uses).

// activationDerivs returns f'(x) and f”(x) for op o's function f at x,
// y being f(x).
func activationDerivs(o *nets.Op, x, y float32) (d1, d2 float32) {
	switch o.Kind {
	case nets.Clip:
		if o.Lo < x && x < o.Hi {
			return 1, 0
		}
		return 0, 0
	case nets.Sigmoid:
		d1 = (1 - y) * y
		return d1, d1 * (1 - 2*y)
	case nets.HardSigmoid:
		if -3 < x && x < 3 {
			return 1.0 / 6, 0
		}
		return 0, 0
	case nets.HardSwish:
		switch {
		case x < -3:
			return 0, 0
		case x <= 3:
			d1 = x/3 + 0.5
			if x > -3 && x < 3 {
				d2 = 1.0 / 3
			}
			return d1, d2
		}
		return 1, 0
	}
	panic("cpu: " + o.Kind.String() + " is not an activation")
}

// activationForward: y = f(x), and with a tangent Ry = f'(x)·Rx.
func activationForward(o *nets.Op, y, x, ry, rx []float32) {
	activate(y, x, o)
	if ry == nil {
		return
	}
	for j, a := range x {
		d1, _ := activationDerivs(o, a, y[j])
		ry[j] = d1 * rx[j]
	}
}

// activationBackward: gx += f'(x)·gy, and Rgx += f'(x)·Rgy + f”(x)·Rx·gy.
func activationBackward(o *nets.Op, gx, gy, x, y, rx, rgx, rgy []float32) {
	for j, a := range x {
		d1, d2 := activationDerivs(o, a, y[j])
		gx[j] += d1 * gy[j]
		if rgx != nil {
			rgx[j] += d1*rgy[j] + d2*rx[j]*gy[j]
		}
	}
}

// mulForward: y = a·b, b holding one value per run of each values of a;
// with tangents Ry = Ra·b + a·Rb. Planes [lo, hi) of b.
func mulForward(y, a, b, ry, ra, rb []float32, each, lo, hi int) {
	for p := lo; p < hi; p++ {
		bp := b[p]
		for i := p * each; i < (p+1)*each; i++ {
			y[i] = a[i] * bp
		}
		if ry != nil {
			rbp := rb[p]
			for i := p * each; i < (p+1)*each; i++ {
				ry[i] = ra[i]*bp + a[i]*rbp
			}
		}
	}
}

// mulBackward: ga += gy·b, gb += Σ gy·a over each run; and
// Rga += Rgy·b + gy·Rb, Rgb += Σ (Rgy·a + gy·Ra). ga or gb is nil for
// the network input. Planes [lo, hi) of b.
func mulBackward(ga, gb, gy, a, b, ra, rb, rga, rgb, rgy []float32, each, lo, hi int) {
	for p := lo; p < hi; p++ {
		run := p * each
		gys, as := gy[run:][:each], a[run:][:each]
		if ga != nil {
			bp := b[p]
			for i, g := range gys {
				ga[run+i] += g * bp
			}
			if rga != nil {
				rbp := rb[p]
				for i, g := range gys {
					rga[run+i] += rgy[run+i]*bp + g*rbp
				}
			}
		}
		if gb != nil {
			s := 0.0
			for i, g := range gys {
				s += float64(g) * float64(as[i])
			}
			gb[p] += float32(s)
			if rgb != nil {
				r := 0.0
				for i, g := range gys {
					r += float64(rgy[run+i])*float64(as[i]) + float64(g)*float64(ra[run+i])
				}
				rgb[p] += float32(r)
			}
		}
	}
}

// channelsForward sets y, n samples of a ChannelShuffle's or Slice's
// output, from x (ci: C, H, W of an input sample): each output plane is
// an input plane.
func channelsForward(o *nets.Op, ci [3]int, n int, y, x []float32) {
	hw := ci[1] * ci[2]
	for s := range n {
		for j := range o.C {
			copy(y[(s*o.C+j)*hw:][:hw], x[(s*ci[0]+sourceChannel(o, j))*hw:][:hw])
		}
	}
}

// channelsBackward adds each output plane's gradient gy to its input
// plane's gx.
func channelsBackward(o *nets.Op, ci [3]int, n int, gx, gy []float32) {
	hw := ci[1] * ci[2]
	for s := range n {
		for j := range o.C {
			addInto(gx[(s*ci[0]+sourceChannel(o, j))*hw:][:hw], gy[(s*o.C+j)*hw:][:hw])
		}
	}
}
