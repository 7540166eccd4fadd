package landscape

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/landscape/curvature"
	"github.com/landscape-go/landscape/landscape/surface"
	"github.com/landscape-go/landscape/nets"
)

// Curvature asks a surface for a curvature map: at every point, besides
// the loss and accuracy, the largest and smallest eigenvalues of the
// Hessian of the mean loss over the first split's data, and |λmin/λmax|,
// as Li et al. (2018) map in their Fig. 7 (plot_hessian_eigen.py).
// They are found by one Lanczos run per point ([curvature.Extremes]) of
// exact Hessian-vector products at the point's weights, from the same
// seeded start vector at every point, so that a point's values do not
// depend on the shard or the run that computed it.
//
// The reference sums the per-batch mean losses, which multiplies its
// Hessian, and its eigenvalues, by the number of batches; these are the
// Hessian of the mean loss, the same at any batch size. The ratio is the
// same in both.
type Curvature struct {
	// Params selects the parameters (the zero value is Rank2Params, the
	// reference's choice).
	Params HessianParams
	// Tol is the eigenvalues' relative residual; 0 means 1e-3
	// ([DefaultCurvatureTol]). A residual bounds the distance from a Ritz
	// value to some eigenvalue, not to the extreme one: at the reference's
	// eigsh tolerance, 1e-2, Lanczos can stop while its smallest Ritz value
	// still sits in the bulk of eigenvalues near zero. The demo's ResNet-56
	// without skip connections, at its checkpoint, gives λmin −0.017 at
	// 1e-2 and −17.515 at 1e-3 (−17.518 at 1e-4), for 2.8 and 3.3 times
	// the products of 1e-2.
	Tol float64
	// Seed seeds the Lanczos start vector.
	Seed uint64
}

// DefaultCurvatureTol is the tolerance of a curvature map's eigenvalues
// when [Curvature.Tol] is 0 (see [Curvature]).
const DefaultCurvatureTol = 1e-3

// info is c's record in a surface's provenance, for the data of split.
func (c *Curvature) info(split string) *surface.CurvatureInfo {
	tol := c.Tol
	if tol == 0 {
		tol = DefaultCurvatureTol
	}
	return &surface.CurvatureInfo{Split: split, Params: c.Params.String(), Tol: tol, Seed: c.Seed}
}

// hessianParams names the parameters of net whose Hessian p selects, in
// state-dict order.
func hessianParams(net *nets.Net, p HessianParams) []string {
	var names []string
	for _, q := range net.Params {
		if q.Kind == nets.Weight && (p == AllParams || len(q.Shape) > 1) {
			names = append(names, q.Name)
		}
	}
	return names
}

// curvatureEvaluator adds a curvature map's columns to the values of the
// evaluator it wraps: each point's loss and accuracy first, then its
// extreme eigenvalues, so that a point is emitted, and saved, whole.
type curvatureEvaluator struct {
	backend.Evaluator
	diff *cpu.Differentiator
	opts curvature.Options
	logf func(string, ...any)
}

// newCurvatureEvaluator wraps ev, the evaluator of p, with the curvature
// map c asks for, computed on the CPU.
func newCurvatureEvaluator(ev backend.Evaluator, p *backend.Problem, c *Curvature, info *surface.CurvatureInfo, d Device, logf func(string, ...any)) (*curvatureEvaluator, error) {
	names := hessianParams(p.Net, c.Params)
	// The Hessian of the first split's loss alone.
	q := *p
	q.Data = p.Data[:1]
	diff, err := cpu.NewDifferentiator(&q, names, &d.CPU)
	if err != nil {
		return nil, fmt.Errorf("landscape: curvature map: %w", err)
	}
	logf("curvature: λmax, λmin and |λmin/λmax| of the Hessian of the %s loss at every point, %d tensors (%s), %d parameters, Lanczos to %g; %s",
		info.Split, len(names), info.Params, diff.Dim(), info.Tol, diff.Describe())
	return &curvatureEvaluator{Evaluator: ev, diff: diff, opts: curvature.Options{Tol: info.Tol, Seed: info.Seed}, logf: logf}, nil
}

// Evaluate evaluates the points one at a time: the wrapped evaluator's
// values, then the curvature, appended.
func (e *curvatureEvaluator) Evaluate(ctx context.Context, coords []backend.Coord, emit func(i int, values []float64)) error {
	for k, at := range coords {
		var values []float64
		if err := e.Evaluator.Evaluate(ctx, coords[k:k+1], func(_ int, v []float64) { values = v }); err != nil {
			return err
		}
		lmax, lmin, err := e.extremes(ctx, at)
		if err != nil {
			return err
		}
		emit(k, append(values, lmax, lmin, math.Abs(lmin/lmax)))
	}
	return nil
}

// extremes returns the largest and smallest eigenvalues of the Hessian at
// the point at. Estimates that miss the tolerance within the iterations
// allowed are kept, with a warning naming the point: one slow point
// should not cost the map.
func (e *curvatureEvaluator) extremes(ctx context.Context, at backend.Coord) (lmax, lmin float64, err error) {
	op := &hessianOperator{d: e.diff, at: at, log: func(string, ...any) {}}
	res, err := curvature.Extremes(ctx, op, &e.opts)
	if errors.Is(err, curvature.ErrNotConverged) && len(res.Pairs) == 2 {
		e.logf("warning: curvature at (%g, %g): %v; the map keeps the estimates", at.X, at.Y, err)
		err = nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("landscape: curvature at (%g, %g): %w", at.X, at.Y, err)
	}
	return res.Pairs[1].Value, res.Pairs[0].Value, nil
}

// Describe names both computations.
func (e *curvatureEvaluator) Describe() string {
	return e.Evaluator.Describe() + "; curvature: " + e.diff.Describe()
}

// Close releases both.
func (e *curvatureEvaluator) Close() error {
	return errors.Join(e.Evaluator.Close(), e.diff.Close())
}
