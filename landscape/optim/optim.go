package optim

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/landscape-go/landscape/nets"
)

// ErrConfig reports an invalid hyperparameter or parameter list.
var ErrConfig = errors.New("invalid optimizer configuration")

// ErrState reports a state dict that does not fit the optimizer.
var ErrState = errors.New("optimizer state does not match")

// Param is one tensor being optimised: its values and its gradient, both
// flat and of the same length. Name keys the optimizer's state; if empty,
// the parameter's position ("0", "1", ... across all groups) is used, as
// PyTorch's state_dict numbers parameters.
type Param struct {
	Name string
	Data []float32
	Grad []float32
}

// Group is a parameter group: parameters that share a learning rate.
// Schedulers change LR between steps.
type Group struct {
	Params []Param
	// LR is the group's current learning rate. If it is zero when the
	// optimizer is made, the optimizer's configured LR is used.
	LR float64

	initialLR    float64 // base learning rate of schedulers, as group['initial_lr']
	hasInitialLR bool
}

// An Optimizer updates its groups' parameters from their gradients.
type Optimizer interface {
	// Step applies one update to every parameter in place.
	Step()
	// Groups returns the parameter groups; a scheduler sets their LR.
	Groups() []*Group
	// State returns a copy of the per-parameter state, named
	// "<param name>.<key>" with PyTorch's state keys.
	State() *nets.StateDict
	// LoadState replaces the state with the tensors of sd, as made by State.
	LoadState(sd *nets.StateDict) error
}

// Params returns the learnable parameters of weights as one Param each, in
// the order of net's Params, skipping buffers (batch-norm running
// statistics); with a nil net every entry of weights is taken, in its order.
// Data aliases the tensors of weights, so Step updates them. Grad aliases
// the tensor of the same name in grads; if grads is nil, zero gradients are
// allocated for the caller to fill.
func Params(net *nets.Net, weights, grads *nets.StateDict) ([]Param, error) {
	var names []string
	if net == nil {
		names = weights.Names()
	} else {
		for _, p := range net.Params {
			if p.Kind == nets.Weight {
				names = append(names, p.Name)
			}
		}
	}
	ps := make([]Param, 0, len(names))
	for _, n := range names {
		w, ok := weights.Get(n)
		if !ok {
			return nil, fmt.Errorf("optim: params: %s: missing from weights: %w", n, ErrConfig)
		}
		var g []float32
		if grads == nil {
			g = make([]float32, len(w.Data))
		} else {
			gt, ok := grads.Get(n)
			if !ok {
				return nil, fmt.Errorf("optim: params: %s: missing from gradients: %w", n, ErrConfig)
			}
			if len(gt.Data) != len(w.Data) {
				return nil, fmt.Errorf("optim: params: %s: gradient shape %v, weight shape %v: %w",
					n, gt.Shape, w.Shape, ErrConfig)
			}
			g = gt.Data
		}
		ps = append(ps, Param{Name: n, Data: w.Data, Grad: g})
	}
	return ps, nil
}

// pstate is the state of one parameter.
type pstate struct {
	step    int64
	started bool
	mu      float32 // NAdam's mu_product
	bufs    map[string][]float32
}

// base holds what every optimizer shares: groups and per-parameter state.
type base struct {
	kind   string   // "sgd", "adam", ... for errors
	groups []*Group //
	keys   []string // state tensors in PyTorch's order
	step   bool     // whether state has a "step"
	mu     bool     // whether state has NAdam's "mu_product"
	state  [][]pstate
}

func newBase(kind string, groups []*Group, lr float64, keys []string) (base, error) {
	b := base{kind: kind, groups: groups, keys: keys}
	if len(groups) == 0 {
		return b, fmt.Errorf("optim: %s: no parameter groups: %w", kind, ErrConfig)
	}
	seen := map[string]bool{}
	k := 0
	for gi, g := range groups {
		if g.LR == 0 {
			g.LR = lr
		}
		if g.LR < 0 {
			return b, fmt.Errorf("optim: %s: group %d: lr %g < 0: %w", kind, gi, g.LR, ErrConfig)
		}
		for pi, p := range g.Params {
			if len(p.Data) != len(p.Grad) {
				return b, fmt.Errorf("optim: %s: group %d param %d (%s): %d values, %d gradients: %w",
					kind, gi, pi, p.Name, len(p.Data), len(p.Grad), ErrConfig)
			}
			if p.Name == "" {
				g.Params[pi].Name = strconv.Itoa(k)
			}
			if seen[g.Params[pi].Name] {
				return b, fmt.Errorf("optim: %s: parameter name %q used twice: %w", kind, g.Params[pi].Name, ErrConfig)
			}
			seen[g.Params[pi].Name] = true
			k++
		}
		b.state = append(b.state, make([]pstate, len(g.Params)))
	}
	return b, nil
}

// Groups returns the parameter groups.
func (b *base) Groups() []*Group { return b.groups }

// init makes the state of a parameter on its first step, with every
// buffer filled with fill; after LoadState it adds any buffer the state
// lacked.
func (b *base) init(s *pstate, n int, fill float32, keys ...string) {
	if !s.started {
		s.started = true
		s.mu = 1
	}
	if s.bufs == nil {
		s.bufs = make(map[string][]float32, len(keys))
	}
	for _, k := range keys {
		if _, ok := s.bufs[k]; ok {
			continue
		}
		v := make([]float32, n)
		if fill != 0 {
			for i := range v {
				v[i] = fill
			}
		}
		s.bufs[k] = v
	}
}

// State returns a copy of the state; see [Optimizer].
func (b *base) State() *nets.StateDict {
	sd := &nets.StateDict{}
	for gi, g := range b.groups {
		for pi, p := range g.Params {
			s := &b.state[gi][pi]
			if !s.started {
				continue
			}
			if b.step {
				sd.Set(p.Name+".step", &nets.Tensor{Shape: []int{}, Data: []float32{float32(s.step)}, DType: "float32"})
			}
			for _, k := range b.keys {
				if v, ok := s.bufs[k]; ok {
					sd.Set(p.Name+"."+k, &nets.Tensor{Shape: []int{len(v)}, Data: append([]float32(nil), v...), DType: "float32"})
				}
			}
			if b.mu {
				sd.Set(p.Name+".mu_product", &nets.Tensor{Shape: []int{}, Data: []float32{s.mu}, DType: "float32"})
			}
		}
	}
	return sd
}

// LoadState restores state made by State; see [Optimizer]. Parameters
// without entries in sd start afresh, as in PyTorch.
func (b *base) LoadState(sd *nets.StateDict) error {
	fresh := make([][]pstate, len(b.groups))
	for gi, g := range b.groups {
		fresh[gi] = make([]pstate, len(g.Params))
		for pi, p := range g.Params {
			s := &fresh[gi][pi]
			for _, k := range b.keys {
				t, ok := sd.Get(p.Name + "." + k)
				if !ok {
					continue
				}
				if len(t.Data) != len(p.Data) {
					return fmt.Errorf("optim: %s: load state: %s.%s: %d values, parameter has %d: %w",
						b.kind, p.Name, k, len(t.Data), len(p.Data), ErrState)
				}
				if s.bufs == nil {
					s.bufs = map[string][]float32{}
				}
				s.bufs[k] = append([]float32(nil), t.Data...)
				s.started = true
			}
			if !s.started {
				continue
			}
			s.mu = 1
			for _, k := range []string{"step", "mu_product"} {
				if (k == "step" && !b.step) || (k == "mu_product" && !b.mu) {
					continue
				}
				t, ok := sd.Get(p.Name + "." + k)
				if !ok || len(t.Data) != 1 {
					return fmt.Errorf("optim: %s: load state: %s.%s: missing or not a scalar: %w", b.kind, p.Name, k, ErrState)
				}
				if k == "step" {
					s.step = int64(t.Data[0])
				} else {
					s.mu = t.Data[0]
				}
			}
		}
	}
	b.state = fresh
	return nil
}

func checkNonNeg(kind string, vals ...any) error {
	for i := 0; i < len(vals); i += 2 {
		if v := vals[i+1].(float64); v < 0 || v != v {
			return fmt.Errorf("optim: %s: %s %g must be ≥ 0: %w", kind, vals[i], v, ErrConfig)
		}
	}
	return nil
}

// orDefault returns *c, or def when c is nil: the constructors' "If c is
// nil, the defaults are used".
func orDefault[T any](c *T, def T) T {
	if c == nil {
		return def
	}
	return *c
}
