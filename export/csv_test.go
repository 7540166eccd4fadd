package export

import (
	"bytes"
	"encoding/csv"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestWriteCSV(t *testing.T) {
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
				}
			}
		})
	}
}

func TestWriteCSVErrors(t *testing.T) {
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
