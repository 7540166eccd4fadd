package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/demo"
	"github.com/landscape-go/landscape/export"
)

// The demo runs with no arguments but an output folder and leaves two
// surfaces, their plots, the comparison and an index.html whose every
// picture exists.
func TestDemoShowcase(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	code, stdout, stderr := landscapeCLI(t, "demo", "--out", out, "--samples", "20", "--grid=-1:1:3", "--quiet",
		"--curvature", "--curvature-grid=-0.5:0.5:2", "--curvature-samples", "4")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, m := range demo.Showcase() {
		s, err := export.ReadParquet(filepath.Join(out, m.Model+".parquet"))
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Points) != 9 || s.Provenance.Data.Samples[0] != 20 {
			t.Errorf("%s: %d points over %v samples", m.Model, len(s.Points), s.Provenance.Data.Samples)
		}
		c, err := export.ReadParquet(filepath.Join(out, m.Model+demo.CurvatureSuffix+".parquet"))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Points) != 4 || c.Provenance.Curvature == nil || len(c.Metrics) != 5 || c.Provenance.Directions.SHA256 != s.Provenance.Directions.SHA256 {
			t.Errorf("%s: curvature map of %d points, metrics %v, provenance %+v", m.Model, len(c.Points), c.Metrics, c.Provenance.Curvature)
		}
	}
	page, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	imgs := regexp.MustCompile(`<img src="([^"]+)"`).FindAllStringSubmatch(string(page), -1)
	if len(imgs) < 1+5*len(demo.Showcase()) {
		t.Errorf("index.html shows %d pictures, want the comparison and 5 per network (4 of the loss, the curvature map)", len(imgs))
	}
	for _, m := range imgs {
		if _, err := os.Stat(filepath.Join(out, m[1])); err != nil {
			t.Errorf("index.html shows a missing picture: %v", err)
		}
	}
	if !strings.Contains(string(page), "neg. curv.") {
		t.Error("index.html lacks the comparison table")
	}
	if _, err := os.Stat(filepath.Join(out, ".assets")); err == nil {
		t.Error("the extracted assets were left behind")
	}
}
