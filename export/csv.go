package export

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/landscape-go/landscape/internal/atomicfile"
	"github.com/landscape-go/landscape/landscape/surface"
)

// This file writes the text exports of a surface for tools that do not
// read Parquet: CSV here, JSON lines in jsonl.go, each with its provenance
// in a sidecar file.

// TextFormat is a row-per-line text format of [WriteText] and [EncodeText].
type TextFormat int

const (
	// CSV is comma-separated text with a header line (RFC 4180).
	CSV TextFormat = iota + 1
	// JSONLines is one JSON object per line (JSON lines, NDJSON).
	JSONLines
)

// ParseTextFormat parses a format's name: "csv", or "jsonl" (also
// "ndjson") for JSON lines.
func ParseTextFormat(name string) (TextFormat, error) {
	switch strings.ToLower(name) {
	case "csv":
		return CSV, nil
	case "jsonl", "ndjson":
		return JSONLines, nil
	}
	return 0, fmt.Errorf("export: unknown text format %q: want csv or jsonl", name)
}

// String returns the name ParseTextFormat reads.
func (f TextFormat) String() string {
	switch f {
	case CSV:
		return "csv"
	case JSONLines:
		return "jsonl"
	}
	return "TextFormat(" + strconv.Itoa(int(f)) + ")"
}

// Column names of the grid indices in the text exports.
const (
	colI = "i"
	colJ = "j"
)

// ProvenanceSuffix is added to a text export's path to name the file that
// holds its provenance: surface.csv has its provenance in
// surface.csv.provenance.json.
const ProvenanceSuffix = ".provenance.json"

// WriteText writes s to the file path in format f, and its provenance, as
// an indented JSON object, to path + [ProvenanceSuffix]. The columns are
// those of [EncodeText].
//
// The provenance is a file of its own, not a line in the table, so that
// every reader takes the table with its defaults: a comment line would
// need pandas.read_csv(comment="#"), which also cuts any field at a "#",
// and would make a header line out of the comment everywhere else, and
// a provenance line first in JSON lines would become a row of nulls in
// pandas.read_json(lines=True) and DuckDB's read_json. The sidecar is the
// same JSON object as the Parquet file's metadata under
// [surface.MetadataKey], so json.load of it equals json.loads of that.
//
// Each file is written atomically, as [WriteParquet] writes, the provenance
// first; the two are not replaced as one, so a run interrupted between them
// leaves the new provenance beside the old table until it is run again.
func WriteText(path string, s *surface.Surface, f TextFormat) error {
	if err := validateText(s, f); err != nil {
		return fmt.Errorf("export: write %s: %w", path, err)
	}
	prov, err := json.MarshalIndent(s.Provenance, "", "  ")
	if err != nil {
		return fmt.Errorf("export: write %s: provenance to JSON: %w", path, err)
	}
	side := path + ProvenanceSuffix
	if err := atomicfile.Write(side, func(w io.Writer) error {
		_, err := w.Write(append(prov, '\n'))
		return err
	}); err != nil {
		return fmt.Errorf("export: write %s: %w", side, err)
	}
	if err := atomicfile.Write(path, func(w io.Writer) error { return encodeText(w, s, f) }); err != nil {
		return fmt.Errorf("export: write %s: %w", path, err)
	}
	return nil
}

// EncodeText writes the points of s to w in format f, without the
// provenance. The columns, in this order, are those of the Parquet file
// with the grid indices after the coordinates:
//
//	x           the coordinate α
//	y           the coordinate β; empty (CSV) or null (JSON) in a 1D surface
//	i           the index of x on the x axis, 0 to nx-1
//	j           the index of y on the y axis, 0 to ny-1; empty or null in 1D
//	train_loss  one column per entry of Surface.Metrics, in that order
//	...
//
// so that a program can select, join and pivot on the integers i and j
// rather than on floating-point coordinates. Numbers are written in the
// shortest form that reads back exactly, coordinates and metrics always
// with a decimal point or an exponent ("1.0", not "1"), so that readers
// that guess column types from the values take them as floating-point
// whatever the values.
//
// A NaN or infinite value, which a loss reaches far from the centre, is
// written as a missing one: an empty CSV field, a JSON null. JSON has no
// such numbers, and DuckDB's read_csv takes a column whose first value is
// an infinity, in any spelling, for text; the first row is the corner of
// the grid, where losses blow up. pandas reads the missing values as NaN,
// DuckDB and Polars as null. The Parquet file keeps them as they are.
//
// The surface must be consistent as [EncodeParquet] requires, and no metric
// may be named i or j.
func EncodeText(w io.Writer, s *surface.Surface, f TextFormat) error {
	if err := validateText(s, f); err != nil {
		return fmt.Errorf("export: encode %v: %w", f, err)
	}
	if err := encodeText(w, s, f); err != nil {
		return fmt.Errorf("export: encode %v: %w", f, err)
	}
	return nil
}

// validateText checks that s can be written as f.
func validateText(s *surface.Surface, f TextFormat) error {
	if f != CSV && f != JSONLines {
		return fmt.Errorf("%w: unknown text format %v", ErrInvalid, f)
	}
	if err := validate(s); err != nil {
		return err
	}
	for _, m := range s.Metrics {
		if m == colI || m == colJ {
			return fmt.Errorf("%w: a metric is named %q, the name of a grid index column", ErrInvalid, m)
		}
	}
	return nil
}

func encodeText(w io.Writer, s *surface.Surface, f TextFormat) error {
	if f == JSONLines {
		return encodeJSONLines(w, s)
	}
	return encodeCSV(w, s, true)
}

// gridIndices returns the column and row of point p of s; j is -1 in 1D.
func gridIndices(s *surface.Surface, p surface.Point) (i, j int) {
	if s.Is1D() {
		return p.Index, -1
	}
	nx := s.Provenance.Grid.X.Num
	return p.Index % nx, p.Index / nx
}

// WriteCSV writes s to w as comma-separated text: a header line naming the
// columns x, y and the metrics, then one line per point, in the column order
// of the Parquet file. Numbers are written in the shortest form that reads
// back exactly; NaN and infinities are written as NaN, inf and -inf, which
// pandas and Go read as such, and DuckDB too unless one is the first value
// of its column (read_csv then takes the column for text). In a 1D surface
// the y field is empty. The
// provenance is not written; the Parquet file carries it. [WriteText] writes
// the export of "landscape convert": these columns with the grid indices, and
// the provenance beside them.
//
// The surface must be consistent as [EncodeParquet] requires.
func WriteCSV(w io.Writer, s *surface.Surface) error {
	if err := validate(s); err != nil {
		return fmt.Errorf("export: write csv: %w", err)
	}
	if err := encodeCSV(w, s, false); err != nil {
		return fmt.Errorf("export: write csv: %w", err)
	}
	return nil
}

// encodeCSV writes s as CSV, with the grid index columns and floats that
// always look like floats if indexed is set, as WriteCSV writes it if not.
func encodeCSV(w io.Writer, s *surface.Surface, indexed bool) error {
	cw := csv.NewWriter(w) // buffered; Flush and Error report write failures
	header := []string{colX, colY}
	num := formatCSVFloat
	if indexed {
		header = append(header, colI, colJ)
		num = formatTextFloat
	}
	header = append(header, s.Metrics...)
	if err := cw.Write(header); err != nil {
		return err
	}
	record := make([]string, len(header))
	oneD := s.Is1D()
	for _, p := range s.Points {
		record[0], record[1] = num(p.X), ""
		if !oneD {
			record[1] = num(p.Y)
		}
		k := 2
		if indexed {
			i, j := gridIndices(s, p)
			record[2], record[3] = strconv.Itoa(i), ""
			if j >= 0 {
				record[3] = strconv.Itoa(j)
			}
			k = 4
		}
		for m, v := range p.Values {
			record[k+m] = num(v)
		}
		if err := cw.Write(record); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// formatFloat writes v in the shortest form that reads back exactly, NaN
// and infinities as NaN, +Inf and -Inf (the summary tables).
func formatFloat(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// formatCSVFloat writes v in the shortest form that reads back exactly,
// and NaN and infinities as NaN, inf and -inf: DuckDB's CSV reader takes a
// column holding Go's "+Inf" for text.
func formatCSVFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	return formatFloat(v)
}

// formatTextFloat writes v as the text exports do: the shortest form that
// reads back exactly, with ".0" added where it would read as an integer,
// as Python's repr writes floats; "" for NaN and infinities.
func formatTextFloat(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	s := formatFloat(v)
	if strings.ContainsAny(s, ".e") {
		return s
	}
	return s + ".0"
}
