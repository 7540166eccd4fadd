package surface

import "math"

// Range returns the smallest and largest finite value of metric column m
// over the points, and the number of points where it is NaN or ±Inf. With
// no finite value lo and hi are NaN.
func (s *Surface) Range(m int) (lo, hi float64, nonFinite int) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, p := range s.Points {
		v := p.Values[m]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			nonFinite++
			continue
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if lo > hi {
		return math.NaN(), math.NaN(), nonFinite
	}
	return lo, hi, nonFinite
}
