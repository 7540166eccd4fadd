package export

import (
	"github.com/landscape-go/landscape/landscape/surface"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

)

// WriteCSV writes s to w as comma-separated text: a header line naming the
// columns x, y and the metrics, then one line per point, in the column order
// of the Parquet file. Numbers are written in the shortest form that reads
// back exactly; NaN and infinities are written as NaN, +Inf and -Inf, which
// pandas and DuckDB read as such. In a 1D surface the y field is empty. The
// provenance is not written; the Parquet file carries it.
//
// The surface must be consistent as [EncodeParquet] requires.
func WriteCSV(w io.Writer, s *surface.Surface) error {
	if err := validate(s); err != nil {
		return fmt.Errorf("export: write csv: %w", err)
	}
	cw := csv.NewWriter(w) // buffered; Flush and Error report write failures
	record := make([]string, 2+len(s.Metrics))
	record[0], record[1] = colX, colY
	copy(record[2:], s.Metrics)
	if err := cw.Write(record); err != nil {
		return fmt.Errorf("export: write csv: %w", err)
	}
	oneD := s.Is1D()
	for _, p := range s.Points {
		record[0] = formatFloat(p.X)
		record[1] = ""
		if !oneD {
			record[1] = formatFloat(p.Y)
		}
		for i, v := range p.Values {
			record[2+i] = formatFloat(v)
		}
		if err := cw.Write(record); err != nil {
			return fmt.Errorf("export: write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("export: write csv: %w", err)
	}
	return nil
}

func formatFloat(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}
