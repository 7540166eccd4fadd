package export

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"
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

// Magma returns matplotlib's magma: black through purple to pale yellow.
func Magma() ColorMap { return slices.Clone(magma) }

// Inferno returns matplotlib's inferno: black through red to yellow.
func Inferno() ColorMap { return slices.Clone(inferno) }

// Plasma returns matplotlib's plasma: blue through magenta to yellow.
func Plasma() ColorMap { return slices.Clone(plasma) }

// Cividis returns matplotlib's cividis: blue to yellow, made to be seen
// alike with colour-vision deficiencies.
func Cividis() ColorMap { return slices.Clone(cividis) }

// Gray returns matplotlib's gray: black to white.
func Gray() ColorMap { return ColorMap{{0, 0, 0, 255}, {255, 255, 255, 255}} }

// Reversed returns the colour map run backwards, as matplotlib's _r maps.
func (m ColorMap) Reversed() ColorMap {
	r := slices.Clone(m)
	slices.Reverse(r)
	return r
}

// colorMaps are the colour maps by name, as matplotlib names them.
var colorMaps = []struct {
	name string
	make func() ColorMap
}{
	{"viridis", Viridis}, {"magma", Magma}, {"inferno", Inferno}, {"plasma", Plasma},
	{"cividis", Cividis}, {"coolwarm", CoolWarm}, {"gray", Gray},
}

// ColorMapNames returns the names [ParseColorMap] knows, without their
// reversed forms.
func ColorMapNames() []string {
	names := make([]string, len(colorMaps))
	for i, m := range colorMaps {
		names[i] = m.name
	}
	return names
}

// ParseColorMap returns the colour map of the given name, as matplotlib
// names it: one of [ColorMapNames], or one of them followed by _r for the
// map reversed (viridis_r).
func ParseColorMap(name string) (ColorMap, error) {
	base, reversed := strings.CutSuffix(name, "_r")
	for _, m := range colorMaps {
		if m.name == base {
			if reversed {
				return m.make().Reversed(), nil
			}
			return m.make(), nil
		}
	}
	return nil, fmt.Errorf("export: %w: unknown colour map %q; want %s, or one of them with _r", ErrPlot, name, strings.Join(ColorMapNames(), ", "))
}

// The colour maps at ten stops (the values R's viridisLite gives for
// n = 10).
var (
	viridis = ColorMap{
		{0x44, 0x01, 0x54, 255}, {0x48, 0x28, 0x78, 255}, {0x3e, 0x4a, 0x89, 255}, {0x31, 0x68, 0x8e, 255},
		{0x26, 0x82, 0x8e, 255}, {0x1f, 0x9e, 0x89, 255}, {0x35, 0xb7, 0x79, 255}, {0x6d, 0xcd, 0x59, 255},
		{0xb4, 0xde, 0x2c, 255}, {0xfd, 0xe7, 0x25, 255},
	}
	magma = ColorMap{
		{0x00, 0x00, 0x04, 255}, {0x18, 0x0f, 0x3e, 255}, {0x45, 0x10, 0x77, 255}, {0x72, 0x1f, 0x81, 255},
		{0x9f, 0x2f, 0x7f, 255}, {0xcd, 0x40, 0x71, 255}, {0xf1, 0x60, 0x5d, 255}, {0xfd, 0x95, 0x67, 255},
		{0xfe, 0xc9, 0x8d, 255}, {0xfc, 0xfd, 0xbf, 255},
	}
	inferno = ColorMap{
		{0x00, 0x00, 0x04, 255}, {0x1b, 0x0c, 0x42, 255}, {0x4b, 0x0c, 0x6b, 255}, {0x78, 0x1c, 0x6d, 255},
		{0xa5, 0x2c, 0x60, 255}, {0xcf, 0x44, 0x46, 255}, {0xed, 0x69, 0x25, 255}, {0xfb, 0x9a, 0x06, 255},
		{0xf7, 0xd0, 0x3c, 255}, {0xfc, 0xff, 0xa4, 255},
	}
	plasma = ColorMap{
		{0x0d, 0x08, 0x87, 255}, {0x47, 0x03, 0x9f, 255}, {0x73, 0x01, 0xa8, 255}, {0x9c, 0x17, 0x9e, 255},
		{0xbd, 0x37, 0x86, 255}, {0xd8, 0x57, 0x6b, 255}, {0xed, 0x79, 0x53, 255}, {0xfa, 0x9e, 0x3b, 255},
		{0xfd, 0xc9, 0x26, 255}, {0xf0, 0xf9, 0x21, 255},
	}
	cividis = ColorMap{
		{0x00, 0x20, 0x4d, 255}, {0x00, 0x33, 0x6f, 255}, {0x39, 0x48, 0x6b, 255}, {0x57, 0x5c, 0x6d, 255},
		{0x70, 0x71, 0x73, 255}, {0x8a, 0x87, 0x79, 255}, {0xa6, 0x9d, 0x75, 255}, {0xc4, 0xb5, 0x6c, 255},
		{0xe4, 0xcf, 0x5b, 255}, {0xff, 0xea, 0x46, 255},
	}
)

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
