package export

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/internal/atomicfile"
	"github.com/landscape-go/landscape/internal/filekind"
	"github.com/landscape-go/landscape/landscape/surface"
)

// Errors that callers test for, returned wrapped.
var (
	// ErrSchema means a file's columns are not those of a surface: a column
	// is missing, out of order, of another type or nested.
	ErrSchema = errors.New("not a surface schema")
	// ErrNoProvenance means a file has no provenance metadata under
	// surface.MetadataKey.
	ErrNoProvenance = errors.New("no provenance metadata")
	// ErrNotOnGrid means a point's coordinates are not those of a grid point.
	ErrNotOnGrid = errors.New("point not on the grid")
	// ErrInvalid means a surface given for writing is inconsistent.
	ErrInvalid = errors.New("invalid surface")
	// ErrNotParquet means a file read as a surface is another kind of
	// file altogether (a checkpoint, a CSV, JSON), which the error names.
	ErrNotParquet = errors.New("not a Parquet file")
)

// Column names fixed by the output contract.
const (
	colX = "x"
	colY = "y"
)

// rowBatch is how many rows are handed to the Parquet writer or read from
// the file at a time.
const rowBatch = 4096

// WriteParquet writes s to the Parquet file path, replacing any file there.
//
// The file is written to a temporary file in the same folder, synced to disk
// and renamed to path, so that path never holds a partial file. If anything
// fails the temporary file is removed and path is left as it was.
func WriteParquet(path string, s *surface.Surface) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { return encodeParquet(w, s) }); err != nil {
		return fmt.Errorf("export: write %s: %w", path, err)
	}
	return nil
}

// EncodeParquet writes s to w in the Parquet layout described in the package
// documentation.
//
// The surface must be consistent: its metric names unique, non-empty and
// other than "x" and "y", its grid valid, and each point at the coordinates
// of its grid index, with one value per metric, in ascending index order.
// Otherwise the error names the first fault and wraps [ErrNotOnGrid] for a
// point away from its coordinates, [ErrInvalid] for anything else.
func EncodeParquet(w io.Writer, s *surface.Surface) error {
	if err := encodeParquet(w, s); err != nil {
		return fmt.Errorf("export: encode parquet: %w", err)
	}
	return nil
}

func encodeParquet(w io.Writer, s *surface.Surface) error {
	if err := validate(s); err != nil {
		return err
	}
	prov, err := json.Marshal(s.Provenance)
	if err != nil {
		return fmt.Errorf("provenance to JSON: %w", err)
	}
	pw := parquet.NewWriter(w,
		schemaOf(s.Metrics),
		parquet.Compression(&parquet.Zstd),
		parquet.KeyValueMetadata(surface.MetadataKey, string(prov)),
	)
	oneD := s.Is1D()
	ncol := 2 + len(s.Metrics)
	rows := make([]parquet.Row, 0, rowBatch)
	vals := make([]parquet.Value, 0, rowBatch*ncol)
	flush := func() error {
		if _, err := pw.WriteRows(rows); err != nil {
			return fmt.Errorf("parquet: %w", err)
		}
		rows, vals = rows[:0], vals[:0]
		return nil
	}
	for _, p := range s.Points {
		start := len(vals)
		vals = append(vals, parquet.DoubleValue(p.X).Level(0, 0, 0))
		if oneD {
			vals = append(vals, parquet.NullValue().Level(0, 0, 1))
		} else {
			vals = append(vals, parquet.DoubleValue(p.Y).Level(0, 1, 1))
		}
		for i, v := range p.Values {
			vals = append(vals, parquet.DoubleValue(v).Level(0, 0, 2+i))
		}
		rows = append(rows, vals[start:len(vals):len(vals)])
		if len(rows) == rowBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	return nil
}

// schemaOf returns the Parquet schema of a surface with the given metrics.
// It is made from a struct type because parquet.Group sorts its fields by
// name, and the contract fixes the order x, y, metrics.
func schemaOf(metrics []string) *parquet.Schema {
	fields := make([]reflect.StructField, 0, 2+len(metrics))
	tag := func(name string) reflect.StructTag {
		return reflect.StructTag(`parquet:` + strconv.Quote(name))
	}
	fields = append(fields,
		reflect.StructField{Name: "X", Type: reflect.TypeFor[float64](), Tag: tag(colX)},
		reflect.StructField{Name: "Y", Type: reflect.TypeFor[*float64](), Tag: tag(colY + ",optional")},
	)
	for i, m := range metrics {
		fields = append(fields, reflect.StructField{
			Name: "M" + strconv.Itoa(i),
			Type: reflect.TypeFor[float64](),
			Tag:  tag(m),
		})
	}
	return parquet.SchemaOf(reflect.New(reflect.StructOf(fields)).Interface())
}

// validate checks that s can be written and read back unchanged.
func validate(s *surface.Surface) error {
	if s == nil {
		return fmt.Errorf("%w: nil surface", ErrInvalid)
	}
	if err := checkMetrics(s.Metrics); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	g := s.Provenance.Grid
	if err := g.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	nx, ny := g.X.Num, g.Len()/g.X.Num
	last := -1
	for k, p := range s.Points {
		if len(p.Values) != len(s.Metrics) {
			return fmt.Errorf("%w: point %d (index %d) has %d values for %d metrics", ErrInvalid, k, p.Index, len(p.Values), len(s.Metrics))
		}
		if p.Index < 0 || p.Index >= nx*ny {
			return fmt.Errorf("%w: point %d has index %d outside a %dx%d grid", ErrInvalid, k, p.Index, nx, ny)
		}
		if p.Index <= last {
			return fmt.Errorf("%w: point %d has index %d after index %d; want ascending indices", ErrInvalid, k, p.Index, last)
		}
		last = p.Index
		ix, iy := p.Index%nx, p.Index/nx
		if !near(g.X, ix, p.X) {
			return fmt.Errorf("%w: point %d (index %d) has x %v, want %v", ErrNotOnGrid, k, p.Index, p.X, g.X.At(ix))
		}
		switch {
		case g.Y == nil && !math.IsNaN(p.Y):
			return fmt.Errorf("%w: point %d (index %d) has y %v in a 1D surface, want NaN", ErrNotOnGrid, k, p.Index, p.Y)
		case g.Y != nil && !near(*g.Y, iy, p.Y):
			return fmt.Errorf("%w: point %d (index %d) has y %v, want %v", ErrNotOnGrid, k, p.Index, p.Y, g.Y.At(iy))
		}
	}
	return nil
}

// checkMetrics reports what is wrong with a list of metric names, if
// anything.
func checkMetrics(metrics []string) error {
	for i, m := range metrics {
		switch {
		case m == "" || !utf8.ValidString(m) || strings.ContainsRune(m, ','):
			// parquet-go names struct fields through tags, which cannot
			// hold a comma.
			return fmt.Errorf("metric %d is named %q; want a non-empty UTF-8 name without commas", i, m)
		case m == colX || m == colY:
			return fmt.Errorf("metric %d is named %q, the name of a coordinate column", i, m)
		case slices.Contains(metrics[:i], m):
			return fmt.Errorf("metric %q named twice", m)
		}
	}
	return nil
}

// tolerance returns how far a stored coordinate may lie from its axis value
// and still be taken for it: a millionth of the spacing, or a few units in
// the last place of the axis ends where the spacing is smaller than that.
func tolerance(a grid.Axis) float64 {
	scale := math.Max(math.Abs(a.Min), math.Abs(a.Max))
	tol := 4 * (math.Nextafter(scale, math.Inf(1)) - scale)
	if a.Num > 1 {
		tol = math.Max(tol, 1e-6*(a.Max-a.Min)/float64(a.Num-1))
	}
	return tol
}

// near reports whether v is the i-th coordinate of a.
func near(a grid.Axis, i int, v float64) bool {
	return math.Abs(v-a.At(i)) <= tolerance(a)
}

// axisIndex returns the index of the coordinate of a that v is, or false
// if v is none of them.
func axisIndex(a grid.Axis, v float64) (int, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	i := 0
	if a.Num > 1 {
		f := math.Round((v - a.Min) / (a.Max - a.Min) * float64(a.Num-1))
		if f < 0 || f > float64(a.Num-1) {
			return 0, false
		}
		i = int(f)
	}
	return i, near(a, i, v)
}

// ReadParquet reads a surface written by [WriteParquet].
//
// It checks the file's columns against the layout in the package
// documentation and returns an error wrapping [ErrSchema] if they differ,
// [ErrNoProvenance] if the provenance metadata is missing and [ErrNotOnGrid]
// if a row's coordinates are not those of a point of the provenance's grid.
// The points are returned in ascending index order, whatever the order of
// the rows. A null metric value, which WriteParquet never writes, is read as
// NaN.
//
// ReadParquet is meant for files this package wrote, complete or cut short,
// not for hostile input: it refuses a truncated file, LZ4 compression and
// a bad footer length before parquet-go reads them, but parquet-go then
// allocates the sizes a damaged file's pages declare, up to gigabytes.
func ReadParquet(path string) (*surface.Surface, error) {
	// A FIFO or a device would block the open or never end: only regular
	// files are read.
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		hint := ""
		if parts, _ := filepath.Glob(filepath.Join(path, "part-*-of-*.parquet")); len(parts) > 0 {
			hint = fmt.Sprintf("; it holds part files of a sharded run (%d of them): merge them first (landscape merge %s --out surface.parquet)", len(parts), path)
		}
		return nil, fmt.Errorf("export: read %s: %w (%s)%s", path, atomicfile.ErrNotRegular, atomicfile.Kind(fi.Mode()), hint)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("export: read %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("export: read %s: %w", path, err)
	}
	s, err := decodeParquet(f, info.Size())
	if err != nil {
		return nil, fmt.Errorf("export: read %s: %w", path, err)
	}
	return s, nil
}

// DecodeParquet reads a surface from the size bytes of a Parquet file in r,
// as [ReadParquet] reads one from a file.
func DecodeParquet(r io.ReaderAt, size int64) (*surface.Surface, error) {
	s, err := decodeParquet(r, size)
	if err != nil {
		return nil, fmt.Errorf("export: decode parquet: %w", err)
	}
	return s, nil
}

func decodeParquet(r io.ReaderAt, size int64) (s *surface.Surface, err error) {
	// parquet-go trusts the file more than a reader of outside bytes may:
	// some malformed files make it panic rather than fail.
	defer func() {
		if e := recover(); e != nil {
			s, err = nil, fmt.Errorf("malformed parquet file: %v", e)
		}
	}()
	if err := checkFooter(r, size); err != nil {
		if k := filekind.DetectAt(r, size); k != filekind.Parquet && k != filekind.Unknown && k != filekind.Empty {
			return nil, fmt.Errorf("%w but %s: a surface is the Parquet file 'landscape surface' writes", ErrNotParquet, k)
		}
		return nil, err
	}
	pf, err := parquet.OpenFile(r, size, parquet.SkipBloomFilters(true), parquet.SkipPageIndex(true))
	if err != nil {
		return nil, fmt.Errorf("parquet: %w", err)
	}
	if err := checkChunks(pf); err != nil {
		return nil, err
	}
	metrics, err := checkSchema(pf.Root())
	if err != nil {
		return nil, err
	}
	s = &surface.Surface{Metrics: metrics}
	raw, ok := pf.Lookup(surface.MetadataKey)
	if !ok {
		return nil, fmt.Errorf("%w: key %q missing", ErrNoProvenance, surface.MetadataKey)
	}
	if err := json.Unmarshal([]byte(raw), &s.Provenance); err != nil {
		return nil, fmt.Errorf("provenance metadata %q: %w", surface.MetadataKey, err)
	}
	// Readers allocate by the grid (Surface.Grid, the figures), so a
	// file claiming a huge one is refused here, whatever rows it holds.
	g := s.Provenance.Grid
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	if n := pf.NumRows(); n < 0 || n > int64(g.Len()) {
		return nil, fmt.Errorf("%d rows for a grid of %d points", n, g.Len())
	}
	s.Points, err = readPoints(pf, s)
	if err != nil {
		return nil, err
	}
	if n := pf.NumRows(); int64(len(s.Points)) != n {
		return nil, fmt.Errorf("read %d rows, file metadata says %d", len(s.Points), n)
	}
	return s, nil
}

// checkFooter checks that the footer length a Parquet file ends with fits
// in the file: parquet-go allocates it before it looks.
func checkFooter(r io.ReaderAt, size int64) error {
	var tail [8]byte
	if size < 12 {
		return fmt.Errorf("parquet: %d bytes are too few for a Parquet file", size)
	}
	if _, err := r.ReadAt(tail[:], size-8); err != nil {
		return fmt.Errorf("parquet: read footer: %w", err)
	}
	if string(tail[4:]) != "PAR1" {
		return fmt.Errorf("parquet: file ends with %q, not the magic PAR1", tail[4:])
	}
	if n := int64(binary.LittleEndian.Uint32(tail[:4])); n > size-12 {
		return fmt.Errorf("parquet: footer of %d bytes in a file of %d", n, size)
	}
	return nil
}

// checkChunks checks the row counts and codecs of the column chunks of pf.
// LZ4 is refused: on corrupt LZ4 data the parquet-go decoder grows its
// buffer until memory runs out.
func checkChunks(pf *parquet.File) error {
	var rows int64
	for i, rg := range pf.Metadata().RowGroups {
		if rg.NumRows < 0 {
			return fmt.Errorf("parquet: row group %d has %d rows", i, rg.NumRows)
		}
		rows += rg.NumRows
		for j, c := range rg.Columns {
			switch codec := c.MetaData.Codec; codec {
			case format.Uncompressed, format.Snappy, format.Gzip, format.Brotli, format.Zstd:
			default:
				return fmt.Errorf("parquet: row group %d column %d: %v compression not supported; want ZSTD, SNAPPY, GZIP, BROTLI or none", i, j, codec)
			}
		}
	}
	if rows != pf.NumRows() {
		return fmt.Errorf("parquet: row groups hold %d rows, file metadata says %d", rows, pf.NumRows())
	}
	return nil
}

// checkSchema checks the columns of a file and returns its metric names.
func checkSchema(root *parquet.Column) ([]string, error) {
	cols := root.Columns()
	if len(cols) < 2 || cols[0].Name() != colX || cols[1].Name() != colY {
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = c.Name()
		}
		return nil, fmt.Errorf("%w: columns %q, want %q and %q first", ErrSchema, names, colX, colY)
	}
	var metrics []string
	for i, c := range cols {
		switch {
		case !c.Leaf():
			return nil, fmt.Errorf("%w: column %d %q is a group, want DOUBLE", ErrSchema, i, c.Name())
		case c.Repeated():
			return nil, fmt.Errorf("%w: column %d %q is repeated", ErrSchema, i, c.Name())
		case c.Type().Kind() != parquet.Double:
			return nil, fmt.Errorf("%w: column %d %q is %v, want DOUBLE", ErrSchema, i, c.Name(), c.Type().Kind())
		case c.Index() != i:
			// Every column is a flat leaf, so leaf and field numbers agree.
			return nil, fmt.Errorf("%w: column %d %q is leaf %d", ErrSchema, i, c.Name(), c.Index())
		}
		if i >= 2 {
			metrics = append(metrics, c.Name())
		}
	}
	if err := checkMetrics(metrics); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSchema, err)
	}
	return metrics, nil
}

// readPoints reads the rows of pf as points of s, sorted by index.
func readPoints(pf *parquet.File, s *surface.Surface) ([]surface.Point, error) {
	g := s.Provenance.Grid
	nm := len(s.Metrics)
	// The row count comes from the file: trust it for sizes only so far.
	n := int(min(pf.NumRows(), 1<<20))
	points := make([]surface.Point, 0, n)
	values := make([]float64, 0, n*nm)
	buf := make([]parquet.Row, rowBatch)
	for _, rg := range pf.RowGroups() {
		rows := rg.Rows()
		for {
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				start := len(values)
				values = slices.Grow(values, nm)[:start+nm]
				p, err := toPoint(row, g, values[start:start+nm:start+nm])
				if err != nil {
					rows.Close()
					return nil, fmt.Errorf("row %d: %w", len(points), err)
				}
				points = append(points, p)
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("row %d: parquet: %w", len(points), err)
			}
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("parquet: %w", err)
		}
	}
	slices.SortStableFunc(points, func(a, b surface.Point) int { return a.Index - b.Index })
	for k := 1; k < len(points); k++ {
		if points[k].Index == points[k-1].Index {
			p := points[k]
			return nil, fmt.Errorf("grid point %d (x %v, y %v) stored twice", p.Index, p.X, p.Y)
		}
	}
	return points, nil
}

// toPoint converts one row, whose columns checkSchema accepted, to a point
// of the grid g with the metric values stored in values.
func toPoint(row parquet.Row, g grid.Grid, values []float64) (surface.Point, error) {
	nm := len(values)
	p := surface.Point{Y: math.NaN(), Values: values}
	var haveX, haveY bool
	for _, v := range row {
		c := v.Column()
		switch {
		case c < 0 || c >= 2+nm:
			return p, fmt.Errorf("%w: value of column %d", ErrSchema, c)
		case c == 0:
			p.X, haveX = v.Double(), !v.IsNull()
		case c == 1:
			p.Y, haveY = v.Double(), !v.IsNull()
		case v.IsNull():
			p.Values[c-2] = math.NaN()
		default:
			p.Values[c-2] = v.Double()
		}
	}
	if !haveX {
		return p, fmt.Errorf("%w: x is null", ErrNotOnGrid)
	}
	ix, ok := axisIndex(g.X, p.X)
	if !ok {
		return p, fmt.Errorf("%w: x %v is not a coordinate of axis %v", ErrNotOnGrid, p.X, g.X)
	}
	if g.Y == nil {
		if haveY {
			return p, fmt.Errorf("%w: y is %v in a 1D surface, want null", ErrNotOnGrid, p.Y)
		}
		p.Y = math.NaN()
		p.Index = ix
		return p, nil
	}
	if !haveY {
		return p, fmt.Errorf("%w: y is null in a 2D surface", ErrNotOnGrid)
	}
	iy, ok := axisIndex(*g.Y, p.Y)
	if !ok {
		return p, fmt.Errorf("%w: y %v is not a coordinate of axis %v", ErrNotOnGrid, p.Y, *g.Y)
	}
	p.Index = iy*g.X.Num + ix
	return p, nil
}

// ReadParquetFiles reads the surface files in order with [ReadParquet].
func ReadParquetFiles(paths ...string) ([]*surface.Surface, error) {
	ss := make([]*surface.Surface, len(paths))
	for i, p := range paths {
		s, err := ReadParquet(p)
		if err != nil {
			return nil, err
		}
		ss[i] = s
	}
	return ss, nil
}

// Labels names surfaces read from files for figures and tables (see
// [LabelsOf]), by their model names.
func Labels(files []string, ss []*surface.Surface) []string {
	models := make([]string, len(ss))
	for i, s := range ss {
		models[i] = s.Provenance.Model.Name
	}
	return LabelsOf(files, models)
}

// LabelsOf names what was read from files, of the models named, for
// figures and tables: by the model's name, with the file's name added
// where a model's name repeats, and the file's name alone where there is
// none. A file's name is its base less its extension, or where files
// share that (hessian.json, as 'landscape hessian' names every report),
// its folder's: "resnet20 (runA)".
func LabelsOf(files, models []string) []string {
	count, bases := map[string]int{}, map[string]int{}
	for i, m := range models {
		count[m]++
		bases[fileLabel(files[i])]++
	}
	names := make([]string, len(models))
	for i, m := range models {
		file := fileLabel(files[i])
		if bases[file] > 1 {
			if dir := filepath.Base(filepath.Dir(files[i])); dir != "." && dir != string(filepath.Separator) {
				file = dir
			}
		}
		switch {
		case m == "":
			names[i] = file
		case count[m] > 1:
			names[i] = m + " (" + file + ")"
		default:
			names[i] = m
		}
	}
	return names
}

// fileLabel is a file's base name less its extension.
func fileLabel(file string) string {
	return strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
}
