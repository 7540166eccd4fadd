package optim

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
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
//
// The name may carry torch.optim's keyword arguments, as the
// constructor's call would: "adam(weight_decay=1e-4, amsgrad=true)",
// "momentum(momentum=0.95, dampening=0.1)", "adam(betas=(0.9, 0.99))".
// Each optimizer takes its own (see [Settings]); another is an error
// naming those it takes.
func New(name string, groups []*Group, lr float64) (Optimizer, error) {
	base, set, err := parseCall(name)
	if err != nil {
		return nil, err
	}
	or := func(def float64) float64 {
		if lr == 0 {
			return def
		}
		return lr
	}
	if takes, ok := Settings()[base]; ok {
		for _, k := range slices.Sorted(maps.Keys(set.values)) {
			if k == "lr" {
				return nil, fmt.Errorf("optim: %s(lr=...): the learning rate is given apart, as --lr or %s:LR, not among the settings: %w", base, base, ErrConfig)
			}
			if !slices.Contains(takes, k) {
				return nil, fmt.Errorf("optim: %s takes no %s; it takes %s: %w", base, k, strings.Join(takes, ", "), ErrConfig)
			}
			if v, want := set.values[k], kindOf(k); v.kind != want {
				return nil, fmt.Errorf("optim: %s=%s: want %s: %w", k, v, [...]string{"a number", "a pair of numbers, (0.9, 0.999) say", "true or false"}[want], ErrConfig)
			}
		}
	}
	if lr == 0 && NeedsLR(base) {
		return nil, fmt.Errorf("optim: %s needs a learning rate: %w", base, ErrConfig)
	}
	f, b, pair := set.float, set.bool, set.pair
	switch base {
	case "sgd", "momentum", "nesterov":
		c := SGDConfig{LR: lr}
		if base != "sgd" {
			c.Momentum, c.Nesterov = 0.9, base == "nesterov"
		}
		c.Momentum, c.Dampening, c.WeightDecay = f("momentum", c.Momentum), f("dampening", 0), f("weight_decay", 0)
		if c.Nesterov && (c.Momentum <= 0 || c.Dampening != 0) {
			return nil, fmt.Errorf("optim: nesterov needs a momentum and zero dampening, as torch.optim.SGD: %w", ErrConfig)
		}
		return NewSGD(groups, &c)
	case "adagrad":
		c := DefaultAdagrad()
		c.LR = or(c.LR)
		c.LRDecay, c.WeightDecay, c.InitialAccumulatorValue, c.Eps = f("lr_decay", 0), f("weight_decay", 0), f("initial_accumulator_value", 0), f("eps", c.Eps)
		return NewAdagrad(groups, &c)
	case "rmsprop":
		c := DefaultRMSprop()
		c.LR = or(c.LR)
		c.Alpha, c.Eps, c.WeightDecay, c.Momentum, c.Centered = f("alpha", c.Alpha), f("eps", c.Eps), f("weight_decay", 0), f("momentum", 0), b("centered")
		return NewRMSprop(groups, &c)
	case "adam", "adamw":
		c := DefaultAdam()
		if base == "adamw" {
			c = DefaultAdamW()
		}
		c.LR = or(c.LR)
		c.Beta1, c.Beta2 = pair("betas", c.Beta1, c.Beta2)
		c.Eps, c.WeightDecay, c.AMSGrad = f("eps", c.Eps), f("weight_decay", c.WeightDecay), b("amsgrad")
		if base == "adamw" {
			return NewAdamW(groups, &c)
		}
		return NewAdam(groups, &c)
	case "nadam":
		c := DefaultNAdam()
		c.LR = or(c.LR)
		c.Beta1, c.Beta2 = pair("betas", c.Beta1, c.Beta2)
		c.Eps, c.WeightDecay, c.MomentumDecay = f("eps", c.Eps), f("weight_decay", 0), f("momentum_decay", c.MomentumDecay)
		return NewNAdam(groups, &c)
	case "radam":
		c := DefaultRAdam()
		c.LR = or(c.LR)
		c.Beta1, c.Beta2 = pair("betas", c.Beta1, c.Beta2)
		c.Eps, c.WeightDecay = f("eps", c.Eps), f("weight_decay", 0)
		return NewRAdam(groups, &c)
	}
	return nil, fmt.Errorf("optim: unknown optimizer %q; want one of %s: %w", base, strings.Join(Names(), ", "), ErrConfig)
}

// Settings lists, by optimizer, the keyword arguments of torch.optim's
// constructor that [New] takes in a name: all but lr, and those of SGD's
// that its three names fix (nesterov).
func Settings() map[string][]string {
	sgd := []string{"momentum", "dampening", "weight_decay"}
	adam := []string{"betas", "eps", "weight_decay", "amsgrad"}
	return map[string][]string{
		"sgd": sgd, "momentum": sgd, "nesterov": sgd,
		"adagrad": {"lr_decay", "weight_decay", "initial_accumulator_value", "eps"},
		"rmsprop": {"alpha", "eps", "weight_decay", "momentum", "centered"},
		"adam":    adam, "adamw": adam,
		"nadam": {"betas", "eps", "weight_decay", "momentum_decay"},
		"radam": {"betas", "eps", "weight_decay"},
	}
}

// Canonical returns name as [New] reads it, written one way: the
// optimizer's name in lower case and its settings sorted, each once
// ("adam(amsgrad=true, weight_decay=0.0001)"), so that a run's record
// compares equal however its settings were written.
func Canonical(name string) (string, error) {
	base, set, err := parseCall(name)
	if err != nil {
		return "", err
	}
	if len(set.values) == 0 {
		return base, nil
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(set.values)) {
		parts = append(parts, k+"="+set.values[k].String())
	}
	return base + "(" + strings.Join(parts, ", ") + ")", nil
}

// NeedsLR says whether the optimizer called name has no default learning
// rate and needs one given: SGD, under its three names, as
// torch.optim.SGD. A tool that offers a default of its own for it (the
// toys' rates, train's 0.01) asks this rather than listing them.
func NeedsLR(name string) bool {
	switch Base(name) {
	case "sgd", "momentum", "nesterov":
		return true
	}
	return false
}

// Base returns the optimizer's name without its settings, in lower case.
func Base(name string) string {
	base, _, _ := strings.Cut(name, "(")
	return strings.ToLower(strings.TrimSpace(base))
}

// settings are the keyword arguments of a name (see [New]).
type settings struct{ values map[string]value }

// kindOf is the kind of value the setting k takes (see value).
func kindOf(k string) int {
	switch k {
	case "betas":
		return 1
	case "amsgrad", "centered":
		return 2
	}
	return 0
}

// value is a setting's value: a number, a pair of numbers (betas) or a
// boolean.
type value struct {
	kind int // 0 a number, 1 a pair, 2 a boolean
	x, y float64
	b    bool
}

func (v value) String() string {
	switch v.kind {
	case 1:
		return fmt.Sprintf("(%g, %g)", v.x, v.y)
	case 2:
		return strconv.FormatBool(v.b)
	}
	return strconv.FormatFloat(v.x, 'g', -1, 64)
}

// float, bool and pair return the setting k, or def where it is not
// given; New has checked each value's kind.
func (s *settings) float(k string, def float64) float64 {
	if v, ok := s.values[k]; ok {
		return v.x
	}
	return def
}

func (s *settings) bool(k string) bool { return s.values[k].b }

func (s *settings) pair(k string, d1, d2 float64) (float64, float64) {
	if v, ok := s.values[k]; ok {
		return v.x, v.y
	}
	return d1, d2
}

// parseCall splits "name(k=v, ...)" into the lower-case name and its
// settings.
func parseCall(s string) (string, *settings, error) {
	set := &settings{values: map[string]value{}}
	base, args, call := strings.Cut(strings.TrimSpace(s), "(")
	base = strings.ToLower(strings.TrimSpace(base))
	if !call {
		return base, set, nil
	}
	args, ok := strings.CutSuffix(strings.TrimSpace(args), ")")
	if !ok {
		return "", nil, fmt.Errorf("optim: %q: want NAME(key=value, ...): %w", s, ErrConfig)
	}
	for _, kv := range splitTop(args) {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return "", nil, fmt.Errorf("optim: %q: %q is not key=value: %w", s, kv, ErrConfig)
		}
		if _, dup := set.values[k]; dup {
			return "", nil, fmt.Errorf("optim: %q: %s given twice: %w", s, k, ErrConfig)
		}
		val, err := parseValue(v)
		if err != nil {
			return "", nil, fmt.Errorf("optim: %q: %s=%s: %w: %w", s, k, v, err, ErrConfig)
		}
		set.values[k] = val
	}
	return base, set, nil
}

// parseValue reads a number, a boolean (true, True, false, False) or a
// pair of numbers in parentheses.
func parseValue(v string) (value, error) {
	switch v {
	case "true", "True":
		return value{kind: 2, b: true}, nil
	case "false", "False":
		return value{kind: 2}, nil
	}
	if inner, ok := strings.CutPrefix(v, "("); ok {
		inner, ok = strings.CutSuffix(inner, ")")
		a, b, two := strings.Cut(inner, ",")
		x, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
		y, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
		if !ok || !two || err1 != nil || err2 != nil || !finite(x) || !finite(y) {
			return value{}, errors.New("want a pair of numbers, (0.9, 0.999) say")
		}
		return value{kind: 1, x: x, y: y}, nil
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || !finite(x) {
		return value{}, errors.New("want a finite number, true or false")
	}
	return value{x: x}, nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// splitTop splits s at the commas outside parentheses.
func splitTop(s string) []string {
	var parts []string
	depth, from := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, s[from:i])
				from = i + 1
			}
		}
	}
	return append(parts, s[from:])
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
