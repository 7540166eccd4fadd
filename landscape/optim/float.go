package optim

import "math"

// fma32 returns a*b+c rounded once to float32, as the FMA instructions
// used by ATen's vectorised CPU kernels compute it.
func fma32(a, b, c float32) float32 {
	p := float64(a) * float64(b) // exact: 24+24 significant bits
	s := p + float64(c)
	// TwoSum: s + e is exactly p + c.
	bb := s - p
	e := (p - (s - bb)) + (float64(c) - bb)
	r := float32(s)
	if e == 0 || math.IsInf(s, 0) || math.IsNaN(s) {
		return r
	}
	// Rounding s to float32 is a second rounding; it can differ from a
	// single one only when s lies exactly halfway between two float32s.
	d := s - float64(r)
	if d == 0 {
		return r
	}
	other := math.Nextafter32(r, float32(math.Copysign(math.Inf(1), d)))
	if float64(other)-s != d {
		return r
	}
	// s is a tie; the exact value is on the side of e.
	if (e > 0) == (other > r) {
		return other
	}
	return r
}

// powi returns x**n for an integer n ≥ 0, correctly rounded in all but
// pathological cases (the product is carried in double-double), as glibc's
// pow, which Python's float ** float calls, returns it.
func powi(x float64, n int) float64 {
	hi, lo := 1.0, 0.0
	bh, bl := x, 0.0
	for ; n > 0; n >>= 1 {
		if n&1 == 1 {
			hi, lo = ddMul(hi, lo, bh, bl)
		}
		bh, bl = ddMul(bh, bl, bh, bl)
	}
	return hi + lo
}

// ddMul multiplies two double-double numbers.
func ddMul(ah, al, bh, bl float64) (float64, float64) {
	p := ah * bh
	e := math.FMA(ah, bh, -p)
	e += ah*bl + al*bh
	s := p + e
	return s, e - (s - p)
}

// pow is Python's float ** float for the exponents the optimizers use:
// integer step counts exactly as glibc computes them, others with math.Pow
// (which may differ from glibc's pow in the last bit).
func pow(x, y float64) float64 {
	if y >= 0 && y == math.Trunc(y) && y < 1<<31 {
		return powi(x, int(y))
	}
	return math.Pow(x, y)
}

// sqrt32 is a correctly rounded float32 square root.
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// dd is a double-double number hi+lo with |lo| ≤ ulp(hi)/2.
type dd struct{ hi, lo float64 }

func twoSum(a, b float64) dd {
	s := a + b
	bb := s - a
	return dd{s, (a - (s - bb)) + (b - bb)}
}

func (a dd) add(b dd) dd {
	s := twoSum(a.hi, b.hi)
	s.lo += a.lo + b.lo
	return twoSum(s.hi, s.lo)
}

func (a dd) mul(b dd) dd {
	p := a.hi * b.hi
	e := math.FMA(a.hi, b.hi, -p) + (a.hi*b.lo + a.lo*b.hi)
	return twoSum(p, e)
}

// divf divides by a float64.
func (a dd) divf(d float64) dd {
	q := a.hi / d
	p := dd{q * d, math.FMA(q, d, -q*d)}
	r := a.add(dd{-p.hi, -p.lo})
	return twoSum(q, r.hi/d)
}

// halfPi is π/2 as three float64s (hi+mid+lo carries 160 bits).
var halfPi = [3]float64{0x1.921fb54442d18p0, 0x1.1a62633145c07p-54, -0x1.f1976b7ed8fbcp-110}

// cos returns the cosine of x rounded to nearest (barring pathological
// cases), as glibc's cos, which Python's math.cos calls, returns it; the
// schedules' recursive forms magnify last-bit differences of math.Cos.
func cos(x float64) float64 {
	x = math.Abs(x)
	if x > 1<<20 || math.IsNaN(x) || math.IsInf(x, 0) {
		return math.Cos(x)
	}
	k := math.Round(x / halfPi[0])
	// r = x − k·π/2 in double-double; k·halfPi[i] are exact as FMA pairs.
	r := dd{x, 0}
	for _, h := range halfPi {
		p := k * h
		r = r.add(dd{-p, -math.FMA(k, h, -p)})
	}
	r2 := r.mul(r)
	// Taylor series of cos r and sin r, |r| ≤ π/4.
	c, s := dd{1, 0}, r
	tc, ts := dd{1, 0}, r
	for n := 1; n < 30; n++ {
		tc = tc.mul(r2).divf(float64(-(2*n - 1) * (2 * n)))
		ts = ts.mul(r2).divf(float64(-(2 * n) * (2*n + 1)))
		c, s = c.add(tc), s.add(ts)
		if math.Abs(tc.hi) < 1e-40 && math.Abs(ts.hi) < 1e-40 {
			break
		}
	}
	switch int64(k) & 3 {
	case 0:
		return c.hi + c.lo
	case 1:
		return -(s.hi + s.lo)
	case 2:
		return -(c.hi + c.lo)
	}
	return s.hi + s.lo
}
