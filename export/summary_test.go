package export

import (
	"bytes"
	"encoding/csv"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape/surface"
)

// TestSummaryTablesWriteEveryColumn checks the CSV, Markdown and text tables
// of two summaries: their columns, escaping, the ≥ of a width at the grid's
// edge, and the refusal to tabulate different radii.
func TestSummaryTablesWriteEveryColumn(t *testing.T) {
	t.Parallel()
	ax := grid.Axis{Min: -2, Max: 2, Num: 41}
	summarize := func(name string, loss func(x, y float64) float64, o *SummaryOptions) Summary {
		t.Helper()
		s, err := Summarize(synthetic(ax, ax, loss), name, "train_loss", o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	bowl := func(x, y float64) float64 { return x*x + y*y }
	a := summarize("bowl", bowl, nil)
	b := summarize("flat | wide", func(x, y float64) float64 { return 0.01 * (x*x + y*y) }, nil)
	var buf bytes.Buffer
	if err := WriteSummaryCSV(&buf, []Summary{a, b}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0][0] != "surface" || recs[0][5] != "rise_r0.25" || recs[1][0] != "bowl" || recs[2][0] != "flat | wide" {
		t.Fatalf("CSV %q", recs)
	}
	head := strings.Join(recs[0], ",")
	for _, col := range []string{"basin_fraction", "basin_area", "width_x", "width_x_at_edge", "negative_curvature_share"} {
		if !strings.Contains(head, col) {
			t.Errorf("CSV header %q lacks %s", head, col)
		}
	}
	// The flat bowl's basin below 1.0 covers the grid: its widths reach the edges.
	if recs[2][len(recs[2])-5] != "true" {
		t.Errorf("flat bowl width_x_at_edge = %q, want true (row %q)", recs[2][len(recs[2])-5], recs[2])
	}
	buf.Reset()
	if err := WriteSummaryMarkdown(&buf, []Summary{a, b}); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{"| surface | centre (α, β) |", "| bowl | (0, 0) | 0 |", `flat \| wide`, "≥4", "neg. curv. %", "- centre:"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	buf.Reset()
	if err := WriteSummaryText(&buf, []Summary{a, b}); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(buf.String()), "\n"); len(lines) != 3 {
		t.Errorf("text table has %d lines, want 3:\n%s", len(lines), buf.String())
	}
	c := summarize("bowl", bowl, &SummaryOptions{Radii: []float64{1}})
	if err := WriteSummaryCSV(new(bytes.Buffer), []Summary{a, c}); !errors.Is(err, ErrRadii) {
		t.Errorf("different radii: %v, want ErrRadii", err)
	}
}

// Each metric's line gives its range over the finite points and counts
// the others; a metric with no finite point says so instead of a range;
// then a line says where such points come from.
func TestWriteRangesCountsNaNAndInf(t *testing.T) {
	t.Parallel()
	nan, inf := math.NaN(), math.Inf(1)
	s := &surface.Surface{Metrics: []string{"train_loss", "train_acc", "test_loss"}, Points: []surface.Point{
		{Index: 0, Values: []float64{0.5, 90, nan}},
		{Index: 1, Values: []float64{inf, 80, inf}},
		{Index: 2, Values: []float64{2.25, 70, nan}},
	}}
	var buf bytes.Buffer
	if err := WriteRanges(&buf, s); err != nil {
		t.Fatal(err)
	}
	want := "  train_loss  min 0.5  max 2.25  (1 points NaN or Inf)\n" +
		"  train_acc   min 70  max 90\n" +
		"  test_loss   every point NaN or Inf\n" +
		"  (NaN or Inf where activations overflow float32 far from the centre, or, with --mode states, where a batch norm's running variance is carried below 0: PyTorch gives the same)\n"
	if buf.String() != want {
		t.Errorf("WriteRanges wrote\n%s\nwant\n%s", buf.String(), want)
	}
}

// An empty shard (more shards than points) has no range to report, nor
// "every point NaN or Inf".
func TestWriteRangesOfNoPointsIsEmpty(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteRanges(&buf, &surface.Surface{Metrics: []string{"train_loss"}}); err != nil || buf.Len() != 0 {
		t.Errorf("WriteRanges of no points wrote %q, %v", buf.String(), err)
	}
}
