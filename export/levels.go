package export

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/landscape-go/landscape/landscape/surface"
)

// This file chooses the contour levels and the colour scale of a figure.

// plotSetup is what the figures of one or more fields share: the contour
// levels and the colour scale.
type plotSetup struct {
	levels []float64
	sc     ColorScale
	auto   bool // levels chosen from the data
	clip   bool // the 3D surface is clipped at the top of the scale
}

// setup chooses the levels and the colour scale for the fields, which
// share them.
func setup(fs []*surface.Field, o *PlotOptions) (plotSetup, error) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, f := range fs {
		lo, hi = valueRange(lo, hi, f.Z, o.Log)
	}
	var ps plotSetup
	ps.sc.Log, ps.sc.Colors = o.Log, o.ColorMap
	switch {
	case o.Levels != nil:
		for _, l := range o.Levels {
			if !finite(l) || (o.Log && l <= 0) {
				return ps, fmt.Errorf("export: plot: %w: contour level %v on a %s scale", ErrPlot, l, scaleName(o.Log))
			}
		}
		ps.levels = slices.Compact(slices.Sorted(slices.Values(o.Levels)))
		if len(ps.levels) == 0 {
			return ps, fmt.Errorf("export: plot: %w: no contour levels", ErrPlot)
		}
		ps.sc.Min, ps.sc.Max = ps.levels[0], ps.levels[len(ps.levels)-1]
	default:
		ps.levels = defaultLevels(o.Log)
		ps.sc.Min, ps.sc.Max = 0.1, 10
		inside := 0
		for _, l := range ps.levels {
			if l > lo && l < hi {
				inside++
			}
		}
		// The reference's levels suit losses; accuracies (percent) and
		// surfaces that miss them get levels of their own.
		if (inside < 3 || strings.HasSuffix(o.Metric, "_acc")) && lo <= hi {
			ps.levels, ps.sc.Min, ps.sc.Max = niceLevels(lo, hi, o.Log), lo, hi
			ps.auto = true
		}
	}
	if o.VMin != 0 || o.VMax != 0 {
		ps.sc.Min, ps.sc.Max = o.VMin, o.VMax
	}
	ps.clip = !o.Log || o.VMax != 0 || o.Levels != nil
	if !(ps.sc.Min < ps.sc.Max) {
		// One level, or a flat surface: give the scale some width.
		ps.sc.Min, ps.sc.Max = widen(ps.sc.Min, ps.sc.Max, o.Log)
	}
	if !finite(ps.sc.Min) || !finite(ps.sc.Max) || (o.Log && ps.sc.Min <= 0) {
		return ps, fmt.Errorf("export: plot: %w: colour scale %v to %v on a %s scale", ErrPlot, ps.sc.Min, ps.sc.Max, scaleName(o.Log))
	}
	return ps, nil
}

// widen returns a range around lo and hi, which are equal or out of order:
// halved and doubled on a log scale, half their size or 0.5 either way on
// a linear one, within the finite numbers.
func widen(lo, hi float64, log bool) (float64, float64) {
	lo, hi = math.Min(lo, hi), math.Max(lo, hi)
	if log {
		lo, hi = lo/2, math.Min(hi*2, math.MaxFloat64)
		if !(lo > 0) {
			lo = math.SmallestNonzeroFloat64
		}
		if !(lo < hi) {
			lo = hi / 2
		}
		return lo, hi
	}
	d := math.Max(math.Max(math.Abs(lo), math.Abs(hi))/2, 0.5)
	return math.Max(lo-d, -math.MaxFloat64), math.Min(hi+d, math.MaxFloat64)
}

// valueRange returns lo and hi widened to take in the finite values of
// rows (the positive ones on a log scale).
func valueRange(lo, hi float64, rows [][]float64, log bool) (float64, float64) {
	for _, row := range rows {
		for _, v := range row {
			if finite(v) && (!log || v > 0) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	return lo, hi
}

// notes returns the lines the caption of a figure drawn with ps adds.
func (ps plotSetup) notes() []string {
	if ps.auto {
		return []string{"contour levels chosen to span the values, not the reference’s 0.1 to 10"}
	}
	return nil
}

func scaleName(log bool) string {
	if log {
		return "log"
	}
	return "linear"
}

// defaultLevels returns the reference's levels numpy.arange(0.1, 10,
// 0.5), or on a log scale 20 levels at round numbers from 0.1 to 9, every
// digit and 1.5 times 0.1 and 1 (0.1, 0.15, 0.2, 0.3, ..., 9), which label
// the contours more readably than levels evenly spaced in log.
func defaultLevels(log bool) []float64 {
	if log {
		var l []float64
		for _, p := range []float64{10, 1} {
			for _, m := range []float64{1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9} {
				l = append(l, m/p)
			}
		}
		return l
	}
	l := make([]float64, 20)
	for i := range l {
		l[i] = 0.1 + 0.5*float64(i)
	}
	return l
}

// niceLevels returns about 20 levels at round numbers strictly between lo
// and hi: multiples of 1, 2, 2.5 or 5 times a power of ten, or on a log
// scale 1, 2 and 5 (or every digit, where that gives too few) times powers
// of ten.
func niceLevels(lo, hi float64, log bool) []float64 {
	var l []float64
	if hi <= lo {
		return []float64{lo}
	}
	if log {
		l = logValues(lo, hi, 6, 40, false)
		if len(l) == 0 {
			l = []float64{math.Sqrt(lo) * math.Sqrt(hi)}
		}
		return l
	}
	step := niceStep((hi - lo) / 20)
	first := math.Floor(lo/step) + 1
	for i := 0.0; i < 40; i++ {
		v := (first + i) * step
		if !(v < hi) {
			break
		}
		if v > lo && (len(l) == 0 || v > l[len(l)-1]) {
			l = append(l, v)
		}
	}
	if len(l) == 0 {
		l = []float64{lo + (hi-lo)/2}
	}
	return l
}
