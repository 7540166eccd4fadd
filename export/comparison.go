package export

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/landscape-go/landscape/internal/atomicfile"
	"github.com/landscape-go/landscape/landscape/surface"
)

// WriteComparison compares surfaces, labelled by labels, on o.Metric (the
// first surface's default if empty, which o then holds): it computes each
// one's flatness figures and writes into the folder out the table of them
// as CSV and Markdown (compare_METRIC.csv, .md) and the figure of their
// contours side by side in each format (compare_METRIC.png, ...; none
// without formats), every file atomically. It returns the summaries and
// the files written.
func WriteComparison(out string, ss []*surface.Surface, labels, formats []string, o *PlotOptions, so *SummaryOptions) ([]Summary, []string, error) {
	if o.Metric == "" {
		o.Metric = DefaultMetric(ss[0])
	}
	sums := make([]Summary, len(ss))
	for i, s := range ss {
		sum, err := Summarize(s, labels[i], o.Metric, so)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", labels[i], err)
		}
		sums[i] = sum
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, nil, err
	}
	base := filepath.Join(out, "compare_"+o.Metric)
	var written []string
	for _, t := range []struct {
		ext   string
		write func(io.Writer, []Summary) error
	}{{".csv", WriteSummaryCSV}, {".md", WriteSummaryMarkdown}} {
		err := atomicfile.Write(base+t.ext, func(w io.Writer) error { return t.write(w, sums) })
		if err != nil {
			return nil, written, err
		}
		written = append(written, base+t.ext)
	}
	if len(formats) == 0 {
		return sums, written, nil
	}
	fig, err := NewCompareFigure(ss, labels, o)
	if err != nil {
		return nil, written, err
	}
	for _, format := range formats {
		path := base + "." + format
		if err := fig.Save(path); err != nil {
			return nil, written, err
		}
		written = append(written, path)
	}
	return sums, written, nil
}
