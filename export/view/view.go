package view

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/internal/atomicfile"
	"github.com/landscape-go/landscape/landscape/surface"
)

var (
	//go:embed js/vis-graph3d.min.js
	visGraph3D string
	//go:embed js/LICENSE
	license string
	//go:embed view.js
	viewJS string
	//go:embed view.css
	viewCSS string
)

// MaxSurfacePoints is the most grid lines along each axis that the 3D
// surface draws: a larger grid is shown through every k-th line (always
// with the first and the last), which the caption says. The contours and
// the readout use every grid point.
const MaxSurfacePoints = 101

// Options configures a [Panel]. If Options is nil the defaults are used.
type Options struct {
	// Plot chooses the metric and its scale as for the figures of package
	// export (Metric, Levels, VMin, VMax, Log, XLabel, YLabel; see
	// [export.FigureScales]); nil means the defaults.
	Plot *export.PlotOptions
	// Label heads the panel; "" means the surface's model, data and
	// metric.
	Label string
}

// A Panel is the interactive view of one metric of one surface, ready to
// be placed in a page.
type Panel struct {
	label   string
	caption []string
	notes   []string // what the 3D surface leaves out
	metric  string
	has3D   bool
	img     imageMap
	data    panelData
}

// panelData is what the page's script reads: the grid, every metric's
// values for the readout, where the image shows the data, and the 3D
// surface.
type panelData struct {
	Metric  string   `json:"metric"`
	Metrics []string `json:"metrics"`
	X       []num    `json:"x"`
	Y       []num    `json:"y"` // empty in 1D
	Values  [][]num  `json:"values"`
	// Map is the rectangle of the image that shows the data, in the
	// image's units with y down: left, top, right, bottom.
	Map     [4]float64   `json:"map"`
	Surface *surfaceData `json:"surface,omitempty"`
}

// surfaceData is the 3D surface as vis-graph3d draws it.
type surfaceData struct {
	// Points are (x, y, z, t, value): z clipped (and log10 on a log
	// scale), t the position of the value on the colour scale, value
	// unclipped.
	Points [][5]num `json:"points"`
	// Z is the range of the z axis.
	Z      [2]num   `json:"z"`
	ZLabel string   `json:"zLabel"`
	Log    bool     `json:"log"`
	Colors []string `json:"colors"`
	// Grid draws the lines of the grid on the surface, which help to see
	// its shape unless they are so dense that they hide its colours.
	Grid bool `json:"grid"`
}

// NewPanel returns the view of s. It fails if the metric is not in s or
// its scale cannot be drawn, as [export.NewFigure] would.
func NewPanel(s *surface.Surface, o *Options) (*Panel, error) {
	var opt Options
	if o != nil {
		opt = *o
	}
	sc, err := export.FigureScales(s, opt.Plot)
	if err != nil {
		return nil, fmt.Errorf("view: %w", err)
	}
	f, err := s.Field(sc.Metric)
	if err != nil {
		return nil, fmt.Errorf("view: %w", err)
	}
	p := &Panel{label: opt.Label, caption: sc.Caption, metric: sc.Metric, has3D: !f.Is1D()}
	if p.label == "" {
		p.label = sc.Title
	}
	if f.Is1D() {
		p.img, err = drawCurve(f, sc)
	} else {
		p.img, err = drawMap(f, sc)
	}
	if err != nil {
		return nil, fmt.Errorf("view: draw %s: %w", sc.Metric, err)
	}
	d := &p.data
	d.Metric, d.Metrics = sc.Metric, s.Metrics
	d.Map = p.img.data
	d.X, d.Y = numbers(f.X), numbers(f.Y) // Y empty, not null, in 1D
	for _, m := range s.Metrics {
		z, err := s.Grid(m)
		if err != nil {
			return nil, fmt.Errorf("view: %w", err)
		}
		var flat []float64
		for _, row := range z {
			flat = append(flat, row...)
		}
		d.Values = append(d.Values, numbers(flat))
	}
	if p.has3D {
		d.Surface, p.notes = surface3D(f, sc)
	}
	return p, nil
}

// surface3D returns the 3D surface of f and the notes for its caption.
func surface3D(f *surface.Field, sc *export.Scales) (*surfaceData, []string) {
	var notes []string
	s3 := sc.Surface
	d := &surfaceData{ZLabel: sc.Metric, Log: s3.Log}
	cmap := s3.Colors
	if cmap == nil {
		cmap = export.Viridis() // as ColorScale has it
	}
	for i := range 12 {
		d.Colors = append(d.Colors, hex(cmap.At(float64(i)/11)))
	}
	// colour returns the position of v on the colour scale; a value that
	// is not positive, on a log scale, takes the bottom colour.
	colour := func(v float64) float64 {
		if t := s3.Norm(math.Min(v, s3.Max)); !math.IsNaN(t) {
			return t
		}
		return 0
	}
	height := func(v float64) float64 {
		v = math.Min(v, s3.Max)
		if s3.Log {
			return math.Log10(math.Max(v, s3.Min))
		}
		return v
	}
	d.Z = [2]num{num(height(s3.Min)), num(height(s3.Max))}
	if s3.Log {
		d.ZLabel += " (log)"
	}
	ix, iy := thin(len(f.X)), thin(len(f.Y))
	d.Grid = max(len(ix), len(iy)) <= 61
	for _, j := range iy {
		for _, i := range ix {
			v := f.Z[j][i]
			if !finite(v) {
				continue
			}
			d.Points = append(d.Points, [5]num{num(f.X[i]), num(f.Y[j]),
				num(height(v)), num(colour(v)), num(v)})
		}
	}
	if sc.Clipped {
		notes = append(notes, "values above "+formatValue(s3.Max)+" are cut off at it, as in the 3D figure")
	}
	if len(ix) < len(f.X) || len(iy) < len(f.Y) {
		notes = append(notes, fmt.Sprintf("drawn through %d×%d of the %d×%d grid lines", len(ix), len(iy), len(f.X), len(f.Y)))
	}
	return d, notes
}

// thin returns the indices of n grid lines to draw: all of them, or
// MaxSurfacePoints spread evenly from the first to the last.
func thin(n int) []int {
	k := min(n, MaxSurfacePoints)
	idx := make([]int, k)
	for i := range idx {
		idx[i] = i
		if k < n {
			idx[i] = int(math.Round(float64(i) * float64(n-1) / float64(k-1)))
		}
	}
	return idx
}

// HTML returns the panel's markup, for a page that has [Head] in its head.
func (p *Panel) HTML() template.HTML {
	var b bytes.Buffer
	err := panelTemplate.Execute(&b, map[string]any{
		"Label": p.label, "Caption": p.caption, "Metric": p.metric, "Has3D": p.has3D,
		"Notes": strings.Join(p.notes, "; "), "Image": template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(p.img.png)),
		"W": formatLength(p.img.width), "H": formatLength(p.img.height), "Data": p.data,
	})
	if err != nil {
		// The template and its data are this package's own.
		panic(fmt.Sprintf("view: panel template: %v", err))
	}
	return template.HTML(b.String())
}

// Head returns what a page that shows panels needs in its head, once: the
// styles, vis-graph3d and the script that brings the panels to life when
// the page has loaded.
func Head() template.HTML {
	var b bytes.Buffer
	if err := headTemplate.Execute(&b, map[string]any{
		"CSS": template.CSS(viewCSS), "Lib": template.JS(visGraph3D), "JS": template.JS(viewJS),
	}); err != nil {
		panic(fmt.Sprintf("view: head template: %v", err))
	}
	return template.HTML(b.String())
}

// Footer returns the notice a page that shows panels carries at its end:
// what draws the 3D view, and the licences of the JavaScript inlined in
// the page.
func Footer() template.HTML {
	var b bytes.Buffer
	if err := footerTemplate.Execute(&b, license); err != nil {
		panic(fmt.Sprintf("view: footer template: %v", err))
	}
	return template.HTML(b.String())
}

// EncodePage writes a page titled title that shows the panels, one after
// another, to w. The page is self-contained: it loads nothing.
func EncodePage(w io.Writer, title string, panels ...*Panel) error {
	var body []template.HTML
	for _, p := range panels {
		body = append(body, p.HTML())
	}
	err := pageTemplate.Execute(w, map[string]any{"Title": title, "Head": Head(), "Panels": body, "Footer": Footer()})
	if err != nil {
		return fmt.Errorf("view: write page: %w", err)
	}
	return nil
}

// WritePage writes the page of [EncodePage] to path, through a temporary
// file that is renamed into place, so that path never holds half a page.
func WritePage(path, title string, panels ...*Panel) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { return EncodePage(w, title, panels...) }); err != nil {
		return fmt.Errorf("view: write %s: %w", path, err)
	}
	return nil
}

// num is a number as the page's script reads it: 7 significant digits,
// with NaN and the infinities as the strings "NaN", "+Inf" and "-Inf",
// which the page shows as they are.
type num float64

func (x num) MarshalJSON() ([]byte, error) {
	switch v := float64(x); {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, float64(x), 'g', 7, 64), nil
}

func numbers(v []float64) []num {
	out := make([]num, len(v))
	for i, x := range v {
		out[i] = num(x)
	}
	return out
}

// formatValue writes a value for a caption.
func formatValue(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func hex(c color.NRGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

var headTemplate = template.Must(template.New("head").Parse(`<style>{{.CSS}}</style>
<script>{{.Lib}}</script>
<script>{{.JS}}</script>
`))

var footerTemplate = template.Must(template.New("footer").Parse(`<footer class="lv-footer">
<p>The 3D views are drawn by vis-graph3d, inlined in this page with the packages it bundles; nothing is loaded from the network.</p>
<details><summary>Licences of the JavaScript in this page</summary><pre>{{.}}</pre></details>
</footer>
`))

var panelTemplate = template.Must(template.New("panel").Parse(`<section class="lv-panel" data-lv-status="loading">
<h2>{{.Label}}</h2>
{{if .Caption}}<p class="lv-caption">{{range $i, $l := .Caption}}{{if $i}}<br>{{end}}{{$l}}{{end}}</p>
{{end}}<div class="lv-views">
{{if .Has3D}}<figure class="lv-3d"><div class="lv-graph" role="img" aria-label="3D surface of {{.Metric}}"></div>
<figcaption>3D surface of {{.Metric}}: drag to rotate, scroll to zoom, hover for values{{if .Notes}} ({{.Notes}}){{end}}. <button type="button" class="lv-reset">Reset view</button></figcaption></figure>
{{end}}<figure class="lv-2d"><svg class="lv-map" viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="{{if .Has3D}}Filled contours{{else}}Curve{{end}} of {{.Metric}}">
<image href="{{.Image}}" x="0" y="0" width="{{.W}}" height="{{.H}}"/>
<g class="lv-cursor" visibility="hidden"><line class="lv-cx"/><line class="lv-cy"/><circle r="3.5"/></g></svg>
<figcaption>{{if .Has3D}}Filled contours and contour lines of {{.Metric}}{{else}}{{.Metric}} along the line{{end}}: hover for every metric at the nearest grid point.</figcaption></figure>
</div>
<output class="lv-readout">Hover over the {{if .Has3D}}contours{{else}}curve{{end}} for values.</output>
<script type="application/json" class="lv-data">{{.Data}}</script>
</section>
`))

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
{{.Head}}</head><body class="lv-page">
<h1>{{.Title}}</h1>
{{range .Panels}}{{.}}{{end}}{{.Footer}}</body></html>
`))

// PagePath returns the page's file: out if it ends in .html or .htm,
// out/index.html if it is a folder or names none, and surface's path
// with .html for its extension if out is empty.
func PagePath(surface, out string) string {
	switch ext := strings.ToLower(filepath.Ext(out)); {
	case out == "":
		return strings.TrimSuffix(surface, filepath.Ext(surface)) + ".html"
	case ext == ".html" || ext == ".htm":
		return out
	}
	return filepath.Join(out, "index.html")
}
