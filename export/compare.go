package export

import (
	"github.com/landscape-go/landscape/landscape/surface"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

)

// Field is one metric of a surface as a dense grid: Z[iy][ix] is the value
// at (X[ix], Y[iy]). A 1D surface has Y nil and Z one row. Values may be NaN
// or infinite where the surface holds no point or the loss blew up.
//
// Between grid points a Field is taken to be bilinear by [Field.At], and
// piecewise linear on the four triangles that split each cell at its centre
// by [Field.Basin] and the contour plots, so that the basin area and the
// filled contours agree.
type Field struct {
	X, Y []float64
	Z    [][]float64
}

// NewField returns the named metric of s as a Field, with the coordinates
// of the grid in its provenance.
func NewField(s *surface.Surface, metric string) (*Field, error) {
	z, err := s.Grid(metric)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	f := &Field{X: s.Provenance.Grid.X.Values(), Z: z}
	if !s.Is1D() {
		f.Y = s.Provenance.Grid.Y.Values()
	}
	return f, nil
}

// Is1D reports whether f has no y axis.
func (f *Field) Is1D() bool { return f.Y == nil }

// locate returns i and the weight w of v[i+1] with which x lies between
// v[i] and v[i+1], or false if x is outside v. A point within a billionth
// of the span outside counts as on the edge.
func locate(v []float64, x float64) (i int, w float64, ok bool) {
	n := len(v)
	if n == 1 {
		return 0, 0, x == v[0]
	}
	tol := 1e-9 * (v[n-1] - v[0])
	switch {
	case math.IsNaN(x) || x < v[0]-tol || x > v[n-1]+tol:
		return 0, 0, false
	case x <= v[0]:
		return 0, 0, true
	case x >= v[n-1]:
		return n - 2, 1, true
	}
	i = int((x - v[0]) / (v[n-1] - v[0]) * float64(n-1))
	i = max(0, min(i, n-2))
	for i > 0 && x < v[i] {
		i--
	}
	for i < n-2 && x > v[i+1] {
		i++
	}
	return i, (x - v[i]) / (v[i+1] - v[i]), true
}

// At returns the value of f at (x, y) by bilinear interpolation between the
// four grid points around it (linear in 1D, where y is ignored), or NaN if
// the point is outside the grid. A grid point with zero weight does not
// take part, so an infinite neighbour does not spoil an exact grid value.
func (f *Field) At(x, y float64) float64 {
	ix, wx, ok := locate(f.X, x)
	if !ok {
		return math.NaN()
	}
	iy, wy := 0, 0.0
	if !f.Is1D() {
		if iy, wy, ok = locate(f.Y, y); !ok {
			return math.NaN()
		}
	}
	var sum float64
	for dy, ay := range [2]float64{1 - wy, wy} {
		for dx, ax := range [2]float64{1 - wx, wx} {
			if w := ax * ay; w != 0 {
				sum += w * f.Z[iy+dy][ix+dx]
			}
		}
	}
	return sum
}

// Centre returns the indices of the grid point nearest (0, 0), iy 0 in 1D.
func (f *Field) Centre() (ix, iy int) {
	nearest := func(v []float64) int {
		best := 0
		for i, c := range v {
			if math.Abs(c) < math.Abs(v[best]) {
				best = i
			}
		}
		return best
	}
	ix = nearest(f.X)
	if !f.Is1D() {
		iy = nearest(f.Y)
	}
	return ix, iy
}

// CircleMean returns the mean of f at n points evenly spread over the
// circle of radius r around (0, 0), starting on the positive x axis, by
// bilinear interpolation ([Field.At]). It is NaN if the circle leaves the
// grid, and NaN or infinite if it crosses a cell with such a corner. In 1D
// the circle is the two points -r and r, and n is not used.
func (f *Field) CircleMean(r float64, n int) float64 {
	if f.Is1D() {
		return (f.At(-r, 0) + f.At(r, 0)) / 2
	}
	if n < 1 {
		return math.NaN()
	}
	var sum float64
	for k := range n {
		s, c := math.Sincos(2 * math.Pi * float64(k) / float64(n))
		sum += f.At(r*c, r*s)
	}
	return sum / float64(n)
}

// Basin returns the area of the part of the grid where f is below
// threshold, in units of α·β (of α in 1D), and the fraction of the grid's
// area that it is. Within a cell f is linear on the four triangles that
// meet at the cell's centre; a cell with a NaN or infinite corner counts as
// outside the basin. The fraction is NaN if the grid has no area.
func (f *Field) Basin(threshold float64) (area, fraction float64) {
	if f.Is1D() {
		for i := 0; i+1 < len(f.X); i++ {
			a, b := f.Z[0][i], f.Z[0][i+1]
			if !finite(a) || !finite(b) {
				continue
			}
			h := f.X[i+1] - f.X[i]
			switch {
			case a < threshold && b < threshold:
				area += h
			case a < threshold:
				area += h * (threshold - a) / (b - a)
			case b < threshold:
				area += h * (threshold - b) / (a - b)
			}
		}
		return area, area / (f.X[len(f.X)-1] - f.X[0])
	}
	var tris [4]triangle
	var a, b []vertex
	for iy := 0; iy+1 < len(f.Y); iy++ {
		for ix := 0; ix+1 < len(f.X); ix++ {
			lo, hi, ok := f.cellRange(ix, iy)
			switch {
			case !ok || lo >= threshold:
				continue
			case hi < threshold:
				area += (f.X[ix+1] - f.X[ix]) * (f.Y[iy+1] - f.Y[iy])
				continue
			}
			f.cellTriangles(ix, iy, &tris)
			for _, t := range tris {
				a = append(a[:0], t.v[:]...)
				b = clipPolygon(b, a, threshold, false)
				if len(b) >= 3 {
					area += polygonArea(b)
				}
			}
		}
	}
	total := (f.X[len(f.X)-1] - f.X[0]) * (f.Y[len(f.Y)-1] - f.Y[0])
	return area, area / total
}

// Interval is a stretch of an axis, for example the basin along a line
// through the centre. LoAtEdge and HiAtEdge report that it reaches the end
// of the grid on that side, so that the true bound lies further out.
type Interval struct {
	Lo, Hi             float64
	LoAtEdge, HiAtEdge bool
}

// Width returns Hi - Lo.
func (iv Interval) Width() float64 { return iv.Hi - iv.Lo }

// BasinWidths returns the stretches of the row and the column through the
// centre grid point ([Field.Centre]) on which f stays below threshold,
// with the crossings placed by linear interpolation between grid points. A
// NaN or infinite point ends a stretch at the last finite point before it.
// If the centre itself is not below threshold both stretches are empty
// (Lo = Hi at the centre). In 1D y is the zero Interval.
func (f *Field) BasinWidths(threshold float64) (x, y Interval) {
	ix, iy := f.Centre()
	x = basinInterval(f.X, func(i int) float64 { return f.Z[iy][i] }, ix, threshold)
	if !f.Is1D() {
		y = basinInterval(f.Y, func(j int) float64 { return f.Z[j][ix] }, iy, threshold)
	}
	return x, y
}

// basinInterval returns the stretch around v[c] where z stays below
// threshold.
func basinInterval(v []float64, z func(int) float64, c int, threshold float64) Interval {
	below := func(i int) bool { return z(i) < threshold } // false for NaN
	iv := Interval{Lo: v[c], Hi: v[c]}
	if !below(c) {
		return iv
	}
	cross := func(in, out int) float64 {
		a, b := z(in), z(out)
		if !finite(b) {
			return v[in]
		}
		return v[in] + (threshold-a)/(b-a)*(v[out]-v[in])
	}
	i := c
	for i+1 < len(v) && below(i+1) {
		i++
	}
	if i+1 == len(v) {
		iv.Hi, iv.HiAtEdge = v[i], true
	} else {
		iv.Hi = cross(i, i+1)
	}
	i = c
	for i > 0 && below(i-1) {
		i--
	}
	if i == 0 {
		iv.Lo, iv.LoAtEdge = v[0], true
	} else {
		iv.Lo = cross(i, i-1)
	}
	return iv
}

// NegativeCurvature returns the share of interior grid points at which the
// discrete Hessian of f has a negative eigenvalue, and the number of points
// it was computed at: those whose 3×3 neighbourhood (3 points in 1D) is
// finite. The Hessian is taken by central differences,
//
//	fxx = (f[i+1,j] - 2f[i,j] + f[i-1,j]) / hx²
//	fxy = (f[i+1,j+1] - f[i+1,j-1] - f[i-1,j+1] + f[i-1,j-1]) / (4 hx hy)
//
// and its least eigenvalue (fxx+fyy)/2 - √(((fxx-fyy)/2)² + fxy²) counts as
// negative below a rounding tolerance of 1e-9 times the stencil's values
// over h². The share is NaN where no point qualifies.
//
// This is a proxy for the non-convexity maps of Li et al., who plot the
// ratio |λmin/λmax| of the Hessian of the full network loss at each point:
// we have only the surface, so we measure the curvature of the surface
// itself. A convex bowl gives 0, a saddle 1.
func (f *Field) NegativeCurvature() (share float64, points int) {
	neg := 0
	if f.Is1D() {
		z := f.Z[0]
		for i := 1; i+1 < len(z); i++ {
			if !finite(z[i-1]) || !finite(z[i]) || !finite(z[i+1]) {
				continue
			}
			h := (f.X[i+1] - f.X[i-1]) / 2
			d2 := (z[i+1] - 2*z[i] + z[i-1]) / (h * h)
			tol := 1e-9 * (math.Abs(z[i-1]) + 2*math.Abs(z[i]) + math.Abs(z[i+1])) / (h * h)
			points++
			if d2 < -tol {
				neg++
			}
		}
	} else {
		for j := 1; j+1 < len(f.Y); j++ {
		points:
			for i := 1; i+1 < len(f.X); i++ {
				var sum float64
				for dj := -1; dj <= 1; dj++ {
					for di := -1; di <= 1; di++ {
						v := f.Z[j+dj][i+di]
						if !finite(v) {
							continue points
						}
						sum += math.Abs(v)
					}
				}
				z := f.Z
				hx, hy := (f.X[i+1]-f.X[i-1])/2, (f.Y[j+1]-f.Y[j-1])/2
				fxx := (z[j][i+1] - 2*z[j][i] + z[j][i-1]) / (hx * hx)
				fyy := (z[j+1][i] - 2*z[j][i] + z[j-1][i]) / (hy * hy)
				fxy := (z[j+1][i+1] - z[j-1][i+1] - z[j+1][i-1] + z[j-1][i-1]) / (4 * hx * hy)
				lmin := (fxx+fyy)/2 - math.Hypot((fxx-fyy)/2, fxy)
				tol := 1e-9 * sum / math.Min(hx*hx, hy*hy)
				points++
				if lmin < -tol {
					neg++
				}
			}
		}
	}
	if points == 0 {
		return math.NaN(), 0
	}
	return float64(neg) / float64(points), points
}

// SummaryOptions configures [Summarize]. The zero value gives the defaults.
type SummaryOptions struct {
	// Radii are the radii of the circles over which the mean rise of the
	// metric is taken; nil means 0.25, 0.5 and 1.
	Radii []float64
	// Angles is the number of points on each circle; 0 means 64.
	Angles int
	// Threshold is the level below which the surface counts as basin. If
	// it is zero, the centre value plus Rise is used, so that surfaces are
	// compared at the same rise above their own minimum-ish centre.
	Threshold float64
	// Rise is added to the centre value to make the threshold when
	// Threshold is zero; 0 means 1.
	Rise float64
}

// Summary holds the figures that [Summarize] computes for one surface.
type Summary struct {
	// Name labels the surface in tables and Metric names the metric; both
	// are left for the caller to set ([SummarizeSurface] sets them).
	Name, Metric string

	// CentreX and CentreY are the grid point nearest (0, 0) (CentreY is
	// NaN in 1D) and Centre the value there.
	CentreX, CentreY, Centre float64

	// Radii are the circle radii and Rise the mean of the metric over each
	// circle minus Centre ([Field.CircleMean]).
	Radii, Rise []float64

	// Threshold is the basin level; BasinArea and BasinFraction are the
	// area below it and its share of the grid ([Field.Basin]).
	Threshold, BasinArea, BasinFraction float64

	// WidthX and WidthY are the basin along the row and column through the
	// centre ([Field.BasinWidths]).
	WidthX, WidthY Interval

	// NegativeCurvature is the share of interior points with a negative
	// Hessian eigenvalue and CurvaturePoints the number of points it is
	// taken over ([Field.NegativeCurvature]).
	NegativeCurvature float64
	CurvaturePoints   int
}

// Summarize computes the comparison figures of f. If o is nil the defaults
// are used.
func Summarize(f *Field, o *SummaryOptions) Summary {
	var opt SummaryOptions
	if o != nil {
		opt = *o
	}
	if opt.Radii == nil {
		opt.Radii = []float64{0.25, 0.5, 1}
	}
	if opt.Angles == 0 {
		opt.Angles = 64
	}
	if opt.Rise == 0 {
		opt.Rise = 1
	}
	ix, iy := f.Centre()
	s := Summary{CentreX: f.X[ix], CentreY: math.NaN(), Centre: f.Z[iy][ix]}
	if !f.Is1D() {
		s.CentreY = f.Y[iy]
	}
	s.Radii = append([]float64(nil), opt.Radii...)
	for _, r := range opt.Radii {
		s.Rise = append(s.Rise, f.CircleMean(r, opt.Angles)-s.Centre)
	}
	s.Threshold = opt.Threshold
	if s.Threshold == 0 {
		s.Threshold = s.Centre + opt.Rise
	}
	s.BasinArea, s.BasinFraction = f.Basin(s.Threshold)
	s.WidthX, s.WidthY = f.BasinWidths(s.Threshold)
	s.NegativeCurvature, s.CurvaturePoints = f.NegativeCurvature()
	return s
}

// SummarizeSurface summarises the named metric of s under the given name.
func SummarizeSurface(s *surface.Surface, name, metric string, o *SummaryOptions) (Summary, error) {
	f, err := NewField(s, metric)
	if err != nil {
		return Summary{}, err
	}
	sum := Summarize(f, o)
	sum.Name, sum.Metric = name, metric
	return sum, nil
}

// ErrRadii is returned, wrapped, when summaries to be tabulated were taken
// over different circle radii.
var ErrRadii = errors.New("summaries have different radii")

// checkRadii checks that all summaries share the radii of the first.
func checkRadii(ss []Summary) error {
	for _, s := range ss[min(1, len(ss)):] {
		if fmt.Sprint(s.Radii) != fmt.Sprint(ss[0].Radii) {
			return fmt.Errorf("export: %w: %v and %v (%s)", ErrRadii, ss[0].Radii, s.Radii, s.Name)
		}
	}
	return nil
}

// WriteSummaryCSV writes the summaries as CSV with a header line, one row
// per summary. Numbers are written in full precision; NaN as NaN.
func WriteSummaryCSV(w io.Writer, ss []Summary) error {
	if err := checkRadii(ss); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	head := []string{"surface", "metric", "centre_x", "centre_y", "centre"}
	if len(ss) > 0 {
		for _, r := range ss[0].Radii {
			head = append(head, "rise_r"+formatFloat(r))
		}
	}
	head = append(head, "threshold", "basin_fraction", "basin_area", "width_x", "width_x_at_edge", "width_y", "width_y_at_edge",
		"negative_curvature_share", "curvature_points")
	cw.Write(head)
	for _, s := range ss {
		row := []string{s.Name, s.Metric, formatFloat(s.CentreX), formatFloat(s.CentreY), formatFloat(s.Centre)}
		for _, r := range s.Rise {
			row = append(row, formatFloat(r))
		}
		row = append(row, formatFloat(s.Threshold), formatFloat(s.BasinFraction), formatFloat(s.BasinArea),
			formatFloat(s.WidthX.Width()), strconv.FormatBool(s.WidthX.LoAtEdge || s.WidthX.HiAtEdge),
			formatFloat(s.WidthY.Width()), strconv.FormatBool(s.WidthY.LoAtEdge || s.WidthY.HiAtEdge),
			formatFloat(s.NegativeCurvature), strconv.Itoa(s.CurvaturePoints))
		cw.Write(row)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("export: write summary csv: %w", err)
	}
	return nil
}

// summaryTable returns the header and rows of the summaries formatted for
// reading: four significant digits, a width that reaches the grid's edge
// marked "≥", percentages for shares.
func summaryTable(ss []Summary) (head []string, rows [][]string) {
	head = []string{"surface", "centre (α, β)", "centre"}
	if len(ss) > 0 {
		for _, r := range ss[0].Radii {
			head = append(head, "rise r="+formatFloat(r))
		}
	}
	head = append(head, "threshold", "basin %", "basin area", "width x", "width y", "neg. curv. %")
	g := func(v float64) string {
		if math.IsNaN(v) {
			return "NaN"
		}
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	width := func(iv Interval, oneD bool) string {
		if oneD {
			return "–"
		}
		if iv.LoAtEdge || iv.HiAtEdge {
			return "≥" + g(iv.Width())
		}
		return g(iv.Width())
	}
	pct := func(v float64) string {
		if math.IsNaN(v) {
			return "NaN"
		}
		return strconv.FormatFloat(100*v, 'f', 1, 64)
	}
	for _, s := range ss {
		oneD := math.IsNaN(s.CentreY)
		centre := "(" + g(s.CentreX) + ", " + g(s.CentreY) + ")"
		if oneD {
			centre = g(s.CentreX)
		}
		row := []string{s.Name, centre, g(s.Centre)}
		for _, r := range s.Rise {
			row = append(row, g(r))
		}
		row = append(row, g(s.Threshold), pct(s.BasinFraction), g(s.BasinArea), width(s.WidthX, false), width(s.WidthY, oneD),
			pct(s.NegativeCurvature))
		rows = append(rows, row)
	}
	return head, rows
}

// SummaryNotes explains the columns of the summary tables; the Markdown
// table is followed by it.
const SummaryNotes = `centre: the metric at the grid point nearest (0, 0).
rise r: mean of the metric over a circle of radius r around (0, 0) (64 points, bilinear interpolation) minus the centre value; NaN if the circle leaves the grid.
threshold: the basin level, by default the centre value + 1.
basin %, basin area: share of the grid's area, and area in α·β units, where the metric is below the threshold (linear interpolation within cells; NaN/Inf cells count as outside).
width x, width y: length of the stretch below the threshold along the row and column through the centre; ≥ means the basin reaches the grid's edge.
neg. curv. %: share of interior grid points where the finite-difference Hessian of the surface has a negative eigenvalue (0 for a convex bowl, 100 for a saddle); a proxy for Li et al.'s |λmin/λmax| maps, which use the Hessian of the network loss.
`

// WriteSummaryMarkdown writes the summaries as a Markdown table followed by
// [SummaryNotes] as a list.
func WriteSummaryMarkdown(w io.Writer, ss []Summary) error {
	if err := checkRadii(ss); err != nil {
		return err
	}
	head, rows := summaryTable(ss)
	var b strings.Builder
	if len(ss) > 0 && ss[0].Metric != "" {
		fmt.Fprintf(&b, "Metric: `%s`\n\n", ss[0].Metric)
	}
	line := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + strings.ReplaceAll(c, "|", `\|`) + " |")
		}
		b.WriteString("\n")
	}
	line(head)
	sep := make([]string, len(head))
	for i := range sep {
		sep[i] = "---:"
	}
	sep[0] = "---"
	line(sep)
	for _, r := range rows {
		line(r)
	}
	b.WriteString("\n")
	for _, n := range strings.Split(strings.TrimSpace(SummaryNotes), "\n") {
		b.WriteString("- " + n + "\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("export: write summary markdown: %w", err)
	}
	return nil
}

// WriteSummaryText writes the summaries as a table aligned in columns, for
// a terminal.
func WriteSummaryText(w io.Writer, ss []Summary) error {
	if err := checkRadii(ss); err != nil {
		return err
	}
	head, rows := summaryTable(ss)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, r := range append([][]string{head}, rows...) {
		fmt.Fprintln(tw, strings.Join(r, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("export: write summary: %w", err)
	}
	return nil
}
