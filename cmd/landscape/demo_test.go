package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/demo"
	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/landscape/optim"
)

// The demo runs with no arguments but an output folder and leaves two
// surfaces, their plots, the comparison, the race of optimizers and an
// index.html whose every picture exists.
func TestDemoShowcase(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	code, stdout, stderr := landscapeCLI(t, "demo", "--out", out, "--samples", "20", "--grid=-1:1:3", "--quiet",
		"--curvature", "--curvature-grid=-0.5:0.5:2", "--curvature-samples", "4",
		"--race-samples", "50", "--race-epochs", "2", "--race-grid", "3")
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
	// The race: a run per optimizer from the same initial weights, each
	// epoch's checkpoint, and the surface the paths are drawn on.
	runs, err := optim.ParseRuns(demo.RaceOptimizers, 0)
	if err != nil {
		t.Fatal(err)
	}
	var init []byte
	for _, r := range runs {
		dir := filepath.Join(out, demo.RaceDir, strings.ToLower(r.Optimizer)+"_lr"+strconv.FormatFloat(r.LR, 'g', -1, 64))
		for e := range 3 {
			if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("model_%d.safetensors", e))); err != nil {
				t.Errorf("race: %v", err)
			}
		}
		b, err := os.ReadFile(filepath.Join(dir, "model_0.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		if init != nil && !bytes.Equal(b, init) {
			t.Errorf("race: %s did not start from the others' initial weights", dir)
		}
		init = b
	}
	race, err := export.ReadParquet(filepath.Join(out, demo.RaceDir, "race.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(race.Points) != 9 || race.Provenance.Data.Samples[0] != 50 {
		t.Errorf("race: %d points over %v samples", len(race.Points), race.Provenance.Data.Samples)
	}
	page, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	imgs := regexp.MustCompile(`<img src="([^"]+)"`).FindAllStringSubmatch(string(page), -1)
	if len(imgs) < 2+5*len(demo.Showcase()) {
		t.Errorf("index.html shows %d pictures, want the comparison, 5 per network (4 of the loss, the curvature map) and the race", len(imgs))
	}
	if !strings.Contains(string(page), demo.RaceDir+"/race_test_loss_2dcontour.png") {
		t.Error("index.html lacks the race's figure")
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
