package landscape

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/landscape-go/landscape/backend"
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

// GradNorm asks a surface for the norm of the gradient of the first
// split's mean loss at every point, with respect to the parameters Params
// selects (the zero value is Rank2Params, as for [Curvature]): where the
// surface is steep, and how far a point is from stationary.
type GradNorm struct {
	Params HessianParams
}

// derivativeEvaluator adds the columns computed from derivatives, the
// gradient norm and the curvature, to the values of the evaluator it
// wraps: each point's loss and accuracy first, then the gradient's norm,
// then the Hessian's extreme eigenvalues, so that a point is emitted, and
// saved, whole.
type derivativeEvaluator struct {
	backend.Evaluator
	grad, hess backend.Differentiator // nil where the column is not asked for; the same if they can be
	grad32     []float32
	opts       curvature.Options
	logf       func(string, ...any)
	warnf      func(string, ...any)
}

// newDerivativeEvaluator wraps ev, the evaluator of p, with the columns
// g and c ask for (either may be nil), computed on device d (as the evaluator's) from the first
// split's loss.
func newDerivativeEvaluator(ev backend.Evaluator, p *backend.Problem, g *GradNorm, c *Curvature, prov surface.Provenance, d Device, logf, warnf func(string, ...any)) (*derivativeEvaluator, error) {
	q := *p
	q.Data = p.Data[:1]
	e := &derivativeEvaluator{Evaluator: ev, logf: logf, warnf: warnf}
	differentiator := func(params HessianParams) (backend.Differentiator, error) {
		diff, err := newDifferentiator(&q, hessianParams(p.Net, params), d, logf)
		if err != nil {
			return nil, fmt.Errorf("landscape: derivatives at every point: %w", err)
		}
		return diff, nil
	}
	var err error
	if g != nil {
		if e.grad, err = differentiator(g.Params); err != nil {
			return nil, err
		}
		e.grad32 = make([]float32, e.grad.Dim())
		logf("gradient norm at every point: of the %s loss, %s parameters (%d); %s", prov.GradNorm.Split, prov.GradNorm.Params, e.grad.Dim(), e.grad.Describe())
	}
	if c != nil {
		e.hess = e.grad
		if g == nil || g.Params != c.Params {
			if e.hess, err = differentiator(c.Params); err != nil {
				e.Close()
				return nil, err
			}
		}
		info := prov.Curvature
		e.opts = curvature.Options{Tol: info.Tol, Seed: info.Seed}
		logf("curvature: λmax, λmin and |λmin/λmax| of the Hessian of the %s loss at every point, %s parameters (%d), Lanczos to %g; %s",
			info.Split, info.Params, e.hess.Dim(), info.Tol, e.hess.Describe())
	}
	return e, nil
}

// Evaluate evaluates the points one at a time: the wrapped evaluator's
// values, then the derivatives' columns, appended.
func (e *derivativeEvaluator) Evaluate(ctx context.Context, coords []backend.Coord, emit func(i int, values []float64)) error {
	for k, at := range coords {
		var values []float64
		if err := e.Evaluator.Evaluate(ctx, coords[k:k+1], func(_ int, v []float64) { values = v }); err != nil {
			return err
		}
		if e.grad != nil {
			if _, err := e.grad.Gradient(ctx, at, e.grad32); err != nil {
				return fmt.Errorf("landscape: gradient at (%g, %g): %w", at.X, at.Y, err)
			}
			values = append(values, norm32(e.grad32))
		}
		if e.hess != nil {
			lmax, lmin, err := e.extremes(ctx, at)
			if err != nil {
				return err
			}
			values = append(values, lmax, lmin, math.Abs(lmin/lmax))
		}
		emit(k, values)
	}
	return nil
}

// extremes returns the largest and smallest eigenvalues of the Hessian at
// the point at. Estimates that miss the tolerance within the iterations
// allowed are kept, with a warning naming the point: one slow point
// should not cost the map.
func (e *derivativeEvaluator) extremes(ctx context.Context, at backend.Coord) (lmax, lmin float64, err error) {
	op := &hessianOperator{d: e.hess, at: at, log: func(string, ...any) {}}
	res, err := curvature.Extremes(ctx, op, &e.opts)
	if errors.Is(err, curvature.ErrNotConverged) && len(res.Pairs) == 2 {
		e.warnf("curvature at (%g, %g): %v; the map keeps the estimates", at.X, at.Y, err)
		err = nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("landscape: curvature at (%g, %g): %w", at.X, at.Y, err)
	}
	return res.Pairs[1].Value, res.Pairs[0].Value, nil
}

// Describe names every computation.
func (e *derivativeEvaluator) Describe() string {
	d := e.hess
	if d == nil {
		d = e.grad
	}
	return e.Evaluator.Describe() + "; derivatives: " + d.Describe()
}

// Close releases everything.
func (e *derivativeEvaluator) Close() error {
	errs := []error{e.Evaluator.Close()}
	if e.grad != nil {
		errs = append(errs, e.grad.Close())
	}
	if e.hess != nil && e.hess != e.grad {
		errs = append(errs, e.hess.Close())
	}
	return errors.Join(errs...)
}
