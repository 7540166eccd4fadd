package export

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg"
)

// The parsers below read the figure settings as the command line and
// configuration files write them. Their errors begin with the setting's
// name and the value given ("levels \"1:0:1\": want ..."), so that a
// command line can put "--" in front.

// ParseLevels parses contour levels: "" for the defaults (nil levels),
// MIN:MAX:STEP for numpy.arange(MIN, MAX, STEP) with the colour scale from
// MIN to MAX, or a comma-separated list, sorted, with the scale from its
// least to its greatest (none for a single level).
func ParseLevels(s string) (levels []float64, vmin, vmax float64, err error) {
	if s == "" {
		return nil, 0, 0, nil
	}
	if parts := strings.Split(s, ":"); len(parts) == 3 {
		var v [3]float64
		for i, p := range parts {
			if v[i], err = strconv.ParseFloat(strings.TrimSpace(p), 64); err != nil {
				return nil, 0, 0, fmt.Errorf("levels %q: %q is not a number", s, p)
			}
		}
		lo, hi, step := v[0], v[1], v[2]
		n := math.Ceil((hi - lo) / step)
		if !(step > 0) || !(hi > lo) || !(n <= 1000) {
			return nil, 0, 0, fmt.Errorf("levels %q: want MIN:MAX:STEP with MIN < MAX and at most 1000 levels", s)
		}
		for i := range int(n) {
			levels = append(levels, lo+float64(i)*step)
		}
		return levels, lo, hi, nil
	}
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, 0, 0, fmt.Errorf("levels %q: want MIN:MAX:STEP or comma-separated numbers", s)
		}
		levels = append(levels, v)
	}
	slices.Sort(levels)
	if levels[0] == levels[len(levels)-1] {
		return levels, 0, 0, nil
	}
	return levels, levels[0], levels[len(levels)-1], nil
}

// ParseSlice parses a grid line of a 2D surface: y=VALUE, the row nearest
// VALUE, or x=VALUE, the column.
func ParseSlice(s string) (Slice, error) {
	name, value, ok := strings.Cut(s, "=")
	v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
	sl := Slice{At: v}
	switch strings.TrimSpace(name) {
	case "x":
		sl.Fixed = DimX
	case "y":
		sl.Fixed = DimY
	default:
		ok = false
	}
	if !ok || err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return sl, fmt.Errorf("slice %q: want y=VALUE or x=VALUE, e.g. y=0", s)
	}
	return sl, nil
}

// ParseFigureSize parses a figure size WxH in inches, each 1 to 100.
func ParseFigureSize(s string) (width, height vg.Length, err error) {
	ws, hs, ok := strings.Cut(s, "x")
	w, err1 := strconv.ParseFloat(ws, 64)
	h, err2 := strconv.ParseFloat(hs, 64)
	if !ok || err1 != nil || err2 != nil || !(w >= 1 && w <= 100 && h >= 1 && h <= 100) {
		return 0, 0, fmt.Errorf("size %q: want WxH in inches, each 1 to 100, e.g. 6x4.5", s)
	}
	return vg.Length(w) * vg.Inch, vg.Length(h) * vg.Inch, nil
}

// ParseFormats parses a comma-separated list of the [Formats] (jpeg is
// read as jpg, case ignored) into a list with each format once, in order.
func ParseFormats(s string) ([]string, error) {
	var formats []string
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "jpeg" {
			f = "jpg"
		}
		if !slices.Contains(Formats(), f) {
			return nil, fmt.Errorf("format %q: want %s, comma-separated", s, strings.Join(Formats(), ", "))
		}
		if !slices.Contains(formats, f) {
			formats = append(formats, f)
		}
	}
	return formats, nil
}
