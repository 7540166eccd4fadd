package optim

// AdagradConfig holds the hyperparameters of [Adagrad], named as
// torch.optim.Adagrad names them.
type AdagradConfig struct {
	LR                      float64 // default 1e-2
	LRDecay                 float64
	WeightDecay             float64 // L2 penalty
	InitialAccumulatorValue float64
	Eps                     float64 // default 1e-10
}

// DefaultAdagrad returns torch.optim.Adagrad's defaults.
func DefaultAdagrad() AdagradConfig { return AdagradConfig{LR: 1e-2, Eps: 1e-10} }

// Adagrad is torch.optim.Adagrad:
//
//	g = grad + weight_decay·p
//	clr = lr / (1 + (step−1)·lr_decay)
//	sum = sum + g·g
//	p = p − clr·g / (√sum + eps)
type Adagrad struct {
	base
	c AdagradConfig
}

var _ Optimizer = (*Adagrad)(nil)

// NewAdagrad returns an Adagrad optimizer over groups. If c is nil,
// [DefaultAdagrad] is used.
func NewAdagrad(groups []*Group, c *AdagradConfig) (*Adagrad, error) {
	cfg := orDefault(c, DefaultAdagrad())
	if err := checkNonNeg("adagrad", "lr", cfg.LR, "lr_decay", cfg.LRDecay, "weight_decay", cfg.WeightDecay,
		"initial_accumulator_value", cfg.InitialAccumulatorValue, "eps", cfg.Eps); err != nil {
		return nil, err
	}
	b, err := newBase("adagrad", groups, cfg.LR, []string{"sum"})
	if err != nil {
		return nil, err
	}
	b.step = true
	return &Adagrad{base: b, c: cfg}, nil
}

// Step applies one Adagrad update.
func (o *Adagrad) Step() {
	wd := float32(o.c.WeightDecay)
	eps := float32(o.c.Eps)
	for gi, g := range o.groups {
		for pi, p := range g.Params {
			s := &o.state[gi][pi]
			o.init(s, len(p.Data), float32(o.c.InitialAccumulatorValue), "sum")
			s.step++
			clr := g.LR / (1 + float64(float64(s.step-1)*o.c.LRDecay)) // no fused multiply-add, as in Python
			nclr := float32(-clr)
			sum := s.bufs["sum"]
			for j, x := range p.Data {
				d := p.Grad[j]
				if o.c.WeightDecay != 0 {
					d = fma32(x, wd, d)
				}
				sum[j] = fma32(d, d, sum[j]) // state_sum.addcmul_(grad, grad, value=1)
				std := sqrt32(sum[j]) + eps  // state_sum.sqrt().add_(eps)
				p.Data[j] = x + (nclr*d)/std // param.addcdiv_(grad, std, value=-clr)
			}
		}
	}
}
