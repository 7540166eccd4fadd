package grid

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Axis is an evenly spaced coordinate range with both ends included, as
// numpy.linspace(Min, Max, Num) makes it and as the reference's --x=-1:1:51
// flag means it.
type Axis struct {
	Min float64 `json:"min"`
	Max float64 `json:"max"`
	Num int     `json:"num"`
}

// ErrAxis is returned, wrapped, for every malformed axis specification.
var ErrAxis = errors.New("bad axis")

// ParseAxis parses "min:max:num", for example "-1:1:51". Num must be at
// least 1, and min < max unless num is 1 (then min must equal max).
func ParseAxis(s string) (Axis, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return Axis{}, fmt.Errorf("grid: %w %q: want min:max:num, e.g. -1:1:51", ErrAxis, s)
	}
	lo, err1 := strconv.ParseFloat(strings.TrimSpace(parts[0]), 64)
	hi, err2 := strconv.ParseFloat(strings.TrimSpace(parts[1]), 64)
	if err1 != nil || err2 != nil {
		return Axis{}, fmt.Errorf("grid: %w %q: min and max must be numbers", ErrAxis, s)
	}
	n, err := strconv.Atoi(strings.TrimSpace(parts[2]))
	if err != nil {
		return Axis{}, fmt.Errorf("grid: %w %q: num must be a whole number", ErrAxis, s)
	}
	a := Axis{Min: lo, Max: hi, Num: n}
	if err := a.Validate(); err != nil {
		return Axis{}, fmt.Errorf("grid: %w %q: %v", ErrAxis, s, err)
	}
	return a, nil
}

// Validate reports what is wrong with a, if anything.
func (a Axis) Validate() error {
	switch {
	case math.IsNaN(a.Min) || math.IsNaN(a.Max) || math.IsInf(a.Min, 0) || math.IsInf(a.Max, 0):
		return errors.New("min and max must be finite")
	case math.IsInf(a.Max-a.Min, 0):
		return fmt.Errorf("the span max − min overflows (%g − %g)", a.Max, a.Min)
	case a.Num < 1:
		return fmt.Errorf("num is %d, want at least 1", a.Num)
	case a.Num > MaxPoints:
		return fmt.Errorf("num is %d, want at most %d", a.Num, MaxPoints)
	case a.Num == 1 && a.Min != a.Max:
		return errors.New("a single point needs min equal to max")
	case a.Num > 1 && !(a.Min < a.Max):
		return errors.New("min must be less than max")
	}
	return nil
}

// String formats a as ParseAxis reads it.
func (a Axis) String() string {
	return strconv.FormatFloat(a.Min, 'g', -1, 64) + ":" + strconv.FormatFloat(a.Max, 'g', -1, 64) + ":" + strconv.Itoa(a.Num)
}

// At returns the i-th coordinate, computed as numpy.linspace does: Min +
// i*step with step = (Max-Min)/(Num-1), and exactly Max at the last point.
func (a Axis) At(i int) float64 {
	if a.Num == 1 {
		return a.Min
	}
	if i == a.Num-1 {
		return a.Max
	}
	step := (a.Max - a.Min) / float64(a.Num-1)
	return a.Min + float64(i)*step
}

// Values returns all coordinates of a.
func (a Axis) Values() []float64 {
	v := make([]float64, a.Num)
	for i := range v {
		v[i] = a.At(i)
	}
	return v
}
