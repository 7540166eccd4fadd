package main

import (
	"bytes"
	"fmt"
	"html"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape/surface"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/normalize"
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
	path := filepath.Join(dir, "path.csv")
	if err := os.WriteFile(path, []byte("checkpoint,x,y,residual\na,-0.8,0.5,0\nb,0,0,0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
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
		// A path is drawn over a 2D surface's maps, never dropped unsaid.
		{"path on 1D", []string{"plot", in1, "--out", out, "--path", path}, 1, "plot " + in1 + ": a 1D surface has no plane to draw a trajectory's path on"},
		{"path on a slice", []string{"plot", in, "--out", out, "--slice", "y=0", "--path", path}, 2, "--path draws over the 2D figures; --slice draws the 1D figure"},
		{"path on 3D alone", []string{"plot", in, "--out", out, "--kind", "3d", "--path", path}, 2, `--kind "3d" asks for none of them`},
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

// bowlWithTest returns the 2D surface of writeSurface with test_loss and
// test_acc beside train_loss and train_acc.
func bowlWithTest(t *testing.T, dir string) (*surface.Surface, string) {
	t.Helper()
	s, err := export.ReadParquet(writeSurface(t, dir, "surf", "resnet20", false, 0.1))
	if err != nil {
		t.Fatal(err)
	}
	s.Metrics = append(s.Metrics, "test_loss", "test_acc")
	for i := range s.Points {
		s.Points[i].Values = append(s.Points[i].Values, s.Points[i].Values[0]+0.2, s.Points[i].Values[1]-2)
	}
	path := filepath.Join(dir, "surf.parquet")
	if err := export.WriteParquet(path, s); err != nil {
		t.Fatal(err)
	}
	return s, path
}

var svgTextRE = regexp.MustCompile(`<text[^>]*>([^<]*)</text>`)

// svgTexts returns the texts of the SVG file path, unescaped.
func svgTexts(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range svgTextRE.FindAllStringSubmatch(string(b), -1) {
		texts = append(texts, html.UnescapeString(m[1]))
	}
	return texts
}

// TestPlotMetricsSlicesColourMapsAndJPEG checks the figures of several
// metrics (by default every loss, or as --metric lists them), the 1D
// figure of a slice of a 2D surface, a colour map and JPEG output.
func TestPlotMetricsSlicesColourMapsAndJPEG(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, in := bowlWithTest(t, dir)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--kind", "heatmap"}, []string{"surf_test_loss_2dheat.png", "surf_train_loss_2dheat.png"}},
		{[]string{"--kind", "heatmap", "--metric", "train_acc, test_acc"}, []string{"surf_test_acc_2dheat.png", "surf_train_acc_2dheat.png"}},
		{[]string{"--kind", "contour", "--metric", "test_loss", "--colormap", "magma_r", "--format", "jpg,jpeg,png"},
			[]string{"surf_test_loss_2dcontour.jpg", "surf_test_loss_2dcontour.png"}},
		{[]string{"--slice", "y=0.25"}, []string{"surf_train_loss_1d_loss_acc_y=0.25.png"}},
		{[]string{"--slice", "x=0", "--kind", "1d", "--metric", "test_loss", "--log"}, []string{"surf_test_loss_1d_loss_acc_x=0_log.png"}},
	}
	for i, tt := range tests {
		out := filepath.Join(dir, fmt.Sprint(i))
		args := append([]string{"plot", in, "--out", out, "--format", "png", "--dpi", "20", "--size", "3x2"}, tt.args...)
		if code, stdout, stderr := landscapeCLI(t, args...); code != 0 {
			t.Errorf("%v: exit %d\n%s%s", tt.args, code, stdout, stderr)
			continue
		}
		if got := files(t, out); !slices.Equal(got, tt.want) {
			t.Errorf("%v: wrote %v, want %v", tt.args, got, tt.want)
		}
	}
	f, err := os.Open(filepath.Join(dir, "2", "surf_test_loss_2dcontour.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if img, err := jpeg.Decode(f); err != nil || img.Bounds().Dx() != 60 {
		t.Errorf("JPEG: %v, %v; want a 3-inch figure at 20 dpi", err, img)
	}
}

// writeDirections writes a direction file at path with one tensor per
// direction, (a, 0) and (0, 1), and the metadata meta, and returns the
// hash of its values.
func writeDirections(t *testing.T, path string, a float32, meta normalize.Meta) string {
	t.Helper()
	x, y := &nets.StateDict{}, &nets.StateDict{}
	u, v := nets.NewTensor(2), nets.NewTensor(2)
	u.Data[0], v.Data[1] = a, 1
	x.Set("w", u)
	y.Set("w", v)
	meta.SHA256 = normalize.Hash(x, y)
	if err := normalize.WriteFile(path, x, y, meta); err != nil {
		t.Fatal(err)
	}
	return meta.SHA256
}

// TestPlotNamesAxesAfterDirectionFiles checks that a surface computed on a
// trajectory's PCA directions has its axes named after the components and
// their explained variance, one on a plane's has A, B and C marked, and
// that a direction file that is gone or holds other directions changes
// nothing.
func TestPlotNamesAxesAfterDirectionFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, _ := bowlWithTest(t, dir)
	pca := filepath.Join(dir, "pca.safetensors")
	pcaHash := writeDirections(t, pca, 1, normalize.Meta{Kind: "pca", ExplainedVarianceRatio: []float64{0.8179, 0.0912}})
	plane := filepath.Join(dir, "plane.safetensors")
	planeHash := writeDirections(t, plane, 2, normalize.Meta{Kind: "plane", Checkpoints: []string{"a.t7", "b.t7", "c.t7"}, Path: [][2]float64{{0, 0}, {0.6, 0}, {0.2, 0.4}}})
	tests := []struct {
		name       string
		file, hash string
		want, not  []string
	}{
		{"pca", pca, pcaHash, []string{"PC1 (81.8%)", "PC2 (9.1%)"}, []string{"A"}},
		{"pca beside the surface", filepath.Join("elsewhere", "pca.safetensors"), pcaHash, []string{"PC1 (81.8%)"}, nil},
		{"plane", plane, planeHash, []string{"A", "B", "C", "u (from A towards B)", "v (towards C, orthogonal to u)"}, []string{"PC1 (81.8%)"}},
		{"other directions", pca, planeHash, []string{"α (x direction)"}, []string{"PC1 (81.8%)"}},
		{"gone", filepath.Join(dir, "gone.safetensors"), pcaHash, []string{"α (x direction)"}, []string{"PC1 (81.8%)"}},
	}
	for i, tt := range tests {
		s.Provenance.Directions = surface.DirectionsInfo{Kind: "file", File: tt.file, SHA256: tt.hash}
		in := filepath.Join(dir, fmt.Sprintf("s%d.parquet", i))
		if err := export.WriteParquet(in, s); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, fmt.Sprint(i))
		if code, stdout, stderr := landscapeCLI(t, "plot", in, "--out", out, "--format", "svg", "--kind", "contour,3d", "--metric", "train_loss"); code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", tt.name, code, stdout, stderr)
		}
		texts := svgTexts(t, filepath.Join(out, fmt.Sprintf("s%d_train_loss_2dcontour.svg", i)))
		for _, w := range tt.want {
			if !slices.Contains(texts, w) {
				t.Errorf("%s: the contours lack %q: %q", tt.name, w, texts)
			}
		}
		for _, w := range tt.not {
			if slices.Contains(texts, w) {
				t.Errorf("%s: the contours show %q", tt.name, w)
			}
		}
	}
}

// TestPlotPathAlone draws a trajectory's path.csv without a surface: the
// checkpoints' names and the axes come from the direction file beside it.
func TestPlotPathAlone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	traj := filepath.Join(dir, "sgd")
	os.MkdirAll(traj, 0o755)
	csv := "checkpoint,x,y,residual,distance,frozen\n"
	var ckpts []string
	for k := range 12 {
		ckpts = append(ckpts, fmt.Sprintf("run/model_%d.t7", 10*k))
		csv += fmt.Sprintf("%s,%g,%g,0,0,0\n", ckpts[k], 2-0.2*float64(k), 0.1*math.Sin(float64(k)))
	}
	path := filepath.Join(traj, "path.csv")
	os.WriteFile(path, []byte(csv), 0o644)
	writeDirections(t, filepath.Join(traj, "directions.safetensors"), 1, normalize.Meta{Kind: "pca", Checkpoints: ckpts, ExplainedVarianceRatio: []float64{0.9, 0.05}})
	out := filepath.Join(dir, "fig")
	code, stdout, stderr := landscapeCLI(t, "plot", path, "--out", out, "--format", "svg,png", "--dpi", "30")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if got := files(t, out); !slices.Equal(got, []string{"sgd_path.png", "sgd_path.svg"}) {
		t.Errorf("wrote %v", got)
	}
	texts := svgTexts(t, filepath.Join(out, "sgd_path.svg"))
	for _, w := range []string{"model_0", "model_110", "PC1 (90.0%)", "PC2 (5.0%)", "Trajectory: sgd"} {
		if !slices.Contains(texts, w) {
			t.Errorf("the path's figure lacks %q: %q", w, texts)
		}
	}

	// Without the direction file: default axes, the names from path.csv.
	os.Remove(filepath.Join(traj, "directions.safetensors"))
	if code, _, stderr := landscapeCLI(t, "plot", path, "--out", out, "--format", "svg"); code != 0 {
		t.Fatalf("without directions: exit %d: %s", code, stderr)
	}
	if texts := svgTexts(t, filepath.Join(out, "sgd_path.svg")); !slices.Contains(texts, "α (x direction)") || !slices.Contains(texts, "model_0") {
		t.Errorf("without directions: %q", texts)
	}

	for _, args := range [][]string{{"--slice", "y=0"}, {"--metric", "train_loss"}, {"--kind", "contour"}, {"--log"}} {
		code, _, stderr := landscapeCLI(t, append([]string{"plot", path, "--out", out}, args...)...)
		if code != 2 || !strings.Contains(stderr, args[0]) {
			t.Errorf("%v with a path: exit %d, %s", args, code, stderr)
		}
	}
	// A surface converted to CSV is not a path.
	conv := filepath.Join(dir, "s.csv")
	os.WriteFile(conv, []byte("x,y,i,j,train_loss\n0,0,0,0,1\n"), 0o644)
	os.WriteFile(conv+".provenance.json", []byte("{}"), 0o644)
	if code, _, stderr := landscapeCLI(t, "plot", conv, "--out", out); code != 1 || !strings.Contains(stderr, "convert") {
		t.Errorf("a converted surface: exit %d, %s", code, stderr)
	}
}

func TestPlotFlagErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, in := bowlWithTest(t, dir)
	out := filepath.Join(dir, "figs")
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"plot", in, "--out", out, "--slice", "z=0"}, 2, "--slice"},
		{[]string{"plot", in, "--out", out, "--slice", "y=NaN"}, 2, "--slice"},
		{[]string{"plot", in, "--out", out, "--slice", "y=0", "--kind", "contour"}, 2, "--slice"},
		{[]string{"plot", in, "--out", out, "--slice", "y=9"}, 1, "outside"},
		{[]string{"plot", in, "--out", out, "--colormap", "jet"}, 2, "viridis"},
		{[]string{"plot", in, "--out", out, "--metric", "train_loss,nope"}, 1, "nope"},
		{[]string{"compare", in, in, "--out", out, "--metric", "train_loss,test_loss"}, 2, "one metric"},
	}
	for _, tt := range tests {
		code, stdout, stderr := landscapeCLI(t, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.msg) {
			t.Errorf("%v: exit %d, want %d with %q\n%s%s", tt.args[2:], code, tt.code, tt.msg, stdout, stderr)
		}
	}
	if _, err := os.Stat(out); err == nil {
		if names := files(t, out); len(names) > 0 {
			t.Errorf("failed runs wrote %v", names)
		}
	}
}
