package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestViewCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := writeSurface(t, dir, "a", "resnet20", false, 0.1)
	b := writeSurface(t, dir, "b", "resnet20", false, 0.5)
	curve := writeSurface(t, dir, "curve", "vgg9", true, 0.1)

	// One surface: the page beside it, and its meshes.
	glb, obj := filepath.Join(dir, "m", "a.glb"), filepath.Join(dir, "a.obj")
	if err := os.Mkdir(filepath.Dir(glb), 0o755); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := landscapeCLI(t, "view", a, "--mesh", glb+","+obj, "--metric", "train_acc")
	page := filepath.Join(dir, "a.html")
	if code != 0 || !strings.Contains(stdout, page) || !strings.Contains(stdout, glb) || !strings.Contains(stdout, obj) {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, f := range []string{page, glb, obj} {
		if fi, err := os.Stat(f); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	html, _ := os.ReadFile(page)
	if !strings.Contains(string(html), "3D surface of train_acc") || !strings.Contains(string(html), "<title>landscape: resnet20</title>") {
		t.Errorf("%s does not show train_acc of resnet20", page)
	}

	// Several surfaces, and a curve, into a folder that is created.
	out := filepath.Join(dir, "views", "all")
	code, stdout, stderr = landscapeCLI(t, "view", a, b, curve, "--out", out, "--names", "A,B,C", "--title", "Three")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	html, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(html), `<section class="lv-panel"`); n != 3 || strings.Count(string(html), `class="lv-graph"`) != 2 {
		t.Errorf("%d panels, want 3 of which 2 in 3D", n)
	}
	for _, want := range []string{"<title>Three</title>", "<h2>A</h2>", "<h2>C</h2>"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	// --out FILE.html.
	if code, _, stderr := landscapeCLI(t, "view", curve, "--out", filepath.Join(dir, "c.html"), "--log"); code != 0 {
		t.Errorf("--out c.html: exit %d\n%s", code, stderr)
	}

	for _, args := range [][]string{
		{"view"},
		{"view", a, b}, // several need --out
		{"view", a, b, "--out", dir, "--mesh", obj}, // a mesh of one surface
		{"view", a, "--mesh", "a.stl"},              // unknown mesh format
		{"view", a, "--names", "A,B"},               // one name per surface
		{"view", a, "--levels", "1:0:1"},            // bad levels
	} {
		if code, _, _ := landscapeCLI(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"view", a, "--metric", "nope"}, "nope"},
		{[]string{"view", curve, "--mesh", filepath.Join(dir, "c.ply")}, "2D surface"},
		{[]string{"view", filepath.Join(dir, "missing.parquet")}, "missing.parquet"},
	} {
		if code, _, stderr := landscapeCLI(t, c.args...); code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, want 1 with %q\n%s", c.args, code, c.want, stderr)
		}
	}
}
