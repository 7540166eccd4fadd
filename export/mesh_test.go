package export

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape/surface"
)

// meshSurface is a 4x3 bowl, train_loss = x² + y² + 0.5, with the point
// at index 1 NaN (so the two cells around it are left out) and the one at
// index 11 above the 3D figure's scale top of 10.
func meshSurface() *surface.Surface {
	s := &surface.Surface{Metrics: []string{"train_loss", "train_acc"}}
	s.Provenance.Tool = "landscape"
	s.Provenance.Model.Name = "resnet20"
	s.Provenance.Grid = grid.Grid{X: grid.Axis{Min: -1, Max: 1, Num: 4}, Y: &grid.Axis{Min: -0.5, Max: 0.5, Num: 3}}
	for i := range s.Provenance.Grid.Len() {
		x, y := s.Provenance.Grid.Point(i)
		v := x*x + y*y + 0.5
		switch i {
		case 1:
			v = math.NaN()
		case 11:
			v = 25
		}
		s.Points = append(s.Points, surface.Point{Index: i, X: x, Y: y, Values: []float64{v, 100 - v}})
	}
	return s
}

// 12 grid points, 11 finite; 6 cells, 4 with four finite corners, each
// with a centre vertex and 4 triangles.
const meshVertices, meshTriangles = 11 + 4, 16

// meshVertex is a vertex as a test reads it back, in the surface's
// coordinates.
type meshVertex struct{ x, y, z, value float64 }

// meshGeometry checks what every format must hold: the grid points that
// are finite, each cell's centre at the mean of its corners, heights
// clipped at 10, and triangles that use only existing vertices.
func meshGeometry(t *testing.T, vs []meshVertex, tris [][3]int) {
	t.Helper()
	if len(vs) != meshVertices || len(tris) != meshTriangles {
		t.Fatalf("%d vertices, %d triangles; want %d and %d", len(vs), len(tris), meshVertices, meshTriangles)
	}
	find := func(x, y float64) (meshVertex, bool) {
		for _, v := range vs {
			if math.Abs(v.x-x) < 1e-6 && math.Abs(v.y-y) < 1e-6 {
				return v, true
			}
		}
		return meshVertex{}, false
	}
	g := meshSurface().Provenance.Grid
	for i := range g.Len() {
		x, y := g.Point(i)
		v, ok := find(x, y)
		want := x*x + y*y + 0.5
		switch {
		case i == 1:
			if ok {
				t.Errorf("the NaN point (%g, %g) is a vertex", x, y)
			}
		case !ok:
			t.Errorf("no vertex at grid point (%g, %g)", x, y)
		case i == 11:
			if v.z != 10 || (!math.IsNaN(v.value) && v.value != 25) {
				t.Errorf("clipped point: z %g value %g, want 10 and 25", v.z, v.value)
			}
		case math.Abs(v.z-want) > 1e-6:
			t.Errorf("vertex (%g, %g): z %g, want %g", x, y, v.z, want)
		}
	}
	// The centre of the cell from (1/3, 0) to (1, 0.5).
	c, ok := find(2.0/3, 0.25)
	want := (1.0/9 + 1 + (1.0/9 + 0.25) + 3*0.5 + 25) / 4
	if !ok || math.Abs(c.z-want) > 1e-5 || (!math.IsNaN(c.value) && math.Abs(c.value-want) > 1e-5) {
		t.Errorf("cell centre %+v (found %v), want z and value %g", c, ok, want)
	}
	for _, tr := range tris {
		for _, k := range tr {
			if k < 0 || k >= len(vs) {
				t.Fatalf("triangle %v uses vertex %d of %d", tr, k, len(vs))
			}
		}
		// Counter-clockwise seen from above: the normal points up.
		a, b, c := vs[tr[0]], vs[tr[1]], vs[tr[2]]
		if (b.x-a.x)*(c.y-a.y)-(b.y-a.y)*(c.x-a.x) <= 0 {
			t.Errorf("triangle %v is not counter-clockwise seen from above", tr)
		}
	}
}

func encode(t *testing.T, s *surface.Surface, f MeshFormat, o *MeshOptions) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := EncodeMesh(&b, s, f, o); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestMeshOBJ(t *testing.T) {
	t.Parallel()
	var vs []meshVertex
	var tris [][3]int
	sc := bufio.NewScanner(bytes.NewReader(encode(t, meshSurface(), OBJ, nil)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] == "#" || f[0] == "o" {
			continue
		}
		num := func(s string) float64 {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("%q: %v", sc.Text(), err)
			}
			return v
		}
		switch {
		case f[0] == "v" && len(f) == 7:
			for _, c := range f[4:] {
				if v := num(c); v < 0 || v > 1 {
					t.Errorf("colour %q out of [0, 1]", sc.Text())
				}
			}
			// y-up: (α, value, −β).
			vs = append(vs, meshVertex{x: num(f[1]), y: -num(f[3]), z: num(f[2]), value: math.NaN()})
		case f[0] == "f" && len(f) == 4:
			tris = append(tris, [3]int{int(num(f[1])) - 1, int(num(f[2])) - 1, int(num(f[3])) - 1})
		default:
			t.Fatalf("unexpected line %q", sc.Text())
		}
	}
	meshGeometry(t, vs, tris)
}

func TestMeshPLY(t *testing.T) {
	t.Parallel()
	b := encode(t, meshSurface(), PLY, nil)
	header, body, ok := bytes.Cut(b, []byte("end_header\n"))
	if !ok {
		t.Fatal("no end_header")
	}
	var nv, nf int
	for _, l := range strings.Split(string(header), "\n") {
		fmt.Sscanf(l, "element vertex %d", &nv)
		fmt.Sscanf(l, "element face %d", &nf)
	}
	if !strings.HasPrefix(string(header), "ply\nformat binary_little_endian 1.0\n") || !strings.Contains(string(header), "resnet20") {
		t.Errorf("header:\n%s", header)
	}
	if len(body) != nv*19+nf*13 {
		t.Fatalf("%d bytes of data for %d vertices and %d faces", len(body), nv, nf)
	}
	f32 := func(b []byte) float64 { return float64(math.Float32frombits(binary.LittleEndian.Uint32(b))) }
	vs := make([]meshVertex, nv)
	for i := range vs {
		r := body[19*i:]
		vs[i] = meshVertex{x: f32(r), y: f32(r[4:]), z: f32(r[8:]), value: f32(r[15:])}
	}
	tris := make([][3]int, nf)
	for i := range tris {
		r := body[19*nv+13*i:]
		if r[0] != 3 {
			t.Fatalf("face %d has %d vertices", i, r[0])
		}
		for k := range 3 {
			tris[i][k] = int(binary.LittleEndian.Uint32(r[1+4*k:]))
		}
	}
	meshGeometry(t, vs, tris)
}

// gltfDoc is the part of a glTF document the tests read.
type gltfDoc struct {
	Asset struct {
		Version string `json:"version"`
		Extras  struct {
			Metric     string             `json:"metric"`
			Provenance surface.Provenance `json:"provenance"`
		} `json:"extras"`
	} `json:"asset"`
	Meshes []struct {
		Primitives []struct {
			Attributes map[string]int `json:"attributes"`
			Indices    int            `json:"indices"`
			Mode       int            `json:"mode"`
		} `json:"primitives"`
	} `json:"meshes"`
	Accessors   []gltfAccessor   `json:"accessors"`
	BufferViews []gltfBufferView `json:"bufferViews"`
	Buffers     []struct {
		ByteLength int    `json:"byteLength"`
		URI        string `json:"uri"`
	} `json:"buffers"`
}

// readGLTF checks a glTF document and its buffer and returns the mesh.
func readGLTF(t *testing.T, doc gltfDoc, buf []byte) ([]meshVertex, [][3]int) {
	t.Helper()
	if doc.Asset.Version != "2.0" || doc.Asset.Extras.Metric != "train_loss" || doc.Asset.Extras.Provenance.Model.Name != "resnet20" {
		t.Errorf("asset %+v", doc.Asset)
	}
	if len(doc.Buffers) != 1 || doc.Buffers[0].ByteLength != len(buf) {
		t.Fatalf("buffers %+v, %d bytes", doc.Buffers, len(buf))
	}
	data := func(acc int, size int) []byte {
		a := doc.Accessors[acc]
		v := doc.BufferViews[a.BufferView]
		if v.ByteOffset%4 != 0 || v.ByteOffset+v.ByteLength > len(buf) || v.ByteLength != a.Count*size {
			t.Fatalf("accessor %d: %+v in view %+v", acc, a, v)
		}
		return buf[v.ByteOffset : v.ByteOffset+v.ByteLength]
	}
	f32 := func(b []byte, i int) float64 {
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
	}
	p := doc.Meshes[0].Primitives[0]
	pos, val := data(p.Attributes["POSITION"], 12), data(p.Attributes["_VALUE"], 4)
	col := data(p.Attributes["COLOR_0"], 12)
	a := doc.Accessors[p.Attributes["POSITION"]]
	vs := make([]meshVertex, a.Count)
	for i := range vs {
		for k := range 3 {
			v := f32(pos, 3*i+k)
			if v < float64(a.Min[k]) || v > float64(a.Max[k]) {
				t.Errorf("position %d outside the accessor's bounds %v to %v", i, a.Min, a.Max)
			}
			if c := f32(col, 3*i+k); c < 0 || c > 1 {
				t.Errorf("colour %d: %g", i, c)
			}
		}
		vs[i] = meshVertex{x: f32(pos, 3*i), y: -f32(pos, 3*i+2), z: f32(pos, 3*i+1), value: f32(val, i)}
	}
	idx := data(p.Indices, 4)
	tris := make([][3]int, len(idx)/12)
	for i := range tris {
		for k := range 3 {
			tris[i][k] = int(binary.LittleEndian.Uint32(idx[12*i+4*k:]))
		}
	}
	if p.Mode != gltfTriangles {
		t.Errorf("mode %d", p.Mode)
	}
	return vs, tris
}

func TestMeshGLB(t *testing.T) {
	t.Parallel()
	b := encode(t, meshSurface(), GLB, nil)
	le := binary.LittleEndian
	if string(b[:4]) != "glTF" || le.Uint32(b[4:]) != 2 || int(le.Uint32(b[8:])) != len(b) {
		t.Fatalf("GLB header % x, %d bytes", b[:12], len(b))
	}
	jsonLen := int(le.Uint32(b[12:]))
	if string(b[16:20]) != "JSON" || jsonLen%4 != 0 {
		t.Fatalf("JSON chunk: %q, %d bytes", b[16:20], jsonLen)
	}
	bin := b[20+jsonLen:]
	if binLen := int(le.Uint32(bin)); string(bin[4:8]) != "BIN\x00" || binLen != len(bin)-8 || binLen%4 != 0 {
		t.Fatalf("BIN chunk: %q, %d bytes of %d", bin[4:8], binLen, len(bin)-8)
	}
	var doc gltfDoc
	if err := json.Unmarshal(b[20:20+jsonLen], &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Buffers[0].URI != "" {
		t.Error("a GLB's buffer has a uri")
	}
	vs, tris := readGLTF(t, doc, bin[8:])
	meshGeometry(t, vs, tris)
}

func TestMeshGLTF(t *testing.T) {
	t.Parallel()
	var doc gltfDoc
	if err := json.Unmarshal(encode(t, meshSurface(), GLTF, nil), &doc); err != nil {
		t.Fatal(err)
	}
	uri, ok := strings.CutPrefix(doc.Buffers[0].URI, "data:application/octet-stream;base64,")
	buf, err := base64.StdEncoding.DecodeString(uri)
	if !ok || err != nil {
		t.Fatalf("buffer uri %.60q: %v", doc.Buffers[0].URI, err)
	}
	vs, tris := readGLTF(t, doc, buf)
	meshGeometry(t, vs, tris)
}

func TestMeshOptions(t *testing.T) {
	t.Parallel()
	// On a log scale that was not given the 3D figure does not clip, and
	// z is the base-10 logarithm.
	var doc gltfDoc
	if err := json.Unmarshal(encode(t, meshSurface(), GLTF, &MeshOptions{Plot: &PlotOptions{Log: true}}), &doc); err != nil {
		t.Fatal(err)
	}
	pos := doc.Accessors[0]
	if lo := math.Log10(1.0/9 + 0.5); math.Abs(float64(pos.Max[1])-math.Log10(25)) > 1e-6 || math.Abs(float64(pos.Min[1])-lo) > 1e-6 {
		t.Errorf("log z from %g to %g, want %g to log10(25)", pos.Min[1], pos.Max[1], lo)
	}
	// Another metric, by name.
	if err := json.Unmarshal(encode(t, meshSurface(), GLTF, &MeshOptions{Plot: &PlotOptions{Metric: "train_acc"}}), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Asset.Extras.Metric != "train_acc" || doc.Accessors[0].Min[1] < 75-1e-3 {
		t.Errorf("train_acc: metric %q, z from %g", doc.Asset.Extras.Metric, doc.Accessors[0].Min[1])
	}
}

func TestMeshErrors(t *testing.T) {
	t.Parallel()
	oneD := meshSurface()
	oneD.Provenance.Grid.Y = nil
	oneD.Points = oneD.Points[:4]
	allNaN := meshSurface()
	for i := range allNaN.Points {
		allNaN.Points[i].Values[0] = math.NaN()
	}
	for _, c := range []struct {
		name string
		s    *surface.Surface
		f    MeshFormat
		o    *MeshOptions
		want string
	}{
		{"1D", oneD, OBJ, nil, "needs a 2D surface"},
		{"metric", meshSurface(), PLY, &MeshOptions{Plot: &PlotOptions{Metric: "test_loss"}}, `no metric "test_loss"`},
		{"empty glTF", allNaN, GLB, nil, "no grid cell"},
		{"format", meshSurface(), MeshFormat(9), nil, "unknown mesh format"},
	} {
		err := EncodeMesh(&bytes.Buffer{}, c.s, c.f, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "export: ") {
			t.Errorf("%s: %v, want an error about %q", c.name, err, c.want)
		}
	}
	for name, want := range map[string]MeshFormat{"a.obj": OBJ, "b.PLY": PLY, "c/d.glb": GLB, "e.gltf": GLTF} {
		if f, err := MeshFormatOf(name); err != nil || f != want {
			t.Errorf("MeshFormatOf(%q) = %v, %v", name, f, err)
		}
	}
	if _, err := MeshFormatOf("a.stl"); err == nil || !strings.Contains(err.Error(), `"stl"`) {
		t.Errorf("a.stl: %v", err)
	}
}

func TestWriteMesh(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, f := range []MeshFormat{OBJ, PLY, GLB, GLTF} {
		path := filepath.Join(dir, "s."+f.String())
		if err := WriteMesh(path, meshSurface(), nil); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, encode(t, meshSurface(), f, nil)) {
			t.Errorf("%s: the file differs from EncodeMesh's bytes (%v)", path, err)
		}
	}
	if err := WriteMesh(filepath.Join(dir, "s.stl"), meshSurface(), nil); err == nil {
		t.Error("wrote an .stl")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("%d files left in the folder, want the 4 meshes", len(entries))
	}
}

// A 2x2 grid is one cell: its four corners and its centre, and four
// triangles that meet there.
func ExampleEncodeMesh() {
	s := &surface.Surface{Metrics: []string{"train_loss"}}
	s.Provenance.Grid = grid.Grid{X: grid.Axis{Min: -1, Max: 1, Num: 2}, Y: &grid.Axis{Min: -1, Max: 1, Num: 2}}
	for i, v := range []float64{1, 2, 3, 4} {
		x, y := s.Provenance.Grid.Point(i)
		s.Points = append(s.Points, surface.Point{Index: i, X: x, Y: y, Values: []float64{v}})
	}
	if err := EncodeMesh(os.Stdout, s, OBJ, nil); err != nil {
		fmt.Println(err)
	}
	// Output:
	// # landscape loss surface: train_loss, surface
	// # y-up: x = alpha, y = value, z = -beta; 5 vertices, 4 triangles
	// o landscape
	// v -1 1 1 0.2275 0.2980 0.7529
	// v 1 2 1 0.6667 0.7804 0.9961
	// v -1 3 -1 0.9686 0.7216 0.6118
	// v 1 4 -1 0.7059 0.0157 0.1490
	// v 0 2.5 0 0.8667 0.8667 0.8667
	// f 1 2 5
	// f 2 4 5
	// f 4 3 5
	// f 3 1 5
}
