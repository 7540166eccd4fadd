package optim

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/landscape-go/landscape/nets"
)

// TestStateRoundTrip checkpoints every fixture optimizer halfway, restores
// the state into a fresh optimizer and requires the rest of the path to
// stay bit-identical to PyTorch's.
func TestStateRoundTrip(t *testing.T) {
	var fx optFixture
	readJSON(t, "optimizers.json", &fx)
	for _, cfg := range fx.Configs {
		t.Run(cfg.Name, func(t *testing.T) {
			t.Parallel()
			replay(t, &fx, cfg, len(cfg.Params)/2)
		})
	}
}

func TestStateNames(t *testing.T) {
	t.Parallel()
	ps := []Param{{Name: "fc.weight", Data: make([]float32, 6), Grad: make([]float32, 6)}, {Data: []float32{1}, Grad: []float32{1}}}
	opt, err := NewNAdam([]*Group{{Params: ps}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	opt.Step()
	opt.Step()
	sd := opt.State()
	want := []string{"fc.weight.step", "fc.weight.exp_avg", "fc.weight.exp_avg_sq", "fc.weight.mu_product",
		"1.step", "1.exp_avg", "1.exp_avg_sq", "1.mu_product"}
	if !slices.Equal(sd.Names(), want) {
		t.Fatalf("state names %v, want %v", sd.Names(), want)
	}
	if st, _ := sd.Get("1.step"); st.Data[0] != 2 {
		t.Errorf("step = %v, want 2", st.Data[0])
	}
	bad := &nets.StateDict{}
	bad.Set("fc.weight.exp_avg", nets.NewTensor(5))
	if err := opt.LoadState(bad); !errors.Is(err, ErrState) {
		t.Errorf("LoadState with a wrong length: %v, want ErrState", err)
	}
}

func TestParams(t *testing.T) {
	t.Parallel()
	net := &nets.Net{Params: []nets.Param{
		{Name: "bn.weight", Kind: nets.Weight},
		{Name: "bn.running_mean", Kind: nets.Buffer},
		{Name: "fc.weight", Kind: nets.Weight},
	}}
	w := &nets.StateDict{}
	w.Set("bn.weight", nets.NewTensor(2))
	w.Set("bn.running_mean", nets.NewTensor(2))
	w.Set("fc.weight", nets.NewTensor(2, 3))
	ps, err := Params(net, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Name != "bn.weight" || ps[1].Name != "fc.weight" || len(ps[1].Grad) != 6 {
		t.Fatalf("Params = %+v", ps)
	}
	ps[1].Grad[0] = 1
	opt, err := NewSGD([]*Group{{Params: ps}}, &SGDConfig{LR: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	opt.Step()
	if fc, _ := w.Get("fc.weight"); fc.Data[0] != -0.5 {
		t.Errorf("fc.weight[0] = %v after a step, want -0.5 (Data must alias the state dict)", fc.Data[0])
	}
	g := &nets.StateDict{}
	g.Set("bn.weight", nets.NewTensor(3))
	if _, err := Params(nil, w, g); !errors.Is(err, ErrConfig) {
		t.Errorf("Params with a mismatched gradient: %v, want ErrConfig", err)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	p := func() []*Group { return []*Group{{Params: []Param{{Data: []float32{1}, Grad: []float32{1}}}}} }
	for name, f := range map[string]func() error{
		"sgd without lr":       func() error { _, err := NewSGD(p(), nil); return err },
		"sgd nesterov":         func() error { _, err := NewSGD(p(), &SGDConfig{LR: 1, Nesterov: true}); return err },
		"adam beta":            func() error { _, err := NewAdam(p(), &AdamConfig{LR: 1, Beta1: 1}); return err },
		"adamw negative decay": func() error { c := DefaultAdamW(); c.WeightDecay = -1; _, err := NewAdamW(p(), &c); return err },
		"rmsprop negative lr":  func() error { c := DefaultRMSprop(); c.LR = -1; _, err := NewRMSprop(p(), &c); return err },
		"length mismatch": func() error {
			_, err := NewRAdam([]*Group{{Params: []Param{{Data: []float32{1}, Grad: nil}}}}, nil)
			return err
		},
		"no groups": func() error { _, err := NewAdagrad(nil, nil); return err },
	} {
		if err := f(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
}

// TestNAdamFixMuProductNext checks torch 2.x's NAdam step size on one step
// against the formula evaluated in float64.
func TestNAdamFixMuProductNext(t *testing.T) {
	t.Parallel()
	for _, fix := range []bool{false, true} {
		p := []float32{0}
		c := DefaultNAdam()
		c.LR, c.FixMuProductNext = 1, fix
		opt, err := NewNAdam([]*Group{{Params: []Param{{Data: p, Grad: []float32{1}}}}}, &c)
		if err != nil {
			t.Fatal(err)
		}
		opt.Step()
		mu := 0.9 * (1 - 0.5*math.Pow(0.96, 0.004))
		muNext := 0.9 * (1 - 0.5*math.Pow(0.96, 0.008))
		prodNext := mu * muNext
		if !fix {
			prodNext *= mu
		}
		// m = 0.1, v/(1−β₂) = 1, so denom ≈ 1.
		want := -(1-mu)/(1-mu) - muNext/(1-prodNext)*0.1
		if d := math.Abs(float64(p[0]) - want); d > 1e-6 {
			t.Errorf("fix %v: p = %v, want %v", fix, p[0], want)
		}
	}
}

// TestLoadStatePartial loads a state without the momentum buffer an
// RMSprop with momentum needs; Step must start it from zero, not fail.
func TestLoadStatePartial(t *testing.T) {
	t.Parallel()
	p := []Param{{Name: "x", Data: []float32{1, 2}, Grad: []float32{1, 1}}}
	plain, err := NewRMSprop([]*Group{{Params: p}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain.Step()
	c := DefaultRMSprop()
	c.Momentum = 0.9
	mom, err := NewRMSprop([]*Group{{Params: p}}, &c)
	if err != nil {
		t.Fatal(err)
	}
	if err := mom.LoadState(plain.State()); err != nil {
		t.Fatal(err)
	}
	mom.Step()
	if _, ok := mom.State().Get("x.momentum_buffer"); !ok {
		t.Error("no momentum buffer after a step")
	}
}
