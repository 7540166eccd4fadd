package optim

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestFMA32 compares fma32 with a*b+c computed exactly and rounded once.
func TestFMA32(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	f := func() float32 { return float32(r.NormFloat64() * math.Exp2(float64(r.IntN(20)-10))) }
	for i := range 200000 {
		a, b, c := f(), f(), f()
		if i%4 == 0 { // near-cancellation, where double rounding bites
			c = -float32(float64(a) * float64(b))
		}
		ex := new(big.Float).SetPrec(200).SetFloat64(float64(a))
		ex.Mul(ex, new(big.Float).SetFloat64(float64(b)))
		ex.Add(ex, new(big.Float).SetFloat64(float64(c)))
		want, _ := ex.Float32()
		if got := fma32(a, b, c); got != want {
			t.Fatalf("fma32(%v, %v, %v) = %v, want %v", a, b, c, got, want)
		}
	}
	// A constructed double-rounding case: a·b + c = 1 + 2⁻²³ + 2⁻²⁴ − 2⁻⁷⁰
	// lies just below a float32 midpoint, so it rounds down to 1 + 2⁻²³;
	// rounded first to float64 it becomes the midpoint and then rounds up.
	a, b, c := float32(0x1p-24*(1+0x1p-23)), float32(1-0x1p-23), float32(1+0x1p-23)
	if float32(float64(a)*float64(b)+float64(c)) == float32(1+0x1p-23) {
		t.Fatal("tie case does not double-round")
	}
	if got, want := fma32(a, b, c), float32(1+0x1p-23); got != want {
		t.Errorf("fma32 tie case = %v, want %v", got, want)
	}
}

func TestPowi(t *testing.T) {
	t.Parallel()
	for _, x := range []float64{0.9, 0.999, 0.99, 0.5, 0.8, 0.1, 0.3} {
		for n := range 200 {
			ex := new(big.Float).SetPrec(300).SetFloat64(1)
			for range n {
				ex.Mul(ex, new(big.Float).SetPrec(300).SetFloat64(x))
			}
			want, _ := ex.Float64()
			if got := powi(x, n); got != want {
				t.Fatalf("powi(%v, %d) = %v, want %v", x, n, got, want)
			}
		}
	}
}

func TestCos(t *testing.T) {
	t.Parallel()
	for i := range 2000 {
		x := float64(i) * 0.0173
		if d := math.Abs(cos(x) - math.Cos(x)); d > 2e-16 {
			t.Fatalf("cos(%v) = %v, math.Cos %v", x, cos(x), math.Cos(x))
		}
	}
	if cos(0) != 1 || cos(math.Pi) != -1 {
		t.Errorf("cos(0) = %v, cos(π) = %v", cos(0), cos(math.Pi))
	}
}
