package demo

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/export/view"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape/surface"
)

// The page shows an interactive view of each surface above the figures,
// and every figure the plots folder holds.
func TestWriteIndex(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plots := filepath.Join(dir, "plots")
	if err := os.Mkdir(plots, 0o755); err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, m := range Showcase() {
		for _, k := range []string{"3dsurface", "2dcontour", "2dcontourf", "2dheat"} {
			files = append(files, m.Model+"_test_loss_"+k+".png")
		}
	}
	files = append(files, "compare_test_loss.png", "compare_test_loss.md")
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(plots, f), []byte("| neg. curv. |"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ax := grid.Axis{Min: -1, Max: 1, Num: 3}
	var surfaces, labels []string
	var views []*view.Panel
	for _, m := range Showcase() {
		s := &surface.Surface{Metrics: []string{"test_loss", "test_acc"}}
		s.Provenance.Grid = grid.Grid{X: ax, Y: &ax}
		for i := range 9 {
			x, y := s.Provenance.Grid.Point(i)
			s.Points = append(s.Points, surface.Point{Index: i, X: x, Y: y, Values: []float64{x*x + y*y, 90}})
		}
		v, err := view.NewPanel(s, &view.Options{Label: m.Label})
		if err != nil {
			t.Fatal(err)
		}
		surfaces, labels, views = append(surfaces, filepath.Join(dir, m.Model+".parquet")), append(labels, m.Label), append(views, v)
	}
	index := filepath.Join(dir, "index.html")
	if err := WriteIndex(index, surfaces, labels, views, plots, 100, ax); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if n := strings.Count(page, `<section class="lv-panel"`); n != len(Showcase()) {
		t.Errorf("%d interactive views, want %d", n, len(Showcase()))
	}
	if !strings.Contains(page, "vis.Graph3d") || !strings.Contains(page, `class="lv-footer"`) {
		t.Error("the page lacks the views' script or the licences of the JavaScript")
	}
	if strings.Index(page, `class="lv-panel"`) > strings.Index(page, "<img ") {
		t.Error("the interactive views come after the figures")
	}
	imgs := regexp.MustCompile(`<img src="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(imgs) != len(files)-1 {
		t.Errorf("%d pictures, want %d", len(imgs), len(files)-1)
	}
	for _, m := range imgs {
		if _, err := os.Stat(filepath.Join(dir, m[1])); err != nil {
			t.Errorf("the page shows a missing picture: %v", err)
		}
	}
}
