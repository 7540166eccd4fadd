package export

import (
	"image/color"
	"math"
	"slices"

	"github.com/landscape-go/landscape/landscape/surface"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// gonum/plot has no 3D plots. The 3D surface is drawn here by hand, as
// matplotlib's Axes3D does it: the surface is scaled into a box, each grid
// cell becomes a quadrilateral, shaded by the light on it and coloured by
// its mean value, and the quadrilaterals are drawn far to near (the
// painter's algorithm) after the three back panes of the box and before
// its front edges, which carry the axes.

// vec is a point or direction in the box's coordinates.
type vec [3]float64

func (a vec) dot(b vec) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
func (a vec) add(b vec) vec     { return vec{a[0] + b[0], a[1] + b[1], a[2] + b[2]} }
func (a vec) sub(b vec) vec     { return vec{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }
func (a vec) scale(k float64) vec {
	return vec{k * a[0], k * a[1], k * a[2]}
}
func (a vec) cross(b vec) vec {
	return vec{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}
func (a vec) unit() vec {
	n := math.Sqrt(a.dot(a))
	if n == 0 {
		return a
	}
	return a.scale(1 / n)
}

// view is an orthographic projection: eye points from the box towards the
// viewer, right and up span the screen.
type view struct{ eye, right, up vec }

// newView returns the view from azimuth and elevation in degrees, as
// matplotlib's view_init takes them. The elevation is clamped to ±90°.
func newView(azimuth, elevation float64) view {
	az := azimuth * math.Pi / 180
	el := math.Max(-90, math.Min(90, elevation)) * math.Pi / 180
	sa, ca := math.Sincos(az)
	se, ce := math.Sincos(el)
	return view{
		eye:   vec{ce * ca, ce * sa, se},
		right: vec{-sa, ca, 0},
		up:    vec{-se * ca, -se * sa, ce},
	}
}

// Half-sizes of the box: matplotlib's default aspect 4:4:3.
const boxX, boxY, boxZ = 1.0, 1.0, 0.75

// surface3D is the 3D figure of a field. sc is its z range and colour
// scale: the finite values, clipped at the top of the figure's colour
// scale if they reach above it and the scale is linear or its top was
// given.
type surface3D struct {
	f       *surface.Field
	sc      ColorScale
	clipped bool
}

// newSurface3D returns the 3D figure of f drawn with ps, in the colours of
// ps's scale if it has a colour map and else in [CoolWarm], as the
// reference draws it.
func newSurface3D(f *surface.Field, ps plotSetup) surface3D {
	lo, hi := valueRange(math.Inf(1), math.Inf(-1), f.Z, ps.sc.Log)
	cmap := ps.sc.Colors
	if cmap == nil {
		cmap = coolwarm()
	}
	s := surface3D{f: f, sc: ColorScale{Min: lo, Max: hi, Log: ps.sc.Log, Colors: cmap}}
	if lo > hi { // nothing finite
		s.sc.Min, s.sc.Max = ps.sc.Min, ps.sc.Max
	}
	if s.sc.Max > ps.sc.Max && ps.sc.Max > s.sc.Min && ps.clip {
		s.sc.Max, s.clipped = ps.sc.Max, true
	}
	if !(s.sc.Min < s.sc.Max) {
		s.sc.Min, s.sc.Max = widen(s.sc.Min, s.sc.Max, s.sc.Log)
	}
	return s
}

// axisWorld maps a coordinate of the axis v to the box's half-size b.
func axisWorld(v []float64, b float64) func(float64) float64 {
	lo, hi := v[0], v[len(v)-1]
	if hi <= lo {
		return func(float64) float64 { return 0 }
	}
	return func(x float64) float64 { return -b + 2*b*(x-lo)/(hi-lo) }
}

// sign returns 1 for v ≥ 0 and -1 otherwise.
func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

// quad is a face to paint: its corners on the canvas, its depth (larger
// is nearer the viewer) and its colour.
type quad struct {
	pts   [4]vg.Point
	depth float64
	col   color.NRGBA
}

// draw draws the figure's body on c: the box and the surface seen from
// v, and the colour bar.
func (s surface3D) draw(c draw.Canvas, v view, metric, xl, yl string) {
	main := draw.Crop(c, 0, -colorBarWidth, 0, 0)
	f := s.f
	wx, wy := axisWorld(f.X, boxX), axisWorld(f.Y, boxY)
	wz := func(z float64) float64 {
		t := s.sc.Norm(z)
		if math.IsNaN(t) {
			t = 0 // not positive on a log scale
		}
		return -boxZ + 2*boxZ*t
	}

	// Fit the box, with room for the labels, into the canvas.
	umin, umax, vmin, vmax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, sx := range []float64{-1, 1} {
		for _, sy := range []float64{-1, 1} {
			for _, sz := range []float64{-1, 1} {
				p := vec{sx * boxX, sy * boxY, sz * boxZ}
				u, w := p.dot(v.right), p.dot(v.up)
				umin, umax, vmin, vmax = math.Min(umin, u), math.Max(umax, u), math.Min(vmin, w), math.Max(vmax, w)
			}
		}
	}
	const margin = 34
	width := float64(main.Max.X-main.Min.X) - 2*margin
	height := float64(main.Max.Y-main.Min.Y) - 2*margin
	k := math.Max(1, math.Min(width/(umax-umin), height/(vmax-vmin)))
	cx, cy := float64(main.Min.X+main.Max.X)/2, float64(main.Min.Y+main.Max.Y)/2
	uc, vc := (umin+umax)/2, (vmin+vmax)/2
	pt := func(p vec) vg.Point {
		return vg.Point{X: vg.Length(cx + k*(p.dot(v.right)-uc)), Y: vg.Length(cy + k*(p.dot(v.up)-vc))}
	}
	poly := func(ps ...vec) vg.Path {
		pts := make([]vg.Point, len(ps))
		for i, p := range ps {
			pts[i] = pt(p)
		}
		return polygonPath(pts...)
	}

	// The back panes, with grid lines at the ticks.
	bx, by, bz := -sign(v.eye[0])*boxX, -sign(v.eye[1])*boxY, -sign(v.eye[2])*boxZ
	xt, yt, zt := scaleTicks(f.X[0], f.X[len(f.X)-1], false), scaleTicks(f.Y[0], f.Y[len(f.Y)-1], false), scaleTicks(s.sc.Min, s.sc.Max, s.sc.Log)
	gridStyle := draw.LineStyle{Color: gridColor, Width: 0.5}
	for _, pane := range []vg.Path{
		poly(vec{bx, -boxY, -boxZ}, vec{bx, boxY, -boxZ}, vec{bx, boxY, boxZ}, vec{bx, -boxY, boxZ}),
		poly(vec{-boxX, by, -boxZ}, vec{boxX, by, -boxZ}, vec{boxX, by, boxZ}, vec{-boxX, by, boxZ}),
		poly(vec{-boxX, -boxY, bz}, vec{boxX, -boxY, bz}, vec{boxX, boxY, bz}, vec{-boxX, boxY, bz}),
	} {
		c.SetColor(paneColor)
		c.Fill(pane)
		c.SetLineStyle(gridStyle)
		c.Stroke(pane)
	}
	line := func(sty draw.LineStyle, a, b vec) {
		pa, pb := pt(a), pt(b)
		c.StrokeLine2(sty, pa.X, pa.Y, pb.X, pb.Y)
	}
	for _, t := range xt {
		x := wx(t.Value)
		line(gridStyle, vec{x, by, -boxZ}, vec{x, by, boxZ})
		line(gridStyle, vec{x, -boxY, bz}, vec{x, boxY, bz})
	}
	for _, t := range yt {
		y := wy(t.Value)
		line(gridStyle, vec{bx, y, -boxZ}, vec{bx, y, boxZ})
		line(gridStyle, vec{-boxX, y, bz}, vec{boxX, y, bz})
	}
	for _, t := range zt {
		z := wz(t.Value)
		line(gridStyle, vec{bx, -boxY, z}, vec{bx, boxY, z})
		line(gridStyle, vec{-boxX, by, z}, vec{boxX, by, z})
	}

	// The surface, far to near.
	light := v.eye.scale(0.7).add(v.up.scale(0.6)).sub(v.right.scale(0.4)).unit()
	var quads []quad
	for iy := 0; iy+1 < len(f.Y); iy++ {
		for ix := 0; ix+1 < len(f.X); ix++ {
			x0, x1, y0, y1 := wx(f.X[ix]), wx(f.X[ix+1]), wy(f.Y[iy]), wy(f.Y[iy+1])
			zs := [4]float64{f.Z[iy][ix], f.Z[iy][ix+1], f.Z[iy+1][ix+1], f.Z[iy+1][ix]}
			var corners [4]vec
			var q quad
			if finite(zs[0]) && finite(zs[1]) && finite(zs[2]) && finite(zs[3]) {
				corners = [4]vec{{x0, y0, wz(zs[0])}, {x1, y0, wz(zs[1])}, {x1, y1, wz(zs[2])}, {x0, y1, wz(zs[3])}}
				var t float64
				for _, z := range zs {
					if n := s.sc.Norm(z); !math.IsNaN(n) {
						t += n / 4
					}
				}
				n := corners[2].sub(corners[0]).cross(corners[3].sub(corners[1])).unit()
				if n[2] < 0 {
					n = n.scale(-1)
				}
				q.col = shade(s.sc.Colors.At(t), 0.62+0.42*math.Max(0, n.dot(light)))
			} else {
				corners = [4]vec{{x0, y0, bz}, {x1, y0, bz}, {x1, y1, bz}, {x0, y1, bz}}
				q.col = missingColor
			}
			var centre vec
			for i, p := range corners {
				q.pts[i] = pt(p)
				centre = centre.add(p.scale(0.25))
			}
			q.depth = centre.dot(v.eye)
			quads = append(quads, q)
		}
	}
	slices.SortStableFunc(quads, func(a, b quad) int {
		switch {
		case a.depth < b.depth:
			return -1
		case a.depth > b.depth:
			return 1
		}
		return 0
	})
	for _, q := range quads {
		fillSeamless(c, polygonPath(q.pts[:]...), q.col)
	}

	// The axes, on the front edges of the floor and on the vertical edge
	// furthest left on the screen.
	fx, fy := sign(v.eye[0])*boxX, sign(v.eye[1])*boxY
	floor := bz
	axes := []axis3{
		{from: vec{-boxX, fy, floor}, to: vec{boxX, fy, floor}, out: vec{0, fy, 0}, label: xl, ticks: xt, world: func(t float64) vec { return vec{wx(t), fy, floor} }},
		{from: vec{fx, -boxY, floor}, to: vec{fx, boxY, floor}, out: vec{fx, 0, 0}, label: yl, ticks: yt, world: func(t float64) vec { return vec{fx, wy(t), floor} }},
	}
	zx, zy := -boxX, -boxY
	best := math.Inf(1)
	for _, sx := range []float64{-1, 1} {
		for _, sy := range []float64{-1, 1} {
			if u := (vec{sx * boxX, sy * boxY, 0}).dot(v.right); u < best-1e-9 {
				best, zx, zy = u, sx*boxX, sy*boxY
			}
		}
	}
	axes = append(axes, axis3{from: vec{zx, zy, -boxZ}, to: vec{zx, zy, boxZ}, out: vec{zx, zy, 0}.unit(), label: colorBarLabel(metric, s.sc.Log), ticks: zt,
		world: func(t float64) vec { return vec{zx, zy, wz(t)} }, vertical: true})
	for _, a := range axes {
		a.label = txt(c, a.label)
		a.draw(c, pt)
	}

	drawColorBar(c, barRect(main.Max.X, main.Min.Y+margin, main.Max.Y-margin), ColorBar{Scale: s.sc}, colorBarLabel(metric, s.sc.Log))
}

// axis3 is an axis of the 3D box along the edge from one corner to another.
type axis3 struct {
	from, to vec
	out      vec // the direction, away from the box, in which labels go
	label    string
	ticks    []plot.Tick
	world    func(float64) vec // where a value lies on the edge
	vertical bool              // the z axis: its label is turned upright
}

// draw draws the axis line, its ticks and labels, and its label, on c
// through the projection pt.
func (a axis3) draw(c draw.Canvas, pt func(vec) vg.Point) {
	ink := draw.LineStyle{Color: inkColor, Width: 0.7}
	p0, p1 := pt(a.from), pt(a.to)
	c.StrokeLine2(ink, p0.X, p0.Y, p1.X, p1.Y)
	mid := a.from.add(a.to).scale(0.5)
	o := pt(mid.add(a.out.scale(0.2)))
	m := pt(mid)
	dx, dy := float64(o.X-m.X), float64(o.Y-m.Y)
	if n := math.Hypot(dx, dy); n > 1e-6 {
		dx, dy = dx/n, dy/n
	} else {
		dx, dy = 0, -1
	}
	ts := textStyle(sans, tickSize)
	ts.XAlign = text.XAlignment(-0.5 + 0.5*dx)
	ts.YAlign = text.YAlignment(-0.5 + 0.5*dy)
	var extent float64
	for _, t := range a.ticks {
		if a.vertical && a.world(t.Value)[2] < -boxZ+0.08 {
			continue // would run into the labels of the floor's axes
		}
		p := pt(a.world(t.Value))
		c.StrokeLine2(ink, p.X, p.Y, p.X+vg.Length(4*dx), p.Y+vg.Length(4*dy))
		c.FillText(ts, vg.Point{X: p.X + vg.Length(7*dx), Y: p.Y + vg.Length(7*dy)}, t.Label)
		extent = math.Max(extent, math.Abs(float64(ts.Width(t.Label))*dx)+math.Abs(float64(ts.Height(t.Label))*dy))
	}
	ls := textStyle(sans, labelSize)
	off := 7 + extent + 6
	if a.vertical && math.Abs(dx) > math.Abs(dy) {
		ls.Rotation = math.Pi / 2
		off += float64(ls.Height(a.label)) / 2
		c.FillText(ls, vg.Point{X: m.X + vg.Length(off*dx), Y: m.Y}, a.label)
		return
	}
	ls.XAlign = text.XAlignment(-0.5 + 0.5*dx)
	ls.YAlign = text.YAlignment(-0.5 + 0.5*dy)
	c.FillText(ls, vg.Point{X: m.X + vg.Length(off*dx), Y: m.Y + vg.Length(off*dy)}, a.label)
}
