package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// specials are values the passes must carry as the scalar loops do.
var specials = []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e-40, -1e-40}

// vectorOperand returns n values, some of them specials.
func vectorOperand(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
		if rng.IntN(5) == 0 {
			x[i] = specials[rng.IntN(len(specials))]
		}
	}
	return x
}

// same64 reports whether a and b are the same float64: the same bits, or
// both NaN (which NaN an operation on NaNs returns is no contract).
func same64(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || a != a && b != b
}

func sameBits(t *testing.T, pass string, n int, got, want []float32) {
	t.Helper()
	for i := range want {
		if !same64(float64(got[i]), float64(want[i])) {
			t.Fatalf("%s, %d values: [%d] = %v (%#x), the scalar loop's %v (%#x)", pass, n, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// TestElementwisePassesAreTheirScalarLoops holds each pass (its vector
// body where there is one, and its tail) to the plain loop of its
// formula, bit for bit, at every length up to five vectors and beyond,
// on values that include NaN, infinities, signed zeros and denormals.
func TestElementwisePassesAreTheirScalarLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const a, b, m, k = 0.7, -0.3, 0.25, 1.9
	for n := 0; n <= 43; n++ {
		x, y, z, w := vectorOperand(rng, n), vectorOperand(rng, n), vectorOperand(rng, n), vectorOperand(rng, n)
		got, want := make([]float32, n), make([]float32, n)

		affineTo(got, x, a, b, false)
		for j := range want {
			want[j] = x[j]*a + b
		}
		sameBits(t, "affineTo", n, got, want)
		// -0 as the shift makes -0 outputs, which the ReLU makes +0.
		for _, shift := range []float32{b, float32(math.Copysign(0, -1))} {
			affineTo(got, x, a, shift, true)
			for j := range want {
				want[j] = max(x[j]*a+shift, 0)
			}
			sameBits(t, fmt.Sprintf("affineTo with ReLU, shift %v", shift), n, got, want)
		}

		bnTangentTo(got, x, y, a, m, k, b)
		for j := range want {
			want[j] = x[j]*a + (y[j]-m)*k + b
		}
		sameBits(t, "bnTangentTo", n, got, want)

		copy(got, z)
		copy(want, z)
		axpyTo(got, x, a)
		for j := range want {
			want[j] += x[j] * a
		}
		sameBits(t, "axpyTo", n, got, want)

		copy(got, z)
		copy(want, z)
		axpy2To(got, x, y, a, k)
		for j := range want {
			want[j] += x[j]*a + y[j]*k
		}
		sameBits(t, "axpy2To", n, got, want)

		sumInto(got, x, y)
		for j := range want {
			want[j] = x[j] + y[j]
		}
		sameBits(t, "sumInto", n, got, want)

		copy(got, z)
		copy(want, z)
		addInto(got, x)
		for j := range want {
			want[j] += x[j]
		}
		sameBits(t, "addInto", n, got, want)

		relu := make([]float32, n)
		reluForward(relu, x, got, y)
		for j := range want {
			r := max(x[j], 0)
			if math.Float32bits(relu[j]) != math.Float32bits(r) {
				t.Fatalf("reluForward, %d values: relu(%v) = %v, want %v", n, x[j], relu[j], r)
			}
			want[j] = 0
			if math.Float32bits(r) != 0 {
				want[j] = y[j]
			}
		}
		sameBits(t, "reluForward's tangent", n, got, want)

		for _, set := range []bool{false, true} {
			copy(got, z)
			copy(want, z)
			g2, w2 := append([]float32(nil), w...), append([]float32(nil), w...)
			reluBackward(got, x, relu, g2, y, set)
			for j := range want {
				keep := math.Float32bits(relu[j]) != 0
				switch {
				case set && keep:
					want[j], w2[j] = x[j], y[j]
				case set:
					want[j], w2[j] = 0, 0
				case keep:
					want[j] += x[j]
					w2[j] += y[j]
				default:
					want[j] += 0
					w2[j] += 0
				}
			}
			sameBits(t, fmt.Sprintf("reluBackward (set %v)", set), n, got, want)
			sameBits(t, fmt.Sprintf("reluBackward's tangent (set %v)", set), n, g2, w2)
		}

		for _, centred := range []bool{false, true} {
			var s [8]float64
			term := func(a float32) float64 {
				if centred {
					d := float64(a) - m
					return d * d
				}
				return float64(a)
			}
			j := 0
			for ; j+8 <= n; j += 8 {
				for l := range 8 {
					s[l] += term(x[j+l])
				}
			}
			want := ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))
			for ; j < n; j++ {
				want += term(x[j])
			}
			if got := moments64(x, m, centred); !same64(got, want) {
				t.Fatalf("moments64 (centred %v), %d values: %v, want %v", centred, n, got, want)
			}
		}

		{
			var s [16]float64
			j := 0
			for ; j+8 <= n; j += 8 {
				for l := range 8 {
					s[l] += float64(x[j+l])
					s[8+l] += float64(x[j+l]) * (float64(y[j+l]) - m)
				}
			}
			ws := ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))
			wd := ((s[8] + s[12]) + (s[9] + s[13])) + ((s[10] + s[14]) + (s[11] + s[15]))
			for ; j < n; j++ {
				ws += float64(x[j])
				wd += float64(x[j]) * (float64(y[j]) - m)
			}
			sum, dot := bnTrainSums(x, y, m)
			if !same64(sum, ws) || !same64(dot, wd) {
				t.Fatalf("bnTrainSums, %d values: %v, %v; want %v, %v", n, sum, dot, ws, wd)
			}
		}

		for _, set := range []bool{false, true} {
			copy(got, z)
			copy(want, z)
			bnTrainGrad(got, x, y, 0.1, m, k, 1.3, set)
			for j := range want {
				v := float32((float64(x[j]) - 0.1 - (float64(y[j])-m)*k) * 1.3)
				if set {
					want[j] = v
				} else {
					want[j] += v
				}
			}
			sameBits(t, fmt.Sprintf("bnTrainGrad (set %v)", set), n, got, want)
		}

		for _, tangent := range []bool{false, true} {
			var gs, rs []float32
			if tangent {
				gs, rs = z, w
			}
			dot, sum := centredDot64(x, y, m, gs, rs)
			var s [16]float64
			j := 0
			for ; j+8 <= n; j += 8 {
				for l := range 8 {
					term := x[j+l] * (y[j+l] - m)
					if tangent {
						term += z[j+l] * w[j+l]
					}
					s[l] += float64(term)
					s[8+l] += float64(x[j+l])
				}
			}
			wd := ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))
			ws := ((s[8] + s[12]) + (s[9] + s[13])) + ((s[10] + s[14]) + (s[11] + s[15]))
			for ; j < n; j++ {
				term := x[j] * (y[j] - m)
				if tangent {
					term += z[j] * w[j]
				}
				wd += float64(term)
				ws += float64(x[j])
			}
			if !same64(dot, wd) || !same64(sum, ws) {
				t.Fatalf("centredDot64 (tangent %v), %d values: %v, %v; want %v, %v", tangent, n, dot, sum, wd, ws)
			}
		}
	}
}
