package export

import (
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// The legend of paths goes to the corner the paths cross least: the top
// left, unless a path runs through it; then the next free corner in the
// order top right, bottom left, bottom right.
func TestPathLegendAvoidsThePaths(t *testing.T) {
	t.Parallel()
	diagonal := func(x0, y0, x1, y1 float64) Path {
		var p Path
		for k := range 21 {
			f := float64(k) / 20
			p.X = append(p.X, x0+f*(x1-x0))
			p.Y = append(p.Y, y0+f*(y1-y0))
		}
		return p
	}
	for _, c := range []struct {
		name      string
		paths     []Path
		top, left bool
	}{
		{"none in a corner", []Path{diagonal(0.4, 0.4, 0.6, 0.6)}, true, true},
		{"through the top left", []Path{diagonal(0, 1, 0.5, 0.5)}, true, false},
		{"through both top corners", []Path{diagonal(0, 1, 0.5, 0.5), diagonal(1, 1, 0.5, 0.5)}, false, true},
		{"through all but the bottom right", []Path{diagonal(0, 1, 0.5, 0.5), diagonal(1, 1, 0.5, 0.5), diagonal(0, 0, 0.5, 0.5)}, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newPlot("x", "y")
			p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
			for i := range c.paths {
				c.paths[i].Label = "a run with a long label " + string(rune('A'+i))
			}
			legend := addPaths(p, c.paths)
			img := vgimg.New(4*vg.Inch, 3*vg.Inch)
			p.Draw(draw.New(img))
			if legend == nil {
				t.Fatal("no legend")
			}
			if got := legend.corner; got != (legendCorner{c.top, c.left}) {
				t.Errorf("legend at top %v, left %v; want top %v, left %v", got.top, got.left, c.top, c.left)
			}
			if dir := os.Getenv("LANDSCAPE_KEEP_FIGURES"); dir != "" {
				f, err := os.Create(filepath.Join(dir, "legend-"+c.name+".png"))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
