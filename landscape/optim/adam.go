package optim

import (
	"fmt"
	"math"
)

// AdamConfig holds the hyperparameters of [Adam] and [AdamW], named as
// torch.optim.Adam names them.
type AdamConfig struct {
	LR           float64 // default 1e-3
	Beta1, Beta2 float64 // default 0.9, 0.999
	Eps          float64 // default 1e-8
	// WeightDecay is an L2 penalty added to the gradient for Adam and a
	// decoupled decay p ← p·(1 − lr·weight_decay) for AdamW.
	WeightDecay float64
	AMSGrad     bool
}

// DefaultAdam returns torch.optim.Adam's defaults.
func DefaultAdam() AdamConfig { return AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8} }

// DefaultAdamW returns torch.optim.AdamW's defaults: Adam's, with weight
// decay 1e-2.
func DefaultAdamW() AdamConfig {
	c := DefaultAdam()
	c.WeightDecay = 1e-2
	return c
}

// Adam is torch.optim.Adam:
//
//	g = grad + weight_decay·p
//	m = beta1·m + (1−beta1)·g
//	v = beta2·v + (1−beta2)·g²
//	vmax = max(vmax, v) if amsgrad
//	p = p − lr/(1−beta1^t) · m / (√v / √(1−beta2^t) + eps)   (vmax for v with amsgrad)
type Adam struct {
	base
	c         AdamConfig
	decoupled bool
}

// AdamW is torch.optim.AdamW: [Adam] with the weight decay applied to the
// parameter, p ← p·(1 − lr·weight_decay), before the update instead of
// added to the gradient.
type AdamW struct{ Adam }

var (
	_ Optimizer = (*Adam)(nil)
	_ Optimizer = (*AdamW)(nil)
)

// NewAdam returns an Adam optimizer over groups. If c is nil,
// [DefaultAdam] is used.
func NewAdam(groups []*Group, c *AdamConfig) (*Adam, error) {
	cfg := orDefault(c, DefaultAdam())
	return newAdam("adam", groups, cfg, false)
}

// NewAdamW returns an AdamW optimizer over groups. If c is nil,
// [DefaultAdamW] is used.
func NewAdamW(groups []*Group, c *AdamConfig) (*AdamW, error) {
	cfg := orDefault(c, DefaultAdamW())
	a, err := newAdam("adamw", groups, cfg, true)
	if err != nil {
		return nil, err
	}
	return &AdamW{*a}, nil
}

func checkBetas(kind string, b1, b2 float64) error {
	if !(b1 >= 0 && b1 < 1) || !(b2 >= 0 && b2 < 1) {
		return fmt.Errorf("optim: %s: betas (%g, %g) must lie in [0, 1): %w", kind, b1, b2, ErrConfig)
	}
	return nil
}

func newAdam(kind string, groups []*Group, cfg AdamConfig, decoupled bool) (*Adam, error) {
	b, err := newAdamBase(kind, groups, cfg.LR, cfg.Beta1, cfg.Beta2, cfg.Eps, cfg.WeightDecay, "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
	if err != nil {
		return nil, err
	}
	return &Adam{base: b, c: cfg, decoupled: decoupled}, nil
}

// newAdamBase checks the hyperparameters Adam, NAdam and RAdam share and
// makes their state, which counts steps.
func newAdamBase(kind string, groups []*Group, lr, beta1, beta2, eps, wd float64, keys ...string) (base, error) {
	if err := checkNonNeg(kind, "lr", lr, "eps", eps, "weight_decay", wd); err != nil {
		return base{}, err
	}
	if err := checkBetas(kind, beta1, beta2); err != nil {
		return base{}, err
	}
	b, err := newBase(kind, groups, lr, keys)
	b.step = true
	return b, err
}

// moments updates Adam's moment estimates with its coefficients as the
// float32 scalars ATen converts them to.
type moments struct{ b1, b2, omb1, omb2 float32 }

func newMoments(beta1, beta2 float64) moments {
	return moments{float32(beta1), float32(beta2), float32(1 - beta1), float32(1 - beta2)}
}

// update does exp_avg.mul_(beta1).add_(grad, alpha=1-beta1) and
// exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1-beta2) for one element.
func (k moments) update(m, v *float32, d float32) {
	*m = fma32(d, k.omb1, float32(*m*k.b1))
	*v = fma32(float32(k.omb2*d), d, float32(*v*k.b2))
}

// Step applies one Adam (or AdamW) update.
func (o *Adam) Step() {
	c := o.c
	wd := float32(c.WeightDecay)
	mo := newMoments(c.Beta1, c.Beta2)
	eps := float32(c.Eps)
	keys := []string{"exp_avg", "exp_avg_sq"}
	if c.AMSGrad {
		keys = append(keys, "max_exp_avg_sq")
	}
	for gi, g := range o.groups {
		decay := float32(1 - g.LR*c.WeightDecay)
		for pi, p := range g.Params {
			s := &o.state[gi][pi]
			o.init(s, len(p.Data), 0, keys...)
			s.step++
			t := float64(s.step)
			bc1 := 1 - pow(c.Beta1, t)
			bc2 := 1 - pow(c.Beta2, t)
			nstep := float32(-(g.LR / bc1))
			bc2sqrt := float32(math.Sqrt(bc2))
			m, v, vmax := s.bufs["exp_avg"], s.bufs["exp_avg_sq"], s.bufs["max_exp_avg_sq"]
			for j, x := range p.Data {
				d := p.Grad[j]
				if o.decoupled {
					x = float32(x * decay) // param.mul_(1 - lr*weight_decay)
				} else if c.WeightDecay != 0 {
					d = fma32(x, wd, d)
				}
				mo.update(&m[j], &v[j], d)
				den := v[j]
				if c.AMSGrad {
					if den > vmax[j] || den != den {
						vmax[j] = den
					}
					den = vmax[j]
				}
				den = sqrt32(den)/bc2sqrt + eps
				p.Data[j] = x + float32(nstep*m[j])/den // param.addcdiv_(exp_avg, denom, value=-step_size)
			}
		}
	}
}
