package view

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape/surface"
)

// bowl returns a surface on an n×n grid over [-1, 1]² (n×1 if oneD) with
// train_loss = 0.1 + 4x² + 8y² + 0.3 sin 6x, train_acc = 100 − 8 loss,
// the point at index 7 NaN and the one at index 8 +Inf.
func bowl(n int, oneD bool) *surface.Surface {
	s := &surface.Surface{Metrics: []string{"train_loss", "train_acc"}}
	s.Provenance.Tool = "landscape"
	s.Provenance.Model.Name = "resnet56"
	s.Provenance.Data.Name = "fashion-mnist"
	s.Provenance.Grid.X = grid.Axis{Min: -1, Max: 1, Num: n}
	if !oneD {
		s.Provenance.Grid.Y = &grid.Axis{Min: -1, Max: 1, Num: n}
	}
	g := s.Provenance.Grid
	for i := range g.Len() {
		x, y := g.Point(i)
		if oneD {
			y = math.NaN()
		}
		l := 0.1 + 4*x*x + 0.3*math.Sin(6*x)
		if !oneD {
			l += 8 * y * y
		}
		switch i {
		case 7:
			l = math.NaN()
		case 8:
			l = math.Inf(1)
		}
		s.Points = append(s.Points, surface.Point{Index: i, X: x, Y: y, Values: []float64{l, 100 - 8*l}})
	}
	return s
}

// pageData returns the data of every panel of a page.
func pageData(t *testing.T, page string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range regexp.MustCompile(`(?s)<script type="application/json" class="lv-data">(.*?)</script>`).FindAllStringSubmatch(page, -1) {
		var d map[string]any
		if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
			t.Fatalf("panel data: %v\n%.300s", err, m[1])
		}
		out = append(out, d)
	}
	return out
}

func encodePage(t *testing.T, title string, panels ...*Panel) string {
	t.Helper()
	var b bytes.Buffer
	if err := EncodePage(&b, title, panels...); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func newPanel(t *testing.T, s *surface.Surface, o *Options) *Panel {
	t.Helper()
	p, err := NewPanel(s, o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPanelData(t *testing.T) {
	t.Parallel()
	page := encodePage(t, "t", newPanel(t, bowl(21, false), nil), newPanel(t, bowl(9, true), &Options{Label: "the curve"}))
	ds := pageData(t, page)
	if len(ds) != 2 {
		t.Fatalf("%d panels' data, want 2", len(ds))
	}
	d := ds[0]
	if d["metric"] != "train_loss" || len(d["x"].([]any)) != 21 || len(d["y"].([]any)) != 21 {
		t.Errorf("2D panel: metric %v, %d x, %d y", d["metric"], len(d["x"].([]any)), len(d["y"].([]any)))
	}
	vals := d["values"].([]any)
	loss := vals[0].([]any)
	if len(vals) != 2 || len(loss) != 21*21 || loss[7] != "NaN" || loss[8] != "+Inf" {
		t.Errorf("values: %d metrics, %d losses, [7] %v, [8] %v", len(vals), len(loss), loss[7], loss[8])
	}
	// The corner (1, 1) has loss 12.1 + 0.3 sin 6, kept to 7 digits.
	if got, want := loss[len(loss)-1].(float64), 12.1+0.3*math.Sin(6); math.Abs(got-want) > 1e-6*want {
		t.Errorf("corner loss %v, want %v", got, want)
	}
	s3 := d["surface"].(map[string]any)
	points := s3["points"].([]any)
	z := s3["z"].([]any)
	if len(points) != 21*21-2 || z[1].(float64) != 10 || !s3["grid"].(bool) || len(s3["colors"].([]any)) < 2 {
		t.Errorf("3D surface: %d points, z %v, grid %v", len(points), z, s3["grid"])
	}
	for _, p := range points {
		p := p.([]any)
		zz, tt, v := p[2].(float64), p[3].(float64), p[4].(float64)
		if zz > 10 || zz != math.Min(v, 10) || tt < 0 || tt > 1 {
			t.Fatalf("3D point %v: z not the value clipped at 10, or colour outside [0, 1]", p)
		}
	}
	r := d["map"].([]any)
	if !(0 < r[0].(float64) && r[0].(float64) < r[2].(float64) && r[2].(float64) <= float64(imageWidth) &&
		0 < r[1].(float64) && r[1].(float64) < r[3].(float64) && r[3].(float64) <= float64(imageHeight)) {
		t.Errorf("data rectangle %v outside the %gx%g image", r, float64(imageWidth), float64(imageHeight))
	}
	if c := ds[1]; c["surface"] != nil || len(c["y"].([]any)) != 0 || len(c["x"].([]any)) != 9 {
		t.Errorf("1D panel: surface %v, y %v", c["surface"], c["y"])
	}
	for _, want := range []string{
		"resnet56 on fashion-mnist: train_loss, surface", "the curve", "values above 10 are cut off",
		`class="lv-graph"`, `data-lv-status="loading"`, "vis-graph3d", "Robert Kieffer", // a licence of a bundled package
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := strings.Count(page, `class="lv-graph"`); n != 1 {
		t.Errorf("%d 3D views, want 1 (none for the curve)", n)
	}
}

// A page loads nothing: every src and href is a data URI, and the
// library and script are inlined.
func TestPageSelfContained(t *testing.T) {
	t.Parallel()
	page := encodePage(t, "t", newPanel(t, bowl(5, false), nil))
	for _, m := range regexp.MustCompile(`(?i)\b(src|href)\s*=\s*"([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[2], "data:image/png;base64,") {
			t.Errorf("the page refers to %.80q", m[0])
		}
	}
	if !strings.Contains(page, visGraph3D[len(visGraph3D)-200:]) || !strings.Contains(page, viewJS[len(viewJS)-100:]) {
		t.Error("the library or the view's script is not inlined whole")
	}
}

// Text from the file — a label or a metric name — cannot break out of the
// page's markup or its data.
func TestPanelEscapes(t *testing.T) {
	t.Parallel()
	s := bowl(5, false)
	evil := `x</script><script>alert(1)</script>`
	s.Metrics[1] = evil
	s.Provenance.Model.Name = "<b>net</b>"
	page := encodePage(t, "<i>title</i>", newPanel(t, s, &Options{Plot: &export.PlotOptions{Metric: evil}}))
	for _, bad := range []string{"<script>alert", "<b>net", "<i>title"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q unescaped", bad)
		}
	}
	if d := pageData(t, page); len(d) != 1 || d[0]["metric"] != evil {
		t.Errorf("the metric's name does not survive: %v", d)
	}
}

func TestLargeGridThinned(t *testing.T) {
	t.Parallel()
	p := newPanel(t, bowl(150, false), nil)
	s3 := p.data.Surface
	want := MaxSurfacePoints * MaxSurfacePoints
	for _, i := range thin(150) {
		if i == 7 || i == 8 { // on the first row: NaN and +Inf
			want--
		}
	}
	if len(s3.Points) != want || s3.Grid {
		t.Errorf("%d 3D points (grid lines drawn: %v), want %d", len(s3.Points), s3.Grid, want)
	}
	if len(p.data.Values[0]) != 150*150 {
		t.Errorf("%d values for the readout, want every point", len(p.data.Values[0]))
	}
	if !strings.Contains(string(p.HTML()), "drawn through 101×101 of the 150×150 grid lines") {
		t.Error("the caption does not say the 3D view is thinned")
	}
	for _, n := range []int{1, 2, 101, 102, 1000} {
		idx := thin(n)
		if len(idx) != min(n, MaxSurfacePoints) || idx[0] != 0 || idx[len(idx)-1] != n-1 {
			t.Errorf("thin(%d) = %d lines from %d to %d", n, len(idx), idx[0], idx[len(idx)-1])
		}
		for i := 1; i < len(idx); i++ {
			if idx[i] <= idx[i-1] {
				t.Errorf("thin(%d) is not increasing at %d", n, i)
			}
		}
	}
}

func TestPanelOptions(t *testing.T) {
	t.Parallel()
	p := newPanel(t, bowl(9, false), &Options{Plot: &export.PlotOptions{Metric: "train_acc"}})
	if p.metric != "train_acc" || p.data.Surface.Log {
		t.Errorf("metric %q", p.metric)
	}
	// On a log scale, values that are not positive sit at the bottom.
	s := bowl(9, false)
	s.Points[0].Values[0], s.Points[1].Values[0] = 0, -1
	p = newPanel(t, s, &Options{Plot: &export.PlotOptions{Log: true}})
	if !p.data.Surface.Log || !strings.Contains(p.data.Surface.ZLabel, "log") {
		t.Errorf("log: %+v", p.data.Surface.ZLabel)
	}
	lo := float64(p.data.Surface.Z[0])
	for _, q := range p.data.Surface.Points {
		if z, c := float64(q[2]), float64(q[3]); !(z >= lo && c >= 0 && c <= 1) {
			t.Errorf("log: point %v below the axis (from %g) or off the colour scale", q, lo)
		}
	}
	if _, err := NewPanel(bowl(9, false), &Options{Plot: &export.PlotOptions{Metric: "test_loss"}}); err == nil || !strings.HasPrefix(err.Error(), "view: ") {
		t.Errorf("unknown metric: %v", err)
	}
}

func TestWritePage(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "v.html")
	p := newPanel(t, bowl(5, false), nil)
	if err := WritePage(path, "t", p); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != encodePage(t, "t", p) {
		t.Errorf("the file differs from EncodePage's page (%v)", err)
	}
	if err := WritePage(filepath.Join(t.TempDir(), "no", "v.html"), "t", p); err == nil || !strings.HasPrefix(err.Error(), "view: write ") {
		t.Errorf("into a missing folder: %v", err)
	}
}

// The vendored library is the version scripts/vendor-js pins, as
// scripts/vendor-js.sh copies it.
func TestVendoredVersion(t *testing.T) {
	t.Parallel()
	lock, err := os.ReadFile("../../scripts/vendor-js/package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	var l struct {
		Packages map[string]struct{ Version string } `json:"packages"`
	}
	if err := json.Unmarshal(lock, &l); err != nil {
		t.Fatal(err)
	}
	want := l.Packages["node_modules/vis-graph3d"].Version
	m := regexp.MustCompile(`@version\s+(\S+)`).FindStringSubmatch(visGraph3D)
	if want == "" || m == nil || m[1] != want || !strings.Contains(license, "vis-graph3d "+want) {
		t.Errorf("js/vis-graph3d.min.js is %v, the lock file pins %q; run scripts/vendor-js.sh", m, want)
	}
}

func TestPagePathIsTheFileOrAnIndexInTheFolder(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ surface, out, want string }{
		{"d/s.parquet", "", "d/s.html"},
		{"d/s.parquet", "p.html", "p.html"},
		{"d/s.parquet", "x/P.HTM", "x/P.HTM"},
		{"d/s.parquet", "dir", "dir/index.html"},
		{"d/s.parquet", "dir.v2", "dir.v2/index.html"},
	} {
		if got := PagePath(c.surface, c.out); got != filepath.FromSlash(c.want) {
			t.Errorf("PagePath(%q, %q) = %q, want %q", c.surface, c.out, got, c.want)
		}
	}
}
