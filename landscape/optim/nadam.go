package optim

// NAdamConfig holds the hyperparameters of [NAdam], named as
// torch.optim.NAdam names them.
type NAdamConfig struct {
	LR            float64 // default 2e-3
	Beta1, Beta2  float64 // default 0.9, 0.999
	Eps           float64 // default 1e-8
	WeightDecay   float64 // L2 penalty
	MomentumDecay float64 // default 4e-3
	// FixMuProductNext computes Π·mu_{t+1} as torch ≥ 2.0 does
	// (pytorch/pytorch#92699): torch 1.13, the default here, multiplies by
	// mu_t a second time, Π·mu_t·mu_{t+1}.
	FixMuProductNext bool
}

// DefaultNAdam returns torch.optim.NAdam's defaults.
func DefaultNAdam() NAdamConfig {
	return NAdamConfig{LR: 2e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, MomentumDecay: 4e-3}
}

// NAdam is torch.optim.NAdam, Adam with Nesterov momentum:
//
//	g = grad + weight_decay·p
//	mu_t = beta1·(1 − 0.5·0.96^(t·momentum_decay)); Π = Π·mu_t
//	m, v as Adam; denom = √(v/(1−beta2^t)) + eps
//	p = p − lr·(1−mu_t)/(1−Π)·g/denom − lr·mu_{t+1}/(1−Π·mu_t·mu_{t+1})·m/denom
//
// Π (state "mu_product") is a float32, as PyTorch keeps it. The extra
// mu_t in the last term is torch 1.13's; see [NAdamConfig.FixMuProductNext].
type NAdam struct {
	base
	c NAdamConfig
}

var _ Optimizer = (*NAdam)(nil)

// NewNAdam returns an NAdam optimizer over groups. If c is nil,
// [DefaultNAdam] is used.
func NewNAdam(groups []*Group, c *NAdamConfig) (*NAdam, error) {
	cfg := orDefault(c, DefaultNAdam())
	if err := checkNonNeg("nadam", "momentum_decay", cfg.MomentumDecay); err != nil {
		return nil, err
	}
	b, err := newAdamBase("nadam", groups, cfg.LR, cfg.Beta1, cfg.Beta2, cfg.Eps, cfg.WeightDecay, "exp_avg", "exp_avg_sq")
	if err != nil {
		return nil, err
	}
	b.mu = true
	return &NAdam{base: b, c: cfg}, nil
}

// Step applies one NAdam update.
func (o *NAdam) Step() {
	c := o.c
	wd := float32(c.WeightDecay)
	mo := newMoments(c.Beta1, c.Beta2)
	eps := float32(c.Eps)
	for gi, g := range o.groups {
		for pi, p := range g.Params {
			s := &o.state[gi][pi]
			o.init(s, len(p.Data), 0, "exp_avg", "exp_avg_sq")
			s.step++
			t := float64(s.step)
			bc2 := float32(1 - pow(c.Beta2, t))
			mu := c.Beta1 * (1. - 0.5*pow(0.96, t*c.MomentumDecay))
			muNext := c.Beta1 * (1. - 0.5*pow(0.96, (t+1)*c.MomentumDecay))
			s.mu = s.mu * float32(mu) // mu_product *= mu (a float32 tensor)
			var muProdNext float64
			if c.FixMuProductNext {
				muProdNext = float64(s.mu) * muNext // _get_value(mu_product) * mu_next
			} else {
				muProdNext = float64(float32(s.mu*float32(mu)) * float32(muNext)) // mu_product * mu * mu_next
			}
			cg := float32(-g.LR * (1. - mu) / (1. - float64(s.mu)))
			cm := float32(-g.LR * muNext / (1. - muProdNext))
			m, v := s.bufs["exp_avg"], s.bufs["exp_avg_sq"]
			for j, x := range p.Data {
				d := p.Grad[j]
				if c.WeightDecay != 0 {
					d = fma32(x, wd, d)
				}
				mo.update(&m[j], &v[j], d)
				den := sqrt32(v[j]/bc2) + eps // exp_avg_sq.div(bias_correction2).sqrt().add_(eps)
				x += float32(cg*d) / den
				x += float32(cm*m[j]) / den
				p.Data[j] = x
			}
		}
	}
}
