package optim

import "math"

// RAdamConfig holds the hyperparameters of [RAdam], named as
// torch.optim.RAdam names them.
type RAdamConfig struct {
	LR           float64 // default 1e-3
	Beta1, Beta2 float64 // default 0.9, 0.999
	Eps          float64 // default 1e-8
	WeightDecay  float64 // L2 penalty
}

// DefaultRAdam returns torch.optim.RAdam's defaults.
func DefaultRAdam() RAdamConfig { return RAdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8} }

// RAdam is torch.optim.RAdam, Adam with a rectified adaptive learning rate:
//
//	g = grad + weight_decay·p; m, v as Adam; m̂ = m/(1−beta1^t)
//	ρ∞ = 2/(1−beta2) − 1, ρ_t = ρ∞ − 2t·beta2^t/(1−beta2^t)
//	if ρ_t > 5: p = p − m̂·lr·√(1−beta2^t)/(√v + eps)·r_t, with
//	r_t = √((ρ_t−4)(ρ_t−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρ_t)); else p = p − m̂·lr
type RAdam struct {
	base
	c RAdamConfig
}

var _ Optimizer = (*RAdam)(nil)

// NewRAdam returns an RAdam optimizer over groups. If c is nil,
// [DefaultRAdam] is used.
func NewRAdam(groups []*Group, c *RAdamConfig) (*RAdam, error) {
	cfg := orDefault(c, DefaultRAdam())
	b, err := newAdamBase("radam", groups, cfg.LR, cfg.Beta1, cfg.Beta2, cfg.Eps, cfg.WeightDecay, "exp_avg", "exp_avg_sq")
	if err != nil {
		return nil, err
	}
	return &RAdam{base: b, c: cfg}, nil
}

// Step applies one RAdam update.
func (o *RAdam) Step() {
	c := o.c
	wd := float32(c.WeightDecay)
	mo := newMoments(c.Beta1, c.Beta2)
	eps := float32(c.Eps)
	for gi, g := range o.groups {
		lr := float32(g.LR)
		for pi, p := range g.Params {
			s := &o.state[gi][pi]
			o.init(s, len(p.Data), 0, "exp_avg", "exp_avg_sq")
			s.step++
			t := float64(s.step)
			b2t := pow(c.Beta2, t)
			bc1 := float32(1 - pow(c.Beta1, t))
			bc2 := 1 - b2t
			rhoInf := 2/(1-c.Beta2) - 1
			rhoT := rhoInf - 2*t*b2t/bc2
			rectified := rhoT > 5
			var rect, bc2sqrt float32
			if rectified {
				rect = float32(math.Sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT)))
				bc2sqrt = float32(math.Sqrt(bc2))
			}
			m, v := s.bufs["exp_avg"], s.bufs["exp_avg_sq"]
			for j, x := range p.Data {
				d := p.Grad[j]
				if c.WeightDecay != 0 {
					d = fma32(x, wd, d)
				}
				mo.update(&m[j], &v[j], d)
				u := float32(float32(m[j]/bc1) * lr) // bias_corrected_exp_avg * lr
				if rectified {
					// adaptive_lr = math.sqrt(bc2) / (√v + eps) is Tensor.__rdiv__:
					// reciprocal, then a multiplication.
					adaptive := float32(1/(sqrt32(v[j])+eps)) * bc2sqrt
					u = float32(float32(u*adaptive) * rect)
				}
				p.Data[j] = x - u // param.add_(update, alpha=-1.0)
			}
		}
	}
}
