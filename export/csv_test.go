package export

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/landscape-go/landscape/landscape/surface"
)

// TestWriteCSVWritesValuesThatParseBackExactly checks the header and that
// every value, NaN, infinities and -0 among them, parses back to the same
// float64.
func TestWriteCSVWritesValuesThatParseBackExactly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		nx, ny  int
		metrics []string
	}{
		{"1D", 7, 0, testMetrics},
		{"2D 3x5", 3, 5, testMetrics},
		{"quoted names", 2, 2, []string{`a "b"`, "c\nd"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := testSurface(tc.nx, tc.ny, 1, tc.metrics)
			var buf bytes.Buffer
			if err := WriteCSV(&buf, s); err != nil {
				t.Fatal(err)
			}
			records, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			header := append([]string{"x", "y"}, tc.metrics...)
			if len(records) != 1+len(s.Points) || !reflect.DeepEqual(records[0], header) {
				t.Fatalf("%d records, header %q; want %d, %q", len(records), records[0], 1+len(s.Points), header)
			}
			for k, rec := range records[1:] {
				p := s.Points[k]
				want := append([]float64{p.X, p.Y}, p.Values...)
				for i, field := range rec {
					if i == 1 && s.Is1D() {
						if field != "" {
							t.Errorf("row %d: y is %q in 1D, want empty", k, field)
						}
						continue
					}
					v, err := strconv.ParseFloat(field, 64)
					if err != nil || !sameFloat(v, want[i]) {
						t.Errorf("row %d column %q is %q, want %v", k, header[i], field, want[i])
					}
					if strings.Contains(field, "+Inf") {
						t.Errorf("row %d column %q is %q; DuckDB takes a column holding +Inf for text", k, header[i], field)
					}
				}
			}
		})
	}
}

// TestWriteCSVReportsWriterAndSurfaceErrors checks that a failing writer and
// an inconsistent surface give errors that say so.
func TestWriteCSVReportsWriterAndSurfaceErrors(t *testing.T) {
	t.Parallel()
	s := testSurface(30, 20, 1, testMetrics)
	if err := WriteCSV(&failingWriter{n: 100}, s); !errors.Is(err, errWriter) || !strings.HasPrefix(err.Error(), "export: write csv: ") {
		t.Errorf("failing writer: error %v, want an export error wrapping %v", err, errWriter)
	}
	s.Points[3].Values = nil
	if err := WriteCSV(&bytes.Buffer{}, s); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid surface: error %v, want one wrapping ErrInvalid", err)
	}
}

// textCases are the surfaces the text export tests write: 1D, 2D, a grid
// with one row or one column, and a part file holding every third point.
var textCases = []struct {
	name         string
	nx, ny, step int
}{
	{"1D", 7, 0, 1},
	{"2D 3x5", 3, 5, 1},
	{"2D 4x1", 4, 1, 1},
	{"2D 1x3", 1, 3, 1},
	{"2D part 6x4", 6, 4, 3},
}

// wantIndices returns the grid column and row of point p of s as the text
// exports write them: j is "" in 1D.
func wantIndices(s *surface.Surface, p surface.Point) (i, j string) {
	nx := s.Provenance.Grid.X.Num
	if s.Is1D() {
		return strconv.Itoa(p.Index), ""
	}
	return strconv.Itoa(p.Index % nx), strconv.Itoa(p.Index / nx)
}

// checkFloatField fails t unless field reads back as want and looks like
// a float ("1.0", not "1") to readers that guess types, or, if want is NaN
// or infinite, field is empty.
func checkFloatField(t *testing.T, where, field string, want float64) {
	t.Helper()
	if math.IsNaN(want) || math.IsInf(want, 0) {
		if field != "" {
			t.Errorf("%s is %q, want it missing for %v", where, field, want)
		}
		return
	}
	v, err := strconv.ParseFloat(field, 64)
	if err != nil || !sameFloat(v, want) {
		t.Errorf("%s is %q, want %v", where, field, want)
	}
	if !strings.ContainsAny(field, ".e") {
		t.Errorf("%s is %q, which reads as an integer", where, field)
	}
}

// encoded returns what EncodeText writes for s in format f: the column
// names, and each row's fields as written, a missing value (empty in CSV,
// null in JSON) as "". It fails t unless a JSON line is valid JSON.
func encoded(t *testing.T, s *surface.Surface, f TextFormat) (cols []string, rows [][]string) {
	t.Helper()
	var buf bytes.Buffer
	if err := EncodeText(&buf, s, f); err != nil {
		t.Fatal(err)
	}
	if f == CSV {
		records, err := csv.NewReader(&buf).ReadAll()
		if err != nil || len(records) == 0 {
			t.Fatalf("CSV: %v\n%s", err, buf.Bytes())
		}
		return records[0], records[1:]
	}
	if !bytes.HasSuffix(buf.Bytes(), []byte("}\n")) {
		t.Errorf("the output does not end with a whole line: %q", buf.Bytes())
	}
	for k, line := range bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n")) {
		keys, values, err := jsonObject(line)
		if err != nil || !json.Valid(line) || (cols != nil && !reflect.DeepEqual(keys, cols)) {
			t.Fatalf("line %d: keys %q (%v), want %q: %s", k, keys, err, cols, line)
		}
		for i, v := range values {
			if v == "null" {
				values[i] = ""
			}
		}
		cols, rows = keys, append(rows, values)
	}
	return cols, rows
}

// TestEncodeTextWritesGridIndices checks the CSV and JSON lines exports:
// the columns x, y, i, j and the metrics, the grid indices of every point,
// values that parse back exactly and look like floats, and missing values
// for y and j in 1D and for NaN and infinities.
func TestEncodeTextWritesGridIndices(t *testing.T) {
	t.Parallel()
	for _, f := range []TextFormat{CSV, JSONLines} {
		for _, tc := range textCases {
			t.Run(f.String()+" "+tc.name, func(t *testing.T) {
				t.Parallel()
				s := testSurface(tc.nx, tc.ny, tc.step, testMetrics)
				cols, rows := encoded(t, s, f)
				want := append([]string{"x", "y", "i", "j"}, testMetrics...)
				if !reflect.DeepEqual(cols, want) || len(rows) != len(s.Points) {
					t.Fatalf("columns %q and %d rows; want %q and %d", cols, len(rows), want, len(s.Points))
				}
				for k, row := range rows {
					p := s.Points[k]
					wi, wj := wantIndices(s, p)
					if row[2] != wi || row[3] != wj {
						t.Errorf("row %d (index %d): i, j = %q, %q; want %q, %q", k, p.Index, row[2], row[3], wi, wj)
					}
					for c, v := range append([]float64{p.X, p.Y, 0, 0}, p.Values...) {
						if c != 2 && c != 3 {
							checkFloatField(t, "row "+strconv.Itoa(k)+" "+cols[c], row[c], v)
						}
					}
				}
			})
		}
	}
}

// TestWriteTextWritesProvenanceBeside checks that WriteText writes the
// table EncodeText writes and the provenance, as the Parquet file's
// metadata holds it, in the file beside it.
func TestWriteTextWritesProvenanceBeside(t *testing.T) {
	t.Parallel()
	for _, f := range []TextFormat{CSV, JSONLines} {
		t.Run(f.String(), func(t *testing.T) {
			t.Parallel()
			s := testSurface(3, 5, 1, testMetrics)
			dir := t.TempDir()
			path := filepath.Join(dir, "s."+f.String())
			if err := WriteText(path, s, f); err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if err := EncodeText(&want, s, f); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Errorf("%s holds\n%s\nwant\n%s", path, got, want.Bytes())
			}
			side, err := os.ReadFile(path + ProvenanceSuffix)
			if err != nil {
				t.Fatal(err)
			}
			var prov surface.Provenance
			if err := json.Unmarshal(side, &prov); err != nil || !reflect.DeepEqual(prov, s.Provenance) {
				t.Errorf("provenance file reads as %+v, %v; want %+v", prov, err, s.Provenance)
			}
			entries, err := os.ReadDir(dir)
			if err != nil || len(entries) != 2 {
				t.Errorf("the folder holds %v (%v), want the table and its provenance only", entries, err)
			}
		})
	}
}

// TestWriteTextRefusesWhatItCannotWrite checks the errors of the text
// exports: an unknown format, a metric named like an index column, an
// inconsistent surface, a failing writer and a missing folder.
func TestWriteTextRefusesWhatItCannotWrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, f := range []TextFormat{CSV, JSONLines} {
		s := testSurface(3, 2, 1, []string{"train_loss", "j"})
		if err := EncodeText(&bytes.Buffer{}, s, f); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `"j"`) {
			t.Errorf("%v: metric j: error %v, want one wrapping ErrInvalid naming it", f, err)
		}
		s = testSurface(3, 2, 1, testMetrics)
		s.Points[1].Index = 0
		if err := WriteText(filepath.Join(dir, "bad"), s, f); !errors.Is(err, ErrInvalid) {
			t.Errorf("%v: invalid surface: error %v, want one wrapping ErrInvalid", f, err)
		}
		s = testSurface(30, 20, 1, testMetrics)
		if err := EncodeText(&failingWriter{n: 100}, s, f); !errors.Is(err, errWriter) {
			t.Errorf("%v: failing writer: error %v, want one wrapping %v", f, err, errWriter)
		}
		if err := WriteText(filepath.Join(dir, "no", "such", "folder"), s, f); err == nil {
			t.Errorf("%v: no error writing into a missing folder", f)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed writes left %v", entries)
	}
	if err := EncodeText(&bytes.Buffer{}, testSurface(3, 2, 1, testMetrics), 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("format 0: error %v, want one wrapping ErrInvalid", err)
	}
}

// TestParseTextFormat checks the names of the formats, and String.
func TestParseTextFormat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want TextFormat
		ok   bool
	}{
		{"csv", CSV, true}, {"CSV", CSV, true}, {"jsonl", JSONLines, true}, {"ndjson", JSONLines, true},
		{"json", 0, false}, {"parquet", 0, false}, {"", 0, false},
	} {
		got, err := ParseTextFormat(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseTextFormat(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if tc.ok && got.String() != strings.ToLower(tc.in) && tc.in != "ndjson" {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), tc.in)
		}
	}
}

// writeTextFiles writes s with WriteText as CSV and as JSON lines into a
// temporary folder and returns their paths.
func writeTextFiles(t *testing.T, s *surface.Surface) (csvPath, jsonlPath string) {
	t.Helper()
	dir := t.TempDir()
	csvPath, jsonlPath = filepath.Join(dir, "s.csv"), filepath.Join(dir, "s.jsonl")
	for path, f := range map[string]TextFormat{csvPath: CSV, jsonlPath: JSONLines} {
		if err := WriteText(path, s, f); err != nil {
			t.Fatal(err)
		}
	}
	return csvPath, jsonlPath
}

// readTable is a table as another program read it: column names and
// types, and each value as text that strconv.ParseFloat reads ("nan" for
// a missing value).
type readTable struct {
	Columns []string   `json:"columns"`
	Types   []string   `json:"types"` // empty where the reader has no types
	Rows    [][]string `json:"rows"`
}

// checkTable fails t unless tab holds the points of s as the text exports
// write them, and the column types are types (unless types is nil) except
// for y and j in 1D, whose values are then all missing. Non-finite values
// must be missing.
func checkTable(t *testing.T, what string, tab readTable, s *surface.Surface, types []string) {
	t.Helper()
	cols := append([]string{"x", "y", "i", "j"}, s.Metrics...)
	if !reflect.DeepEqual(tab.Columns, cols) {
		t.Fatalf("%s: columns %q, want %q", what, tab.Columns, cols)
	}
	if types != nil {
		for c, typ := range tab.Types {
			if (c == 1 || c == 3) && s.Is1D() {
				continue
			}
			if typ != types[c] {
				t.Errorf("%s: column %s is %s, want %s", what, cols[c], typ, types[c])
			}
		}
	}
	if len(tab.Rows) != len(s.Points) {
		t.Fatalf("%s: %d rows, want %d", what, len(tab.Rows), len(s.Points))
	}
	for k, row := range tab.Rows {
		p := s.Points[k]
		i, j := gridIndices(s, p)
		want := append([]float64{p.X, p.Y, float64(i), float64(j)}, p.Values...)
		if j < 0 {
			want[3] = math.NaN()
		}
		for c, field := range row {
			w := want[c]
			if math.IsInf(w, 0) {
				w = math.NaN()
			}
			v, err := strconv.ParseFloat(field, 64)
			if err != nil || !sameFloat(v, w) {
				t.Errorf("%s: row %d column %s is %q, want %v", what, k, cols[c], field, w)
			}
		}
	}
}

// checkProvenanceJSON fails t unless raw, JSON as another program wrote
// it, is s's provenance.
func checkProvenanceJSON(t *testing.T, what string, raw json.RawMessage, s *surface.Surface) {
	t.Helper()
	var got, want any
	data, err := json.Marshal(s.Provenance)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &got); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%s: provenance\n%s\nwant\n%s", what, raw, data)
	}
}

// python is the Python that reads the text exports: LANDSCAPE_PYTHON if
// set, Debian's /usr/bin/python3 otherwise.
func python() string {
	if p := os.Getenv("LANDSCAPE_PYTHON"); p != "" {
		return p
	}
	return "/usr/bin/python3"
}

// readTextPy reads the CSV and JSON lines exports and the CSV's provenance
// file with pandas, as the README says (float_precision="round_trip" and
// precise_float=True for exact values, dtype=False so that JSON floats
// that happen to be whole stay floats), or, without pandas, with the
// standard library, and prints what it read as JSON.
const readTextPy = `
import json, sys

csv_path, jsonl_path = sys.argv[1], sys.argv[2]


def text(v):
    return "nan" if v is None or v == "" else repr(float(v))


try:
    import pandas as pd
except ImportError:
    import csv

    with open(csv_path, newline="") as f:
        rows = list(csv.reader(f))
    with open(jsonl_path) as f:
        objs = [json.loads(line) for line in f]
    out = {
        "reader": "csv and json modules",
        "csv": {"columns": rows[0], "types": [], "rows": [[text(v) for v in r] for r in rows[1:]]},
        "jsonl": {"columns": list(objs[0]), "types": [], "rows": [[text(v) for v in o.values()] for o in objs]},
    }
else:
    def table(df, typed):
        return {"columns": list(df.columns), "types": [str(t) for t in typed.dtypes],
                "rows": [[text(v) for v in r] for r in df.itertuples(index=False)]}

    jsonl = pd.read_json(jsonl_path, lines=True, dtype=False, precise_float=True)
    out = {
        "reader": "pandas " + pd.__version__,
        "csv": table(pd.read_csv(csv_path, float_precision="round_trip"), pd.read_csv(csv_path)),
        "jsonl": table(jsonl, jsonl),
    }
with open(csv_path + ".provenance.json") as f:
    out["provenance"] = json.load(f)
print(json.dumps(out))
`

// TestPythonReadsTextExports reads the CSV and JSON lines exports with
// Python: pandas where it is installed (Debian's python3-pandas), the
// standard library otherwise. Without python3 it skips, unless
// LANDSCAPE_REQUIRE_PYTHON=1 makes that a failure.
func TestPythonReadsTextExports(t *testing.T) {
	t.Parallel()
	py := python()
	if _, err := exec.LookPath(py); err != nil {
		if os.Getenv("LANDSCAPE_REQUIRE_PYTHON") == "1" {
			t.Fatalf("%s not found (LANDSCAPE_REQUIRE_PYTHON=1): %v", py, err)
		}
		t.Skipf("%s not found: %v", py, err)
	}
	for _, tc := range textCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := testSurface(tc.nx, tc.ny, tc.step, testMetrics)
			// pandas.read_json(precise_float=True) refuses subnormal
			// numbers (strtod's range error); no loss or accuracy is one.
			for _, p := range s.Points {
				for m, v := range p.Values {
					if v != 0 && math.Abs(v) < 0x1p-1022 {
						p.Values[m] = 1e-300
					}
				}
			}
			csvPath, jsonlPath := writeTextFiles(t, s)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			var stderr bytes.Buffer
			cmd := exec.CommandContext(ctx, py, "-c", readTextPy, csvPath, jsonlPath)
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("python: %v\n%s", err, stderr.Bytes())
			}
			var got struct {
				Reader     string
				CSV, JSONL readTable
				Provenance json.RawMessage
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("python's output: %v\n%s", err, out)
			}
			t.Logf("read with %s", got.Reader)
			var csvTypes, jsonlTypes []string
			if strings.HasPrefix(got.Reader, "pandas") {
				csvTypes = []string{"float64", "float64", "int64", "int64"}
				for range s.Metrics {
					csvTypes = append(csvTypes, "float64")
				}
				jsonlTypes = csvTypes
			}
			checkTable(t, got.Reader+" CSV", got.CSV, s, csvTypes)
			checkTable(t, got.Reader+" JSON lines", got.JSONL, s, jsonlTypes)
			checkProvenanceJSON(t, "python", got.Provenance, s)
		})
	}
}

// readTextJS reads the CSV and JSON lines exports and the CSV's provenance
// file with DuckDB's read_csv and read_json, all options left to DuckDB's
// detection, and prints what DuckDB sees as JSON, numbers as
// scripts/duckdb/check.mjs writes them. It runs in scripts/duckdb, where
// node finds @duckdb/node-api.
const readTextJS = `
import { DuckDBInstance } from '@duckdb/node-api';

const [csvPath, jsonlPath] = process.argv.slice(1);

function number(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' && !Number.isFinite(v)) {
    return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  }
  if (Object.is(v, -0)) return '-0';
  return v;
}

const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
try {
  const table = async (reader, file) => {
    const d = await conn.runAndReadAll('DESCRIBE SELECT * FROM ' + reader + '($file)', { file });
    const rows = await conn.runAndReadAll('SELECT * FROM ' + reader + '($file)', { file });
    return {
      columns: d.getRowObjectsJS().map((r) => r.column_name),
      types: d.getRowObjectsJS().map((r) => r.column_type),
      rows: rows.getRowsJS().map((r) => r.map(number)),
    };
  };
  // read_json_objects, not read_json, which would make a timestamp of
  // the "created" string.
  const prov = await conn.runAndReadAll('SELECT json::VARCHAR AS p FROM read_json_objects($file)',
    { file: csvPath + '.provenance.json' });
  process.stdout.write(JSON.stringify({
    csv: await table('read_csv', csvPath),
    jsonl: await table('read_json', jsonlPath),
    provenance: JSON.parse(prov.getRowObjectsJS()[0].p),
  }) + '\n');
} finally {
  conn.closeSync();
  instance.closeSync();
}
`

// duckDBTable is a table as readTextJS prints it.
type duckDBTable struct {
	Columns []string            `json:"columns"`
	Types   []string            `json:"types"`
	Rows    [][]json.RawMessage `json:"rows"`
}

// table returns d with its values as text, null as "nan".
func (d duckDBTable) table(t *testing.T) readTable {
	t.Helper()
	tab := readTable{Columns: d.Columns, Types: d.Types}
	for _, row := range d.Rows {
		var r []string
		for _, raw := range row {
			v, _, err := duckDBNumber(raw)
			if err != nil {
				t.Fatalf("DuckDB value %s: %v", raw, err)
			}
			r = append(r, strconv.FormatFloat(v, 'g', -1, 64))
		}
		tab.Rows = append(tab.Rows, r)
	}
	return tab
}

// TestDuckDBReadsTextExports reads the CSV and JSON lines exports and the
// provenance file with DuckDB, as TestDuckDBReadsParquet reads the Parquet
// file: it needs node and the packages of scripts/duckdb, and skips without
// them unless LANDSCAPE_REQUIRE_DUCKDB=1.
func TestDuckDBReadsTextExports(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(duckDBDir, "node_modules", "@duckdb", "node-api"))
	}
	if err != nil {
		if os.Getenv("LANDSCAPE_REQUIRE_DUCKDB") == "1" {
			t.Fatalf("DuckDB check: %v (LANDSCAPE_REQUIRE_DUCKDB=1)", err)
		}
		t.Skipf("DuckDB check skipped: %v; run `cd scripts/duckdb && npm ci` to enable this test", err)
	}
	for _, tc := range textCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := testSurface(tc.nx, tc.ny, tc.step, testMetrics)
			csvPath, jsonlPath := writeTextFiles(t, s)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			var stderr bytes.Buffer
			cmd := exec.CommandContext(ctx, node, "--input-type=module", "-e", readTextJS, csvPath, jsonlPath)
			cmd.Dir = duckDBDir
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("node: %v\n%s", err, stderr.Bytes())
			}
			var got struct {
				CSV, JSONL duckDBTable
				Provenance json.RawMessage
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("node's output: %v\n%s", err, out)
			}
			types := []string{"DOUBLE", "DOUBLE", "BIGINT", "BIGINT"}
			for range s.Metrics {
				types = append(types, "DOUBLE")
			}
			checkTable(t, "DuckDB read_csv", got.CSV.table(t), s, types)
			checkTable(t, "DuckDB read_json", got.JSONL.table(t), s, types)
			checkProvenanceJSON(t, "DuckDB read_json", got.Provenance, s)
		})
	}
}
