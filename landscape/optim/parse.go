package optim

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ParseSchedule makes the learning-rate schedule a training run of epochs
// epochs names, to be stepped once an epoch, or nil for a constant rate:
//
//	"" or "constant"   no schedule
//	"cosine"           CosineAnnealingLR over the epochs, down to 0
//	"step:N:GAMMA"     StepLR: the rate times GAMMA every N epochs
//	"warmup:N"         LinearLR from 0.1 of the rate up to it over N epochs
//	"warmup:N,cosine"  the warm-up, then cosine annealing over the epochs left
//
// Errors name the schedule.
func ParseSchedule(s string, opt Optimizer, epochs int) (Scheduler, error) {
	bad := func(why string) (Scheduler, error) {
		return nil, fmt.Errorf("optim: schedule %q: %s: %w", s, why, ErrConfig)
	}
	parts := strings.Split(s, ",")
	head := strings.Split(strings.TrimSpace(parts[0]), ":")
	switch {
	case s == "" || s == "constant":
		return nil, nil
	case s == "cosine":
		return NewCosineAnnealingLR(opt, epochs, 0)
	case head[0] == "step" && len(parts) == 1:
		if len(head) != 3 {
			return bad("want step:N:GAMMA")
		}
		n, err1 := strconv.Atoi(head[1])
		gamma, err2 := strconv.ParseFloat(head[2], 64)
		if err1 != nil || err2 != nil || n < 1 || !(gamma > 0) {
			return bad("want step:N:GAMMA, N epochs ≥ 1 and GAMMA > 0")
		}
		return NewStepLR(opt, n, gamma)
	case head[0] == "warmup":
		if len(head) != 2 || len(parts) > 2 || len(parts) == 2 && strings.TrimSpace(parts[1]) != "cosine" {
			return bad("want warmup:N or warmup:N,cosine")
		}
		n, err := strconv.Atoi(head[1])
		if err != nil || n < 1 || len(parts) == 2 && n >= epochs {
			return bad("want a warm-up of 1 epoch or more, shorter than the run before cosine")
		}
		warm, err := NewLinearLR(opt, 0.1, 1, n)
		if err != nil || len(parts) == 1 {
			return warm, err
		}
		cos, err := NewCosineAnnealingLR(opt, epochs-n, 0)
		if err != nil {
			return nil, err
		}
		return NewSequentialLR(opt, []Scheduler{warm, cos}, []int{n})
	}
	return bad("want constant, cosine, step:N:GAMMA, warmup:N or warmup:N,cosine")
}

// SpansEpochs reports whether the schedule s (see [ParseSchedule]) is
// drawn over the run's epochs, so that a run continued for more epochs
// would follow another curve: a cosine's.
func SpansEpochs(s string) bool { return strings.Contains(strings.ToLower(s), "cosine") }

// Run is one training run of a race: an optimizer's name for [New] and
// its learning rate (0: the optimizer's default; a toy function's own for
// SGD).
type Run struct {
	Optimizer string
	LR        float64
}

// ParseRuns parses a list of runs: comma-separated optimizer names, each
// NAME or NAME:LR, the name with settings or not (see [New]:
// "adam(weight_decay=1e-4):0.001"); lr is the learning rate of those
// without one.
func ParseRuns(s string, lr float64) ([]Run, error) {
	var runs []Run
	for _, spec := range splitTop(s) {
		spec = strings.TrimSpace(spec)
		name, rate, hasRate := spec, "", false
		if i := strings.LastIndex(spec, ":"); i > strings.LastIndex(spec, ")") {
			name, rate, hasRate = spec[:i], spec[i+1:], true
		}
		r := Run{Optimizer: name, LR: lr}
		if hasRate {
			v, err := strconv.ParseFloat(rate, 64)
			if err != nil || !(v > 0) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("optim: optimizers %q: the learning rate of %s must be a positive number", s, name)
			}
			r.LR = v
		}
		if !slices.Contains(Names(), Base(name)) {
			return nil, fmt.Errorf("optim: optimizers %q: unknown optimizer %q; want one of %s", s, Base(name), strings.Join(Names(), ", "))
		}
		if _, err := New(name, []*Group{{}}, 1); err != nil { // its settings
			return nil, err // names the optimizer and the setting
		}
		runs = append(runs, r)
	}
	return runs, Distinct(runs)
}

// Distinct returns an error naming the first run given twice: the same
// optimizer with the same settings (see [Canonical]) at the same learning
// rate, which would train into one folder.
func Distinct(runs []Run) error {
	same := func(a, b string) bool {
		ca, err1 := Canonical(a)
		cb, err2 := Canonical(b)
		return err1 == nil && err2 == nil && ca == cb
	}
	for i, r := range runs {
		for _, e := range runs[:i] {
			if same(e.Optimizer, r.Optimizer) && e.LR == r.LR {
				if r.LR == 0 {
					return fmt.Errorf("optim: %s is given twice", r.Optimizer)
				}
				return fmt.Errorf("optim: %s at lr %g is given twice", r.Optimizer, r.LR)
			}
		}
	}
	return nil
}
