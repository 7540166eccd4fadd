package export

import (
	"image/color"
	"math"
	"sync"

	"gonum.org/v1/plot/palette/moreland"
)

// colorMap is a sequence of colours at evenly spaced stops from 0 to 1,
// interpolated linearly in sRGB between stops.
type colorMap []color.NRGBA

// at returns the colour at t, clamped to [0, 1].
func (m colorMap) at(t float64) color.NRGBA {
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

// viridis is matplotlib's default colour map at ten stops (the values R's
// viridis(10) gives); the reference draws its heat map with it.
var viridis = colorMap{
	{0x44, 0x01, 0x54, 255}, {0x48, 0x28, 0x78, 255}, {0x3e, 0x4a, 0x89, 255}, {0x31, 0x68, 0x8e, 255},
	{0x26, 0x82, 0x8e, 255}, {0x1f, 0x9e, 0x89, 255}, {0x35, 0xb7, 0x79, 255}, {0x6d, 0xcd, 0x59, 255},
	{0xb4, 0xde, 0x2c, 255}, {0xfd, 0xe7, 0x25, 255},
}

// coolwarm is Moreland's smooth blue-red diverging map, matplotlib's
// coolwarm, which the reference's 3D surface uses. It is sampled once from
// gonum's implementation.
var coolwarm = sync.OnceValue(func() colorMap {
	cm := moreland.SmoothBlueRed()
	cm.SetMin(0)
	cm.SetMax(1)
	m := make(colorMap, 33)
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

// scale maps metric values to [0, 1] for a colour map, linearly or
// logarithmically between Min and Max; values outside saturate.
type scale struct {
	min, max float64
	log      bool
}

// norm returns the position of v on the scale, clamped to [0, 1], or NaN
// if v is not finite (or not positive on a log scale).
func (s scale) norm(v float64) float64 {
	if !finite(v) || (s.log && v <= 0) {
		return math.NaN()
	}
	var t float64
	if s.log {
		t = (math.Log(v) - math.Log(s.min)) / (math.Log(s.max) - math.Log(s.min))
	} else {
		t = (v - s.min) / (s.max - s.min)
	}
	return math.Max(0, math.Min(1, t))
}

// mid returns the value halfway between a and b on the scale.
func (s scale) mid(a, b float64) float64 {
	if s.log {
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
