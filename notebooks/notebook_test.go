// Package notebooks holds the Jupyter notebooks that read the Parquet
// output; its tests check them.
package notebooks

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape"
)

const python = "/usr/bin/python3"

type notebook struct {
	Cells []struct {
		Type    string          `json:"cell_type"`
		Source  []string        `json:"source"`
		Outputs json.RawMessage `json:"outputs"`
	} `json:"cells"`
	Format int `json:"nbformat"`
}

func readNotebook(t *testing.T, path string) notebook {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nb notebook
	if err := json.Unmarshal(data, &nb); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return nb
}

// code returns the notebook's code cells as one script.
func (nb notebook) code() string {
	var b strings.Builder
	for _, c := range nb.Cells {
		if c.Type == "code" {
			b.WriteString(strings.Join(c.Source, ""))
			b.WriteString("\n\n")
		}
	}
	return b.String()
}

func TestNotebookWellFormed(t *testing.T) {
	nb := readNotebook(t, "landscape.ipynb")
	if nb.Format != 4 {
		t.Errorf("nbformat %d, want 4", nb.Format)
	}
	code := nb.code()
	for _, want := range []string{"pd.read_parquet", "landscape.provenance", "pivot(index=\"y\", columns=\"x\"", "contour(", "plot_surface(", "np.arange(0.1, 10, 0.5)"} {
		if !strings.Contains(code, want) {
			t.Errorf("the notebook's code lacks %q", want)
		}
	}
	for i, c := range nb.Cells {
		if c.Type != "code" && c.Type != "markdown" {
			t.Errorf("cell %d is %q", i, c.Type)
		}
	}
}

// pythonReady reports why /usr/bin/python3 cannot run the notebook, or "".
func pythonReady() string {
	if _, err := os.Stat(python); err != nil {
		return python + " not found"
	}
	out, err := exec.Command(python, "-c", "import pandas, pyarrow, matplotlib").CombinedOutput()
	if err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return "pandas, pyarrow and matplotlib are not all importable by " + python + ": " + lines[len(lines)-1]
	}
	return ""
}

// TestNotebookMatchesGenerator checks that landscape.ipynb is what
// make_notebook.py writes, so that the two are edited together.
func TestNotebookMatchesGenerator(t *testing.T) {
	if _, err := os.Stat(python); err != nil {
		t.Skip(python + " not found")
	}
	out := filepath.Join(t.TempDir(), "nb.ipynb")
	if msg, err := exec.Command(python, "make_notebook.py", out).CombinedOutput(); err != nil {
		t.Fatalf("make_notebook.py: %v\n%s", err, msg)
	}
	got, _ := os.ReadFile(out)
	want, _ := os.ReadFile("landscape.ipynb")
	if !bytes.Equal(got, want) {
		t.Error("landscape.ipynb differs from what make_notebook.py writes; run python3 notebooks/make_notebook.py")
	}
}

// surface returns a small synthetic surface: a 2D bowl with a NaN corner,
// or a 1D curve.
func surface(model string, c float64, oneD bool) *landscape.Surface {
	s := &landscape.Surface{Metrics: []string{"train_loss", "train_acc", "test_loss", "test_acc"}}
	s.Provenance.Tool = "landscape"
	s.Provenance.Model.Name = model
	s.Provenance.Data = landscape.DataInfo{Name: "cifar10", Splits: []string{"train", "test"}}
	s.Provenance.Directions = landscape.DirectionsInfo{Kind: "random", Seed: 123, Norm: "filter", Ignore: "biasbn"}
	s.Provenance.Grid.X = grid.Axis{Min: -1, Max: 1, Num: 21}
	if !oneD {
		s.Provenance.Grid.Y = &grid.Axis{Min: -1, Max: 1, Num: 15}
	}
	g := grid.Grid{X: s.Provenance.Grid.X, Y: s.Provenance.Grid.Y}
	for i := range g.Len() {
		x, y := g.Point(i)
		l := c + 4*x*x
		if !oneD {
			l += 6 * y * y
		}
		if i == 0 {
			l = math.NaN()
		}
		s.Points = append(s.Points, landscape.Point{Index: i, X: x, Y: y, Values: []float64{l, 100 * math.Exp(-l), l + 0.3, 90 * math.Exp(-l)}})
	}
	return s
}

// TestNotebookRuns runs the notebook's code cells as a script on small
// surfaces, 2D and 1D, and checks that it draws its figures. It needs
// pandas, pyarrow and matplotlib, and is skipped without them.
func TestNotebookRuns(t *testing.T) {
	if why := pythonReady(); why != "" {
		t.Skip("skipped: " + why)
	}
	dir := t.TempDir()
	write := func(name string, s *landscape.Surface) string {
		p := filepath.Join(dir, name)
		if err := export.WriteParquet(p, s); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.parquet", surface("resnet56", 0.1, false))
	b := write("b.parquet", surface("resnet56_noshort", 0.5, false))
	c := write("c.parquet", surface("vgg9", 0.1, true))
	script := filepath.Join(dir, "notebook.py")
	code := "import matplotlib\nmatplotlib.use(\"Agg\")\n\n" + readNotebook(t, "landscape.ipynb").code()
	if err := os.WriteFile(script, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, surface, compare string
		figures                []string
	}{
		{"2D", a, b, []string{"contour.png", "surface3d.png", "compare.png"}},
		{"2D alone", a, "", []string{"contour.png", "surface3d.png", "compare.png"}},
		{"1D", c, "", []string{"curve.png", "compare.png"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
			cmd := exec.Command(python, script)
			cmd.Env = append(os.Environ(), "LANDSCAPE_SURFACE="+tt.surface, "LANDSCAPE_COMPARE="+tt.compare,
				"LANDSCAPE_NOTEBOOK_OUT="+out, "MPLBACKEND=Agg", "MPLCONFIGDIR="+filepath.Join(dir, "mpl"))
			start := time.Now()
			msg, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v after %v\n%s", err, time.Since(start), msg)
			}
			for _, f := range tt.figures {
				if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
					t.Errorf("figure %s: %v\n%s", f, err, msg)
				}
			}
		})
	}
}
