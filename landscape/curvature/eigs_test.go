package curvature

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// spectra are the test matrices' eigenvalues, each used as a diagonal
// matrix and rotated by a random orthogonal Q.
var spectra = []struct {
	name   string
	values []float64
}{
	{"positive definite", linspace(0.5, 40, 80)},
	// A Hessian near a saddle: most curvature positive, a few negative
	// directions.
	{"indefinite", append(linspace(-3, -0.5, 5), linspace(0.1, 20, 75)...)},
	// λmax three times, λmin twice: one Krylov space sees one copy.
	{"repeated", append([]float64{-4, -4, 9, 9, 9}, linspace(-2, 6, 55)...)},
	{"negative dominant", append([]float64{-30}, linspace(-5, 10, 59)...)},
}

// TestEigs checks that Eigs returns, for each end of the spectrum, the k
// eigenvalues mat.EigenSym finds, to 1e-10 relative to ‖A‖, repeated
// eigenvalues as often as they occur, with unit eigenvectors whose
// residual is the one reported and at most the tolerance, and which match
// the reference up to sign where the eigenvalue is simple.
func TestEigs(t *testing.T) {
	t.Parallel()
	for _, sp := range spectra {
		for _, rotated := range []bool{false, true} {
			a := diagonal(sp.values)
			if rotated {
				a = withSpectrum(sp.values, 7)
			}
			for _, which := range []Which{Largest, Smallest, LargestMagnitude} {
				for _, k := range []int{1, 4} {
					name := fmt.Sprintf("%s/rotated=%v/%s/k=%d", sp.name, rotated, which, k)
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						checkEigs(t, a, k, which)
					})
				}
			}
		}
	}
}

func checkEigs(t *testing.T, a *mat.SymDense, k int, which Which) {
	op := &dense{a: a}
	res, err := Eigs(context.Background(), op, k, which, &Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	values, vectors := reference(t, a)
	anorm := maxAbs(values)
	want := byKey(values, which)[:k]
	if len(res.Pairs) != k {
		t.Fatalf("%d pairs, want %d", len(res.Pairs), k)
	}
	if res.Applies != op.applies {
		t.Errorf("Applies = %d, the operator counted %d", res.Applies, op.applies)
	}
	for i, p := range res.Pairs {
		if math.Abs(p.Value-want[i]) > 1e-10*anorm {
			t.Errorf("λ[%d] = %.15g, want %.15g", i, p.Value, want[i])
		}
		if nv := norm(p.Vector); math.Abs(nv-1) > 1e-12 {
			t.Errorf("‖v[%d]‖ = %g", i, nv)
		}
		r := trueResidual(a, p)
		if r > 1e-10*anorm || math.Abs(r-p.Residual) > 1e-12*anorm {
			t.Errorf("pair %d: residual %g, reported %g, tolerance %g", i, r, p.Residual, 1e-10*anorm)
		}
		simple := 0
		for j, v := range values {
			if math.Abs(v-p.Value) < 1e-6*anorm {
				simple++
				if c := math.Abs(dot(p.Vector, mat.Col(nil, j, vectors))); simple == 1 && countNear(values, v) == 1 && math.Abs(c-1) > 1e-8 {
					t.Errorf("pair %d: |vᵀu| = %.12f, want 1", i, c)
				}
			}
		}
		for j := range i {
			if c := dot(p.Vector, res.Pairs[j].Vector); math.Abs(c) > 1e-8 {
				t.Errorf("v[%d]ᵀv[%d] = %g, want 0", i, j, c)
			}
		}
	}
}

func countNear(values []float64, v float64) int {
	c := 0
	for _, x := range values {
		if math.Abs(x-v) < 1e-9*(1+math.Abs(v)) {
			c++
		}
	}
	return c
}

// TestEigsRepeatedNeedsSecondRun checks the mechanism behind repeated
// eigenvalues: a Lanczos run shorter than the number of distinct
// eigenvalues (the usual case, n ≫ steps) sees λ = 9 once, Eigs finds it
// three times.
func TestEigsRepeatedNeedsSecondRun(t *testing.T) {
	t.Parallel()
	a := withSpectrum(append([]float64{9, 9, 9}, linspace(-2, 6, 40)...), 11)
	d, err := Lanczos(context.Background(), &dense{a: a}, &LanczosOptions{Steps: 30, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	values, _, _ := d.Ritz()
	if n := countNear(values, 9); n != 1 {
		t.Errorf("one Lanczos run has λ = 9 %d times, want 1 (Ritz values %v)", n, values)
	}
	res, err := Eigs(context.Background(), &dense{a: a}, 3, Largest, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range res.Pairs {
		if math.Abs(p.Value-9) > 1e-9 {
			t.Errorf("λ[%d] = %g, want 9", i, p.Value)
		}
	}
	if res.Runs < 2 {
		t.Errorf("%d runs, want at least 2", res.Runs)
	}
}

// TestExtremes checks λmin and λmax, and the ratio |λmin/λmax| of Li et
// al., against mat.EigenSym, from one Lanczos run.
func TestExtremes(t *testing.T) {
	t.Parallel()
	for _, sp := range spectra {
		t.Run(sp.name, func(t *testing.T) {
			t.Parallel()
			a := withSpectrum(sp.values, 5)
			res, err := Extremes(context.Background(), &dense{a: a}, nil)
			if err != nil {
				t.Fatal(err)
			}
			values, _ := reference(t, a)
			lo, hi := values[0], values[len(values)-1]
			anorm := maxAbs(values)
			if got := res.Pairs[0].Value; math.Abs(got-lo) > 1e-10*anorm {
				t.Errorf("λmin = %.15g, want %.15g", got, lo)
			}
			if got := res.Pairs[1].Value; math.Abs(got-hi) > 1e-10*anorm {
				t.Errorf("λmax = %.15g, want %.15g", got, hi)
			}
			ratio := math.Abs(res.Pairs[0].Value / res.Pairs[1].Value)
			if want := math.Abs(lo / hi); math.Abs(ratio-want) > 1e-9*want {
				t.Errorf("|λmin/λmax| = %g, want %g", ratio, want)
			}
			if res.Runs != 1 || res.Applies > len(values) {
				t.Errorf("%d runs, %d applies; want 1 run of at most n = %d", res.Runs, res.Applies, len(values))
			}
		})
	}
}

// TestLanczos checks the decomposition itself: with full
// reorthogonalisation the basis is orthonormal to rounding even after n
// steps, T = QᵀAQ, and the Ritz residuals it reports without a product
// are the true ones.
func TestLanczos(t *testing.T) {
	t.Parallel()
	values := append(linspace(-1, 1, 59), 100) // a large gap breeds ghosts without reorthogonalisation
	a := withSpectrum(values, 2)
	n := len(values)
	d, err := Lanczos(context.Background(), &dense{a: a}, &LanczosOptions{Steps: n, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	m := len(d.Basis)
	q := mat.NewDense(n, m, nil)
	for j, v := range d.Basis {
		q.SetCol(j, v)
	}
	var qtq, aq, qtaq mat.Dense
	qtq.Mul(q.T(), q)
	aq.Mul(a, q)
	qtaq.Mul(q.T(), &aq)
	for i := range m {
		for j := range m {
			id, tij := 0.0, 0.0
			if i == j {
				id, tij = 1, d.Alpha[i]
			}
			if j == i+1 || i == j+1 {
				tij = d.Beta[min(i, j)]
			}
			if math.Abs(qtq.At(i, j)-id) > 1e-13 {
				t.Fatalf("(QᵀQ)[%d,%d] = %g, want %g", i, j, qtq.At(i, j), id)
			}
			if math.Abs(qtaq.At(i, j)-tij) > 1e-12*100 {
				t.Fatalf("(QᵀAQ)[%d,%d] = %g, T has %g", i, j, qtaq.At(i, j), tij)
			}
		}
	}
	ritz, s, resid := d.Ritz()
	for i := range ritz {
		p := Pair{Value: ritz[i], Vector: d.RitzVector(s, i)}
		if r := trueResidual(a, p); math.Abs(r-resid[i]) > 1e-11 {
			t.Errorf("Ritz pair %d: residual %g, reported %g", i, r, resid[i])
		}
	}
	if n := countNear(ritz, 100); n != 1 {
		t.Errorf("λ = 100 appears %d times among the Ritz values, want 1", n)
	}
}

// TestPowerIteration checks parity with PyHessian's method: at its
// default tolerance the values are right to about 1e-3, at a tight one to
// rounding, in order of magnitude, with deflation finding the next ones.
func TestPowerIteration(t *testing.T) {
	t.Parallel()
	values := append([]float64{10, -7, 4}, linspace(-1, 1, 37)...)
	a := withSpectrum(values, 9)
	want := []float64{10, -7, 4}
	for _, tc := range []struct {
		opts *PowerOptions
		tol  float64
	}{
		{nil, 1e-2},
		{&PowerOptions{Tol: 1e-14, MaxIter: 1000, Seed: 1}, 1e-9},
	} {
		res, err := PowerIteration(context.Background(), &dense{a: a}, 3, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range res.Pairs {
			if math.Abs(p.Value-want[i]) > tc.tol*math.Abs(want[i]) {
				t.Errorf("opts %+v: λ[%d] = %.12g, want %g", tc.opts, i, p.Value, want[i])
			}
			if r := trueResidual(a, p); math.Abs(r-p.Residual) > 1e-12 {
				t.Errorf("pair %d: residual %g, reported %g", i, r, p.Residual)
			}
		}
	}
	res, err := PowerIteration(context.Background(), &dense{a: withSpectrum(linspace(1, 1.01, 40), 1)}, 1, &PowerOptions{Tol: 1e-15, MaxIter: 5})
	if !errors.Is(err, ErrNotConverged) || len(res.Pairs) != 1 {
		t.Errorf("5 steps on a clustered spectrum: err = %v, %d pairs; want ErrNotConverged with the estimate", err, len(res.Pairs))
	}
}

// TestInvalid checks that a k outside [1, n] is an error, not a panic.
func TestInvalid(t *testing.T) {
	t.Parallel()
	op := &dense{a: diagonal([]float64{1, 2, 3})}
	ctx := context.Background()
	for _, k := range []int{0, -1, 4} {
		if _, err := Eigs(ctx, op, k, Largest, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("Eigs k = %d: err = %v, want ErrInvalid", k, err)
		}
		if _, err := PowerIteration(ctx, op, k, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("PowerIteration k = %d: err = %v, want ErrInvalid", k, err)
		}
	}
	if _, err := Eigs(ctx, op, 1, Which(9), nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("Eigs with Which(9): err = %v, want ErrInvalid", err)
	}
	empty := Func{N: 0}
	if _, err := Trace(ctx, empty, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("Trace of an empty operator: err = %v, want ErrInvalid", err)
	}
	if _, err := Lanczos(ctx, op, &LanczosOptions{Start: []float64{1, 2}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Lanczos with a short start: err = %v, want ErrInvalid", err)
	}
	// k = n is allowed and finds the whole spectrum.
	res, err := Eigs(ctx, op, 3, Smallest, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range res.Pairs {
		if math.Abs(p.Value-float64(i+1)) > 1e-14 {
			t.Errorf("λ[%d] = %g, want %d", i, p.Value, i+1)
		}
	}
}

// TestCancel checks that every method stops when its context is
// cancelled, before or during the iteration, and returns ctx's error.
func TestCancel(t *testing.T) {
	t.Parallel()
	a := withSpectrum(linspace(1, 100, 60), 3)
	methods := map[string]func(context.Context, Operator) error{
		"Eigs": func(ctx context.Context, op Operator) error {
			_, err := Eigs(ctx, op, 3, Largest, &Options{Tol: 1e-14})
			return err
		},
		"Extremes": func(ctx context.Context, op Operator) error { _, err := Extremes(ctx, op, nil); return err },
		"PowerIteration": func(ctx context.Context, op Operator) error {
			_, err := PowerIteration(ctx, op, 2, &PowerOptions{Tol: 1e-15})
			return err
		},
		"Trace": func(ctx context.Context, op Operator) error { _, err := Trace(ctx, op, nil); return err },
		"SLQ": func(ctx context.Context, op Operator) error {
			_, err := SLQ(ctx, op, &DensityOptions{Runs: 3})
			return err
		},
	}
	for name, run := range methods {
		for _, at := range []int{0, 7} {
			t.Run(fmt.Sprintf("%s/after=%d", name, at), func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				op := &dense{a: a, cancel: cancel, cancelAt: at}
				if at == 0 {
					cancel()
				}
				if err := run(ctx, op); !errors.Is(err, context.Canceled) {
					t.Errorf("err = %v, want context.Canceled", err)
				}
				if op.applies != at {
					t.Errorf("%d products, want %d", op.applies, at)
				}
			})
		}
	}
}

// TestDeterministic checks that one seed gives one result.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	a := withSpectrum(linspace(-5, 5, 30), 8)
	run := func() []float64 {
		res, err := Eigs(context.Background(), &dense{a: a}, 2, Largest, &Options{Seed: 42, MaxIter: 8, Tol: 1})
		if err != nil {
			t.Fatal(err)
		}
		return res.Pairs[0].Vector
	}
	if x, y := run(), run(); !slices.Equal(x, y) {
		t.Error("two runs with seed 42 differ")
	}
}

// TestFromFloat32 checks the adapter for float32 products: the extremes
// come out to float32's precision.
func TestFromFloat32(t *testing.T) {
	t.Parallel()
	values := append(linspace(-2, 8, 49), 25)
	a := withSpectrum(values, 6)
	n := len(values)
	a32 := make([]float32, n*n)
	for i := range n {
		for j := range n {
			a32[i*n+j] = float32(a.At(i, j))
		}
	}
	op := FromFloat32(n, func(_ context.Context, dst, v []float32) error {
		for i := range n {
			var s float32
			for j, x := range v {
				s += a32[i*n+j] * x
			}
			dst[i] = s
		}
		return nil
	})
	res, err := Extremes(context.Background(), op, &Options{Tol: 1e-6})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Pairs[0].Value; math.Abs(got+2) > 1e-5*25 {
		t.Errorf("λmin = %g, want -2", got)
	}
	if got := res.Pairs[1].Value; math.Abs(got-25) > 1e-5*25 {
		t.Errorf("λmax = %g, want 25", got)
	}
}

func BenchmarkEigs(b *testing.B) {
	// A Hessian's spectrum: a bulk near zero and a few outliers.
	a := withSpectrum(append(linspace(-1, 1, 494), 3, 4, 5, 6, 8, 12), 1)
	ctx := context.Background()
	for _, k := range []int{1, 5} {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			op := &dense{a: a}
			for b.Loop() {
				if _, err := Eigs(ctx, op, k, Largest, &Options{Tol: 1e-8}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(op.applies)/float64(b.N), "applies/op")
		})
	}
	b.Run("power k=1", func(b *testing.B) {
		op := &dense{a: a}
		for b.Loop() {
			if _, err := PowerIteration(ctx, op, 1, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(op.applies)/float64(b.N), "applies/op")
	})
}

// TestNotConverged checks that hitting MaxIter is an error wrapping
// ErrNotConverged that comes with the estimates reached.
func TestNotConverged(t *testing.T) {
	t.Parallel()
	a := withSpectrum(linspace(1, 2, 60), 2)
	ctx := context.Background()
	res, err := Extremes(ctx, &dense{a: a}, &Options{MaxIter: 4})
	if !errors.Is(err, ErrNotConverged) || len(res.Pairs) != 2 || res.Applies != 4 {
		t.Errorf("Extremes: err = %v, %+v; want ErrNotConverged with 2 pairs after 4 products", err, res)
	}
	if lo, hi := res.Pairs[0].Value, res.Pairs[1].Value; lo < 1 || hi > 2 || lo >= hi {
		t.Errorf("Extremes: estimates [%g, %g] not inside [1, 2]", lo, hi)
	}
	res, err = Eigs(ctx, &dense{a: a}, 2, Smallest, &Options{MaxIter: 4})
	if !errors.Is(err, ErrNotConverged) || len(res.Pairs) != 1 {
		t.Errorf("Eigs: err = %v, %d pairs; want ErrNotConverged with the best estimate", err, len(res.Pairs))
	}
}
