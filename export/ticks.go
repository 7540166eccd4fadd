package export

import (
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
)

// This file chooses round numbers: the ticks of the axes and colour bars,
// and their labels.

// niceStep returns the least of 1, 2, 2.5, 5 and 10 times a power of ten
// that is at least x.
func niceStep(x float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

// scaleTicks returns labelled ticks between lo and hi: about five at
// round numbers, or on a log scale the powers of ten, with 2 and 5 times
// them where there are fewer than three powers.
func scaleTicks(lo, hi float64, log bool) []plot.Tick {
	var ticks []plot.Tick
	if log {
		vs := logValues(lo, hi, 3, 10, true)
		// One style on an axis: if some of its values need a power of
		// ten, all are written so.
		label := tickLabel
		for _, v := range vs {
			if tickLabel(v) != formatLevel(v) {
				label = powerLabel
			}
		}
		for _, v := range vs {
			ticks = append(ticks, plot.Tick{Value: v, Label: label(v)})
		}
		return ticks
	}
	for _, t := range niceTicks(lo, hi) {
		if t.Label != "" {
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// logValues returns round numbers for a log scale from lo to hi (both
// ends included if inclusive): powers of ten, or 1, 2 and 5 times them, or
// every digit times them, the first of these that gives at least least
// values and at most most; if even the powers of ten are too many, every
// k-th of them.
func logValues(lo, hi float64, least, most int, inclusive bool) []float64 {
	in := func(v float64) bool {
		if inclusive {
			return v >= lo*(1-1e-9) && v <= hi*(1+1e-9)
		}
		return v > lo && v < hi
	}
	e0, e1 := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if !(e0 <= e1) || e1-e0 > 1000 {
		return nil
	}
	var best []float64
	for _, mant := range [][]float64{{1}, {1, 2, 5}, {1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9}} {
		var v []float64
		for e := e0; e <= e1; e++ {
			for _, m := range mant {
				if x := m * math.Pow(10, e); in(x) {
					v = append(v, x)
				}
			}
		}
		if len(v) > most {
			break
		}
		best = v
		if len(v) >= least {
			return v
		}
	}
	if best != nil {
		return best
	}
	// Too many decades: every k-th power of ten.
	k := math.Ceil((e1 - e0 + 1) / float64(most))
	for e := math.Ceil(e0/k) * k; e <= e1; e += k {
		if x := math.Pow(10, e); in(x) {
			best = append(best, x)
		}
	}
	return best
}

// niceTicks returns ticks for a linear axis from lo to hi: about five
// labelled ones at multiples of a round step, and unlabelled ones halfway
// between them.
func niceTicks(lo, hi float64) []plot.Tick {
	if !(lo < hi) || !finite(hi-lo) {
		return []plot.Tick{{Value: lo, Label: tickLabel(lo)}}
	}
	step := niceStep((hi - lo) / 5.5)
	decimals := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	if m := step / math.Pow(10, math.Floor(math.Log10(step)+1e-9)); math.Abs(m-2.5) < 1e-9 {
		decimals++
	}
	var ticks []plot.Tick
	tol := 1e-9 * (hi - lo)
	first := math.Ceil((lo - tol) / step * 2)
	// Count half steps, so that a range far from zero, where adding a
	// step may not change a float64, cannot loop for ever.
	for i := 0.0; i < 40; i++ {
		k := (first + i) / 2
		v := k * step
		if !(v <= hi+tol) {
			break
		}
		if len(ticks) > 0 && v <= ticks[len(ticks)-1].Value {
			continue
		}
		if math.Abs(v) < tol {
			v = 0
		}
		t := plot.Tick{Value: v}
		if k == math.Trunc(k) {
			t.Label = strconv.FormatFloat(v, 'f', decimals, 64)
			if decimals > 6 || math.Abs(v) >= 1e7 {
				t.Label = tickLabel(v)
			}
		}
		ticks = append(ticks, t)
	}
	if len(ticks) == 0 {
		ticks = []plot.Tick{{Value: lo, Label: tickLabel(lo)}, {Value: hi, Label: tickLabel(hi)}}
	}
	return ticks
}

// formatLevel formats a contour level or a tick for a label: at most four
// significant digits, trailing zeros dropped.
func formatLevel(v float64) string {
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// tickLabel formats a tick or a contour level for a label drawn with
// [textHandler]: as [formatLevel] from 0.001 to below 10⁴ (and for 0), and
// otherwise as [powerLabel] does, rather than as 1e+05 or 2.5e-04.
func tickLabel(v float64) string {
	if a := math.Abs(v); a == 0 || !finite(v) || (a >= 1e-3 && a < 1e4) {
		return formatLevel(v)
	}
	return powerLabel(v)
}

// powerLabel formats v, which is finite and not zero, as a power of ten
// with a raised exponent, 10⁵ or 2.5×10⁻⁴, for a label drawn with
// [textHandler].
func powerLabel(v float64) string {
	if v == 0 || !finite(v) {
		return formatLevel(v)
	}
	a := math.Abs(v)
	e := math.Floor(math.Log10(a))
	m := strconv.FormatFloat(a/math.Pow(10, e), 'g', 4, 64)
	if m == "10" { // a mantissa of 9.9999 rounds up
		e, m = e+1, "1"
	}
	p := "10" + superscript(strings.Replace(strconv.Itoa(int(e)), "-", "−", 1))
	if m != "1" {
		p = m + "×" + p
	}
	if v < 0 {
		p = "-" + p
	}
	return p
}
