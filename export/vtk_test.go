package export

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape/surface"
)

// vtkFile is the part of a VTK XML PolyData file the tests read back.
type vtkFile struct {
	XMLName    xml.Name `xml:"VTKFile"`
	Type       string   `xml:"type,attr"`
	HeaderType string   `xml:"header_type,attr"`
	ByteOrder  string   `xml:"byte_order,attr"`
	Piece      struct {
		Points    int `xml:"NumberOfPoints,attr"`
		NLines    int `xml:"NumberOfLines,attr"`
		NPolys    int `xml:"NumberOfPolys,attr"`
		PointData struct {
			Scalars string         `xml:"Scalars,attr"`
			Arrays  []vtkDataArray `xml:"DataArray"`
		} `xml:"PointData"`
		CellData struct {
			Arrays []vtkDataArray `xml:"DataArray"`
		} `xml:"CellData"`
		PointsArr struct {
			Arrays []vtkDataArray `xml:"DataArray"`
		} `xml:"Points"`
		PolysArr struct {
			Arrays []vtkDataArray `xml:"DataArray"`
		} `xml:"Polys"`
		LinesArr struct {
			Arrays []vtkDataArray `xml:"DataArray"`
		} `xml:"Lines"`
	} `xml:"PolyData>Piece"`
}

type vtkDataArray struct {
	Type   string `xml:"type,attr"`
	Name   string `xml:"Name,attr"`
	Comps  int    `xml:"NumberOfComponents,attr"`
	Format string `xml:"format,attr"`
	Text   string `xml:",chardata"`
}

// values decodes the array's numbers, binary or ASCII.
func (a vtkDataArray) values(t *testing.T) []float64 {
	t.Helper()
	var out []float64
	if a.Format == "ascii" {
		for _, f := range strings.Fields(a.Text) {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				t.Fatalf("%s: %v", a.Name, err)
			}
			out = append(out, v)
		}
		return out
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(a.Text))
	if err != nil {
		t.Fatalf("%s: %v", a.Name, err)
	}
	if len(b) < 8 || binary.LittleEndian.Uint64(b) != uint64(len(b)-8) {
		t.Fatalf("%s: header says %d bytes, %d follow", a.Name, binary.LittleEndian.Uint64(b), len(b)-8)
	}
	b = b[8:]
	switch a.Type {
	case "Float32":
		for i := 0; i < len(b); i += 4 {
			out = append(out, float64(math.Float32frombits(binary.LittleEndian.Uint32(b[i:]))))
		}
	case "Int64":
		for i := 0; i < len(b); i += 8 {
			out = append(out, float64(int64(binary.LittleEndian.Uint64(b[i:]))))
		}
	default:
		t.Fatalf("%s: type %s", a.Name, a.Type)
	}
	return out
}

func parseVTK(t *testing.T, data []byte) vtkFile {
	t.Helper()
	var f vtkFile
	if err := xml.Unmarshal(data, &f); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if f.Type != "PolyData" || f.HeaderType != "UInt64" || f.ByteOrder != "LittleEndian" {
		t.Fatalf("VTKFile %+v", f)
	}
	return f
}

// vtkSurface is a 4x3 grid with loss 10·ix + iy + 0.5, NaN at (3, 2) and
// +Inf at (0, 0).
func vtkSurface() *surface.Surface {
	s := synthetic(grid.Axis{Min: -1, Max: 0.5, Num: 4}, grid.Axis{Min: 0, Max: 2, Num: 3}, func(x, y float64) float64 { return 0 })
	for i := range s.Points {
		ix, iy := i%4, i/4
		s.Points[i].Values[0] = 10*float64(ix) + float64(iy) + 0.5
	}
	s.Points[11].Values[0] = math.NaN()
	s.Points[0].Values[0] = math.Inf(1)
	return s
}

// TestEncodeVTKPointsCellsAndValues checks the points, quadrilaterals,
// values and cell means of a 2D surface with NaN and +Inf, in binary and
// ASCII, clipped and log.
func TestEncodeVTKPointsCellsAndValues(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		o    VTKOptions
		z    func(v float64) float64
	}{
		{"binary", VTKOptions{}, func(v float64) float64 { return v }},
		{"ascii", VTKOptions{ASCII: true}, func(v float64) float64 { return v }},
		{"zmax", VTKOptions{ZMax: 20}, func(v float64) float64 { return math.Min(v, 20) }},
		{"log", VTKOptions{Log: true, ZMax: 25, ASCII: true}, func(v float64) float64 { return math.Log(math.Min(v, 25) + 0.1) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := vtkSurface()
			var buf bytes.Buffer
			if err := EncodeVTK(&buf, s, &tt.o); err != nil {
				t.Fatal(err)
			}
			f := parseVTK(t, buf.Bytes())
			p := f.Piece
			// +Inf at (0, 0) is clipped to a finite value by zmax; the NaN
			// at (3, 2) never is. Cells: 3x2, less those touching NaN (one)
			// and, without clipping, +Inf (one).
			wantCells := 4
			if tt.o.ZMax > 0 {
				wantCells = 5
			}
			if p.Points != 12 || p.NPolys != wantCells || p.NLines != 0 || p.PointData.Scalars != "zvalue" {
				t.Fatalf("piece: %d points, %d polys, %d lines; want 12, %d, 0", p.Points, p.NPolys, p.NLines, wantCells)
			}
			zv := p.PointData.Arrays[0].values(t)
			pts := p.PointsArr.Arrays[0].values(t)
			conn := p.PolysArr.Arrays[0].values(t)
			offs := p.PolysArr.Arrays[1].values(t)
			avg := p.CellData.Arrays[0].values(t)
			if p.PointData.Arrays[0].Name != "zvalue" || p.CellData.Arrays[0].Name != "averaged zvalue" || p.PointsArr.Arrays[0].Comps != 3 {
				t.Errorf("array names %q %q, points components %d", p.PointData.Arrays[0].Name, p.CellData.Arrays[0].Name, p.PointsArr.Arrays[0].Comps)
			}
			if len(zv) != 12 || len(pts) != 36 || len(conn) != 4*wantCells || len(offs) != wantCells || len(avg) != wantCells {
				t.Fatalf("lengths: zvalue %d, points %d, connectivity %d, offsets %d, averaged %d", len(zv), len(pts), len(conn), len(offs), len(avg))
			}
			xs, ys := []float64{-1, -0.5, 0, 0.5}, []float64{0, 1, 2}
			var zmin = math.Inf(1)
			for i := range 12 {
				want := tt.z(s.Points[i].Values[0])
				if !approx(zv[i], want, 1e-5*math.Max(1, math.Abs(want))) && !(math.IsInf(want, 1) && math.IsInf(zv[i], 1)) {
					t.Errorf("zvalue[%d] = %g, want %g", i, zv[i], want)
				}
				if finite(want) {
					zmin = math.Min(zmin, want)
				}
				if pts[3*i] != xs[i%4] || pts[3*i+1] != ys[i/4] {
					t.Errorf("point %d at (%g, %g), want (%g, %g)", i, pts[3*i], pts[3*i+1], xs[i%4], ys[i/4])
				}
			}
			// A non-finite point sits at the least finite z.
			if !approx(pts[3*11+2], zmin, 1e-5) {
				t.Errorf("NaN point's z coordinate %g, want the least finite z %g", pts[3*11+2], zmin)
			}
			for c := range wantCells {
				if offs[c] != float64(4*(c+1)) {
					t.Errorf("offset %d = %g", c, offs[c])
				}
				q := conn[4*c : 4*c+4]
				i := int(q[0])
				if q[1] != float64(i+1) || q[2] != float64(i+5) || q[3] != float64(i+4) {
					t.Errorf("cell %d = %v, want %d %d %d %d", c, q, i, i+1, i+5, i+4)
				}
				var sum float64
				for _, k := range q {
					sum += zv[int(k)]
				}
				if !approx(avg[c], sum/4, 1e-5*math.Max(1, math.Abs(sum))) {
					t.Errorf("averaged zvalue %d = %g, want %g", c, avg[c], sum/4)
				}
			}
		})
	}
}

// TestEncodeVTK1DWritesLines checks that a 1D surface becomes lines, none
// through a non-finite point.
func TestEncodeVTK1DWritesLines(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := EncodeVTK(&buf, oneD(), &VTKOptions{Metric: "test_loss"}); err != nil {
		t.Fatal(err)
	}
	p := parseVTK(t, buf.Bytes()).Piece
	// 51 points, the last 3 infinite: 47 lines.
	if p.Points != 51 || p.NLines != 47 || p.NPolys != 0 {
		t.Fatalf("%d points, %d lines, %d polys; want 51, 47, 0", p.Points, p.NLines, p.NPolys)
	}
	conn := p.LinesArr.Arrays[0].values(t)
	if len(conn) != 94 || conn[0] != 0 || conn[1] != 1 || conn[93] != 47 {
		t.Errorf("line connectivity %v", conn)
	}
}

// TestWriteVTKLeavesOnlyTheFile checks a written file and that neither it
// nor a failed write leaves other files.
func TestWriteVTKLeavesOnlyTheFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "s.vtp")
	if err := WriteVTK(path, plotSurface(), nil); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if p := parseVTK(t, data).Piece; p.Points != 21*15 || p.NPolys != 20*14 {
		t.Errorf("%d points %d polys, want %d %d", p.Points, p.NPolys, 21*15, 20*14)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files left, want 1", len(entries))
	}
	if err := WriteVTK(filepath.Join(dir, "x.vtp"), plotSurface(), &VTKOptions{Metric: "nope"}); err == nil {
		t.Error("unknown metric: no error")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("after a failed write %d files, want 1", len(entries))
	}
}

// approx reports whether got is within tol of want, or both are NaN.
func approx(got, want, tol float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= tol
}
