package optim

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Fixtures made by testdata/make.py with torch 1.13 (foreach=False, CPU).
type optFixture struct {
	Torch   string     `json:"torch"`
	Names   []string   `json:"names"`
	Init    []string   `json:"init"`
	Grads   [][]string `json:"grads"`
	Configs []fxConfig `json:"configs"`
}

func decode32(t *testing.T, s string) []float32 {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// newFromOptions makes the optimizer a fixture names, starting from
// PyTorch's defaults and overriding the options the fixture gives.
func newFromOptions(kind string, o map[string]any, groups []*Group) (Optimizer, error) {
	f := func(k string, d float64) float64 {
		if v, ok := o[k]; ok {
			return v.(float64)
		}
		return d
	}
	b := func(k string) bool { v, _ := o[k].(bool); return v }
	switch kind {
	case "SGD":
		return NewSGD(groups, &SGDConfig{LR: f("lr", 0), Momentum: f("momentum", 0), Dampening: f("dampening", 0),
			WeightDecay: f("weight_decay", 0), Nesterov: b("nesterov")})
	case "Adagrad":
		d := DefaultAdagrad()
		return NewAdagrad(groups, &AdagradConfig{LR: f("lr", d.LR), LRDecay: f("lr_decay", 0), WeightDecay: f("weight_decay", 0),
			InitialAccumulatorValue: f("initial_accumulator_value", 0), Eps: f("eps", d.Eps)})
	case "RMSprop":
		d := DefaultRMSprop()
		return NewRMSprop(groups, &RMSpropConfig{LR: f("lr", d.LR), Alpha: f("alpha", d.Alpha), Eps: f("eps", d.Eps),
			WeightDecay: f("weight_decay", 0), Momentum: f("momentum", 0), Centered: b("centered")})
	case "Adam", "AdamW":
		d := DefaultAdam()
		if kind == "AdamW" {
			d = DefaultAdamW()
		}
		c := AdamConfig{LR: f("lr", d.LR), Beta1: f("beta1", d.Beta1), Beta2: f("beta2", d.Beta2), Eps: f("eps", d.Eps),
			WeightDecay: f("weight_decay", d.WeightDecay), AMSGrad: b("amsgrad")}
		if kind == "AdamW" {
			return NewAdamW(groups, &c)
		}
		return NewAdam(groups, &c)
	case "NAdam":
		d := DefaultNAdam()
		return NewNAdam(groups, &NAdamConfig{LR: f("lr", d.LR), Beta1: f("beta1", d.Beta1), Beta2: f("beta2", d.Beta2),
			Eps: f("eps", d.Eps), WeightDecay: f("weight_decay", 0), MomentumDecay: f("momentum_decay", d.MomentumDecay)})
	case "RAdam":
		d := DefaultRAdam()
		return NewRAdam(groups, &RAdamConfig{LR: f("lr", d.LR), Beta1: f("beta1", d.Beta1), Beta2: f("beta2", d.Beta2),
			Eps: f("eps", d.Eps), WeightDecay: f("weight_decay", 0)})
	}
	return nil, fmt.Errorf("unknown optimizer %q", kind)
}

// ulps returns the distance between a and b in units in the last place.
func ulps(a, b float32) int64 {
	ia, ib := int64(math.Float32bits(a)), int64(math.Float32bits(b))
	if ia < 0x80000000 != (ib < 0x80000000) {
		return ulps(a, 0) + ulps(0, b)
	}
	d := ia - ib
	if d < 0 {
		d = -d
	}
	return d
}

type fxConfig struct {
	Name      string         `json:"name"`
	Optimizer string         `json:"optimizer"`
	Options   map[string]any `json:"options"`
	Params    [][]string     `json:"params"`
	Groups    []struct {
		Params []string `json:"params"`
		LR     *float64 `json:"lr"`
	} `json:"groups"`
	StepLR []float64 `json:"step_lr"`
}

// replay runs a fixture configuration, restarting the optimizer from its
// checkpointed state before step restartAt (if > 0), and requires every
// parameter value after every step to equal PyTorch's bit for bit.
func replay(t *testing.T, fx *optFixture, cfg fxConfig, restartAt int) {
	var ps []Param
	idx := map[string]int{}
	for i, n := range fx.Names {
		d := decode32(t, fx.Init[i])
		ps = append(ps, Param{Name: n, Data: d, Grad: make([]float32, len(d))})
		idx[n] = i
	}
	build := func() (Optimizer, Scheduler) {
		groups := []*Group{{Params: ps}}
		if cfg.Groups != nil {
			groups = nil
			for _, g := range cfg.Groups {
				gr := &Group{}
				for _, n := range g.Params {
					gr.Params = append(gr.Params, ps[idx[n]])
				}
				if g.LR != nil {
					gr.LR = *g.LR
				}
				groups = append(groups, gr)
			}
		}
		opt, err := newFromOptions(cfg.Optimizer, cfg.Options, groups)
		if err != nil {
			t.Fatal(err)
		}
		var s Scheduler
		if cfg.StepLR != nil {
			if s, err = NewStepLR(opt, int(cfg.StepLR[0]), cfg.StepLR[1]); err != nil {
				t.Fatal(err)
			}
		}
		return opt, s
	}
	opt, sched := build()
	for step := range cfg.Params {
		if step == restartAt && step > 0 {
			sd := opt.State()
			if _, mom := cfg.Options["momentum"]; sd.Len() == 0 && (cfg.Optimizer != "SGD" || mom) {
				t.Fatal("empty state after steps")
			}
			var old Scheduler
			opt, old = build()
			if err := opt.LoadState(sd); err != nil {
				t.Fatal(err)
			}
			if got := opt.State(); !slices.Equal(got.Names(), sd.Names()) {
				t.Fatalf("state names %v after load, %v before", got.Names(), sd.Names())
			}
			// Schedulers have no checkpoint yet: step a fresh one along.
			if old != nil {
				for range step {
					old.Step()
				}
				sched = old
			}
		}
		for i := range ps {
			copy(ps[i].Grad, decode32(t, fx.Grads[step][i]))
		}
		opt.Step()
		if sched != nil {
			sched.Step()
		}
		for i, p := range ps {
			w := decode32(t, cfg.Params[step][i])
			for j := range w {
				if math.Float32bits(p.Data[j]) != math.Float32bits(w[j]) {
					t.Fatalf("step %d: %s[%d] = %v, PyTorch %v (%d ulp)", step+1, p.Name, j, p.Data[j], w[j], ulps(p.Data[j], w[j]))
				}
			}
		}
	}
}

// TestAgainstPyTorch replays the fixture's gradients and requires every
// parameter value after every step to equal PyTorch's bit for bit.
func TestAgainstPyTorch(t *testing.T) {
	var fx optFixture
	readJSON(t, "optimizers.json", &fx)
	for _, cfg := range fx.Configs {
		t.Run(cfg.Name, func(t *testing.T) {
			t.Parallel()
			replay(t, &fx, cfg, 0)
		})
	}
}
