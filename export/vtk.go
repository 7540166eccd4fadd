package export

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/landscape-go/landscape/internal/atomicfile"
	"github.com/landscape-go/landscape/landscape/surface"
)

// VTKOptions configures [EncodeVTK]. The zero value writes the default
// metric, binary, unclipped and linear.
type VTKOptions struct {
	// Metric is the metric to write; "" means [DefaultMetric].
	Metric string
	// ASCII writes the numbers as text instead of base64-encoded binary.
	ASCII bool
	// ZMax, if positive, clips values above it to it, as the reference's
	// --zmax does; +Inf is clipped too.
	ZMax float64
	// Log writes z = ln(z + 0.1), after clipping, as the reference's --log.
	Log bool
}

// EncodeVTK writes one metric of s to w as a VTK XML PolyData file (.vtp)
// for ParaView, as the reference's h52vtp.py does, but for any grid shape.
//
// Each grid point (x, y) becomes the point (x, y, z) with z the metric's
// value, also stored as the PointData array "zvalue". In 2D each grid cell
// becomes a quadrilateral (the points iy·nx+ix, +1, +nx+1, +nx, counter-
// clockwise), with the mean of its corners as the CellData array
// "averaged zvalue"; in 1D each interval becomes a line. Points are in grid
// index order, rows of constant y one after another.
//
// A NaN or infinite value stays as such in "zvalue", but no cell uses the
// point, and its z coordinate is set to the least finite z so that the
// bounds ParaView computes stay finite. Float32 values and Int64 cell
// indices are written base64-encoded with a UInt64 byte count, VTK's
// "binary" format, unless o.ASCII is set; ASCII writes NaN and the
// infinities as nan, inf and -inf. If o is nil the defaults are used.
func EncodeVTK(w io.Writer, s *surface.Surface, o *VTKOptions) error {
	if err := encodeVTK(w, s, o); err != nil {
		return fmt.Errorf("export: encode vtk: %w", err)
	}
	return nil
}

// WriteVTK writes the VTK file to path, through a temporary file that is
// renamed into place as [WriteParquet] does.
func WriteVTK(path string, s *surface.Surface, o *VTKOptions) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { return encodeVTK(w, s, o) }); err != nil {
		return fmt.Errorf("export: write %s: %w", path, err)
	}
	return nil
}

func encodeVTK(w io.Writer, s *surface.Surface, o *VTKOptions) error {
	var opt VTKOptions
	if o != nil {
		opt = *o
	}
	if opt.Metric == "" {
		opt.Metric = DefaultMetric(s)
	}
	f, err := fieldOf(s, opt.Metric)
	if err != nil {
		return err
	}
	nx, ny := len(f.X), len(f.Z)
	n := nx * ny
	z := make([]float32, n)
	lo := math.Inf(1)
	for iy, row := range f.Z {
		for ix, v := range row {
			if opt.ZMax > 0 && v > opt.ZMax {
				v = opt.ZMax
			}
			if opt.Log {
				v = math.Log(v + 0.1)
			}
			z[iy*nx+ix] = float32(v)
			if v := float64(z[iy*nx+ix]); finite(v) {
				lo = math.Min(lo, v)
			}
		}
	}
	if math.IsInf(lo, 1) {
		lo = 0
	}
	ok := func(i int) bool { return finite(float64(z[i])) }
	points := make([]float32, 0, 3*n)
	for i := range n {
		y := 0.0
		if !f.Is1D() {
			y = f.Y[i/nx]
		}
		zc := z[i]
		if !ok(i) {
			zc = float32(lo)
		}
		points = append(points, float32(f.X[i%nx]), float32(y), zc)
	}
	var conn, offsets []int64
	var avg []float32
	if f.Is1D() {
		for i := 0; i+1 < nx; i++ {
			if ok(i) && ok(i+1) {
				conn = append(conn, int64(i), int64(i+1))
				offsets = append(offsets, int64(len(conn)))
				avg = append(avg, float32((float64(z[i])+float64(z[i+1]))/2))
			}
		}
	} else {
		for iy := 0; iy+1 < ny; iy++ {
			for ix := 0; ix+1 < nx; ix++ {
				i := iy*nx + ix
				q := [4]int{i, i + 1, i + nx + 1, i + nx}
				if !ok(q[0]) || !ok(q[1]) || !ok(q[2]) || !ok(q[3]) {
					continue
				}
				var sum float64
				for _, k := range q {
					conn = append(conn, int64(k))
					sum += float64(z[k])
				}
				offsets = append(offsets, int64(len(conn)))
				avg = append(avg, float32(sum/4))
			}
		}
	}

	bw := &stickyWriter{w: w}
	desc := "metric " + opt.Metric
	if opt.ZMax > 0 {
		desc += ", clipped at " + strconv.FormatFloat(opt.ZMax, 'g', -1, 64)
	}
	if opt.Log {
		desc += ", z = ln(value + 0.1)"
	}
	if m := s.Provenance.Model.Name; m != "" {
		desc = "model " + m + ", " + desc
	}
	bw.printf("<?xml version=\"1.0\"?>\n<!-- landscape loss surface: %s -->\n", xmlComment(desc))
	bw.printf("<VTKFile type=\"PolyData\" version=\"1.0\" byte_order=\"LittleEndian\" header_type=\"UInt64\">\n")
	bw.printf("  <PolyData>\n")
	cells, lines := len(offsets), 0
	if f.Is1D() {
		cells, lines = 0, len(offsets)
	}
	bw.printf("    <Piece NumberOfPoints=\"%d\" NumberOfVerts=\"0\" NumberOfLines=\"%d\" NumberOfStrips=\"0\" NumberOfPolys=\"%d\">\n", n, lines, cells)
	bw.printf("      <PointData Scalars=\"zvalue\">\n")
	writeFloats(bw, "zvalue", 1, z, opt.ASCII)
	bw.printf("      </PointData>\n")
	bw.printf("      <CellData Scalars=\"averaged zvalue\">\n")
	writeFloats(bw, "averaged zvalue", 1, avg, opt.ASCII)
	bw.printf("      </CellData>\n")
	bw.printf("      <Points>\n")
	writeFloats(bw, "Points", 3, points, opt.ASCII)
	bw.printf("      </Points>\n")
	cellKind := "Polys"
	if f.Is1D() {
		cellKind = "Lines"
	}
	bw.printf("      <%s>\n", cellKind)
	writeInts(bw, "connectivity", conn, opt.ASCII)
	writeInts(bw, "offsets", offsets, opt.ASCII)
	bw.printf("      </%s>\n", cellKind)
	bw.printf("    </Piece>\n  </PolyData>\n</VTKFile>\n")
	return bw.err
}

// stickyWriter keeps the first write error and skips later writes.
type stickyWriter struct {
	w   io.Writer
	err error
}

func (e *stickyWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *stickyWriter) printf(format string, a ...any) { fmt.Fprintf(e, format, a...) }

// xmlComment makes s safe inside an XML comment.
func xmlComment(s string) string { return strings.ReplaceAll(s, "--", "- -") }

// xmlAttr escapes s for an attribute value in double quotes.
func xmlAttr(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", "\"", "&quot;").Replace(s)
}

// writeFloats writes a Float32 DataArray, with the range of its finite
// values when it has any.
func writeFloats(w *stickyWriter, name string, comps int, v []float32, ascii bool) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		if x := float64(x); finite(x) {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	rng := ""
	if comps == 1 && lo <= hi {
		rng = fmt.Sprintf(" RangeMin=\"%s\" RangeMax=\"%s\"", formatFloat32(float32(lo)), formatFloat32(float32(hi)))
	}
	w.printf("        <DataArray type=\"Float32\" Name=\"%s\" NumberOfComponents=\"%d\" format=\"%s\"%s>", xmlAttr(name), comps, vtkFormat(ascii), rng)
	if ascii {
		for i, x := range v {
			if i%(6*comps) == 0 {
				w.printf("\n          ")
			} else {
				w.printf(" ")
			}
			w.printf("%s", formatFloat32(x))
		}
		w.printf("\n        ")
	} else {
		b := make([]byte, 8+4*len(v))
		binary.LittleEndian.PutUint64(b, uint64(4*len(v)))
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[8+4*i:], math.Float32bits(x))
		}
		w.printf("%s", base64.StdEncoding.EncodeToString(b))
	}
	w.printf("</DataArray>\n")
}

// writeInts writes an Int64 DataArray.
func writeInts(w *stickyWriter, name string, v []int64, ascii bool) {
	w.printf("        <DataArray type=\"Int64\" Name=\"%s\" format=\"%s\">", name, vtkFormat(ascii))
	if ascii {
		for i, x := range v {
			if i%8 == 0 {
				w.printf("\n          ")
			} else {
				w.printf(" ")
			}
			w.printf("%d", x)
		}
		w.printf("\n        ")
	} else {
		b := make([]byte, 8+8*len(v))
		binary.LittleEndian.PutUint64(b, uint64(8*len(v)))
		for i, x := range v {
			binary.LittleEndian.PutUint64(b[8+8*i:], uint64(x))
		}
		w.printf("%s", base64.StdEncoding.EncodeToString(b))
	}
	w.printf("</DataArray>\n")
}

func vtkFormat(ascii bool) string {
	if ascii {
		return "ascii"
	}
	return "binary"
}

// formatFloat32 writes x in the shortest form that reads back as the same
// float32; NaN and infinities as nan, inf and -inf.
func formatFloat32(x float32) string {
	switch {
	case x != x:
		return "nan"
	case math.IsInf(float64(x), 1):
		return "inf"
	case math.IsInf(float64(x), -1):
		return "-inf"
	}
	return strconv.FormatFloat(float64(x), 'g', -1, 32)
}
