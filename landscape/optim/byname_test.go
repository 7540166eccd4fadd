package optim

import (
	"errors"
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
