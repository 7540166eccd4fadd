package landscape

import (
	"context"
	"fmt"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/backend/cuda"
)

// newEvaluator builds the evaluator for p on device d and names its
// backend ("cpu" or "cuda"). With "auto" a GPU that fails to start is
// reported through logf and the CPU used instead.
func newEvaluator(p *backend.Problem, d Device, logf func(string, ...any)) (backend.Evaluator, string, error) {
	return onDevice(d, "", logf,
		func(o cuda.Options) (backend.Evaluator, error) {
			if o.Device == AllGPUs {
				return allGPUs(p, o, logf)
			}
			return cuda.New(p, &o)
		},
		func() (backend.Evaluator, error) { return cpu.New(p, &d.CPU) })
}

// onDevice makes what runs on device d: on a GPU by gpu, given d's CUDA
// options with the ordinal d names (AllGPUs for cuda:all), or on the CPU
// by host; it names the backend ("cpu" or "cuda"). With "auto" it tries
// the first GPU if there is one, and where that fails reports it through
// logf (what says what for) and uses the CPU.
func onDevice[T any](d Device, what string, logf func(string, ...any), gpu func(cuda.Options) (T, error), host func() (T, error)) (T, string, error) {
	var none T
	kind, ordinal, err := ParseDevice(d.Name)
	if err != nil {
		return none, "", err
	}
	if kind == "auto" {
		if r := cuda.Probe(); len(r.Devices) > 0 {
			x, err := gpu(d.CUDA)
			if err == nil {
				return x, "cuda", nil
			}
			logf("device auto: %s found but not usable%s (%v); computing on the CPU", r.Devices[0], what, err)
		}
		kind = "cpu"
	}
	if kind == "cuda" {
		o := d.CUDA
		o.Device = ordinal
		x, err := gpu(o)
		if err != nil {
			return none, "", err
		}
		return x, "cuda", nil
	}
	x, err := host()
	if err != nil {
		return none, "", err
	}
	return x, "cpu", nil
}

// allGPUs returns a pool of evaluators of p, one on each GPU of the
// machine, with one batch size: each GPU sizes its batch from its own free
// memory, and the batch decides the order of summation, so the pool takes
// the smallest for all (a point's bits then do not depend on which GPU
// computed it).
func allGPUs(p *backend.Problem, opts cuda.Options, logf func(string, ...any)) (backend.Evaluator, error) {
	r := cuda.Probe()
	if len(r.Devices) == 0 {
		return nil, fmt.Errorf("landscape: device cuda:all: no GPU: %s", r.Why)
	}
	var members []backend.Evaluator
	closeAll := func() {
		for _, m := range members {
			m.Close()
		}
		members = nil
	}
	open := func(batch int) error {
		for i := range r.Devices {
			o := opts
			o.Device, o.MaxBatch = i, batch
			ev, err := cuda.New(p, &o)
			if err != nil {
				closeAll()
				return fmt.Errorf("landscape: device cuda:all: cuda:%d: %w", i, err)
			}
			members = append(members, ev)
		}
		return nil
	}
	if err := open(opts.MaxBatch); err != nil {
		return nil, err
	}
	batch := members[0].BatchSize()
	for _, m := range members {
		batch = min(batch, m.BatchSize())
	}
	for _, m := range members {
		if m.BatchSize() != batch {
			logf("device cuda:all: the GPUs' free memory allows different batches; every GPU takes %d", batch)
			closeAll()
			if err := open(batch); err != nil {
				return nil, err
			}
			break
		}
	}
	pool, err := backend.NewPool(members...)
	if err != nil {
		closeAll()
		return nil, err
	}
	return pool, nil
}

// newDifferentiator builds the differentiator of p's first dataset with
// respect to params on device d, as newEvaluator chooses the device;
// cuda:all differentiates on the first GPU.
func newDifferentiator(p *backend.Problem, params []string, d Device, logf func(string, ...any)) (backend.Differentiator, error) {
	diff, _, err := onDevice(d, " for derivatives", logf,
		func(o cuda.Options) (backend.Differentiator, error) {
			o.Device = max(o.Device, 0)
			return cuda.NewDifferentiator(p, params, &o)
		},
		func() (backend.Differentiator, error) { return cpu.NewDifferentiator(p, params, &d.CPU) })
	return diff, err
}

// evaluate evaluates p at coords on device d and returns the values of
// each, calling each of after (a progress step) once per point.
func evaluate(ctx context.Context, p *backend.Problem, d Device, coords []backend.Coord, after ...func()) ([][]float64, error) {
	ev, _, err := newEvaluator(p, d, func(string, ...any) {})
	if err != nil {
		return nil, err
	}
	defer ev.Close()
	out := make([][]float64, len(coords))
	err = ev.Evaluate(ctx, coords, func(i int, values []float64) {
		out[i] = values
		for _, f := range after {
			f()
		}
	})
	return out, err
}
