package export

import (
	"image/color"
	"math"
	"slices"
	"sync"

	"gonum.org/v1/plot/palette/moreland"
)

// A ColorMap is a sequence of colours at evenly spaced stops from 0 to 1,
// interpolated linearly in sRGB between stops.
type ColorMap []color.NRGBA

// At returns the colour at t, clamped to [0, 1]; NaN gives the first.
func (m ColorMap) At(t float64) color.NRGBA {
	switch {
	case !(t > 0): // also NaN
		return m[0]
	case t >= 1:
		return m[len(m)-1]
	}
	f := t * float64(len(m)-1)
	i := int(f)
	if i >= len(m)-1 {
		return m[len(m)-1]
	}
	w := f - float64(i)
	a, b := m[i], m[i+1]
	mix := func(p, q uint8) uint8 { return uint8(math.Round(float64(p)*(1-w) + float64(q)*w)) }
	return color.NRGBA{R: mix(a.R, b.R), G: mix(a.G, b.G), B: mix(a.B, b.B), A: 255}
}

// Viridis returns matplotlib's default colour map, with which the
// reference draws its heat map and the 2D figures here are coloured.
func Viridis() ColorMap { return slices.Clone(viridis) }

// CoolWarm returns Moreland's smooth blue-red diverging map, matplotlib's
// coolwarm, with which the reference colours its 3D surface.
func CoolWarm() ColorMap { return slices.Clone(coolwarm()) }

// viridis is Viridis at ten stops (the values R's viridis(10) gives).
var viridis = ColorMap{
	{0x44, 0x01, 0x54, 255}, {0x48, 0x28, 0x78, 255}, {0x3e, 0x4a, 0x89, 255}, {0x31, 0x68, 0x8e, 255},
	{0x26, 0x82, 0x8e, 255}, {0x1f, 0x9e, 0x89, 255}, {0x35, 0xb7, 0x79, 255}, {0x6d, 0xcd, 0x59, 255},
	{0xb4, 0xde, 0x2c, 255}, {0xfd, 0xe7, 0x25, 255},
}

// coolwarm is CoolWarm, sampled once from gonum's implementation.
var coolwarm = sync.OnceValue(func() ColorMap {
	cm := moreland.SmoothBlueRed()
	cm.SetMin(0)
	cm.SetMax(1)
	m := make(ColorMap, 33)
	for i := range m {
		c, err := cm.At(float64(i) / float64(len(m)-1))
		if err != nil {
			panic(err) // in range by construction
		}
		m[i] = color.NRGBAModel.Convert(c).(color.NRGBA)
	}
	return m
})

// Colours of the parts of a figure that do not show data values.
var (
	// missingColor fills regions where the metric is NaN or infinite.
	missingColor = color.NRGBA{R: 0xbe, G: 0xbe, B: 0xbe, A: 255}
	inkColor     = color.NRGBA{R: 0x20, G: 0x20, B: 0x20, A: 255}
	paneColor    = color.NRGBA{R: 0xf2, G: 0xf2, B: 0xf2, A: 255}
	gridColor    = color.NRGBA{R: 0xd0, G: 0xd0, B: 0xd0, A: 255}
)

// ColorScale maps the values of a metric to the colours of a colour map,
// linearly or, if Log is set, logarithmically from Min (the map's first
// colour) to Max (its last); values outside take the colour of the nearer
// end. Min must be less than Max, and positive on a log scale.
type ColorScale struct {
	Min, Max float64
	Log      bool
	// Colors is the colour map; nil means [Viridis].
	Colors ColorMap
}

// Norm returns the position of v on the scale, clamped to [0, 1], or NaN
// if v is not finite (or not positive on a log scale).
func (s ColorScale) Norm(v float64) float64 {
	if !finite(v) || (s.Log && v <= 0) {
		return math.NaN()
	}
	var t float64
	if s.Log {
		t = (math.Log(v) - math.Log(s.Min)) / (math.Log(s.Max) - math.Log(s.Min))
	} else {
		t = (v - s.Min) / (s.Max - s.Min)
	}
	return math.Max(0, math.Min(1, t))
}

// Color returns the colour of v: grey if v is NaN or infinite, the bottom
// of the scale if the scale is a log one and v is not positive.
func (s ColorScale) Color(v float64) color.NRGBA {
	if t := s.Norm(v); !math.IsNaN(t) {
		return s.colors().At(t)
	}
	if s.Log && finite(v) {
		return s.colors().At(0)
	}
	return missingColor
}

func (s ColorScale) colors() ColorMap {
	if s.Colors == nil {
		return viridis
	}
	return s.Colors
}

// mid returns the value halfway between a and b on the scale.
func (s ColorScale) mid(a, b float64) float64 {
	if s.Log {
		return math.Sqrt(a * b)
	}
	return (a + b) / 2
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// shade darkens or lightens c by the factor f (1 leaves it as it is).
func shade(c color.NRGBA, f float64) color.NRGBA {
	m := func(v uint8) uint8 { return uint8(math.Max(0, math.Min(255, math.Round(float64(v)*f)))) }
	return color.NRGBA{R: m(c.R), G: m(c.G), B: m(c.B), A: c.A}
}
