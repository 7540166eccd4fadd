package optim

// RMSpropConfig holds the hyperparameters of [RMSprop], named as
// torch.optim.RMSprop names them.
type RMSpropConfig struct {
	LR          float64 // default 1e-2
	Alpha       float64 // smoothing constant, default 0.99
	Eps         float64 // default 1e-8
	WeightDecay float64 // L2 penalty
	Momentum    float64
	Centered    bool
}

// DefaultRMSprop returns torch.optim.RMSprop's defaults.
func DefaultRMSprop() RMSpropConfig { return RMSpropConfig{LR: 1e-2, Alpha: 0.99, Eps: 1e-8} }

// RMSprop is torch.optim.RMSprop:
//
//	g = grad + weight_decay·p
//	v = alpha·v + (1−alpha)·g²
//	if centered: m = alpha·m + (1−alpha)·g; avg = √(v − m²) + eps, else avg = √v + eps
//	if momentum > 0: buf = momentum·buf + g/avg; p = p − lr·buf, else p = p − lr·g/avg
type RMSprop struct {
	base
	c RMSpropConfig
}

var _ Optimizer = (*RMSprop)(nil)

// NewRMSprop returns an RMSprop optimizer over groups. If c is nil,
// [DefaultRMSprop] is used.
func NewRMSprop(groups []*Group, c *RMSpropConfig) (*RMSprop, error) {
	cfg := orDefault(c, DefaultRMSprop())
	if err := checkNonNeg("rmsprop", "lr", cfg.LR, "alpha", cfg.Alpha, "eps", cfg.Eps,
		"weight_decay", cfg.WeightDecay, "momentum", cfg.Momentum); err != nil {
		return nil, err
	}
	b, err := newBase("rmsprop", groups, cfg.LR, []string{"square_avg", "momentum_buffer", "grad_avg"})
	if err != nil {
		return nil, err
	}
	b.step = true
	return &RMSprop{base: b, c: cfg}, nil
}

// Step applies one RMSprop update.
func (o *RMSprop) Step() {
	wd := float32(o.c.WeightDecay)
	eps := float32(o.c.Eps)
	alpha := float32(o.c.Alpha)
	oneMinus := float32(1 - o.c.Alpha)
	mom := float32(o.c.Momentum)
	keys := []string{"square_avg"}
	if o.c.Momentum > 0 {
		keys = append(keys, "momentum_buffer")
	}
	if o.c.Centered {
		keys = append(keys, "grad_avg")
	}
	for gi, g := range o.groups {
		nlr := float32(-g.LR)
		for pi, p := range g.Params {
			s := &o.state[gi][pi]
			o.init(s, len(p.Data), 0, keys...)
			s.step++
			sq, buf, ga := s.bufs["square_avg"], s.bufs["momentum_buffer"], s.bufs["grad_avg"]
			for j, x := range p.Data {
				d := p.Grad[j]
				if o.c.WeightDecay != 0 {
					d = fma32(x, wd, d)
				}
				sq[j] = fma32(float32(oneMinus*d), d, float32(sq[j]*alpha)) // square_avg.mul_(alpha).addcmul_(grad, grad, value=1-alpha)
				var avg float32
				if o.c.Centered {
					ga[j] = fma32(d, oneMinus, float32(ga[j]*alpha)) // grad_avg.mul_(alpha).add_(grad, alpha=1-alpha)
					avg = sqrt32(fma32(-ga[j], ga[j], sq[j]))
				} else {
					avg = sqrt32(sq[j])
				}
				avg += eps
				if o.c.Momentum > 0 {
					buf[j] = float32(buf[j]*mom) + d/avg // buf.mul_(momentum).addcdiv_(grad, avg)
					p.Data[j] = fma32(buf[j], nlr, x)
				} else {
					p.Data[j] = x + (nlr*d)/avg
				}
			}
		}
	}
}
