package optim

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// Every name makes its optimizer; SGD's three names differ only in
// momentum; an unknown name, or SGD without a learning rate, is refused.
func TestNewMakesEveryOptimizerByName(t *testing.T) {
	t.Parallel()
	step := func(name string) float32 {
		p := Param{Data: []float32{1}, Grad: []float32{1}}
		o, err := New(name, []*Group{{Params: []Param{p}}}, 0.1)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		o.Step()
		o.Step()
		return p.Data[0]
	}
	for _, name := range Names() {
		step(name)
	}
	// Two steps of gradient 1 at lr 0.1: plain, 1 − 0.1 − 0.1; with
	// momentum 0.9 the second step is 0.1·1.9; Nesterov's 0.1·(1 + 0.9·1.9).
	for name, want := range map[string]float32{"sgd": 0.8, "momentum": 0.71, "nesterov": 0.539} {
		if got := step(name); got < want-1e-6 || got > want+1e-6 {
			t.Errorf("%s: %g after two steps, want %g", name, got, want)
		}
	}
	if _, err := New("lbfgs", nil, 0.1); !errors.Is(err, ErrConfig) {
		t.Errorf("lbfgs: %v", err)
	}
	if _, err := New("sgd", []*Group{{Params: []Param{{Data: []float32{1}, Grad: []float32{1}}}}}, 0); !errors.Is(err, ErrConfig) {
		t.Errorf("sgd without a learning rate: %v", err)
	}
}

// LR is the rate New gives: the one asked for, or the optimizer's default,
// which is what its groups hold.
// NeedsLR holds for exactly the optimizers New refuses without a rate,
// whatever settings the name carries.
func TestNeedsLRIsWhereNewWantsARate(t *testing.T) {
	t.Parallel()
	for _, name := range append(Names(), "Momentum(dampening=0.1)", "adam(amsgrad=true)") {
		_, err := New(name, []*Group{{Params: []Param{{Data: []float32{1}, Grad: []float32{1}}}}}, 0)
		if NeedsLR(name) != (err != nil) {
			t.Errorf("%s: NeedsLR %t, but New without a rate gives %v", name, NeedsLR(name), err)
		}
	}
}

func TestLRIsTheRateNewGives(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		for _, lr := range []float64{0, 0.05} {
			o, err := New(name, []*Group{{Params: []Param{{Data: []float32{1}, Grad: []float32{1}}}}}, lr)
			if lr == 0 && (name == "sgd" || name == "momentum" || name == "nesterov") {
				if LR(name, lr) != 0 || err == nil {
					t.Errorf("%s without a rate: LR %g, New %v", name, LR(name, lr), err)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := LR(strings.ToUpper(name), lr), o.Groups()[0].LR; got != want {
				t.Errorf("%s at %g: LR %g, New's group %g", name, lr, got, want)
			}
		}
	}
}

// Each schedule's rate after every epoch is torch.optim.lr_scheduler's for
// the same settings; bad schedules are refused by name.
func TestParseScheduleMakesTorchsSchedules(t *testing.T) {
	t.Parallel()
	rates := func(s string, epochs int) []float64 {
		p := Param{Data: []float32{1}, Grad: []float32{0}}
		o, err := New("sgd", []*Group{{Params: []Param{p}}}, 0.1)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := ParseSchedule(s, o, epochs)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		var lr []float64
		for range epochs {
			lr = append(lr, o.Groups()[0].LR)
			o.Step()
			if sc != nil {
				sc.Step()
			}
		}
		return lr
	}
	near := func(a, b []float64) bool {
		for i := range a {
			if math.Abs(a[i]-b[i]) > 1e-12 {
				return false
			}
		}
		return len(a) == len(b)
	}
	for s, want := range map[string][]float64{
		// torch: [0.1] * 4; CosineAnnealingLR(T_max=4): 0.1, 0.0853553, 0.05, 0.0146447;
		// StepLR(2, 0.5): 0.1, 0.1, 0.05, 0.05; LinearLR(0.1, 1, 2): 0.01, 0.055, 0.1, 0.1.
		"constant":        {0.1, 0.1, 0.1, 0.1},
		"cosine":          {0.1, 0.05 * (1 + math.Cos(math.Pi/4)), 0.05, 0.05 * (1 + math.Cos(3*math.Pi/4))},
		"step:2:0.5":      {0.1, 0.1, 0.05, 0.05},
		"warmup:2":        {0.01, 0.055, 0.1, 0.1},
		"warmup:2,cosine": {0.01, 0.055, 0.1, 0.05},
	} {
		if got := rates(s, 4); !near(got, want) {
			t.Errorf("%s: %v, want %v", s, got, want)
		}
	}
	o, _ := New("sgd", []*Group{{Params: []Param{{Data: []float32{1}, Grad: []float32{0}}}}}, 0.1)
	for _, bad := range []string{"linear", "step:0:0.5", "step:2", "warmup:x", "warmup:4,cosine", "warmup:1,step"} {
		if _, err := ParseSchedule(bad, o, 4); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// ParseRuns reads NAME and NAME:LR lists, and refuses an unknown name or
// a run given twice before anything trains, naming it.
func TestParseRuns(t *testing.T) {
	runs, err := ParseRuns("sgd:0.05, Adam,adam:0.01", 0.002)
	want := []Run{{"sgd", 0.05}, {"Adam", 0.002}, {"adam", 0.01}}
	if err != nil || !slices.Equal(runs, want) {
		t.Errorf("got %v, %v; want %v", runs, err, want)
	}
	for s, msg := range map[string]string{
		"sgd:0.05,foo:0.1":    `unknown optimizer "foo"`,
		"sgd:0.05,sgd:0.05":   "sgd at lr 0.05 is given twice",
		"adam:1e-3,ADAM:.001": "ADAM at lr 0.001 is given twice",
		"adam,adam":           "adam is given twice",
		"sgd:-1":              "must be a positive number",
	} {
		if _, err := ParseRuns(s, 0); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseRuns(%q): error %v, want one saying %q", s, err, msg)
		}
	}
}

// A name may carry torch.optim's keyword arguments: each reaches the
// optimizer's configuration (the same steps, bit for bit, as the
// configuration written out), in any order and case of the name; another
// optimizer's argument, a value of the wrong kind or a malformed call is
// an error naming it.
func TestNewTakesTorchsKeywordArguments(t *testing.T) {
	steps := func(o Optimizer, p Param) []float32 {
		for k := range 3 {
			for i := range p.Grad {
				p.Grad[i] = float32(i+1) * float32(k+1) * 0.3
			}
			o.Step()
		}
		return slices.Clone(p.Data)
	}
	param := func() Param {
		return Param{Name: "w", Data: []float32{0.5, -1, 2}, Grad: make([]float32, 3)}
	}
	for name, want := range map[string]func([]*Group) (Optimizer, error){
		"Adam(weight_decay=1e-4, amsgrad=True, betas=(0.8, 0.99))": func(g []*Group) (Optimizer, error) {
			c := DefaultAdam()
			c.WeightDecay, c.AMSGrad, c.Beta1, c.Beta2 = 1e-4, true, 0.8, 0.99
			return NewAdam(g, &c)
		},
		"momentum(momentum=0.5, dampening=0.1, weight_decay=0.01)": func(g []*Group) (Optimizer, error) {
			return NewSGD(g, &SGDConfig{LR: 0.1, Momentum: 0.5, Dampening: 0.1, WeightDecay: 0.01})
		},
		"rmsprop(centered=true, momentum=0.9, alpha=0.9)": func(g []*Group) (Optimizer, error) {
			c := DefaultRMSprop()
			c.LR, c.Centered, c.Momentum, c.Alpha = 0.1, true, 0.9, 0.9
			return NewRMSprop(g, &c)
		},
		"adagrad(lr_decay=0.01, initial_accumulator_value=0.1)": func(g []*Group) (Optimizer, error) {
			c := DefaultAdagrad()
			c.LR, c.LRDecay, c.InitialAccumulatorValue = 0.1, 0.01, 0.1
			return NewAdagrad(g, &c)
		},
		"adamw(weight_decay=0.05)": func(g []*Group) (Optimizer, error) {
			c := DefaultAdamW()
			c.LR, c.WeightDecay = 0.1, 0.05
			return NewAdamW(g, &c)
		},
	} {
		p, q := param(), param()
		lr := 0.1
		if strings.HasPrefix(name, "Adam(") {
			lr = 0 // the default, 1e-3
		}
		got, err := New(name, []*Group{{Params: []Param{p}}}, lr)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		ref, err := want([]*Group{{Params: []Param{q}}})
		if err != nil {
			t.Fatal(err)
		}
		if a, b := steps(got, p), steps(ref, q); !slices.Equal(a, b) {
			t.Errorf("%s: after 3 steps %v, the configuration written out gives %v", name, a, b)
		}
	}
	if c, err := Canonical(" Adam( weight_decay=1e-4,amsgrad=True ) "); err != nil || c != "adam(amsgrad=true, weight_decay=0.0001)" {
		t.Errorf("Canonical: %q, %v", c, err)
	}
	for name, msg := range map[string]string{
		"adam(momentum=0.9)":         "adam takes no momentum; it takes betas, eps, weight_decay, amsgrad",
		"sgd(lr=0)":                  "the learning rate is given apart, as --lr or sgd:LR",
		"adam(amsgrad=1)":            "amsgrad=1: want true or false",
		"adam(betas=0.9)":            "betas=0.9: want a pair of numbers",
		"sgd(weight_decay=x)":        "want a finite number",
		"adam(eps=1e-8":              "want NAME(key=value, ...)",
		"adam(eps=1e-8, eps=1e-7)":   "eps given twice",
		"nesterov(dampening=0.1)":    "nesterov needs a momentum and zero dampening",
		"adam(weight_decay=nan)":     "want a finite number",
		"radam(betas=(0.9, 0.999,))": "want a pair of numbers",
	} {
		if _, err := New(name, []*Group{{}}, 0.1); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), msg) {
			t.Errorf("New(%q): %v, want an error saying %q", name, err, msg)
		}
	}
	runs, err := ParseRuns("adamw(weight_decay=0.05, betas=(0.9, 0.99)):0.001,sgd:0.1", 0)
	if err != nil || len(runs) != 2 || runs[0].Optimizer != "adamw(weight_decay=0.05, betas=(0.9, 0.99))" || runs[0].LR != 0.001 {
		t.Errorf("ParseRuns with settings: %+v, %v", runs, err)
	}
	if _, err := ParseRuns("adam(amsgrad=true):0.001,ADAM(amsgrad=True):0.001", 0); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("the same settings written twice: %v", err)
	}
}
