package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/landscape/surface"
)

// TestConvertCommand runs "landscape convert" to CSV and JSON lines, with
// and without --out and --to, and checks the files it writes: the header
// or keys, one line per point, and the provenance beside them.
func TestConvertCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := writeSurface(t, dir, "surf", "resnet20", false, 0.1)
	s, err := export.ReadParquet(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		out  string
		want string // the first line
	}{
		{"default", nil, "surf.csv", "x,y,i,j,train_loss,train_acc"},
		{"jsonl beside", []string{"--to", "jsonl"}, "surf.jsonl", `{"x":-1.0,"y":-0.6,"i":0,"j":0,"train_loss":1.82,"train_acc":81.8}`},
		{"csv out", []string{"--to=csv", "--out", filepath.Join(dir, "a.txt")}, "a.txt", "x,y,i,j,train_loss,train_acc"},
		{"format from out", []string{"--out", filepath.Join(dir, "b.jsonl")}, "b.jsonl", `{"x":-1.0,`},
		{"ndjson", []string{"--out", filepath.Join(dir, "c.ndjson")}, "c.ndjson", `{"x":-1.0,`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := landscapeCLI(t, append([]string{"convert", in}, tc.args...)...)
			out := filepath.Join(dir, tc.out)
			if code != 0 || !strings.Contains(stdout, "wrote "+out+": 77 points") {
				t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
			}
			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			var lines []string
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
			if !strings.HasPrefix(lines[0], tc.want) {
				t.Errorf("first line %q, want %q", lines[0], tc.want)
			}
			if n := len(s.Points) + strings.Count(tc.want, ",i,j,"); len(lines) != n {
				t.Errorf("%d lines, want %d", len(lines), n)
			}
			data, err := os.ReadFile(out + export.ProvenanceSuffix)
			if err != nil {
				t.Fatal(err)
			}
			var prov surface.Provenance
			if err := json.Unmarshal(data, &prov); err != nil || prov.Model.Name != "resnet20" || prov.Grid.X.Num != 11 {
				t.Errorf("provenance %+v, %v", prov, err)
			}
		})
	}
	for _, args := range [][]string{{"convert"}, {"convert", in, in}, {"convert", in, "--to", "xlsx"}} {
		if code, _, _ := landscapeCLI(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	// A surface of an unfinished run says so, with the points it holds of
	// how many.
	part := *s
	part.Points = s.Points[:30]
	part.Provenance.Progress = surface.Progress{Done: 30, Total: 77}
	unfinished := filepath.Join(dir, "part.parquet")
	if err := export.WriteParquet(unfinished, &part); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := landscapeCLI(t, "convert", unfinished); code != 0 || !strings.Contains(stdout, ": 30 of 77 points (an unfinished run") {
		t.Errorf("an unfinished surface: exit %d\n%s%s", code, stdout, stderr)
	}
	missing := filepath.Join(dir, "missing.parquet")
	if code, _, stderr := landscapeCLI(t, "convert", missing); code != 1 || !strings.Contains(stderr, missing) {
		t.Errorf("missing input: exit %d\n%s", code, stderr)
	}
}
