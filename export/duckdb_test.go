package export

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/landscape-go/landscape/landscape/surface"
)

// duckDBDir is the folder of the DuckDB reader script, from this package.
const duckDBDir = "../scripts/duckdb"

// duckDBFile is what scripts/duckdb/check.mjs prints about a Parquet file.
type duckDBFile struct {
	Columns []struct {
		Name       string `json:"name"`
		Type       string `json:"type"`
		Repetition string `json:"repetition"`
	} `json:"columns"`
	NumRows  int64               `json:"num_rows"`
	Rows     [][]json.RawMessage `json:"rows"`
	Metadata map[string]string   `json:"metadata"`
}

// duckDBNumber decodes a value as check.mjs prints it: a JSON number, one of
// the strings "NaN", "Infinity", "-Infinity" and "-0", or null, read as NaN
// with null true.
func duckDBNumber(raw json.RawMessage) (v float64, null bool, err error) {
	if string(raw) == "null" {
		return math.NaN(), true, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "NaN":
			return math.NaN(), false, nil
		case "Infinity":
			return math.Inf(1), false, nil
		case "-Infinity":
			return math.Inf(-1), false, nil
		case "-0":
			return math.Copysign(0, -1), false, nil
		}
	}
	err = json.Unmarshal(raw, &v)
	return v, false, err
}

// TestDuckDBReadsParquet checks the files WriteParquet writes against DuckDB,
// a Parquet reader that shares no code with parquet-go. It needs node and
// the packages of scripts/duckdb (cd scripts/duckdb && npm ci); without them
// it skips, unless LANDSCAPE_REQUIRE_DUCKDB=1, as CI sets it, makes that a
// failure.
func TestDuckDBReadsParquet(t *testing.T) {
	t.Parallel()
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("LANDSCAPE_REQUIRE_DUCKDB") == "1" {
			t.Fatalf(format+" (LANDSCAPE_REQUIRE_DUCKDB=1)", args...)
		}
		t.Skipf(format+"; run `cd scripts/duckdb && npm ci` to enable this test", args...)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("DuckDB check skipped: node not found: %v", err)
	}
	if _, err := os.Stat(filepath.Join(duckDBDir, "node_modules", "@duckdb", "node-api")); err != nil {
		missing("DuckDB check skipped: @duckdb/node-api not installed: %v", err)
	}

	for _, tc := range []struct {
		name   string
		nx, ny int
	}{
		{"1D", 7, 0},
		{"2D 3x5", 3, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := testSurface(tc.nx, tc.ny, 1, testMetrics)
			path := filepath.Join(t.TempDir(), "surface.parquet")
			if err := WriteParquet(path, s); err != nil {
				t.Fatal(err)
			}

			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, filepath.Join(duckDBDir, "check.mjs"), path)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("check.mjs: %v\n%s", err, stderr.Bytes())
			}
			var got duckDBFile
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("check.mjs output: %v\n%s", err, out)
			}

			type column struct{ Name, Type, Repetition string }
			want := []column{{"x", "DOUBLE", "REQUIRED"}, {"y", "DOUBLE", "OPTIONAL"}}
			for _, m := range s.Metrics {
				want = append(want, column{m, "DOUBLE", "REQUIRED"})
			}
			if len(got.Columns) != len(want) {
				t.Fatalf("DuckDB sees columns %+v, want %+v", got.Columns, want)
			}
			for i, c := range got.Columns {
				if (column{c.Name, c.Type, c.Repetition}) != want[i] {
					t.Errorf("DuckDB sees column %d as %+v, want %+v", i, c, want[i])
				}
			}

			if got.NumRows != int64(len(s.Points)) || len(got.Rows) != len(s.Points) {
				t.Fatalf("DuckDB counts %d rows and reads %d, want %d", got.NumRows, len(got.Rows), len(s.Points))
			}
			for k, row := range got.Rows {
				p := s.Points[k]
				if len(row) != len(want) {
					t.Fatalf("row %d has %d values, want %d", k, len(row), len(want))
				}
				wantRow := append([]float64{p.X, p.Y}, p.Values...)
				for i, raw := range row {
					v, null, err := duckDBNumber(raw)
					if err != nil {
						t.Fatalf("row %d column %q: %s: %v", k, want[i].Name, raw, err)
					}
					// Only y may be null, and only in 1D.
					if wantNull := i == 1 && s.Is1D(); null != wantNull {
						t.Errorf("row %d column %q is %s; null is %v, want %v", k, want[i].Name, raw, null, wantNull)
					}
					if !sameFloat(v, wantRow[i]) {
						t.Errorf("row %d column %q is %s, want %v", k, want[i].Name, raw, wantRow[i])
					}
				}
			}

			raw, ok := got.Metadata[surface.MetadataKey]
			if !ok {
				t.Fatalf("DuckDB finds no %q metadata, only %v", surface.MetadataKey, got.Metadata)
			}
			wantJSON, err := json.Marshal(s.Provenance)
			if err != nil {
				t.Fatal(err)
			}
			if raw != string(wantJSON) {
				t.Errorf("DuckDB reads metadata %q as\n%s\nwant\n%s", surface.MetadataKey, raw, wantJSON)
			}
		})
	}
}
