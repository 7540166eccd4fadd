package grid

import (
	"errors"
	"math"
	"testing"
)

// An axis is min:max:num with finite ends, an integer num and min < max,
// or min = max when num is 1; anything else is ErrAxis.
func TestParseAxisReadsMinMaxNumAndRefusesTheRest(t *testing.T) {
	t.Parallel()
	good := []struct {
		in   string
		want Axis
	}{
		{"-1:1:51", Axis{-1, 1, 51}},
		{"0:1:2", Axis{0, 1, 2}},
		{"-0.5:1.5:401", Axis{-0.5, 1.5, 401}},
		{"0.25:0.25:1", Axis{0.25, 0.25, 1}},
	}
	for _, tt := range good {
		got, err := ParseAxis(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseAxis(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"1:-1:0", "1:-1:5", "0:1:0", "0:1", "a:1:3", "0:1:2.5", "0:1:1", "nan:1:3", "0:inf:3", ""} {
		if _, err := ParseAxis(bad); !errors.Is(err, ErrAxis) {
			t.Errorf("ParseAxis(%q) error = %v, want ErrAxis", bad, err)
		}
	}
}

// Coordinates must be exactly numpy.linspace's: start + i*step, and stop
// itself at the end. These values were printed by numpy 1.24.
func TestAxisMatchesLinspace(t *testing.T) {
	t.Parallel()
	a := Axis{-1, 1, 51}
	want := map[int]float64{0: -1, 1: -0.96, 25: 0, 37: 0.48, 49: 0.96, 50: 1}
	for i, w := range want {
		if got := a.At(i); got != w {
			t.Errorf("At(%d) = %.17g, want %.17g", i, got, w)
		}
	}
	b := Axis{-0.5, 1.5, 401}
	if got := b.At(100); got != 0 {
		t.Errorf("-0.5:1.5:401 at 100 = %.17g, want 0", got)
	}
	if got := b.At(300); got != 1 {
		t.Errorf("-0.5:1.5:401 at 300 = %.17g, want 1", got)
	}
}

// A grid with its own y axis numbers its points row by row, x fastest; a
// 1D grid's points have y NaN.
func TestNonSquareGridIsRowMajorInY(t *testing.T) {
	t.Parallel()
	g := Grid{X: Axis{0, 2, 3}, Y: &Axis{10, 13, 4}}
	if g.Len() != 12 {
		t.Fatalf("Len = %d, want 12", g.Len())
	}
	x, y := g.Point(7) // iy = 2, ix = 1
	if x != 1 || y != 12 {
		t.Errorf("Point(7) = (%v, %v), want (1, 12)", x, y)
	}
	_, y = Grid{X: Axis{0, 1, 5}}.Point(3)
	if !math.IsNaN(y) {
		t.Errorf("1D point has y = %v, want NaN", y)
	}
}

// The shards i/n of a grid hold every point exactly once and within one
// point of the same size; a shard index must be below the count.
func TestShardsPartitionTheGrid(t *testing.T) {
	t.Parallel()
	g := Grid{X: Axis{-1, 1, 7}, Y: &Axis{-1, 1, 5}}
	seen := make([]int, g.Len())
	for i := range 4 {
		idx := g.Indices(Shard{i, 4})
		if len(idx) < 8 || len(idx) > 9 {
			t.Errorf("shard %d has %d points, want 8 or 9", i, len(idx))
		}
		for _, p := range idx {
			seen[p]++
		}
	}
	for p, n := range seen {
		if n != 1 {
			t.Errorf("point %d is in %d shards", p, n)
		}
	}
	if _, err := ParseShard("4/4"); err == nil {
		t.Error("ParseShard(4/4) gave no error")
	}
	if s, err := ParseShard("3/16"); err != nil || s != (Shard{3, 16}) {
		t.Errorf("ParseShard(3/16) = %v, %v", s, err)
	}
}
