package curvature

import (
	"context"
	"errors"
	"math"
	"testing"
)

// TestTrace checks that Hutchinson's estimate is within three standard
// errors of the trace, that its standard error shrinks like 1/√n, that
// the tolerance stops it early, and that a diagonal matrix, whose
// Rademacher samples all equal the trace, gives it exactly.
func TestTrace(t *testing.T) {
	t.Parallel()
	values := append(linspace(-2, 10, 50), 30)
	a := withSpectrum(values, 12)
	var tr float64
	for _, v := range values {
		tr += v
	}
	ctx := context.Background()
	t.Run("within 3 standard errors", func(t *testing.T) {
		t.Parallel()
		for seed := range uint64(5) {
			est, err := Trace(ctx, &dense{a: a}, &TraceOptions{MaxSamples: 400, Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			if est.Samples != 400 {
				t.Errorf("%d samples, want 400 (no Tol)", est.Samples)
			}
			if math.Abs(est.Mean-tr) > 3*est.StdErr {
				t.Errorf("seed %d: %g ± %g, trace %g", seed, est.Mean, est.StdErr, tr)
			}
		}
	})
	t.Run("standard error like 1/sqrt(n)", func(t *testing.T) {
		t.Parallel()
		small, err := Trace(ctx, &dense{a: a}, &TraceOptions{MaxSamples: 100, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		large, err := Trace(ctx, &dense{a: a}, &TraceOptions{MaxSamples: 1600, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		// 16 times the samples: a quarter of the error, up to the
		// sampling error of the standard deviations themselves.
		if r := small.StdErr / large.StdErr; r < 3 || r > 5.3 {
			t.Errorf("standard error %g at 100 samples, %g at 1600: ratio %g, want about 4", small.StdErr, large.StdErr, r)
		}
	})
	t.Run("tolerance", func(t *testing.T) {
		t.Parallel()
		est, err := Trace(ctx, &dense{a: a}, &TraceOptions{MaxSamples: 10000, Tol: 0.05, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		if est.StdErr > 0.05*math.Abs(est.Mean) || est.Samples >= 10000 || est.Samples < 10 {
			t.Errorf("%g ± %g after %d samples, want stderr ≤ 5%% well before 10000", est.Mean, est.StdErr, est.Samples)
		}
	})
	t.Run("diagonal", func(t *testing.T) {
		t.Parallel()
		est, err := Trace(ctx, &dense{a: diagonal(values)}, &TraceOptions{Tol: 1e-12})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(est.Mean-tr) > 1e-12*tr || est.StdErr > 1e-12*tr || est.Samples != 10 {
			t.Errorf("%g ± %g after %d samples, want %g ± 0 after MinSamples = 10", est.Mean, est.StdErr, est.Samples, tr)
		}
	})
}

// TestTraceCancel checks that a cancelled estimate keeps the samples it
// finished.
func TestTraceCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	op := &dense{a: withSpectrum(linspace(1, 5, 20), 1), cancel: cancel, cancelAt: 7}
	est, err := Trace(ctx, op, nil)
	if !errors.Is(err, context.Canceled) || est.Samples != 7 || est.Mean == 0 {
		t.Errorf("err = %v, %d samples, mean %g; want context.Canceled after 7 samples", err, est.Samples, est.Mean)
	}
}

func BenchmarkTrace(b *testing.B) {
	a := withSpectrum(linspace(-1, 10, 500), 1)
	op := &dense{a: a}
	for b.Loop() {
		if _, err := Trace(context.Background(), op, &TraceOptions{MaxSamples: 1000, Tol: 1e-2}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(op.applies)/float64(b.N), "applies/op")
}

// ExactTrace sums the diagonal, one product per dimension, with no error.
func TestExactTrace(t *testing.T) {
	t.Parallel()
	values := []float64{-3, 0.5, 2, 7, 11}
	op := &dense{a: withSpectrum(values, 4)}
	est, err := ExactTrace(context.Background(), op)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(est.Mean-17.5) > 1e-12 || est.StdErr != 0 || est.Samples != 5 || op.applies != 5 {
		t.Errorf("%g ± %g from %d samples (%d products), want 17.5 ± 0 from 5", est.Mean, est.StdErr, est.Samples, op.applies)
	}
}
