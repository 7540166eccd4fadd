package backend_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/backend/backendtest"
	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/nets"
)

// A pool of three CPU evaluators gives every point once, the same bits as
// one evaluator alone.
func TestPoolGivesEveryPointAsOneEvaluatorDoes(t *testing.T) {
	p := backendtest.Problem(t, "resnet20", nets.Config{Height: 8, Width: 8}, 6, true)
	var coords []backend.Coord
	for i := range 13 {
		coords = append(coords, backend.Coord{X: float64(i)/6 - 1, Y: float64(i%4)/3 - 0.5})
	}
	one, err := cpu.New(p, &cpu.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	want := backendtest.Evaluate(t, one, coords)
	var members []backend.Evaluator
	for range 3 {
		e, err := cpu.New(p, &cpu.Options{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, e)
	}
	pool, err := backend.NewPool(members...)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	seen := make([]int, len(coords))
	got := make([][]float64, len(coords))
	if err := pool.Evaluate(context.Background(), coords, func(i int, v []float64) {
		seen[i]++
		got[i] = v
	}); err != nil {
		t.Fatal(err)
	}
	for i := range coords {
		if seen[i] != 1 {
			t.Fatalf("point %d emitted %d times", i, seen[i])
		}
		for k := range want[i] {
			if math.Float64bits(got[i][k]) != math.Float64bits(want[i][k]) {
				t.Errorf("point %v: %v from the pool, %v from one evaluator", coords[i], got[i], want[i])
			}
		}
	}
	if d := pool.Describe(); !strings.HasPrefix(d, "3 evaluators: ") {
		t.Errorf("Describe: %q", d)
	}
}

// failing is an evaluator that fails at its third point.
type failing struct {
	backend.Evaluator
	calls atomic.Int32
}

func (f *failing) Evaluate(ctx context.Context, coords []backend.Coord, emit func(int, []float64)) error {
	if f.calls.Add(1) == 3 {
		return errors.New("the device fell off the bus")
	}
	return f.Evaluator.Evaluate(ctx, coords, emit)
}

// A member's error stops the pool and is its error; the points emitted
// before stay emitted, and a cancelled context gives context.Canceled.
// Members computing differently are refused.
func TestPoolStopsAtAnErrorAndRefusesMixedArithmetic(t *testing.T) {
	p := backendtest.Problem(t, "resnet20", nets.Config{Height: 8, Width: 8}, 3, true)
	coords := make([]backend.Coord, 20)
	a, err := cpu.New(p, &cpu.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := backend.NewPool(&failing{Evaluator: a})
	if err != nil {
		t.Fatal(err)
	}
	emitted := 0
	err = pool.Evaluate(context.Background(), coords, func(int, []float64) { emitted++ })
	if err == nil || !strings.Contains(err.Error(), "fell off the bus") || emitted != 2 {
		t.Errorf("a member failing at its third point: %v, %d points emitted; want its error after 2", err, emitted)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := pool.Evaluate(ctx, coords, func(int, []float64) {}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
	pool.Close()

	b, err := cpu.New(p, &cpu.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	q := *p
	q.BatchSize = 2
	c, err := cpu.New(&q, &cpu.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := backend.NewPool(b, c); err == nil || !strings.Contains(err.Error(), "compute alike") {
		t.Errorf("members with batches of %d and %d: %v, want them refused", b.BatchSize(), c.BatchSize(), err)
	}
}
