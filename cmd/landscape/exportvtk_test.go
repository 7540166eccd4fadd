package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExportVTKCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := writeSurface(t, dir, "surf", "resnet20", false, 0.1)
	code, stdout, stderr := landscapeCLI(t, "export-vtk", in)
	want := filepath.Join(dir, "surf_train_loss.vtp")
	if code != 0 || !strings.Contains(stdout, want) {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = landscapeCLI(t, "export-vtk", in, "--ascii", "--log", "--zmax", "2", "--metric", "train_acc")
	want = filepath.Join(dir, "surf_train_acc_zmax=2_log.vtp")
	if code != 0 || !strings.Contains(stdout, want) {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Piece struct {
			Points int `xml:"NumberOfPoints,attr"`
			Polys  int `xml:"NumberOfPolys,attr"`
		} `xml:"PolyData>Piece"`
	}
	// 11x7 points; the NaN at index 3 removes two of the 10x6 cells.
	if err := xml.Unmarshal(data, &v); err != nil || v.Piece.Points != 77 || v.Piece.Polys != 58 || !strings.Contains(string(data), `format="ascii"`) {
		t.Errorf("read back %+v, %v", v, err)
	}
	out := filepath.Join(dir, "x.vtp")
	if code, _, stderr := landscapeCLI(t, "export-vtk", in, "--out", out); code != 0 {
		t.Fatalf("--out: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
	for _, args := range [][]string{{"export-vtk"}, {"export-vtk", in, "--zmax", "-1"}, {"export-vtk", in, in}} {
		if code, _, _ := landscapeCLI(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if code, _, stderr := landscapeCLI(t, "export-vtk", in, "--metric", "nope"); code != 1 || !strings.Contains(stderr, "nope") {
		t.Errorf("unknown metric: exit %d\n%s", code, stderr)
	}
}
