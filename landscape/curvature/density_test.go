package curvature

import (
	"context"
	"math"
	"slices"
	"testing"
)

// TestSLQFewDistinct checks SLQ on a spectrum of three distinct values:
// each run's Krylov space is invariant after three steps, so the nodes are
// the eigenvalues, the weights sum to 1 and average to the multiplicities
// over n, and the density peaks at the eigenvalues and integrates to 1.
func TestSLQFewDistinct(t *testing.T) {
	t.Parallel()
	var values []float64
	mult := map[float64]int{-1: 10, 2: 20, 5: 30}
	eig := []float64{-1, 2, 5}
	for _, v := range eig {
		for range mult[v] {
			values = append(values, v)
		}
	}
	a := withSpectrum(values, 4)
	const runs = 200
	sp, err := SLQ(context.Background(), &dense{a: a}, &DensityOptions{Runs: runs, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if sp.Applies != 3*runs {
		t.Errorf("%d products, want 3 per run", sp.Applies)
	}
	mean := make([]float64, 3)
	for r, nodes := range sp.Nodes {
		if len(nodes) != 3 {
			t.Fatalf("run %d: %d nodes, want 3", r, len(nodes))
		}
		var sum float64
		for i, x := range nodes {
			if math.Abs(x-eig[i]) > 1e-10*5 {
				t.Errorf("run %d: node %d = %.15g, want %g", r, i, x, eig[i])
			}
			sum += sp.Weights[r][i]
			mean[i] += sp.Weights[r][i] / runs
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("run %d: weights sum to %.15g", r, sum)
		}
	}
	for i, v := range eig {
		if want := float64(mult[v]) / 60; math.Abs(mean[i]-want) > 0.02 {
			t.Errorf("mean weight at λ = %g: %.4f, want %.4f", v, mean[i], want)
		}
	}

	x, rho := sp.Density(&GridOptions{Bins: 2001, SigmaSquared: 1e-3})
	step := x[1] - x[0]
	var integral float64
	for _, r := range rho {
		integral += r * step
	}
	if math.Abs(integral-1) > 1e-12 {
		t.Errorf("density integrates to %.15g", integral)
	}
	var peaks []float64
	for j := 1; j+1 < len(rho); j++ {
		if rho[j] > rho[j-1] && rho[j] >= rho[j+1] && rho[j] > 1e-3 {
			peaks = append(peaks, x[j])
		}
	}
	if len(peaks) != 3 {
		t.Fatalf("peaks at %v, want at %v", peaks, eig)
	}
	for i, p := range peaks {
		if math.Abs(p-eig[i]) > step {
			t.Errorf("peak %d at %g, want %g ± %g", i, p, eig[i], step)
		}
	}
	if lo, hi := x[0], x[len(x)-1]; math.Abs(lo-(-1.01)) > 1e-12 || math.Abs(hi-5.01) > 1e-12 {
		t.Errorf("grid [%g, %g], want [-1.01, 5.01] (extreme nodes ± Overhead)", lo, hi)
	}
}

// TestSLQMoments checks the quadrature on a spread spectrum: the mean of
// f over the nodes estimates tr f(A)/n, exactly in expectation for
// polynomials of degree below 2·Steps.
func TestSLQMoments(t *testing.T) {
	t.Parallel()
	values := append(linspace(-3, 1, 40), linspace(2, 20, 60)...)
	a := withSpectrum(values, 10)
	sp, err := SLQ(context.Background(), &dense{a: a}, &DensityOptions{Runs: 30, Steps: 20, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name string
		f    func(float64) float64
	}{
		{"x", func(x float64) float64 { return x }},
		{"x²", func(x float64) float64 { return x * x }},
		{"|x|", math.Abs},
	} {
		var want float64
		for _, v := range values {
			want += f.f(v) / float64(len(values))
		}
		if got := sp.Mean(f.f); math.Abs(got-want) > 0.05*math.Abs(want) {
			t.Errorf("mean of %s: %g, want tr f(A)/n = %g", f.name, got, want)
		}
	}
	lo, hi := slices.Min(values), slices.Max(values)
	for r, nodes := range sp.Nodes {
		if nodes[0] < lo-1e-9 || nodes[len(nodes)-1] > hi+1e-9 {
			t.Errorf("run %d: nodes [%g, %g] outside the spectrum [%g, %g]", r, nodes[0], nodes[len(nodes)-1], lo, hi)
		}
	}
}

func BenchmarkSLQ(b *testing.B) {
	a := withSpectrum(linspace(-1, 10, 500), 1)
	op := &dense{a: a}
	for b.Loop() {
		if _, err := SLQ(context.Background(), op, &DensityOptions{Runs: 2, Steps: 80}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(op.applies)/float64(b.N), "applies/op")
}
