package export

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/landscape-go/landscape/internal/atomicfile"
	"github.com/landscape-go/landscape/landscape/surface"
)

// This file writes a 2D surface as a triangle mesh for 3D programs
// (Blender, ParaView, MeshLab, glTF viewers), and exports the scales the
// figures draw a metric with, which the mesh and the interactive views of
// package export/view share.

// Scales is how the figures of [NewFigure] show one metric of a surface,
// for views drawn elsewhere: the mesh files of [EncodeMesh] and the
// interactive pages of package export/view.
type Scales struct {
	// Metric is the metric shown.
	Metric string
	// XLabel and YLabel name the axes of α and β.
	XLabel, YLabel string
	// Title names the surface and the metric; Caption is the figures'
	// caption, from the provenance.
	Title   string
	Caption []string
	// Levels are the contour levels of the 2D figures, ascending, and Map
	// their colour scale.
	Levels []float64
	Map    ColorScale
	// Surface is the colour scale of the 3D figure, whose Min and Max are
	// also the range of its z axis: values above Max are drawn at Max
	// (Clipped says that some are).
	Surface ColorScale
	Clipped bool
}

// FigureScales returns the scales with which the figures draw the metric
// o.Metric of s ([DefaultMetric] if it is empty), given the options that
// choose them (o.Metric, o.Levels, o.VMin, o.VMax, o.Log, o.XLabel,
// o.YLabel); if o is nil the defaults are used. For a 1D surface Levels
// and Map are those a 2D surface with its values would get.
func FigureScales(s *surface.Surface, o *PlotOptions) (*Scales, error) {
	opt := defaults(o)
	if opt.Metric == "" {
		opt.Metric = DefaultMetric(s)
	}
	f, err := fieldOf(s, opt.Metric)
	if err != nil {
		return nil, err
	}
	ps, err := setup([]*surface.Field{f}, &opt)
	if err != nil {
		return nil, err
	}
	s3 := newSurface3D(f, ps)
	sc := &Scales{
		Metric:  opt.Metric,
		Title:   titleOf(&s.Provenance, opt.Metric, "surface"),
		Caption: append(captionOf(&s.Provenance), ps.notes()...),
		Levels:  ps.levels,
		Map:     ps.sc,
		Surface: s3.sc,
		Clipped: s3.clipped,
	}
	sc.XLabel, sc.YLabel = opt.axisLabels(&s.Provenance)
	if sc.Map.Colors == nil {
		sc.Map.Colors = Viridis()
	}
	return sc, nil
}

// MeshFormat is a file format of [EncodeMesh].
type MeshFormat int

const (
	// OBJ is Wavefront's text format, with each vertex's colour after its
	// coordinates ("v x y z r g b"), as Blender and MeshLab read it.
	OBJ MeshFormat = iota
	// PLY is the Stanford format, binary little-endian, with each
	// vertex's colour and the metric's value as properties.
	PLY
	// GLB is glTF 2.0 in its binary container.
	GLB
	// GLTF is glTF 2.0 as JSON, with its buffer embedded as a data URI.
	GLTF
)

var meshFormatNames = []string{"obj", "ply", "glb", "gltf"}

// String returns the format's name, which is also its file extension.
func (f MeshFormat) String() string {
	if f < 0 || int(f) >= len(meshFormatNames) {
		return fmt.Sprintf("MeshFormat(%d)", int(f))
	}
	return meshFormatNames[f]
}

// MeshFormatOf returns the format that the extension of path names:
// .obj, .ply, .glb or .gltf, in any case.
func MeshFormatOf(path string) (MeshFormat, error) {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	for i, n := range meshFormatNames {
		if n == ext {
			return MeshFormat(i), nil
		}
	}
	return 0, fmt.Errorf("export: mesh %s: unknown format %q; want a .obj, .ply, .glb or .gltf file", path, ext)
}

// MeshOptions configures [EncodeMesh]. The zero value writes the default
// metric as the 3D figure draws it.
type MeshOptions struct {
	// Plot chooses the metric and its scale as for the figures (see
	// [FigureScales]); nil means the defaults.
	Plot *PlotOptions
}

// mesh is a triangle mesh in the surface's own coordinates (α, β, value).
type mesh struct {
	pos    [][3]float32 // α, β, z
	value  []float32    // the metric at the vertex, unclipped
	col    []color.NRGBA
	tris   [][3]uint32
	lo, hi [3]float32 // bounds of pos
	// desc describes the surface and metric for a file's header; metric
	// and prov go into glTF's extras.
	desc, metric string
	prov         *surface.Provenance
}

// EncodeMesh writes the metric of the 2D surface s as a triangle mesh in
// format f: the surface the 3D figure shows, with height and colour the
// metric's value (clipped at the top of the 3D figure's scale, with z the
// base-10 logarithm of the value if o.Plot.Log), so that it can be lit,
// rendered and measured in Blender, ParaView or a glTF viewer.
//
// The mesh is the piecewise linear surface from which package surface
// draws contour lines and measures basins: each grid cell whose four
// corners are finite is split into four triangles that meet at a vertex at
// its centre, given the mean of the corners' values, so contour lines
// drawn on the mesh agree with the figures'. Grid points that are NaN or
// infinite, and the cells around them, are left out. x and y are α and β
// in their own units.
//
// OBJ and glTF are taken to be y-up, as Blender's importers and glTF's
// specification have it: a vertex is (α, value, −β), so that the surface
// stands upright after import. PLY keeps (α, β, value), as the VTK export
// does and ParaView expects. glTF colours are stored linear, as glTF
// requires; the glTF asset's extras hold the provenance, and each vertex
// carries the unclipped value as the attribute _VALUE (PLY: the property
// value).
func EncodeMesh(w io.Writer, s *surface.Surface, f MeshFormat, o *MeshOptions) error {
	m, err := meshOf(s, o)
	if err != nil {
		return err
	}
	if err := m.encode(w, f); err != nil {
		return fmt.Errorf("export: encode %s mesh: %w", f, err)
	}
	return nil
}

// WriteMesh writes the mesh to path in the format its extension names,
// through a temporary file that is renamed into place as [WriteParquet]
// does.
func WriteMesh(path string, s *surface.Surface, o *MeshOptions) error {
	f, err := MeshFormatOf(path)
	if err != nil {
		return err
	}
	m, err := meshOf(s, o)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, func(w io.Writer) error { return m.encode(w, f) }); err != nil {
		return fmt.Errorf("export: write %s: %w", path, err)
	}
	return nil
}

// meshOf returns the mesh of s that o chooses.
func meshOf(s *surface.Surface, o *MeshOptions) (*mesh, error) {
	var opt MeshOptions
	if o != nil {
		opt = *o
	}
	if s.Is1D() {
		return nil, errors.New("export: mesh: a mesh needs a 2D surface; this one is 1D")
	}
	sc, err := FigureScales(s, opt.Plot)
	if err != nil {
		return nil, err
	}
	field, err := fieldOf(s, sc.Metric)
	if err != nil {
		return nil, err
	}
	m := newMesh(field, sc)
	m.desc, m.metric, m.prov = sc.Title, sc.Metric, &s.Provenance
	return m, nil
}

// encode writes m in format f.
func (m *mesh) encode(w io.Writer, f MeshFormat) error {
	switch f {
	case OBJ:
		return m.writeOBJ(w)
	case PLY:
		return m.writePLY(w)
	case GLB, GLTF:
		return m.writeGLTF(w, f == GLB)
	}
	return fmt.Errorf("unknown mesh format %d", int(f))
}

// newMesh triangulates f as EncodeMesh describes, with heights and
// colours from sc.Surface.
func newMesh(f *surface.Field, sc *Scales) *mesh {
	m := &mesh{}
	nx, ny := len(f.X), len(f.Y)
	top := sc.Surface.Max
	height := func(v float64) float32 {
		v = math.Min(v, top)
		if sc.Surface.Log {
			v = math.Log10(math.Max(v, sc.Surface.Min))
		}
		return float32(v)
	}
	add := func(x, y, v float64) uint32 {
		m.pos = append(m.pos, [3]float32{float32(x), float32(y), height(v)})
		m.value = append(m.value, float32(v))
		m.col = append(m.col, sc.Surface.Color(math.Min(v, top)))
		return uint32(len(m.pos) - 1)
	}
	index := make([]uint32, nx*ny) // vertex of each finite grid point, plus one
	for iy, row := range f.Z {
		for ix, v := range row {
			if finite(v) {
				index[iy*nx+ix] = add(f.X[ix], f.Y[iy], v) + 1
			}
		}
	}
	for iy := 0; iy+1 < ny; iy++ {
		for ix := 0; ix+1 < nx; ix++ {
			// Corners counter-clockwise seen from above.
			c := [4]int{iy*nx + ix, iy*nx + ix + 1, (iy+1)*nx + ix + 1, (iy+1)*nx + ix}
			if index[c[0]] == 0 || index[c[1]] == 0 || index[c[2]] == 0 || index[c[3]] == 0 {
				continue
			}
			mean := (f.Z[iy][ix] + f.Z[iy][ix+1] + f.Z[iy+1][ix+1] + f.Z[iy+1][ix]) / 4
			mid := add((f.X[ix]+f.X[ix+1])/2, (f.Y[iy]+f.Y[iy+1])/2, mean)
			for k := range 4 {
				m.tris = append(m.tris, [3]uint32{index[c[k]] - 1, index[c[(k+1)%4]] - 1, mid})
			}
		}
	}
	for i := range 3 {
		m.lo[i], m.hi[i] = float32(math.Inf(1)), float32(math.Inf(-1))
	}
	for _, p := range m.pos {
		for i := range 3 {
			m.lo[i], m.hi[i] = min(m.lo[i], p[i]), max(m.hi[i], p[i])
		}
	}
	return m
}

// yUp returns p as (α, value, −β), with β = 0 as 0 rather than −0.
func yUp(p [3]float32) [3]float32 { return [3]float32{p[0], p[2], 0 - p[1]} }

func (m *mesh) writeOBJ(w io.Writer) error {
	bw := &stickyWriter{w: w}
	bw.printf("# landscape loss surface: %s\n", oneLine(m.desc))
	bw.printf("# y-up: x = alpha, y = value, z = -beta; %d vertices, %d triangles\n", len(m.pos), len(m.tris))
	bw.printf("o landscape\n")
	for i, p := range m.pos {
		q, c := yUp(p), m.col[i]
		bw.printf("v %s %s %s %.4f %.4f %.4f\n", formatFloat32(q[0]), formatFloat32(q[1]), formatFloat32(q[2]),
			float64(c.R)/255, float64(c.G)/255, float64(c.B)/255)
	}
	for _, t := range m.tris {
		bw.printf("f %d %d %d\n", t[0]+1, t[1]+1, t[2]+1)
	}
	return bw.err
}

func (m *mesh) writePLY(w io.Writer) error {
	bw := &stickyWriter{w: w}
	bw.printf("ply\nformat binary_little_endian 1.0\n")
	bw.printf("comment landscape loss surface: %s\n", oneLine(m.desc))
	bw.printf("comment x = alpha, y = beta, z = value as drawn; value = the metric, unclipped\n")
	bw.printf("element vertex %d\n", len(m.pos))
	bw.printf("property float x\nproperty float y\nproperty float z\n")
	bw.printf("property uchar red\nproperty uchar green\nproperty uchar blue\nproperty float value\n")
	bw.printf("element face %d\nproperty list uchar uint vertex_indices\nend_header\n", len(m.tris))
	b := make([]byte, 0, 19*len(m.pos)+13*len(m.tris))
	for i, p := range m.pos {
		for _, v := range p {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		c := m.col[i]
		b = append(b, c.R, c.G, c.B)
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(m.value[i]))
	}
	for _, t := range m.tris {
		b = append(b, 3)
		for _, v := range t {
			b = binary.LittleEndian.AppendUint32(b, v)
		}
	}
	bw.Write(b)
	return bw.err
}

// glTF's constants.
const (
	gltfFloat         = 5126
	gltfUnsignedInt   = 5125
	gltfArrayBuffer   = 34962
	gltfElementBuffer = 34963
	gltfTriangles     = 4
)

type gltfAccessor struct {
	BufferView    int       `json:"bufferView"`
	ComponentType int       `json:"componentType"`
	Count         int       `json:"count"`
	Type          string    `json:"type"`
	Min           []float32 `json:"min,omitempty"`
	Max           []float32 `json:"max,omitempty"`
}

type gltfBufferView struct {
	Buffer     int `json:"buffer"`
	ByteOffset int `json:"byteOffset"`
	ByteLength int `json:"byteLength"`
	Target     int `json:"target"`
}

// writeGLTF writes the mesh as glTF 2.0: a GLB container if binary, else
// JSON with the buffer as a data URI.
func (m *mesh) writeGLTF(w io.Writer, binaryContainer bool) error {
	if len(m.tris) == 0 {
		// glTF accessors must have a count of at least one.
		return errors.New("no grid cell has four finite corners")
	}
	var buf []byte
	var views []gltfBufferView
	view := func(target int, fill func([]byte) []byte) int {
		start := len(buf)
		buf = fill(buf)
		views = append(views, gltfBufferView{ByteOffset: start, ByteLength: len(buf) - start, Target: target})
		for len(buf)%4 != 0 {
			buf = append(buf, 0)
		}
		return len(views) - 1
	}
	floats := func(b []byte, v ...float32) []byte {
		for _, x := range v {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
		return b
	}
	lo, hi := yUp(m.lo), yUp(m.hi)
	lo[2], hi[2] = 0-m.hi[1], 0-m.lo[1]
	accessors := []gltfAccessor{
		{BufferView: view(gltfArrayBuffer, func(b []byte) []byte {
			for _, p := range m.pos {
				q := yUp(p)
				b = floats(b, q[:]...)
			}
			return b
		}), ComponentType: gltfFloat, Count: len(m.pos), Type: "VEC3", Min: lo[:], Max: hi[:]},
		{BufferView: view(gltfArrayBuffer, func(b []byte) []byte {
			for _, c := range m.col {
				b = floats(b, srgbToLinear(c.R), srgbToLinear(c.G), srgbToLinear(c.B))
			}
			return b
		}), ComponentType: gltfFloat, Count: len(m.pos), Type: "VEC3"},
		{BufferView: view(gltfArrayBuffer, func(b []byte) []byte { return floats(b, m.value...) }),
			ComponentType: gltfFloat, Count: len(m.pos), Type: "SCALAR"},
		{BufferView: view(gltfElementBuffer, func(b []byte) []byte {
			for _, t := range m.tris {
				for _, v := range t {
					b = binary.LittleEndian.AppendUint32(b, v)
				}
			}
			return b
		}), ComponentType: gltfUnsignedInt, Count: 3 * len(m.tris), Type: "SCALAR"},
	}
	type object = map[string]any
	buffer := object{"byteLength": len(buf)}
	if !binaryContainer {
		buffer["uri"] = "data:application/octet-stream;base64," + base64.StdEncoding.EncodeToString(buf)
	}
	doc := object{
		"asset": object{"version": "2.0", "generator": "landscape",
			"extras": object{"title": m.desc, "metric": m.metric, "provenance": m.prov}},
		"scene":  0,
		"scenes": []object{{"nodes": []int{0}}},
		"nodes":  []object{{"mesh": 0, "name": "landscape " + m.metric}},
		"meshes": []object{{"name": m.metric, "primitives": []object{{
			"attributes": object{"POSITION": 0, "COLOR_0": 1, "_VALUE": 2},
			"indices":    3, "mode": gltfTriangles, "material": 0,
		}}}},
		"materials": []object{{"name": "vertex colours", "doubleSided": true,
			"pbrMetallicRoughness": object{"metallicFactor": 0, "roughnessFactor": 0.9}}},
		"accessors":   accessors,
		"bufferViews": views,
		"buffers":     []object{buffer},
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	if !binaryContainer {
		_, err := w.Write(append(js, '\n'))
		return err
	}
	for len(js)%4 != 0 {
		js = append(js, ' ')
	}
	var out bytes.Buffer
	le := func(v uint32) { out.Write(binary.LittleEndian.AppendUint32(nil, v)) }
	out.WriteString("glTF")
	le(2)
	le(uint32(12 + 8 + len(js) + 8 + len(buf)))
	le(uint32(len(js)))
	out.WriteString("JSON")
	out.Write(js)
	le(uint32(len(buf)))
	out.WriteString("BIN\x00")
	out.Write(buf)
	_, err = out.WriteTo(w)
	return err
}

// srgbToLinear converts an 8-bit sRGB component to a linear one in [0, 1].
func srgbToLinear(c uint8) float32 {
	v := float64(c) / 255
	if v <= 0.04045 {
		return float32(v / 12.92)
	}
	return float32(math.Pow((v+0.055)/1.055, 2.4))
}

// oneLine makes s fit on one line of a header or comment.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
