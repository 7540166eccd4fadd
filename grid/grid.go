package grid

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Grid is the set of points (α, β) of a surface: the product of two axes,
// or one axis for a 1D surface (Y nil). Points are numbered iy·nx + ix, so
// that the values of a metric in index order form the 2D array Z[y][x].
type Grid struct {
	X Axis  `json:"x"`
	Y *Axis `json:"y"`
}

// String formats g as the command line's --x and --y take it.
func (g Grid) String() string {
	if g.Y == nil {
		return "x=" + g.X.String()
	}
	return "x=" + g.X.String() + " y=" + g.Y.String()
}

// Len returns the number of points.
func (g Grid) Len() int {
	if g.Y == nil {
		return g.X.Num
	}
	return g.X.Num * g.Y.Num
}

// Point returns the coordinates of point i; y is NaN in 1D.
func (g Grid) Point(i int) (x, y float64) {
	if g.Y == nil {
		return g.X.At(i), math.NaN()
	}
	return g.X.At(i % g.X.Num), g.Y.At(i / g.X.Num)
}

// MaxPoints bounds the points of a grid (and of each axis): 2²² = 2048²,
// far more than a surface is ever computed on (the reference's figures
// are 51² to 401²), and few enough that a 2D array of every point fits
// in memory. A file claiming more is refused before anything is
// allocated.
const MaxPoints = 1 << 22

// Validate checks both axes and the number of points.
func (g Grid) Validate() error {
	if err := g.X.Validate(); err != nil {
		return fmt.Errorf("grid: x axis %s: %v", g.X, err)
	}
	if g.Y != nil {
		if err := g.Y.Validate(); err != nil {
			return fmt.Errorf("grid: y axis %s: %v", g.Y, err)
		}
		if n := int64(g.X.Num) * int64(g.Y.Num); n > MaxPoints {
			return fmt.Errorf("grid: %d × %d = %d points, want at most %d", g.X.Num, g.Y.Num, n, MaxPoints)
		}
	}
	return nil
}

// Shard names one of Count shares of a grid's points, Index counting from 0.
// The zero value is not valid; use [Whole] for the entire grid.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// Whole returns the shard that holds every point, 0/1.
func Whole() Shard { return Shard{0, 1} }

// ParseShard parses "i/n" with 0 ≤ i < n.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("grid: bad shard %q: want i/n, e.g. 3/16", s)
	}
	sh := Shard{i, n}
	return sh, sh.Validate()
}

// Validate checks 0 ≤ Index < Count.
func (s Shard) Validate() error {
	if s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("grid: bad shard %d/%d: want 0 ≤ index < count", s.Index, s.Count)
	}
	return nil
}

// String formats s as ParseShard reads it.
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Indices returns the points of g that shard s holds, in ascending order.
// Points are dealt round-robin, so every shard gets points from every part
// of the grid: far points (where losses blow up and nothing is cheaper, but
// whose NaNs may stop nothing) and near ones alike, and shards finish at
// about the same time.
func (g Grid) Indices(s Shard) []int {
	var idx []int
	for i := s.Index; i < g.Len(); i += s.Count {
		idx = append(idx, i)
	}
	return idx
}
