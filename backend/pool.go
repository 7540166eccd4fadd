package backend

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Pool is an Evaluator that deals the points of one problem to several
// evaluators of it, one point at a time to whichever is free, so that
// several GPUs of a node fill one surface. Each point is computed whole
// by one member, and members must compute the same arithmetic with the
// same batch size ([NewPool] checks it): a point's values are then the
// same bits whichever member computed it, and the same as one member
// alone would give.
type Pool struct {
	members []Evaluator
}

var _ Evaluator = (*Pool)(nil)

// NewPool returns a pool of members, evaluators of one problem. They must
// agree on Arithmetic and BatchSize, else the pool would mix points
// computed two ways; the error says how they differ.
func NewPool(members ...Evaluator) (*Pool, error) {
	if len(members) == 0 {
		return nil, errors.New("backend: a pool of no evaluators")
	}
	first := members[0]
	for _, m := range members[1:] {
		if m.Arithmetic() != first.Arithmetic() || m.BatchSize() != first.BatchSize() {
			return nil, fmt.Errorf("backend: a pool's evaluators must compute alike: %s (%s, batch %d) and %s (%s, batch %d)",
				first.Describe(), first.Arithmetic(), first.BatchSize(), m.Describe(), m.Arithmetic(), m.BatchSize())
		}
	}
	return &Pool{members: members}, nil
}

// Evaluate implements [Evaluator]: each member takes the next point not
// yet taken, in order, as soon as it is free. emit is called from one
// goroutine at a time. On an error or a cancellation no member takes
// another point; the points already emitted stay emitted.
func (p *Pool) Evaluate(ctx context.Context, coords []Coord, emit func(i int, values []float64)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu      sync.Mutex // serialises emit and guards next and failure
		next    int
		failure error
		wg      sync.WaitGroup
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if failure != nil || next == len(coords) {
			return 0, false
		}
		next++
		return next - 1, true
	}
	for _, m := range p.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i, ok := take()
				if !ok {
					return
				}
				err := m.Evaluate(ctx, coords[i:i+1], func(_ int, values []float64) {
					mu.Lock()
					defer mu.Unlock()
					emit(i, values)
				})
				if err != nil {
					mu.Lock()
					if failure == nil {
						failure = err
					}
					mu.Unlock()
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	return failure // the first error: ctx.Err() if ctx was cancelled
}

// Describe lists the members.
func (p *Pool) Describe() string {
	var parts []string
	for _, m := range p.members {
		parts = append(parts, m.Describe())
	}
	return fmt.Sprintf("%d evaluators: %s", len(p.members), strings.Join(parts, "; "))
}

// Arithmetic is the members' common arithmetic.
func (p *Pool) Arithmetic() string { return p.members[0].Arithmetic() }

// BatchSize is the members' common batch size.
func (p *Pool) BatchSize() int { return p.members[0].BatchSize() }

// Close closes every member and returns the first error.
func (p *Pool) Close() error {
	var first error
	for _, m := range p.members {
		if err := m.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
