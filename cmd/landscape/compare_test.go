package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/landscape/surface"
	"github.com/landscape-go/landscape/normalize"
)

func TestCompareCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := writeSurface(t, dir, "a", "resnet20", false, 0.1)
	b := writeSurface(t, dir, "b", "resnet20", false, 0.5)
	c := writeSurface(t, dir, "c", "", false, 1)
	out := filepath.Join(dir, "cmp")
	code, stdout, stderr := landscapeCLI(t, "compare", a, b, c, "--out", out, "--format", "png", "--dpi", "30", "--size", "6x3")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"resnet20 (a)", "resnet20 (b)", " c ", "basin %", "compare_train_loss.csv", "compare_train_loss.png"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	f, err := os.Open(filepath.Join(out, "compare_train_loss.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// The centre (0, 0) holds x² + 2y² + c = c; the threshold is c + 1.
	if len(recs) != 4 || recs[1][4] != "0.1" || recs[2][4] != "0.5" || recs[3][4] != "1" || recs[1][8] != "1.1" {
		t.Errorf("CSV:\n%q", recs)
	}
	md, err := os.ReadFile(filepath.Join(out, "compare_train_loss.md"))
	if err != nil || !strings.Contains(string(md), "| resnet20 (a) |") {
		t.Errorf("Markdown: %v\n%s", err, md)
	}

	// A fixed threshold and other radii; names given.
	code, stdout, stderr = landscapeCLI(t, "compare", a, b, "--out", out, "--format", "svg", "--threshold", "0.6", "--radii", "0.2",
		"--names", "first,second", "--levels", "0:3:0.25")
	if code != 0 || !strings.Contains(stdout, "first") || !strings.Contains(stdout, "rise r=0.2") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestCompareCommandErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := writeSurface(t, dir, "a", "resnet20", false, 0.1)
	one := writeSurface(t, dir, "one", "vgg9", true, 0.1)
	out := filepath.Join(dir, "cmp")
	parts := filepath.Join(dir, "parts")
	if code, _, stderr := landscapeCLI(t, surfaceArgs(parts, "--shard", "1/2")...); code != 0 {
		t.Fatal(stderr)
	}
	part := filepath.Join(parts, "part-00001-of-00002.parquet")
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
		{"no files", []string{"compare", "--out", out}, 2, "at least one"},
		{"no out", []string{"compare", a}, 2, "--out"},
		{"bad radii", []string{"compare", a, "--out", out, "--radii", "0.5,-1"}, 2, "--radii"},
		{"bad rise", []string{"compare", a, "--out", out, "--rise", "0"}, 2, "--rise"},
		{"names count", []string{"compare", a, a, "--out", out, "--names", "x"}, 2, "--names"},
		{"1D with 2D", []string{"compare", a, one, "--out", out, "--format", "png"}, 1, "1D"},
		// A path is drawn over 2D surfaces, never dropped unsaid.
		{"path on 1D", []string{"compare", one, one, "--out", out, "--path", path}, 1, one + " is a 1D surface, with no plane to draw a trajectory's path on"},
		{"path on hessian reports", []string{"compare", filepath.Join(dir, "a", "hessian.json"), filepath.Join(dir, "b", "hessian.json"), "--out", out, "--path", path}, 2, "--path draws over surfaces"},
		// Its flatness would be that of the points it happens to hold.
		{"a shard's part", []string{"compare", part, "--out", out}, 1, "is shard 1/2 of a surface, 3 of its 6 points: merge the parts first (landscape merge " + parts},
		{"a folder of parts", []string{"compare", parts, "--out", out}, 1, "holds part files of a sharded run (1 of them): merge them first"},
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

func TestCompare1D(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := writeSurface(t, dir, "a", "vgg9", true, 0.1)
	b := writeSurface(t, dir, "b", "vgg11", true, 0.2)
	code, stdout, stderr := landscapeCLI(t, "compare", a, b, "--out", dir, "--format", "png", "--dpi", "30")
	if code != 0 || !strings.Contains(stdout, "vgg11") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestCompareTableOnly writes the flatness tables and no figure, for the
// Python package, which reads them.
func TestCompareTableOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := writeSurface(t, dir, "a", "resnet56", false, 0.1)
	out := filepath.Join(dir, "cmp")
	code, stdout, stderr := landscapeCLI(t, "compare", a, "--table-only", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	got, _ := filepath.Glob(filepath.Join(out, "*"))
	if len(got) != 2 || !strings.HasSuffix(got[0], ".csv") || !strings.HasSuffix(got[1], ".md") {
		t.Errorf("wrote %v, want the CSV and Markdown tables only", got)
	}
}

// TestCompareSurfacesOnOtherDirections compares a surface on a
// trajectory's PCA directions with one on filter-normalised random
// directions: compare notes that their coordinates are not on one scale,
// naming the files, and names each panel's axes as plot does (PC1 (81.8%),
// α); one on a plane gets a note that says the coordinates are alike; two
// surfaces on the same PCA directions get no note, and PC1 on both.
func TestCompareSurfacesOnOtherDirections(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, _ := bowlWithTest(t, dir)
	pcaFile := filepath.Join(dir, "pca.safetensors")
	hash := writeDirections(t, pcaFile, 1, normalize.Meta{Kind: "pca", ExplainedVarianceRatio: []float64{0.8179, 0.0912}})
	write := func(name string, d surface.DirectionsInfo) string {
		s.Provenance.Directions = d
		path := filepath.Join(dir, name+".parquet")
		if err := export.WriteParquet(path, s); err != nil {
			t.Fatal(err)
		}
		return path
	}
	pca := write("pca", surface.DirectionsInfo{Kind: "file", File: pcaFile, Norm: "none", SHA256: hash})
	pca2 := write("pca2", surface.DirectionsInfo{Kind: "file", File: pcaFile, Norm: "none", SHA256: hash})
	random := write("random", surface.DirectionsInfo{Kind: "random", Seed: 1, Norm: "filter"})

	out := filepath.Join(dir, "mixed")
	code, stdout, stderr := landscapeCLI(t, "compare", pca, random, "--out", out, "--format", "svg", "--metric", "train_loss")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"note: the surfaces lie on directions of different kinds, whose coordinates are not on one scale",
		pca + ": a trajectory's principal components (PCA)", random + ": random directions, filter-normalised"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	texts := svgTexts(t, filepath.Join(out, "compare_train_loss.svg"))
	for _, want := range []string{"PC1 (81.8%)", "PC2 (9.1%)", "α (x direction)", "β (y direction)"} {
		if n := countOf(texts, want); n != 1 {
			t.Errorf("%d axes labelled %q, want 1 (one panel each): %q", n, want, texts)
		}
	}

	// A plane's coordinates are distances in weight space too.
	planeFile := filepath.Join(dir, "plane.safetensors")
	planeHash := writeDirections(t, planeFile, 2, normalize.Meta{Kind: "plane", Path: [][2]float64{{0, 0}, {0.6, 0}, {0.2, 0.4}}})
	plane := write("plane", surface.DirectionsInfo{Kind: "file", File: planeFile, Norm: "none", SHA256: planeHash})
	code, stdout, stderr = landscapeCLI(t, "compare", pca, plane, "--out", filepath.Join(dir, "planes"), "--format", "svg", "--metric", "train_loss")
	if want := "note: the surfaces lie on directions of different kinds; their coordinates are distances in weight space in each, but along different directions\n  " +
		pca + ": a trajectory's principal components (PCA)\n  " + plane + ": the plane through three models\n"; code != 0 || stderr != want {
		t.Errorf("exit %d, stderr\n%s\nwant\n%s", code, stderr, want)
	}

	out = filepath.Join(dir, "same")
	code, stdout, stderr = landscapeCLI(t, "compare", pca, pca2, "--out", out, "--format", "svg", "--metric", "train_loss")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, want no note on stderr\n%s%s", code, stdout, stderr)
	}
	texts = svgTexts(t, filepath.Join(out, "compare_train_loss.svg"))
	if n := countOf(texts, "PC1 (81.8%)"); n != 2 || slices.Contains(texts, "α (x direction)") {
		t.Errorf("%d axes labelled PC1 (81.8%%), want both panels': %q", n, texts)
	}
}

// countOf returns how many of texts are s.
func countOf(texts []string, s string) (n int) {
	for _, t := range texts {
		if t == s {
			n++
		}
	}
	return n
}
