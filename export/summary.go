package export

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/landscape-go/landscape/landscape/surface"
)

// This file writes the tables of "landscape compare": the flatness
// numbers of several surfaces as CSV, Markdown and aligned text.

// Summary is the flatness of one surface ([surface.Flatness]) under the
// name that labels it in the comparison tables.
type Summary struct {
	// Name labels the surface and Metric names the metric.
	Name, Metric string
	surface.Flatness
}

// SummaryOptions configures [Summarize]: the radii, threshold and rise of
// [surface.Field.Flatness]. The zero value gives the defaults.
type SummaryOptions = surface.FlatnessOptions

// Summarize computes the flatness of the named metric of s for the tables,
// under name. If o is nil the defaults are used.
func Summarize(s *surface.Surface, name, metric string, o *SummaryOptions) (Summary, error) {
	f, err := fieldOf(s, metric)
	if err != nil {
		return Summary{}, err
	}
	return Summary{Name: name, Metric: metric, Flatness: f.Flatness(o)}, nil
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
	width := func(iv surface.Interval, oneD bool) string {
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

// WriteRanges writes a line for each metric of s, for people: its least
// and greatest value, and how many points are NaN or Inf, then where such
// points come from; nothing for a surface without points (an empty
// shard).
func WriteRanges(w io.Writer, s *surface.Surface) error {
	if len(s.Points) == 0 {
		return nil
	}
	width := 11
	for _, name := range s.Metrics {
		width = max(width, utf8.RuneCountInString(name))
	}
	anyBad := false
	for m, name := range s.Metrics {
		lo, hi, bad := s.Range(m)
		anyBad = anyBad || bad > 0
		var err error
		switch {
		case bad == len(s.Points):
			_, err = fmt.Fprintf(w, "  %-*s every point NaN or Inf\n", width, name)
		case bad > 0:
			_, err = fmt.Fprintf(w, "  %-*s min %.6g  max %.6g  (%d points NaN or Inf)\n", width, name, lo, hi, bad)
		default:
			_, err = fmt.Fprintf(w, "  %-*s min %.6g  max %.6g\n", width, name, lo, hi)
		}
		if err != nil {
			return err
		}
	}
	if anyBad {
		_, err := fmt.Fprintln(w, "  (NaN or Inf where activations overflow float32 far from the centre, or, with --mode states, where a batch norm's running variance is carried below 0: PyTorch gives the same)")
		return err
	}
	return nil
}
