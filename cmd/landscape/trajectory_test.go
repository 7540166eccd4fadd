package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/demo"
	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/internal/fixture"
	"github.com/landscape-go/landscape/landscape"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/checkpoint"
	"github.com/landscape-go/landscape/nets/safetensors"
)

var (
	resnet20A    = filepath.Join(zoo, "resnet20.pt")
	resnet20B    = filepath.Join("..", "..", "testdata", "trajectory", "resnet20_b.safetensors")
	resnet20Data = "npz:" + filepath.Join(zoo, "resnet20.data.npz")
)

// writeModels writes resnet20 fixture weights moved by a·u + b·v (u, v the
// fixture's directions) to dir/<name>.safetensors for each name.
func writeModels(t *testing.T, dir string, models map[string][2]float32) map[string]string {
	t.Helper()
	a, _, err := checkpoint.Load(resnet20A)
	if err != nil {
		t.Fatal(err)
	}
	u, v := fixture.Load(t, "resnet20").Directions(t)
	paths := map[string]string{}
	for name, c := range models {
		sd := &nets.StateDict{}
		for _, k := range a.Names() {
			w, _ := a.Get(k)
			w = w.Clone()
			if du, ok := u.Get(k); ok {
				dv, _ := v.Get(k)
				for i := range w.Data {
					w.Data[i] += c[0]*du.Data[i] + c[1]*dv.Data[i]
				}
			}
			sd.Set(k, w)
		}
		paths[name] = filepath.Join(dir, name+".safetensors")
		if err := safetensors.Write(paths[name], sd, nil); err != nil {
			t.Fatal(err)
		}
	}
	return paths
}

// TestTrajectoryCommand runs the trajectory command on a glob of
// checkpoints whose names sort wrongly as strings, checks the three
// outputs, and evaluates the suggested surface at one point of the path:
// its loss must be the path's projected loss, bit for bit.
func TestTrajectoryCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeModels(t, dir, map[string][2]float32{
		"model_1": {0.3, 0.2}, "model_2": {0.2, -0.1}, "model_5": {0.1, 0.1}, "model_10": {0, 0},
	})
	out := filepath.Join(dir, "pca")
	code, stdout, stderr := landscapeCLI(t, "trajectory", "--model", "resnet20", "--checkpoints", filepath.Join(dir, "model_*.safetensors"),
		"--data", resnet20Data, "--batch-size", "8", "--quiet", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"PCA of 4 checkpoints over 270608 values (weights mode, ignore biasbn)", "landscape surface --model resnet20 --checkpoint " + filepath.Join(dir, "model_10.safetensors")} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}

	f, err := os.Open(filepath.Join(out, landscape.PathFile))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(rows[0], ","), "checkpoint,x,y,residual,distance,frozen,train_loss,train_acc,projected_train_loss,projected_train_acc"; got != want {
		t.Fatalf("CSV header %s, want %s", got, want)
	}
	var order []string
	for _, r := range rows[1:] {
		order = append(order, strings.TrimSuffix(filepath.Base(r[0]), ".safetensors"))
	}
	if strings.Join(order, ",") != "model_1,model_2,model_5,model_10" {
		t.Errorf("path order %v, want natural order", order)
	}
	if last := rows[len(rows)-1]; last[1] != "0" || last[2] != "0" || last[6] != last[8] {
		t.Errorf("final model's row %v: want (0, 0) and its own loss at its projection", last)
	}

	var sum landscape.TrajectorySummary
	b, err := os.ReadFile(filepath.Join(out, landscape.TrajectoryFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Checkpoints != 4 || sum.ExplainedVarianceRatio[0] < sum.ExplainedVarianceRatio[1] || sum.Suggested.X.Num != 51 ||
		sum.Directions.Kind != "pca" || len(sum.Path) != 4 || sum.Model.InChannels != 1 {
		t.Errorf("summary %+v", sum)
	}
	// The final model, at (0, 0), is a point of the suggested grid.
	if !slices.Contains(sum.Suggested.X.Values(), 0) || !slices.Contains(sum.Suggested.Y.Values(), 0) {
		t.Errorf("suggested grid %s x %s has no point at (0, 0)", sum.Suggested.X, sum.Suggested.Y)
	}
	for _, p := range sum.Path {
		if p.X < sum.Suggested.X.Min || p.X > sum.Suggested.X.Max || p.Y < sum.Suggested.Y.Min || p.Y > sum.Suggested.Y.Max {
			t.Errorf("path point (%g, %g) outside the suggested grid %s x %s", p.X, p.Y, sum.Suggested.X, sum.Suggested.Y)
		}
	}
	_, meta, err := safetensors.Read(filepath.Join(out, landscape.DirectionsFile))
	if err != nil {
		t.Fatal(err)
	}
	if meta["kind"] != "pca" || meta["sha256"] != sum.Directions.SHA256 || !strings.HasPrefix(meta["path"], "[[") {
		t.Errorf("direction file metadata %v", meta)
	}

	// The surface at the first checkpoint's projected point.
	x, y := rows[1][1], rows[1][2]
	s := filepath.Join(dir, "s.parquet")
	code, stdout, stderr = landscapeCLI(t, "surface", "--model", "resnet20", "--checkpoint", filepath.Join(dir, "model_10.safetensors"),
		"--directions", filepath.Join(out, landscape.DirectionsFile), "--data", resnet20Data, "--batch-size", "8", "--quiet",
		"--x="+x+":"+x+":1", "--y="+y+":"+y+":1", "--out", s)
	if code != 0 {
		t.Fatalf("surface: exit %d\n%s%s", code, stdout, stderr)
	}
	surf, err := export.ReadParquet(s)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := strconv.ParseFloat(rows[1][8], 64)
	if got := surf.Points[0].Values[0]; got != want {
		t.Errorf("surface at (%s, %s): loss %v, the path's projected loss %v", x, y, got, want)
	}
}

func TestTrajectoryCommandErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no out", []string{"trajectory", "--model", "resnet20", "--checkpoints", resnet20A}, 2, "--out"},
		{"bad ignore", []string{"trajectory", "--model", "resnet20", "--checkpoints", resnet20A, "--ignore", "bias", "--out", dir}, 2, "ignore rule"},
		{"no match", []string{"trajectory", "--model", "resnet20", "--checkpoints", filepath.Join(dir, "nothing_*.t7"), "--out", dir}, 1, "no checkpoint matches"},
		{"two models", []string{"trajectory", "--model", "resnet20", "--channels", "1", "--checkpoints", resnet20A + "," + resnet20B, "--out", dir}, 1, "at least 3"},
	} {
		code, stdout, stderr := landscapeCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d mentioning %q\n%s", tc.name, code, stderr, tc.code, tc.want, stdout)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed runs left files behind: %v", entries)
	}
}

// TestPlaneCommand builds the plane through A, B (trained further: new
// weights and BN statistics) and C in states mode and evaluates the
// surface at B's and C's coordinates: the losses must be their own, to
// float32 rounding of the basis.
func TestPlaneCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := writeModels(t, dir, map[string][2]float32{"c": {0.05, -0.08}})["c"]
	out := filepath.Join(dir, "plane")
	code, stdout, stderr := landscapeCLI(t, "plane", "--model", "resnet20", "--channels", "1", "--checkpoints",
		resnet20A+","+resnet20B+","+c, "--mode", "states", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "  A (0, 0)") || !strings.Contains(stdout, "landscape surface --model resnet20 --checkpoint "+resnet20A) {
		t.Errorf("output:\n%s", stdout)
	}
	var sum landscape.PlaneSummary
	b, err := os.ReadFile(filepath.Join(out, landscape.PlaneFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Points) != 3 || sum.Points[1].Y != 0 && sum.Points[1].Y > 1e-6*sum.Points[1].X || sum.Mode != "states" {
		t.Fatalf("summary %+v", sum)
	}
	// B's y is zero but for rounding, and printed as 0.
	if b := fmt.Sprintf("  B (%.6g, 0)  ", sum.Points[1].X); !strings.Contains(stdout, b) {
		t.Errorf("output lacks %q (B's y in plane.json: %g):\n%s", b, sum.Points[1].Y, stdout)
	}
	surface := func(center, x, y string) float64 {
		t.Helper()
		s := filepath.Join(t.TempDir(), "s.parquet")
		args := []string{"surface", "--model", "resnet20", "--checkpoint", center, "--data", resnet20Data, "--batch-size", "8", "--quiet",
			"--x=" + x + ":" + x + ":1", "--y=" + y + ":" + y + ":1", "--out", s}
		if center == resnet20A {
			args = append(args, "--directions", filepath.Join(out, landscape.DirectionsFile))
		}
		code, stdout, stderr := landscapeCLI(t, args...)
		if code != 0 {
			t.Fatalf("surface: exit %d\n%s%s", code, stdout, stderr)
		}
		surf, err := export.ReadParquet(s)
		if err != nil {
			t.Fatal(err)
		}
		return surf.Points[0].Values[0]
	}
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for i, model := range []string{resnet20B, c} {
		p := sum.Points[i+1]
		inPlane := surface(resnet20A, g(p.X), g(p.Y))
		own := surface(model, "0", "0") // random directions, at their origin: the model itself
		if d := (inPlane - own) / own; d > 1e-5 || d < -1e-5 {
			t.Errorf("%s at (%g, %g) in the plane: loss %.9g, its own %.9g", p.Name, p.X, p.Y, inPlane, own)
		}
	}
	if code, _, stderr := landscapeCLI(t, "plane", "--model", "resnet20", "--channels", "1", "--checkpoints",
		resnet20A+","+resnet20A+","+c, "--out", filepath.Join(dir, "bad")); code != 1 || !strings.Contains(stderr, "B equals A") {
		t.Errorf("degenerate plane: exit %d, %s", code, stderr)
	}
	if code, _, stderr := landscapeCLI(t, "plane", "--model", "resnet20", "--checkpoints", resnet20A+","+c, "--out", dir); code != 2 || !strings.Contains(stderr, "three") {
		t.Errorf("two checkpoints: exit %d, %s", code, stderr)
	}
}

// A second run projected on the first run's plane (--directions, --final
// of the first run) gets coordinates on that plane: checkpoints of the
// first run come back where its own PCA put them, and the first run's
// final model is the origin, not a point of the second path.
func TestTrajectoryOnAnotherRunsPlane(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeModels(t, dir, map[string][2]float32{
		"model_1": {0.3, 0.2}, "model_2": {0.2, -0.1}, "model_5": {0.1, 0.1}, "model_10": {0, 0},
	})
	first := filepath.Join(dir, "first")
	if code, _, stderr := landscapeCLI(t, "trajectory", "--model", "resnet20", "--channels", "1", "--size", "28",
		"--checkpoints", filepath.Join(dir, "model_*.safetensors"), "--quiet", "--out", first); code != 0 {
		t.Fatal(stderr)
	}
	second := filepath.Join(dir, "second")
	code, stdout, stderr := landscapeCLI(t, "trajectory", "--model", "resnet20", "--channels", "1", "--size", "28",
		"--checkpoints", filepath.Join(dir, "model_1.safetensors")+","+filepath.Join(dir, "model_5.safetensors"),
		"--final", filepath.Join(dir, "model_10.safetensors"), "--directions", filepath.Join(first, landscape.DirectionsFile),
		"--quiet", "--out", second)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "2 checkpoints projected on the directions of "+filepath.Join(first, landscape.DirectionsFile)) {
		t.Errorf("output:\n%s", stdout)
	}
	read := func(path string) map[string][2]string {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, _ := csv.NewReader(f).ReadAll()
		m := map[string][2]string{}
		for _, r := range rows[1:] {
			m[filepath.Base(r[0])] = [2]string{r[1], r[2]}
		}
		return m
	}
	a, b := read(filepath.Join(first, landscape.PathFile)), read(filepath.Join(second, landscape.PathFile))
	if len(b) != 2 {
		t.Fatalf("second path has %d points, want its 2 checkpoints only: %v", len(b), b)
	}
	for name, xy := range b {
		x1, _ := strconv.ParseFloat(a[name][0], 64)
		x2, _ := strconv.ParseFloat(xy[0], 64)
		y1, _ := strconv.ParseFloat(a[name][1], 64)
		y2, _ := strconv.ParseFloat(xy[1], 64)
		if math.Abs(x1-x2) > 1e-4*math.Max(1, math.Abs(x1)) || math.Abs(y1-y2) > 1e-4*math.Max(1, math.Abs(y1)) {
			t.Errorf("%s: (%g, %g) on the first run's plane, (%g, %g) projected", name, x1, y1, x2, y2)
		}
	}
}

// --x=auto --y=auto take the grid a trajectory's direction file suggests.
func TestSurfaceAutoRangeFromTrajectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeModels(t, dir, map[string][2]float32{
		"model_1": {0.3, 0.2}, "model_2": {0.2, -0.1}, "model_5": {0.1, 0.1}, "model_10": {0, 0},
	})
	traj := filepath.Join(dir, "traj")
	if code, _, stderr := landscapeCLI(t, "trajectory", "--model", "resnet20", "--channels", "1", "--size", "28", "--num", "3",
		"--checkpoints", filepath.Join(dir, "model_*.safetensors"), "--quiet", "--out", traj); code != 0 {
		t.Fatal(stderr)
	}
	_, meta, err := safetensors.Read(filepath.Join(traj, landscape.DirectionsFile))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "s.parquet")
	code, _, stderr := landscapeCLI(t, "surface", "--model", "resnet20", "--checkpoint", filepath.Join(dir, "model_10.safetensors"),
		"--data", resnet20Data, "--directions", filepath.Join(traj, landscape.DirectionsFile), "--x=auto", "--y=auto",
		"--batch-size", "8", "--quiet", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	s, err := export.ReadParquet(out)
	if err != nil {
		t.Fatal(err)
	}
	if g := s.Provenance.Grid; g.X.String() != meta["suggested_x"] || g.Y == nil || g.Y.String() != meta["suggested_y"] {
		t.Errorf("grid %v × %v, suggested %s × %s", g.X, g.Y, meta["suggested_x"], meta["suggested_y"])
	}
	// auto:N: the suggested range with N points, one of them the origin.
	code, _, stderr = landscapeCLI(t, "surface", "--model", "resnet20", "--checkpoint", filepath.Join(dir, "model_10.safetensors"),
		"--data", resnet20Data, "--directions", filepath.Join(traj, landscape.DirectionsFile), "--x=auto:2", "--y=auto:4",
		"--batch-size", "8", "--quiet", "--out", filepath.Join(dir, "n.parquet"))
	if code != 0 {
		t.Fatalf("--x=auto:2: exit %d: %s", code, stderr)
	}
	n, err := export.ReadParquet(filepath.Join(dir, "n.parquet"))
	if err != nil || n.Provenance.Grid.X.Num != 2 || n.Provenance.Grid.X.Min != s.Provenance.Grid.X.Min || len(n.Points) != 8 {
		t.Fatalf("--x=auto:2 --y=auto:4: %+v, %v", n.Provenance.Grid, err)
	}
	// With 4 points, one of them is still the centre, the model itself.
	if y := n.Provenance.Grid.Y; !slices.ContainsFunc([]int{0, 1, 2, 3}, func(k int) bool { return y.At(k) == 0 }) {
		t.Errorf("--y=auto:4 gives %s, which misses 0 (suggested %s)", y, meta["suggested_y"])
	}
	// The trajectory's path belongs over a surface on its directions, and
	// over no other: one on random directions is refused, naming both.
	if code, _, stderr := landscapeCLI(t, "plot", out, "--path", filepath.Join(traj, landscape.PathFile), "--kind", "contour", "--format", "png",
		"--out", filepath.Join(dir, "fig")); code != 0 {
		t.Errorf("the path over its own surface: exit %d: %s", code, stderr)
	}
	random := filepath.Join(dir, "r.parquet")
	if code, _, stderr := landscapeCLI(t, "surface", "--model", "resnet20", "--checkpoint", filepath.Join(dir, "model_10.safetensors"),
		"--data", resnet20Data, "--x=-1:1:2", "--y=-1:1:2", "--batch-size", "8", "--quiet", "--out", random); code != 0 {
		t.Fatalf("random directions: exit %d: %s", code, stderr)
	}
	for _, cmd := range [][]string{{"plot", random}, {"compare", out, random}} {
		args := append(cmd, "--path", filepath.Join(traj, landscape.PathFile), "--format", "png", "--out", filepath.Join(dir, "fig2"))
		if code, _, stderr := landscapeCLI(t, args...); code != 1 || !strings.Contains(stderr, "was projected on other directions") || !strings.Contains(stderr, "r.parquet") {
			t.Errorf("%s with the path over random directions: exit %d: %s", cmd[0], code, stderr)
		}
	}
	code, _, stderr = landscapeCLI(t, "surface", "--model", "resnet20", "--checkpoint", filepath.Join(dir, "model_10.safetensors"),
		"--data", resnet20Data, "--x=auto", "--quiet", "--out", filepath.Join(dir, "t.parquet"))
	if code != 2 || !strings.Contains(stderr, "--directions") {
		t.Errorf("--x=auto without a direction file: exit %d, %s", code, stderr)
	}
}

// TestSuggestedSurfaceCommandKeepsTheData runs the surface command that
// trajectory suggests, as printed, and checks that it computes on the
// data the trajectory used: the same random subset (--samples,
// --sample-seed), the same normalisation (--mean, --std), so that its
// loss at the final model is the trajectory's loss there, bit for bit.
// (The suggested command once dropped --sample-seed, --mean and --std.)
// The data are the demo's Fashion-MNIST images, whose normalisation the
// flags set.
func TestSuggestedSurfaceCommandKeepsTheData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeModels(t, dir, map[string][2]float32{"model_1": {0.3, 0.2}, "model_2": {0.2, -0.1}, "model_3": {0, 0}})
	images, err := demo.Extract(filepath.Join(dir, "demo")) // Fashion-MNIST, 14x14
	if err != nil {
		t.Fatal(err)
	}
	traj := filepath.Join(dir, "traj")
	code, stdout, stderr := landscapeCLI(t, "trajectory", "--model", "resnet20", "--num", "3",
		"--checkpoints", filepath.Join(dir, "model_*.safetensors"), "--data", "fashion-mnist:"+images, "--split", "test",
		"--samples", "12", "--sample-seed", "7",
		"--mean", "0.1", "--std", "0.9", "--batch-size", "5", "--device", "cpu", "--quiet", "--out", traj)
	if code != 0 {
		t.Fatalf("trajectory: exit %d: %s", code, stderr)
	}
	_, suggested, ok := strings.Cut(stdout, "surface around the final model, covering the path:\n  ")
	if !ok {
		t.Fatalf("no suggested command in:\n%s", stdout)
	}
	args := strings.Fields(strings.TrimSpace(suggested))
	if len(args) < 3 || args[0] != "landscape" || args[1] != "surface" || args[len(args)-2] != "--out" {
		t.Fatalf("suggested command %q", suggested)
	}
	out := filepath.Join(dir, "s.parquet")
	args = append(args[1:len(args)-1], out, "--x=0:0:1", "--y=0:0:1", "--batch-size", "5", "--quiet")
	if code, _, stderr := landscapeCLI(t, args...); code != 0 {
		t.Fatalf("suggested command %v: exit %d: %s", args, code, stderr)
	}
	s, err := export.ReadParquet(out)
	if err != nil {
		t.Fatal(err)
	}
	var sum landscape.TrajectorySummary
	b, err := os.ReadFile(filepath.Join(traj, landscape.TrajectoryFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	d := s.Provenance.Data
	if d.SampleSeed == nil || *d.SampleSeed != 7 || !slices.Equal(d.Samples, []int{12}) || !slices.Equal(d.Mean, []float64{0.1}) || !slices.Equal(d.Std, []float64{0.9}) {
		t.Errorf("the suggested surface's data %+v, want 12 samples drawn with seed 7, mean 0.1, std 0.9", d)
	}
	rows := readCSV(t, filepath.Join(traj, landscape.PathFile))
	final := rows[len(rows)-1]
	if want := final[slices.Index(rows[0], "test_loss")]; strconv.FormatFloat(s.Points[0].Values[0], 'g', -1, 64) != want {
		t.Errorf("loss at the final model: suggested surface %v, trajectory %s", s.Points[0].Values[0], want)
	}
}

// readCSV reads a whole CSV file.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
