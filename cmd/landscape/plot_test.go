package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape/surface"
)

// writeSurface writes a small synthetic surface to dir/name.parquet and
// returns its path: a 2D bowl x² + 2y² + c on an 11x7 grid with a NaN, or
// in 1D the curve x² + c.
func writeSurface(t *testing.T, dir, name, model string, oneD bool, c float64) string {
	t.Helper()
	s := &surface.Surface{Metrics: []string{"train_loss", "train_acc"}}
	s.Provenance.Tool = "landscape"
	s.Provenance.Model.Name = model
	s.Provenance.Grid.X = grid.Axis{Min: -1, Max: 1, Num: 11}
	if !oneD {
		s.Provenance.Grid.Y = &grid.Axis{Min: -0.6, Max: 0.6, Num: 7}
	}
	g := grid.Grid{X: s.Provenance.Grid.X, Y: s.Provenance.Grid.Y}
	for i := range g.Len() {
		x, y := g.Point(i)
		loss := x*x + c
		if !oneD {
			loss += 2 * y * y
		}
		if i == 3 {
			loss = math.NaN()
		}
		s.Points = append(s.Points, surface.Point{Index: i, X: x, Y: y, Values: []float64{loss, 100 - 10*loss}})
	}
	path := filepath.Join(dir, name+".parquet")
	if err := export.WriteParquet(path, s); err != nil {
		t.Fatal(err)
	}
	return path
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestPlotCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := writeSurface(t, dir, "surf", "resnet20", false, 0.1)
	out := filepath.Join(dir, "figs")
	code, stdout, stderr := landscapeCLI(t, "plot", in, "--out", out, "--format", "png,svg", "--dpi", "30", "--size", "3x2")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	want := []string{
		"surf_train_loss_2dcontour.png", "surf_train_loss_2dcontour.svg", "surf_train_loss_2dcontourf.png", "surf_train_loss_2dcontourf.svg",
		"surf_train_loss_2dheat.png", "surf_train_loss_2dheat.svg", "surf_train_loss_3dsurface.png", "surf_train_loss_3dsurface.svg",
	}
	if got := files(t, out); !slices.Equal(got, want) {
		t.Errorf("wrote %v, want %v", got, want)
	}
	if strings.Count(stdout, "wrote ") != len(want) {
		t.Errorf("stdout:\n%s", stdout)
	}

	code, stdout, stderr = landscapeCLI(t, "plot", "--kind", "heatmap,3d", "--log", "--metric", "train_acc", "--levels", "50:100:5",
		"--format", "pdf", "--azimuth", "-60", "--out", out, in)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, f := range []string{"surf_train_acc_2dheat_log.pdf", "surf_train_acc_3dsurface_log.pdf"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}

	in1 := writeSurface(t, dir, "curve", "vgg9", true, 0.1)
	code, stdout, stderr = landscapeCLI(t, "plot", in1, "--out", out, "--format", "png", "--dpi", "30")
	if code != 0 || !strings.Contains(stdout, "curve_train_loss_1d_loss_acc.png") {
		t.Fatalf("1D: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestPlotCommandErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := writeSurface(t, dir, "surf", "resnet20", false, 0.1)
	in1 := writeSurface(t, dir, "curve", "vgg9", true, 0.1)
	out := filepath.Join(dir, "figs")
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no out", []string{"plot", in}, 2, "--out"},
		{"no file", []string{"plot", "--out", out}, 2, "one surface"},
		{"two files", []string{"plot", in, in, "--out", out}, 2, "unexpected argument"},
		{"bad format", []string{"plot", in, "--out", out, "--format", "gif"}, 2, "--format"},
		{"bad levels", []string{"plot", in, "--out", out, "--levels", "1:0:0.5"}, 2, "--levels"},
		{"bad level list", []string{"plot", in, "--out", out, "--levels", "1,x"}, 2, "--levels"},
		{"bad kind", []string{"plot", in, "--out", out, "--kind", "pie"}, 2, "pie"},
		{"bad size", []string{"plot", in, "--out", out, "--size", "6"}, 2, "--size"},
		{"bad dpi", []string{"plot", in, "--out", out, "--dpi", "0"}, 2, "--dpi"},
		{"2D kind of 1D", []string{"plot", in1, "--out", out, "--kind", "contour"}, 1, "1D"},
		{"no metric", []string{"plot", in, "--out", out, "--metric", "test_loss"}, 1, "test_loss"},
		{"missing file", []string{"plot", filepath.Join(dir, "nope.parquet"), "--out", out}, 1, "nope.parquet"},
		{"log with negative level", []string{"plot", in, "--out", out, "--log", "--levels", "-1,1"}, 1, "level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := landscapeCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.msg) {
				t.Errorf("exit %d, want %d with %q\n%s%s", code, tt.code, tt.msg, stdout, stderr)
			}
		})
	}
}

func TestParseLevels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in         string
		n          int
		first      float64
		last       float64
		vmin, vmax float64
		bad        bool
	}{
		{in: ""},
		{in: "0.1:10:0.5", n: 20, first: 0.1, last: 9.6, vmin: 0.1, vmax: 10},
		{in: "0:1:0.25", n: 4, first: 0, last: 0.75, vmin: 0, vmax: 1},
		{in: "3, 1,2", n: 3, first: 1, last: 3, vmin: 1, vmax: 3},
		{in: "2", n: 1, first: 2, last: 2},
		{in: "0:1:0", bad: true},
		{in: "0:1e9:1", bad: true},
		{in: "1:0:1", bad: true},
		{in: "a:b:c", bad: true},
		{in: "1,NaN", bad: true},
	}
	for _, tt := range tests {
		l, vmin, vmax, err := parseLevels(tt.in)
		if (err != nil) != tt.bad {
			t.Errorf("parseLevels(%q) error %v", tt.in, err)
			continue
		}
		if tt.bad || tt.n == 0 {
			continue
		}
		if len(l) != tt.n || math.Abs(l[0]-tt.first) > 1e-12 || math.Abs(l[len(l)-1]-tt.last) > 1e-12 || vmin != tt.vmin || vmax != tt.vmax {
			t.Errorf("parseLevels(%q) = %v, %g, %g", tt.in, l, vmin, vmax)
		}
	}
}

// A trajectory file is drawn over the contour plot; a bad one is named.
func TestPlotDrawsTrajectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	surface := filepath.Join(dir, "s.parquet")
	if code, _, stderr := landscapeCLI(t, surfaceArgs(surface, "--x=-1:1:5", "--y=-1:1:5")...); code != 0 {
		t.Fatal(stderr)
	}
	run := filepath.Join(dir, "sgd")
	os.MkdirAll(run, 0o755)
	path := filepath.Join(run, "path.csv")
	os.WriteFile(path, []byte("checkpoint,x,y,residual\na,-0.8,0.7,0\nb,-0.4,0.3,0\nc,0,0,0\n"), 0o644)
	plain, with := filepath.Join(dir, "plain"), filepath.Join(dir, "with")
	for _, c := range []struct {
		out  string
		args []string
	}{{plain, nil}, {with, []string{"--path", path}}} {
		args := append([]string{"plot", surface, "--out", c.out, "--kind", "contour", "--format", "png"}, c.args...)
		if code, _, stderr := landscapeCLI(t, args...); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	}
	a, _ := os.ReadFile(filepath.Join(plain, "s_train_loss_2dcontour.png"))
	b, _ := os.ReadFile(filepath.Join(with, "s_train_loss_2dcontour.png"))
	if len(a) == 0 || bytes.Equal(a, b) {
		t.Error("the figure with a path is the same as without")
	}
	os.WriteFile(path, []byte("checkpoint,a,b\nx,1,2\n"), 0o644)
	code, _, stderr := landscapeCLI(t, "plot", surface, "--out", with, "--path", path)
	if code != 1 || !strings.Contains(stderr, "no x and y columns") {
		t.Errorf("bad path file: exit %d, %s", code, stderr)
	}
}
