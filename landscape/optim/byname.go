package optim

import (
	"fmt"
	"strings"
)

// Names lists the optimizers [New] makes: torch.optim's, with SGD under
// three names for its common settings.
func Names() []string {
	return []string{"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "nadam", "radam"}
}

// New returns the optimizer called name (see [Names]) over groups with
// learning rate lr and PyTorch's defaults otherwise: sgd is plain gradient
// descent, momentum SGD with momentum 0.9, nesterov the same with Nesterov
// momentum. lr 0 means the optimizer's default learning rate (SGD has
// none and needs one).
func New(name string, groups []*Group, lr float64) (Optimizer, error) {
	or := func(def float64) float64 {
		if lr == 0 {
			return def
		}
		return lr
	}
	name = strings.ToLower(name)
	switch name {
	case "sgd", "momentum", "nesterov":
		if lr == 0 {
			return nil, fmt.Errorf("optim: %s needs a learning rate: %w", name, ErrConfig)
		}
		c := SGDConfig{LR: lr}
		if name != "sgd" {
			c.Momentum, c.Nesterov = 0.9, name == "nesterov"
		}
		return NewSGD(groups, &c)
	case "adagrad":
		c := DefaultAdagrad()
		c.LR = or(c.LR)
		return NewAdagrad(groups, &c)
	case "rmsprop":
		c := DefaultRMSprop()
		c.LR = or(c.LR)
		return NewRMSprop(groups, &c)
	case "adam", "adamw":
		c := DefaultAdam()
		if name == "adamw" {
			c = DefaultAdamW()
		}
		c.LR = or(c.LR)
		if name == "adamw" {
			return NewAdamW(groups, &c)
		}
		return NewAdam(groups, &c)
	case "nadam":
		c := DefaultNAdam()
		c.LR = or(c.LR)
		return NewNAdam(groups, &c)
	case "radam":
		c := DefaultRAdam()
		c.LR = or(c.LR)
		return NewRAdam(groups, &c)
	}
	return nil, fmt.Errorf("optim: unknown optimizer %q; want one of %s: %w", name, strings.Join(Names(), ", "), ErrConfig)
}

// LR returns the learning rate [New] gives the optimizer called name for
// lr: lr itself, or where it is 0, the optimizer's default (0 for SGD,
// which has none, and for an unknown name). A run recorded by it reads the
// same whether its rate was given or left to the default.
func LR(name string, lr float64) float64 {
	o, err := New(name, []*Group{{}}, lr)
	if err != nil {
		return 0
	}
	return o.Groups()[0].LR
}
