package optim

import "fmt"

// SGDConfig holds the hyperparameters of [SGD], named as torch.optim.SGD
// names them. Zero values are PyTorch's defaults, except LR, which PyTorch
// requires: set it here or on every group.
type SGDConfig struct {
	LR          float64
	Momentum    float64
	Dampening   float64
	WeightDecay float64 // L2 penalty added to the gradient
	Nesterov    bool
}

// SGD is stochastic gradient descent with optional momentum, dampening,
// Nesterov momentum and L2 weight decay, as torch.optim.SGD:
//
//	g = grad + weight_decay·p
//	buf = g on the first step, else momentum·buf + (1−dampening)·g
//	g = g + momentum·buf if nesterov, else buf
//	p = p − lr·g
type SGD struct {
	base
	c SGDConfig
}

var _ Optimizer = (*SGD)(nil)

// NewSGD returns an SGD optimizer over groups. If c is nil the groups must
// all have a learning rate.
func NewSGD(groups []*Group, c *SGDConfig) (*SGD, error) {
	cfg := orDefault(c, SGDConfig{})
	if err := checkNonNeg("sgd", "lr", cfg.LR, "momentum", cfg.Momentum, "weight_decay", cfg.WeightDecay); err != nil {
		return nil, err
	}
	if cfg.Nesterov && (cfg.Momentum <= 0 || cfg.Dampening != 0) {
		return nil, fmt.Errorf("optim: sgd: nesterov momentum requires a momentum and zero dampening: %w", ErrConfig)
	}
	b, err := newBase("sgd", groups, cfg.LR, []string{"momentum_buffer"})
	if err != nil {
		return nil, err
	}
	for gi, g := range groups {
		if g.LR == 0 {
			return nil, fmt.Errorf("optim: sgd: group %d: no learning rate: %w", gi, ErrConfig)
		}
	}
	return &SGD{base: b, c: cfg}, nil
}

// Step applies one SGD update.
func (o *SGD) Step() {
	wd := float32(o.c.WeightDecay)
	mom := float32(o.c.Momentum)
	damp := float32(1 - o.c.Dampening)
	for gi, g := range o.groups {
		nlr := float32(-g.LR)
		for pi, p := range g.Params {
			var buf []float32
			first := false
			if o.c.Momentum != 0 {
				s := &o.state[gi][pi]
				if !s.started {
					s.started = true
					s.bufs = map[string][]float32{"momentum_buffer": make([]float32, len(p.Data))}
					first = true
				}
				buf = s.bufs["momentum_buffer"]
			}
			for j, x := range p.Data {
				d := p.Grad[j]
				if o.c.WeightDecay != 0 {
					d = fma32(x, wd, d) // d_p.add(param, alpha=weight_decay)
				}
				if buf != nil {
					if first {
						buf[j] = d
					} else {
						buf[j] = fma32(d, damp, float32(buf[j]*mom)) // buf.mul_(momentum).add_(d_p, alpha=1-dampening)
					}
					if o.c.Nesterov {
						d = fma32(buf[j], mom, d) // d_p.add(buf, alpha=momentum)
					} else {
						d = buf[j]
					}
				}
				p.Data[j] = fma32(d, nlr, x) // param.add_(d_p, alpha=-lr)
			}
		}
	}
}
