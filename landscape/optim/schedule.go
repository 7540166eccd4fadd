package optim

import (
	"fmt"
	"math"
	"sort"
)

// A Scheduler sets the learning rates of an optimizer's groups, once per
// epoch (or per step, as the training loop chooses). Call Step after the
// optimizer's Step, as PyTorch expects.
type Scheduler interface {
	// Step advances the schedule by one epoch and sets every group's LR.
	Step()
	// LastLR returns the learning rates last set, one per group.
	LastLR() []float64
}

// The float64 arithmetic below follows Python's order of operations; the
// float64(…) conversions around products stop the compiler from fusing
// them into multiply-adds, which Python never does.

// rule is the part of a schedule that differs between schedules: PyTorch's
// get_lr (recursive, from the groups' current learning rates) and
// _get_closed_form_lr (from the base learning rates).
type rule interface {
	chain(s *sched, lr, base float64) float64
	closed(s *sched, base float64) float64
}

// sched mirrors torch.optim.lr_scheduler._LRScheduler.
type sched struct {
	groups    []*Group
	baseLRs   []float64
	lastEpoch int
	stepCount int
	lastLR    []float64
	rule      rule
}

func newSched(opt Optimizer, r rule) *sched {
	s := &sched{groups: opt.Groups(), lastEpoch: -1, rule: r}
	for _, g := range s.groups {
		if !g.hasInitialLR {
			g.initialLR, g.hasInitialLR = g.LR, true
		}
		s.baseLRs = append(s.baseLRs, g.initialLR)
	}
	s.initialStep()
	return s
}

func (s *sched) initialStep() {
	s.stepCount = 0
	s.Step()
}

// Step advances one epoch; see [Scheduler].
func (s *sched) Step() {
	s.stepCount++
	s.lastEpoch++
	lrs := make([]float64, len(s.groups))
	for i, g := range s.groups {
		lrs[i] = s.rule.chain(s, g.LR, s.baseLRs[i])
	}
	s.set(lrs)
}

// stepTo jumps to epoch e with the closed form, as step(epoch) does.
func (s *sched) stepTo(e int) {
	s.stepCount++
	s.lastEpoch = e
	lrs := make([]float64, len(s.groups))
	for i := range s.groups {
		lrs[i] = s.rule.closed(s, s.baseLRs[i])
	}
	s.set(lrs)
}

func (s *sched) set(lrs []float64) {
	for i, g := range s.groups {
		g.LR = lrs[i]
	}
	s.lastLR = lrs
}

// LastLR returns the learning rates last set; see [Scheduler].
func (s *sched) LastLR() []float64 { return s.lastLR }

type stepRule struct {
	size  int
	gamma float64
}

func (r stepRule) chain(s *sched, lr, _ float64) float64 {
	if s.lastEpoch == 0 || s.lastEpoch%r.size != 0 {
		return lr
	}
	return lr * r.gamma
}

func (r stepRule) closed(s *sched, base float64) float64 {
	return base * pow(r.gamma, float64(s.lastEpoch/r.size))
}

// NewStepLR returns torch.optim.lr_scheduler.StepLR: every stepSize epochs
// the learning rate is multiplied by gamma (PyTorch's default 0.1).
func NewStepLR(opt Optimizer, stepSize int, gamma float64) (Scheduler, error) {
	if stepSize < 1 {
		return nil, fmt.Errorf("optim: step lr: step size %d < 1: %w", stepSize, ErrConfig)
	}
	return newSched(opt, stepRule{stepSize, gamma}), nil
}

type cosineRule struct {
	tMax   int
	etaMin float64
}

func (r cosineRule) chain(s *sched, lr, base float64) float64 {
	e, t, eta := float64(s.lastEpoch), float64(r.tMax), r.etaMin
	switch {
	case s.lastEpoch == 0:
		return lr
	case s.stepCount == 1 && s.lastEpoch > 0:
		return eta + (base-eta)*(1+cos(e*math.Pi/t))/2
	case (s.lastEpoch-1-r.tMax)%(2*r.tMax) == 0:
		return lr + (base-eta)*(1-cos(math.Pi/t))/2
	}
	return float64((1+cos(math.Pi*e/t))/(1+cos(math.Pi*(e-1)/t))*(lr-eta)) + eta
}

func (r cosineRule) closed(s *sched, base float64) float64 {
	return r.etaMin + (base-r.etaMin)*(1+cos(math.Pi*float64(s.lastEpoch)/float64(r.tMax)))/2
}

// NewCosineAnnealingLR returns torch.optim.lr_scheduler.CosineAnnealingLR:
// the learning rate follows half a cosine from its initial value down to
// etaMin over tMax epochs (and back up over the next tMax, as PyTorch's
// recursive form does).
func NewCosineAnnealingLR(opt Optimizer, tMax int, etaMin float64) (Scheduler, error) {
	if tMax < 1 {
		return nil, fmt.Errorf("optim: cosine annealing lr: T_max %d < 1: %w", tMax, ErrConfig)
	}
	return newSched(opt, cosineRule{tMax, etaMin}), nil
}

type linearRule struct {
	start, end float64
	total      int
}

func (r linearRule) chain(s *sched, lr, _ float64) float64 {
	if s.lastEpoch == 0 {
		return lr * r.start
	}
	if s.lastEpoch > r.total {
		return lr
	}
	return lr * (1. + (r.end-r.start)/(float64(float64(r.total)*r.start)+float64(float64(s.lastEpoch-1)*(r.end-r.start))))
}

func (r linearRule) closed(s *sched, base float64) float64 {
	return base * (r.start + (r.end-r.start)*float64(min(r.total, s.lastEpoch))/float64(r.total))
}

// NewLinearLR returns torch.optim.lr_scheduler.LinearLR, a linear warm-up:
// the learning rate is scaled by a factor going linearly from startFactor
// to endFactor over totalIters epochs (PyTorch's defaults: 1/3, 1, 5).
func NewLinearLR(opt Optimizer, startFactor, endFactor float64, totalIters int) (Scheduler, error) {
	if !(startFactor > 0 && startFactor <= 1) || !(endFactor >= 0 && endFactor <= 1) {
		return nil, fmt.Errorf("optim: linear lr: factors %g, %g must lie in (0, 1] and [0, 1]: %w",
			startFactor, endFactor, ErrConfig)
	}
	if totalIters < 1 {
		return nil, fmt.Errorf("optim: linear lr: total iters %d < 1: %w", totalIters, ErrConfig)
	}
	return newSched(opt, linearRule{startFactor, endFactor, totalIters}), nil
}

// Sequential is torch.optim.lr_scheduler.SequentialLR: it runs schedulers
// one after another, switching at the milestone epochs.
type Sequential struct {
	groups     []*Group
	scheds     []*sched
	milestones []int
	lastEpoch  int
	lastLR     []float64
}

var _ Scheduler = (*Sequential)(nil)

// NewSequentialLR returns a schedule running scheds in turn, the i-th from
// epoch milestones[i-1] on (restarted at its epoch 0 there). The schedulers
// must be made by this package, in order, for opt, immediately before.
func NewSequentialLR(opt Optimizer, scheds []Scheduler, milestones []int) (*Sequential, error) {
	if len(scheds) == 0 || len(milestones) != len(scheds)-1 {
		return nil, fmt.Errorf("optim: sequential lr: %d schedulers need %d milestones, got %d: %w",
			len(scheds), max(len(scheds)-1, 0), len(milestones), ErrConfig)
	}
	if !sort.IntsAreSorted(milestones) {
		return nil, fmt.Errorf("optim: sequential lr: milestones %v not sorted: %w", milestones, ErrConfig)
	}
	q := &Sequential{groups: opt.Groups(), milestones: milestones}
	for i, sc := range scheds {
		s, ok := sc.(*sched)
		if !ok || len(s.groups) != len(q.groups) || (len(s.groups) > 0 && s.groups[0] != q.groups[0]) {
			return nil, fmt.Errorf("optim: sequential lr: scheduler %d is not one of this package's for this optimizer: %w", i, ErrConfig)
		}
		q.scheds = append(q.scheds, s)
	}
	for _, g := range q.groups {
		g.LR = g.initialLR
	}
	for _, s := range q.scheds {
		s.lastEpoch--
	}
	q.scheds[0].initialStep()
	q.lastLR = q.scheds[0].lastLR
	return q, nil
}

// Step advances one epoch; see [Scheduler].
func (q *Sequential) Step() {
	q.lastEpoch++
	idx := sort.Search(len(q.milestones), func(i int) bool { return q.milestones[i] > q.lastEpoch })
	s := q.scheds[idx]
	if idx > 0 && q.milestones[idx-1] == q.lastEpoch {
		s.stepTo(0)
	} else {
		s.Step()
	}
	q.lastLR = s.lastLR
}

// LastLR returns the learning rates last set; see [Scheduler].
func (q *Sequential) LastLR() []float64 { return q.lastLR }
