package export

import (
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

// MIN:MAX:STEP gives numpy.arange's levels with the scale from MIN to MAX;
// a list is sorted and spans the scale; bad values are refused.
func TestParseLevelsAsNumpyArangeOrAList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in         string
		n          int
		first      float64
		last       float64
		vmin, vmax float64
		bad        bool
	}{
		{in: ""},
		{in: "0.1:10:0.5", n: 20, first: 0.1, last: 9.6, vmin: 0.1, vmax: 10},
		{in: "0:1:0.25", n: 4, first: 0, last: 0.75, vmin: 0, vmax: 1},
		{in: "3, 1,2", n: 3, first: 1, last: 3, vmin: 1, vmax: 3},
		{in: "2", n: 1, first: 2, last: 2},
		{in: "0:1:0", bad: true},
		{in: "0:1e9:1", bad: true},
		{in: "1:0:1", bad: true},
		{in: "a:b:c", bad: true},
		{in: "1,NaN", bad: true},
	}
	for _, tt := range tests {
		l, vmin, vmax, err := ParseLevels(tt.in)
		if (err != nil) != tt.bad {
			t.Errorf("ParseLevels(%q) error %v", tt.in, err)
			continue
		}
		if tt.bad || tt.n == 0 {
			continue
		}
		if len(l) != tt.n || math.Abs(l[0]-tt.first) > 1e-12 || math.Abs(l[len(l)-1]-tt.last) > 1e-12 || vmin != tt.vmin || vmax != tt.vmax {
			t.Errorf("ParseLevels(%q) = %v, %g, %g", tt.in, l, vmin, vmax)
		}
	}
}

func TestParseSliceReadsAnAxisAndAValue(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want Slice
	}{
		{"y=0", Slice{Fixed: DimY, At: 0}},
		{" x = -0.25", Slice{Fixed: DimX, At: -0.25}},
	} {
		got, err := ParseSlice(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseSlice(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "z=1", "y", "y=NaN", "x=Inf", "y=one"} {
		if _, err := ParseSlice(bad); err == nil || !strings.HasPrefix(err.Error(), "slice ") {
			t.Errorf("ParseSlice(%q) error %v, want one naming the slice", bad, err)
		}
	}
}

func TestParseFigureSizeInInches(t *testing.T) {
	t.Parallel()
	w, h, err := ParseFigureSize("6x4.5")
	if err != nil || w != 6*vg.Inch || h != 4.5*vg.Inch {
		t.Errorf("ParseFigureSize(6x4.5) = %v, %v, %v", w, h, err)
	}
	for _, bad := range []string{"6", "6x", "0x4", "6x101", "ax4", "NaNx4"} {
		if _, _, err := ParseFigureSize(bad); err == nil {
			t.Errorf("ParseFigureSize(%q) accepted", bad)
		}
	}
}

func TestParseFormatsKeepsOrderOnceEach(t *testing.T) {
	t.Parallel()
	got, err := ParseFormats("PNG, jpeg,svg,png,jpg")
	if want := []string{"png", "jpg", "svg"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("ParseFormats = %v, %v; want %v", got, err, want)
	}
	if _, err := ParseFormats("png,gif"); err == nil || !strings.Contains(err.Error(), `"png,gif"`) {
		t.Errorf("ParseFormats(png,gif) error %v, want one naming the value", err)
	}
}
