package optim

import (
	"math"
	"testing"
)

type schedFixture struct {
	BaseLR    float64 `json:"base_lr"`
	Schedules []struct {
		Name string    `json:"name"`
		LRs  []float64 `json:"lrs"`
	} `json:"schedules"`
}

// makeSched builds the schedules of testdata/make.py.
func makeSched(t *testing.T, name string, opt Optimizer) Scheduler {
	t.Helper()
	must := func(s Scheduler, err error) Scheduler {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	switch name {
	case "step":
		return must(NewStepLR(opt, 7, 0.5))
	case "step_default":
		return must(NewStepLR(opt, 3, 0.1))
	case "cosine":
		return must(NewCosineAnnealingLR(opt, 10, 1e-3))
	case "cosine_zero":
		return must(NewCosineAnnealingLR(opt, 30, 0))
	case "linear":
		return must(NewLinearLR(opt, 0.1, 1, 5))
	case "linear_default":
		return must(NewLinearLR(opt, 1.0/3, 1, 5))
	case "warmup_cosine":
		a := must(NewLinearLR(opt, 0.1, 1, 5))
		b := must(NewCosineAnnealingLR(opt, 25, 0))
		return must(NewSequentialLR(opt, []Scheduler{a, b}, []int{5}))
	case "warmup_step":
		a := must(NewLinearLR(opt, 0.25, 1, 4))
		b := must(NewStepLR(opt, 5, 0.3))
		return must(NewSequentialLR(opt, []Scheduler{a, b}, []int{4}))
	}
	t.Fatalf("unknown schedule %q", name)
	return nil
}

// TestSchedulesAgainstPyTorch compares the learning rate after each of 30
// scheduler steps with torch.optim.lr_scheduler's. StepLR and LinearLR use
// only + − × ÷ and match exactly; CosineAnnealingLR calls cos, where Go's
// math.Cos and glibc's may differ in the last bit, so it is allowed 4 ulp
// (float64) relative.
func TestSchedulesAgainstPyTorch(t *testing.T) {
	var fx schedFixture
	readJSON(t, "schedules.json", &fx)
	for _, sc := range fx.Schedules {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			opt, err := NewSGD([]*Group{{Params: []Param{{Data: []float32{0}, Grad: []float32{0}}}}}, &SGDConfig{LR: fx.BaseLR})
			if err != nil {
				t.Fatal(err)
			}
			s := makeSched(t, sc.Name, opt)
			exact := 0
			for i, want := range sc.LRs {
				if i > 0 {
					opt.Step()
					s.Step()
				}
				got := s.LastLR()[0]
				if got2 := opt.Groups()[0].LR; got2 != got {
					t.Fatalf("epoch %d: LastLR %v, group LR %v", i, got, got2)
				}
				if got == want {
					exact++
					continue
				}
				if d := math.Abs(got-want) / math.Abs(want); d > 4*0x1p-52 {
					t.Fatalf("epoch %d: lr %v, PyTorch %v (relative %.3g)", i, got, want, d)
				}
			}
			t.Logf("%d of %d learning rates bit-identical", exact, len(sc.LRs))
		})
	}
}

func TestSchedulerErrors(t *testing.T) {
	t.Parallel()
	opt, err := NewSGD([]*Group{{Params: []Param{{Data: []float32{0}, Grad: []float32{0}}}}}, &SGDConfig{LR: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewStepLR(opt, 0, 0.1); err == nil {
		t.Error("StepLR with step size 0: no error")
	}
	if _, err := NewCosineAnnealingLR(opt, 0, 0); err == nil {
		t.Error("CosineAnnealingLR with T_max 0: no error")
	}
	if _, err := NewLinearLR(opt, 0, 1, 5); err == nil {
		t.Error("LinearLR with start factor 0: no error")
	}
	a, _ := NewStepLR(opt, 2, 0.5)
	if _, err := NewSequentialLR(opt, []Scheduler{a}, []int{3}); err == nil {
		t.Error("SequentialLR with too many milestones: no error")
	}
}
