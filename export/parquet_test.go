package export

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape/surface"
)

var testMetrics = []string{"train_loss", "train_acc", "test_loss", "test_acc"}

// testSurface returns a surface on an nx by ny grid (1D if ny is 0) holding
// every step-th point, with a full provenance and values that include NaN,
// both infinities, -0 and numbers without a short decimal form.
func testSurface(nx, ny, step int, metrics []string) *surface.Surface {
	seed := uint64(7)
	s := &surface.Surface{
		Metrics: metrics,
		Provenance: surface.Provenance{
			Tool:       "landscape",
			Version:    "v0.1.0-test",
			Created:    "2025-01-02T03:04:05Z",
			Model:      surface.ModelInfo{Name: "resnet20", InChannels: 3, Height: 32, Width: 32, Classes: 10},
			Checkpoint: surface.FileInfo{Path: "ckpt/model_300.t7", SHA256: strings.Repeat("ab", 32)},
			Directions: surface.DirectionsInfo{Kind: "random", Seed: 123, Norm: "filter", Ignore: "biasbn", Mode: "weights", SHA256: strings.Repeat("cd", 32)},
			Data: surface.DataInfo{
				Name: "cifar10", Path: "data/cifar-10-batches-bin", Splits: []string{"train", "test"},
				Samples: []int{50000, 10000}, SampleSeed: &seed,
				Mean: []float64{0.4914, 0.4822, 0.4465}, Std: []float64{0.2470, 0.2435, 0.2616},
			},
			Grid:        grid.Grid{X: grid.Axis{Min: -1, Max: 1, Num: nx}},
			Shard:       grid.Shard{Index: 0, Count: 1},
			BatchSize:   128,
			Backend:     "cpu",
			Device:      "2 threads",
			WallSeconds: 12.5,
		},
	}
	if nx == 1 {
		s.Provenance.Grid.X = grid.Axis{Min: 0.3, Max: 0.3, Num: 1}
	}
	n := nx
	if ny == 1 {
		s.Provenance.Grid.Y = &grid.Axis{Min: -0.7, Max: -0.7, Num: 1}
	} else if ny > 0 {
		s.Provenance.Grid.Y = &grid.Axis{Min: -0.5, Max: 1.5, Num: ny}
	}
	if ny > 0 {
		n *= ny
	}
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 1.0 / 3, 5e-324}
	for i := 0; i < n; i += step {
		p := surface.Point{Index: i, X: s.Provenance.Grid.X.At(i % nx), Y: math.NaN()}
		if ny > 0 {
			p.Y = s.Provenance.Grid.Y.At(i / nx)
		}
		for m := range metrics {
			v := float64(i) + float64(m)/10
			if (i+m)%3 == 0 {
				v = special[(i+m)/3%len(special)]
			}
			p.Values = append(p.Values, v)
		}
		s.Points = append(s.Points, p)
	}
	return s
}

// sameFloat reports whether a and b are the same stored double: a round
// trip through a file must not change a single bit of a value, so this is
// exact on purpose, with every NaN equal to every other.
func sameFloat(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Float64bits(a) == math.Float64bits(b)
}

// checkSameSurface fails t unless got equals want point for point.
func checkSameSurface(t *testing.T, got, want *surface.Surface) {
	t.Helper()
	if !reflect.DeepEqual(got.Metrics, want.Metrics) {
		t.Errorf("metrics %q, want %q", got.Metrics, want.Metrics)
	}
	if !reflect.DeepEqual(got.Provenance, want.Provenance) {
		t.Errorf("provenance\n got %+v\nwant %+v", got.Provenance, want.Provenance)
	}
	if len(got.Points) != len(want.Points) {
		t.Fatalf("%d points, want %d", len(got.Points), len(want.Points))
	}
	for k, g := range got.Points {
		w := want.Points[k]
		if g.Index != w.Index || !sameFloat(g.X, w.X) || !sameFloat(g.Y, w.Y) || len(g.Values) != len(w.Values) {
			t.Fatalf("point %d is {%d %v %v %v}, want {%d %v %v %v}", k, g.Index, g.X, g.Y, g.Values, w.Index, w.X, w.Y, w.Values)
		}
		for m := range g.Values {
			if !sameFloat(g.Values[m], w.Values[m]) {
				t.Fatalf("point %d metric %q is %v, want %v", k, want.Metrics[m], g.Values[m], w.Values[m])
			}
		}
	}
}

// checkFileHolds reads the surface file at path and fails t unless it
// holds want; it returns what it read.
func checkFileHolds(t *testing.T, path string, want *surface.Surface) *surface.Surface {
	t.Helper()
	got, err := ReadParquet(path)
	if err != nil {
		t.Fatal(err)
	}
	checkSameSurface(t, got, want)
	return got
}

// TestParquetRoundTripKeepsEveryBit checks that encoding and decoding, and
// writing and reading a file, give back the surface bit for bit, over shapes
// and odd values.
func TestParquetRoundTripKeepsEveryBit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		nx, ny, step   int
		metrics        []string
		dropFirstPoint bool
	}{
		{name: "1D", nx: 7, step: 1, metrics: testMetrics},
		{name: "2D 3x5", nx: 3, ny: 5, step: 1, metrics: testMetrics},
		{name: "2D 5x3", nx: 5, ny: 3, step: 1, metrics: testMetrics},
		{name: "2D shard", nx: 4, ny: 6, step: 3, metrics: testMetrics},
		{name: "1D single point", nx: 1, step: 1, metrics: []string{"loss"}},
		{name: "2D single point", nx: 1, ny: 1, step: 1, metrics: []string{"loss"}},
		{name: "no points", nx: 3, ny: 3, step: 100, metrics: testMetrics, dropFirstPoint: true},
		{name: "no metrics", nx: 3, ny: 2, step: 1},
		{name: "odd metric names", nx: 2, ny: 2, step: 1, metrics: []string{"Train Loss", "accuracy (%)", "é\"'", "index"}},
		{name: "many rows", nx: 101, ny: 99, step: 1, metrics: testMetrics},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := testSurface(tc.nx, tc.ny, tc.step, tc.metrics)
			if tc.dropFirstPoint {
				want.Points = want.Points[1:]
			}

			var buf bytes.Buffer
			if err := EncodeParquet(&buf, want); err != nil {
				t.Fatal(err)
			}
			got, err := DecodeParquet(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			checkSameSurface(t, got, want)

			path := filepath.Join(t.TempDir(), "surface.parquet")
			if err := WriteParquet(path, want); err != nil {
				t.Fatal(err)
			}
			checkFileHolds(t, path, want)
			file, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(file, buf.Bytes()) {
				t.Errorf("WriteParquet wrote %d bytes, EncodeParquet %d different ones", len(file), buf.Len())
			}
		})
	}
}

// openParquet opens the Parquet file at path with parquet-go.
func openParquet(t *testing.T, path string) *parquet.File {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestParquetLayoutFollowsContract checks the stored schema, compression,
// row groups, null y in 1D and provenance JSON against the output contract.
func TestParquetLayoutFollowsContract(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		nx, ny int
	}{
		{"1D", 5, 0},
		{"2D", 3, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := testSurface(tc.nx, tc.ny, 1, testMetrics)
			path := filepath.Join(t.TempDir(), "surface.parquet")
			if err := WriteParquet(path, s); err != nil {
				t.Fatal(err)
			}
			f := openParquet(t, path)
			md := f.Metadata()

			// The schema as stored: the root, then the leaves in order.
			type column struct {
				name       string
				typ        format.Type
				repetition format.FieldRepetitionType
			}
			want := []column{
				{"x", format.Double, format.Required},
				{"y", format.Double, format.Optional},
			}
			for _, m := range testMetrics {
				want = append(want, column{m, format.Double, format.Required})
			}
			if len(md.Schema) != 1+len(want) || int(md.Schema[0].NumChildren.V) != len(want) {
				t.Fatalf("schema has %d elements, root has %v children; want a root with %d leaves", len(md.Schema), md.Schema[0].NumChildren, len(want))
			}
			for i, el := range md.Schema[1:] {
				got := column{el.Name, el.Type.V, el.RepetitionType.V}
				if got != want[i] || !el.Type.Valid || !el.RepetitionType.Valid || el.LogicalType.Value != nil || el.ConvertedType.Valid {
					t.Errorf("column %d is %+v (logical type %v, converted type %v), want %+v", i, el, el.LogicalType.Value, el.ConvertedType, want[i])
				}
			}

			if md.NumRows != int64(len(s.Points)) || len(md.RowGroups) != 1 {
				t.Errorf("%d rows in %d row groups, want %d in 1", md.NumRows, len(md.RowGroups), len(s.Points))
			}
			for _, rg := range md.RowGroups {
				for _, c := range rg.Columns {
					if c.MetaData.Codec != format.Zstd {
						t.Errorf("column %v is compressed with %v, want ZSTD", c.MetaData.PathInSchema, c.MetaData.Codec)
					}
				}
			}

			// The y column is null exactly when the surface is 1D.
			rows := make([]parquet.Row, len(s.Points))
			r := f.RowGroups()[0].Rows()
			defer r.Close()
			if n, err := r.ReadRows(rows); n != len(rows) {
				t.Fatalf("read %d rows (%v), want %d", n, err, len(rows))
			}
			for i, row := range rows {
				if y := row[1]; y.IsNull() != (tc.ny == 0) {
					t.Fatalf("row %d: y is %v; want null only in 1D", i, y)
				}
			}

			// The provenance is stored as its JSON.
			raw, ok := f.Lookup(surface.MetadataKey)
			if !ok {
				t.Fatalf("no %q metadata", surface.MetadataKey)
			}
			wantJSON, err := json.Marshal(s.Provenance)
			if err != nil {
				t.Fatal(err)
			}
			if raw != string(wantJSON) {
				t.Errorf("metadata %q is\n%s\nwant\n%s", surface.MetadataKey, raw, wantJSON)
			}
		})
	}
}

// failingWriter accepts n bytes, then fails.
type failingWriter struct{ n int }

var errWriter = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		n := w.n
		w.n = 0
		return n, errWriter
	}
	w.n -= len(p)
	return len(p), nil
}

// TestEncodeParquetReportsWriterError checks that a writer failing at any
// point gives an error wrapping its own.
func TestEncodeParquetReportsWriterError(t *testing.T) {
	t.Parallel()
	s := testSurface(30, 20, 1, testMetrics)
	var buf bytes.Buffer
	if err := EncodeParquet(&buf, s); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 3, 100, buf.Len() / 2, buf.Len() - 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			err := EncodeParquet(&failingWriter{n: n}, s)
			if !errors.Is(err, errWriter) {
				t.Errorf("error %v, want one wrapping %v", err, errWriter)
			}
		})
	}
}

// dirEntries returns the names in dir.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestWriteParquetLeavesNoPartialFile checks that every failure of
// WriteParquet leaves the folder as it was and that a success replaces the
// file, with mode 0644.
func TestWriteParquetLeavesNoPartialFile(t *testing.T) {
	t.Parallel()
	good := testSurface(3, 5, 1, testMetrics)
	bad := testSurface(3, 5, 1, testMetrics)
	bad.Points[7].Values = bad.Points[7].Values[:2] // fails once the temp file exists

	t.Run("missing folder", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "absent", "surface.parquet")
		err := WriteParquet(path, good)
		if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
			t.Errorf("error %v, want one naming %s and wrapping os.ErrNotExist", err, path)
		}
		if names := dirEntries(t, dir); len(names) != 0 {
			t.Errorf("folder holds %q, want nothing", names)
		}
	})

	t.Run("folder is a file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		file := filepath.Join(dir, "file")
		if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := WriteParquet(filepath.Join(file, "surface.parquet"), good); err == nil {
			t.Error("no error writing under a file")
		}
		if names := dirEntries(t, dir); !reflect.DeepEqual(names, []string{"file"}) {
			t.Errorf("folder holds %q, want only %q", names, "file")
		}
	})

	t.Run("unwritable folder", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "ro")
		if err := os.Mkdir(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		if f, err := os.CreateTemp(dir, "probe"); err == nil {
			f.Close()
			os.Remove(f.Name())
			t.Skip("this user can write to a read-only folder (root?)")
		}
		path := filepath.Join(dir, "surface.parquet")
		err := WriteParquet(path, good)
		if !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), path) {
			t.Errorf("error %v, want one naming %s and wrapping os.ErrPermission", err, path)
		}
		if names := dirEntries(t, dir); len(names) != 0 {
			t.Errorf("folder holds %q, want nothing", names)
		}
	})

	t.Run("encoding fails", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "surface.parquet")
		err := WriteParquet(path, bad)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), path) {
			t.Errorf("error %v, want one naming %s and wrapping ErrInvalid", err, path)
		}
		if names := dirEntries(t, dir); len(names) != 0 {
			t.Errorf("folder holds %q, want nothing", names)
		}
	})

	t.Run("failure keeps the old file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "surface.parquet")
		if err := WriteParquet(path, good); err != nil {
			t.Fatal(err)
		}
		before, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteParquet(path, bad); err == nil {
			t.Fatal("no error writing an invalid surface")
		}
		after, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(before, after) {
			t.Error("a failed write changed the file")
		}
		if names := dirEntries(t, dir); !reflect.DeepEqual(names, []string{"surface.parquet"}) {
			t.Errorf("folder holds %q, want only surface.parquet", names)
		}
	})

	t.Run("rename fails", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "surface.parquet")
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := WriteParquet(path, good); err == nil {
			t.Error("no error writing over a folder")
		}
		if names := dirEntries(t, dir); !reflect.DeepEqual(names, []string{"surface.parquet"}) {
			t.Errorf("folder holds %q, want only surface.parquet", names)
		}
	})

	t.Run("replaces", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "surface.parquet")
		if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := WriteParquet(path, good); err != nil {
			t.Fatal(err)
		}
		checkFileHolds(t, path, good)
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm != 0o644 {
			t.Errorf("file mode %v, want %v", perm, os.FileMode(0o644))
		}
		if names := dirEntries(t, dir); !reflect.DeepEqual(names, []string{"surface.parquet"}) {
			t.Errorf("folder holds %q, want only surface.parquet", names)
		}
	})
}

// TestEncodeParquetRefusesInvalidSurface checks that inconsistent surfaces
// are refused with the error that names the fault.
func TestEncodeParquetRefusesInvalidSurface(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(s *surface.Surface)
		want   error
	}{
		{"empty metric name", func(s *surface.Surface) { s.Metrics[1] = "" }, ErrInvalid},
		{"comma in metric name", func(s *surface.Surface) { s.Metrics[1] = "a,b" }, ErrInvalid},
		{"metric named x", func(s *surface.Surface) { s.Metrics[1] = "x" }, ErrInvalid},
		{"metric named twice", func(s *surface.Surface) { s.Metrics[1] = s.Metrics[0] }, ErrInvalid},
		{"bad x axis", func(s *surface.Surface) { s.Provenance.Grid.X.Num = 0 }, ErrInvalid},
		{"bad y axis", func(s *surface.Surface) { s.Provenance.Grid.Y.Max = -5 }, ErrInvalid},
		{"too few values", func(s *surface.Surface) { s.Points[2].Values = s.Points[2].Values[:3] }, ErrInvalid},
		{"index out of grid", func(s *surface.Surface) { s.Points[len(s.Points)-1].Index = 15 }, ErrInvalid},
		{"negative index", func(s *surface.Surface) { s.Points[0].Index = -1 }, ErrInvalid},
		{"index twice", func(s *surface.Surface) { s.Points[3].Index = 2 }, ErrInvalid},
		{"x off grid", func(s *surface.Surface) { s.Points[4].X += 0.1 }, ErrNotOnGrid},
		{"y off grid", func(s *surface.Surface) { s.Points[4].Y = math.NaN() }, ErrNotOnGrid},
		{"y in 1D", func(s *surface.Surface) { s.Provenance.Grid.Y = nil; s.Points = s.Points[:3] }, ErrNotOnGrid},
		{"provenance not JSON", func(s *surface.Surface) { s.Provenance.WallSeconds = math.NaN() }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := testSurface(3, 5, 1, slices.Clone(testMetrics))
			tc.change(s)
			err := EncodeParquet(&bytes.Buffer{}, s)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.HasPrefix(err.Error(), "export: ") {
				t.Errorf("error %v, want an export error wrapping %v", err, tc.want)
			}
		})
	}
	if err := EncodeParquet(&bytes.Buffer{}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil surface: error %v, want ErrInvalid", err)
	}
}

// craft returns a Parquet file with the given schema, rows and key-value
// metadata, written by parquet-go directly.
func craft(t *testing.T, schema *parquet.Schema, rows []parquet.Row, kv ...string) []byte {
	t.Helper()
	return craftWith(t, []parquet.WriterOption{schema}, rows, kv...)
}

// craftWith is craft with writer options, the schema among them.
func craftWith(t *testing.T, opts []parquet.WriterOption, rows []parquet.Row, kv ...string) []byte {
	t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		opts = append(opts, parquet.KeyValueMetadata(kv[i], kv[i+1]))
	}
	var buf bytes.Buffer
	w := parquet.NewWriter(&buf, opts...)
	if _, err := w.WriteRows(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withFooter returns the Parquet file with its footer metadata changed.
func withFooter(t *testing.T, file []byte, change func(*format.FileMetaData)) []byte {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	md := *f.Metadata()
	change(&md)
	footer, err := thrift.Marshal(new(thrift.CompactProtocol), &md)
	if err != nil {
		t.Fatal(err)
	}
	n := int(binary.LittleEndian.Uint32(file[len(file)-8:]))
	out := slices.Concat(file[:len(file)-8-n], footer)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(footer)))
	return append(out, "PAR1"...)
}

// row makes a row of doubles in the surface layout; a NaN y is null.
func row(x, y float64, values ...float64) parquet.Row {
	r := parquet.Row{parquet.DoubleValue(x).Level(0, 0, 0)}
	if math.IsNaN(y) {
		r = append(r, parquet.NullValue().Level(0, 0, 1))
	} else {
		r = append(r, parquet.DoubleValue(y).Level(0, 1, 1))
	}
	for i, v := range values {
		r = append(r, parquet.DoubleValue(v).Level(0, 0, 2+i))
	}
	return r
}

// TestReadParquetRefusesMalformedFiles checks that files which are not
// surfaces, or whose rows are off the grid, are refused with the error that
// says why.
func TestReadParquetRefusesMalformedFiles(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	prov2D := testSurface(3, 2, 1, nil).Provenance // x: -1, 0, 1; y: -0.5, 1.5
	prov1D := testSurface(3, 0, 1, nil).Provenance
	js := func(p surface.Provenance) string {
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	key := surface.MetadataKey
	loss := schemaOf([]string{"loss"})
	var good bytes.Buffer
	if err := EncodeParquet(&good, testSurface(3, 2, 1, []string{"loss"})); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		file []byte
		want error  // sentinel the error wraps, if any
		text string // text the error holds
	}{
		{
			name: "not parquet",
			file: []byte("PAR1 this is not a parquet file at all PAR1"),
			text: "parquet",
		},
		{
			name: "empty",
			file: nil,
			text: "0 bytes are too few",
		},
		// Another kind of file given as a surface is named for what it is.
		{
			name: "a surface converted to CSV",
			file: []byte("x,y,i,j,train_loss,train_acc\n-1.0,-0.5,0,0,2.5,10.0\n"),
			want: ErrNotParquet,
			text: "not a Parquet file but CSV text: a surface is the Parquet file 'landscape surface' writes",
		},
		{
			name: "a hessian report",
			file: []byte("{\n  \"model\": \"resnet20\",\n  \"trace\": 12.5\n}\n"),
			want: ErrNotParquet,
			text: "not a Parquet file but JSON",
		},
		{
			name: "a safetensors file",
			file: []byte("\x0e\x00\x00\x00\x00\x00\x00\x00{\"x.w\": {}}   "),
			want: ErrNotParquet,
			text: "not a Parquet file but a safetensors file",
		},
		{
			name: "truncated",
			file: good.Bytes()[:good.Len()/2],
			text: "not the magic PAR1",
		},
		{
			name: "truncated after the footer length",
			file: slices.Concat(good.Bytes()[:4], good.Bytes()[good.Len()-8:]),
			text: "footer of",
		},
		{
			name: "footer length beyond the file",
			file: []byte("PAR1PAR1PAR1"),
			text: "footer of 827474256 bytes in a file of 12",
		},
		{
			name: "row counts disagree",
			file: withFooter(t, good.Bytes(), func(md *format.FileMetaData) { md.NumRows++ }),
			text: "row groups hold 6 rows, file metadata says 7",
		},
		{
			name: "LZ4",
			file: craftWith(t, []parquet.WriterOption{loss, parquet.Compression(&parquet.Lz4Raw)}, []parquet.Row{row(0, 1.5, 1)}, key, js(prov2D)),
			text: "LZ4_RAW compression not supported",
		},
		{
			name: "missing y",
			file: craft(t, parquet.SchemaOf(struct {
				X    float64 `parquet:"x"`
				Loss float64 `parquet:"loss"`
			}{}), nil, key, js(prov2D)),
			want: ErrSchema,
			text: `["x" "loss"]`,
		},
		{
			name: "columns out of order",
			file: craft(t, parquet.SchemaOf(struct {
				Y *float64 `parquet:"y,optional"`
				X float64  `parquet:"x"`
			}{}), nil, key, js(prov2D)),
			want: ErrSchema,
		},
		{
			name: "integer x",
			file: craft(t, parquet.SchemaOf(struct {
				X int64    `parquet:"x"`
				Y *float64 `parquet:"y,optional"`
			}{}), nil, key, js(prov2D)),
			want: ErrSchema,
			text: `"x" is INT64`,
		},
		{
			name: "string metric",
			file: craft(t, parquet.SchemaOf(struct {
				X    float64  `parquet:"x"`
				Y    *float64 `parquet:"y,optional"`
				Name string   `parquet:"name"`
			}{}), nil, key, js(prov2D)),
			want: ErrSchema,
			text: `"name"`,
		},
		{
			name: "metric named x",
			file: craft(t, parquet.SchemaOf(struct {
				X float64  `parquet:"x"`
				Y *float64 `parquet:"y,optional"`
				A float64  `parquet:"loss"`
				B float64  `parquet:"loss_"`
				C float64  `parquet:"x"`
			}{}), nil, key, js(prov2D)),
			want: ErrSchema,
		},
		{
			name: "no provenance",
			file: craft(t, loss, []parquet.Row{row(0, 1.5, 1)}),
			want: ErrNoProvenance,
			text: key,
		},
		{
			name: "provenance not JSON",
			file: craft(t, loss, nil, key, "{"),
			text: key,
		},
		{
			name: "provenance grid invalid",
			file: craft(t, loss, nil, key, `{"grid":{"x":{"min":1,"max":-1,"num":3},"y":null}}`),
			text: "grid: x axis",
		},
		{
			name: "x off grid",
			file: craft(t, loss, []parquet.Row{row(0, 1.5, 1), row(0.5, 1.5, 2)}, key, js(prov2D)),
			want: ErrNotOnGrid,
			text: "row 1: ",
		},
		{
			name: "x beyond the axis",
			file: craft(t, loss, []parquet.Row{row(2, 1.5, 2)}, key, js(prov2D)),
			want: ErrNotOnGrid,
		},
		{
			name: "x infinite",
			file: craft(t, loss, []parquet.Row{row(math.Inf(1), 1.5, 2)}, key, js(prov2D)),
			want: ErrNotOnGrid,
		},
		{
			name: "x NaN",
			file: craft(t, loss, []parquet.Row{row(nan, 1.5, 2)}, key, js(prov2D)),
			want: ErrNotOnGrid,
		},
		{
			name: "y null in 2D",
			file: craft(t, loss, []parquet.Row{row(0, nan, 2)}, key, js(prov2D)),
			want: ErrNotOnGrid,
		},
		{
			name: "y set in 1D",
			file: craft(t, loss, []parquet.Row{row(0, 1.5, 2)}, key, js(prov1D)),
			want: ErrNotOnGrid,
		},
		{
			name: "point twice",
			file: craft(t, loss, []parquet.Row{row(0, 1.5, 1), row(1, 1.5, 2), row(0, 1.5, 3)}, key, js(prov2D)),
			text: "grid point 4 (x 0, y 1.5) stored twice",
		},
		{
			name: "more rows than points",
			file: craft(t, loss, []parquet.Row{row(-1, nan, 1), row(0, nan, 1), row(1, nan, 1), row(1, nan, 1)}, key, js(prov1D)),
			text: "4 rows for a grid of 3 points",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "bad.parquet")
			if err := os.WriteFile(path, tc.file, 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := ReadParquet(path)
			if err == nil {
				t.Fatalf("no error; read %+v", s)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "export: read "+path+": ") || !strings.Contains(msg, tc.text) {
				t.Errorf("error %q, want it to start %q and hold %q", msg, "export: read "+path+": ", tc.text)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v does not wrap %v", err, tc.want)
			}
		})
	}

	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "absent.parquet")
		if _, err := ReadParquet(path); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
			t.Errorf("error %v, want one naming %s and wrapping os.ErrNotExist", err, path)
		}
	})
}

// TestReadParquetReadsOtherWritersFiles checks that rows in any order and
// row groups, rounded coordinates, nullable metrics and Snappy, as another
// tool may write them, read.
func TestReadParquetReadsOtherWritersFiles(t *testing.T) {
	t.Parallel()
	prov := testSurface(3, 2, 1, nil).Provenance // x: -1, 0, 1; y: -0.5, 1.5
	b, err := json.Marshal(prov)
	if err != nil {
		t.Fatal(err)
	}

	// Rows in any order and row groups, coordinates a rounding away from
	// the axis values, optional metric columns with nulls, Snappy: what
	// another tool may write.
	schema := parquet.SchemaOf(struct {
		X    float64  `parquet:"x"`
		Y    *float64 `parquet:"y,optional"`
		Loss *float64 `parquet:"loss,optional"`
	}{})
	opt := func(x, y float64, v *float64) parquet.Row {
		r := parquet.Row{parquet.DoubleValue(x).Level(0, 0, 0), parquet.DoubleValue(y).Level(0, 1, 1)}
		if v == nil {
			return append(r, parquet.NullValue().Level(0, 0, 2))
		}
		return append(r, parquet.DoubleValue(*v).Level(0, 1, 2))
	}
	one, two := 1.0, 2.0
	file := craftWith(t, []parquet.WriterOption{schema, parquet.Compression(&parquet.Snappy), parquet.MaxRowsPerRowGroup(2)}, []parquet.Row{
		opt(1, 1.5, &one),
		opt(math.Nextafter(0, 1), -0.5, nil),
		opt(-1, math.Nextafter(1.5, 0), &two),
	}, surface.MetadataKey, string(b))
	if f, err := parquet.OpenFile(bytes.NewReader(file), int64(len(file))); err != nil || len(f.RowGroups()) != 2 {
		t.Fatalf("crafted file: %v; want 2 row groups", err)
	}

	s, err := DecodeParquet(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		index int
		loss  float64
	}{{1, math.NaN()}, {3, 2}, {5, 1}}
	if len(s.Points) != len(want) {
		t.Fatalf("%d points, want %d", len(s.Points), len(want))
	}
	for k, w := range want {
		if p := s.Points[k]; p.Index != w.index || !sameFloat(p.Values[0], w.loss) {
			t.Errorf("point %d has index %d, loss %v; want %d, %v", k, p.Index, p.Values[0], w.index, w.loss)
		}
	}
}

// TestAxisIndexFindsEveryCoordinateAndNothingElse checks that each
// coordinate of an axis maps to its index and that points between or beyond
// them, NaN and infinities do not.
func TestAxisIndexFindsEveryCoordinateAndNothingElse(t *testing.T) {
	t.Parallel()
	for _, a := range []grid.Axis{
		{Min: -1, Max: 1, Num: 51},
		{Min: -1, Max: 1, Num: 2},
		{Min: 0.3, Max: 0.3, Num: 1},
		{Min: -0.25, Max: 1.5, Num: 401},
		{Min: 1e9, Max: 1e9 + 1, Num: 1000},
		{Min: -1e-8, Max: 3e-8, Num: 7},
	} {
		t.Run(a.String(), func(t *testing.T) {
			t.Parallel()
			for i, v := range a.Values() {
				if got, ok := axisIndex(a, v); got != i || !ok {
					t.Fatalf("axisIndex(%v) = %d, %v; want %d, true", v, got, ok, i)
				}
			}
			if a.Num > 1 {
				step := (a.Max - a.Min) / float64(a.Num-1)
				for _, v := range []float64{a.Min - step, a.Max + step, a.Min + step/2, a.Min + 0.4*step} {
					if i, ok := axisIndex(a, v); ok {
						t.Errorf("axisIndex(%v) = %d, true; want false", v, i)
					}
				}
			}
			for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
				if _, ok := axisIndex(a, v); ok {
					t.Errorf("axisIndex(%v) is true", v)
				}
			}
		})
	}
}

// FuzzDecodeParquet fuzzes what this package reads from a Parquet file:
// the provenance JSON, the column names and the coordinates and values of
// the rows. It builds well-formed Parquet files with parquet-go's writer
// rather than mutating bytes, because parquet-go's own decoders allocate
// what a damaged file declares (see ReadParquet), so byte-level fuzzing
// finds out-of-memory crashes in parquet-go within a minute rather than
// faults here.
func FuzzDecodeParquet(f *testing.F) {
	prov := func(s *surface.Surface) string {
		b, err := json.Marshal(s.Provenance)
		if err != nil {
			f.Fatal(err)
		}
		return string(b)
	}
	f.Add(prov(testSurface(3, 0, 1, nil)), "train_loss", 0.0, math.NaN(), 1.5, 1.0, math.NaN(), 2.5)
	f.Add(prov(testSurface(3, 2, 1, nil)), "loss", -1.0, -0.5, math.Inf(1), 1.0, 1.5, math.NaN())
	f.Add(prov(testSurface(3, 2, 1, nil)), "loss", 1.0, 1.5, 0.0, 1.0, 1.5, 0.0)
	f.Add(`{"grid":{"x":{"min":0,"max":1,"num":1000001},"y":null}}`, "a", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
	f.Fuzz(func(t *testing.T, provJSON, metric string, x0, y0, v0, x1, y1, v1 float64) {
		if checkMetrics([]string{metric}) != nil {
			// Names EncodeParquet refuses, most because parquet-go cannot
			// make a schema with them; ReadParquet's check of the names it
			// reads is tested in TestReadParquetErrors.
			return
		}
		schema := schemaOf([]string{metric})
		file := craft(t, schema, []parquet.Row{row(x0, y0, v0), row(x1, y1, v1)}, surface.MetadataKey, provJSON)
		s, err := DecodeParquet(bytes.NewReader(file), int64(len(file)))
		if err != nil {
			return
		}
		// Whatever reads as a surface writes as one and reads back the same.
		var buf bytes.Buffer
		if err := EncodeParquet(&buf, s); err != nil {
			t.Fatalf("decoded surface does not encode: %v", err)
		}
		again, err := DecodeParquet(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatalf("re-encoded surface does not decode: %v", err)
		}
		checkSameSurface(t, again, s)
	})
}

// v01GoldenPath is a surface file written by this package as it stood at
// commit 69f943e, in the first version of the file format (hence v0.1),
// kept to check that files written then still read. Its generator is
// v01Surface:
//
//	go test ./export -run TestReadParquetReadsV01File -update
//
// rewrites it, which is meant only when the file format changes on
// purpose.
var v01GoldenPath = filepath.Join("testdata", "golden", "v0.1-surface.parquet")

// v01Surface is the surface in v01GoldenPath: the part of shard 1 of 2
// of a 2D surface that an interrupted run with --save-every left, so that
// its provenance says Progress 5 of 8, with NaN, +Inf and -0 among its
// values and every provenance field set.
func v01Surface() *surface.Surface {
	seed := uint64(11)
	g := grid.Grid{X: grid.Axis{Min: -1, Max: 1, Num: 5}, Y: &grid.Axis{Min: -0.5, Max: 1, Num: 4}}
	s := &surface.Surface{
		Metrics: []string{"train_loss", "train_acc", "test_loss", "test_acc"},
		Provenance: surface.Provenance{
			Tool: "landscape", Version: "v0.1.0", Created: "2025-06-01T12:00:00Z",
			Model:      surface.ModelInfo{Name: "resnet56", InChannels: 3, Height: 32, Width: 32, Classes: 10},
			Checkpoint: surface.FileInfo{Path: "runs/resnet56/model_300.t7", SHA256: strings.Repeat("0f", 32)},
			Directions: surface.DirectionsInfo{Kind: "random", Seed: 42, Norm: "filter", Ignore: "biasbn", Mode: "weights", SHA256: strings.Repeat("e1", 32)},
			Data: surface.DataInfo{Name: "cifar10", Path: "data/cifar-10-batches-bin", Splits: []string{"train", "test"},
				Samples: []int{5000, 1000}, SampleSeed: &seed, Mean: []float64{0.4914, 0.4822, 0.4465}, Std: []float64{0.247, 0.2435, 0.2616}},
			Grid: g, Shard: grid.Shard{Index: 1, Count: 2},
			BatchSize: 256, Backend: "cuda", Device: "NVIDIA H200", WallSeconds: 3.25,
			Progress: surface.Progress{Done: 5, Total: 8},
		},
	}
	for _, i := range g.Indices(s.Provenance.Shard)[:5] {
		x, y := g.Point(i)
		loss := 0.1 + x*x + 2*y*y
		p := surface.Point{Index: i, X: x, Y: y, Values: []float64{loss, 100 - 10*loss, loss + 0.3, 90 - 10*loss}}
		switch len(s.Points) {
		case 1:
			p.Values[0], p.Values[1] = math.NaN(), math.NaN()
		case 3:
			p.Values[2], p.Values[3] = math.Inf(1), math.Copysign(0, -1)
		}
		s.Points = append(s.Points, p)
	}
	return s
}

// TestReadParquetReadsV01File checks that a file written by an earlier
// version of this package reads to the surface that was written then, bit
// for bit.
func TestReadParquetReadsV01File(t *testing.T) {
	t.Parallel()
	want := v01Surface()
	if *updateGolden {
		if err := WriteParquet(v01GoldenPath, want); err != nil {
			t.Fatal(err)
		}
	}
	got := checkFileHolds(t, v01GoldenPath, want)
	if got.Provenance.Progress.Complete() {
		t.Errorf("progress %+v reads as complete; the file is a partial part", got.Provenance.Progress)
	}
}
