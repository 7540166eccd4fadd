// Package notebooks holds the Jupyter notebook that reads the surfaces
// with the Python package in python/; its tests check them both.
package notebooks

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape/surface"
)

// python is the Python that the tests run: the environment variable
// LANDSCAPE_PYTHON if set (say, a virtual environment's python3 that has
// NumPy and matplotlib), /usr/bin/python3 otherwise.
var python = pythonPath()

func pythonPath() string {
	if p := os.Getenv("LANDSCAPE_PYTHON"); p != "" {
		return p
	}
	return "/usr/bin/python3"
}

type notebook struct {
	Cells []struct {
		Type    string   `json:"cell_type"`
		ID      string   `json:"id"`
		Source  []string `json:"source"`
		Outputs []output `json:"outputs"`
	} `json:"cells"`
	Format int `json:"nbformat"`
}

// output is one of a code cell's saved outputs.
type output struct {
	Type string                     `json:"output_type"`
	Name string                     `json:"name"` // stream: stdout or stderr
	Data map[string]json.RawMessage `json:"data"` // display_data, execute_result: by MIME type
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
	for _, want := range []string{"import landscape_go as lg", "lg.read(", ".provenance", ".grid(", "lg.compare(", ".flatness(",
		"contour(", "plot_surface(", "np.arange(0.1, 10, 0.5)"} {
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

// TestNotebookMatchesGenerator checks that landscape.ipynb is what
// make_notebook.py writes, so that the two are edited together. The outputs
// and execution counts are left out of the comparison: the committed
// notebook holds those of a run of make_notebook.py --execute.
func TestNotebookMatchesGenerator(t *testing.T) {
	if _, err := exec.LookPath(python); err != nil {
		t.Skip(python + " not found")
	}
	out := filepath.Join(t.TempDir(), "nb.ipynb")
	if msg, err := exec.Command(python, "make_notebook.py", out).CombinedOutput(); err != nil {
		t.Fatalf("make_notebook.py: %v\n%s", err, msg)
	}
	if diff := notebookDiff(t, out, "landscape.ipynb"); diff != "" {
		t.Errorf("landscape.ipynb differs from what make_notebook.py writes (%s); run python3 notebooks/make_notebook.py, "+
			"or python3 notebooks/make_notebook.py --execute where NumPy, matplotlib and the landscape binary are at hand to save the outputs too", diff)
	}
}

// withoutOutputs reads a notebook as plain JSON values, less each cell's
// outputs and execution_count.
func withoutOutputs(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nb map[string]any
	if err := json.Unmarshal(data, &nb); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	cells, _ := nb["cells"].([]any)
	for _, c := range cells {
		if c, ok := c.(map[string]any); ok {
			delete(c, "outputs")
			delete(c, "execution_count")
		}
	}
	return nb
}

// notebookDiff says where the notebooks at paths a and b differ, outputs
// and execution counts aside, or returns "".
func notebookDiff(t *testing.T, a, b string) string {
	t.Helper()
	ma, mb := withoutOutputs(t, a), withoutOutputs(t, b)
	if reflect.DeepEqual(ma, mb) {
		return ""
	}
	ca, _ := ma["cells"].([]any)
	cb, _ := mb["cells"].([]any)
	if len(ca) != len(cb) {
		return fmt.Sprintf("%d cells, want %d", len(cb), len(ca))
	}
	for i := range ca {
		if !reflect.DeepEqual(ca[i], cb[i]) {
			return fmt.Sprintf("cell %d", i)
		}
	}
	return "notebook metadata or format"
}

// bowl returns a small synthetic surface: a 2D bowl with a NaN corner,
// or a 1D curve.
func bowl(model string, c float64, oneD bool) *surface.Surface {
	s := &surface.Surface{Metrics: []string{"train_loss", "train_acc", "test_loss", "test_acc"}}
	s.Provenance.Tool = "landscape"
	s.Provenance.Model.Name = model
	s.Provenance.Data = surface.DataInfo{Name: "cifar10", Splits: []string{"train", "test"}}
	s.Provenance.Directions = surface.DirectionsInfo{Kind: "random", Seed: 123, Norm: "filter", Ignore: "biasbn"}
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
		s.Points = append(s.Points, surface.Point{Index: i, X: x, Y: y, Values: []float64{l, 100 * math.Exp(-l), l + 0.3, 90 * math.Exp(-l)}})
	}
	return s
}

// writeSurfaces writes the small surfaces the tests run the notebook on
// into dir: a and b are 2D, c is 1D.
func writeSurfaces(t *testing.T, dir string) (a, b, c string) {
	t.Helper()
	write := func(name string, s *surface.Surface) string {
		p := filepath.Join(dir, name)
		if err := export.WriteParquet(p, s); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("a.parquet", bowl("resnet56", 0.1, false)),
		write("b.parquet", bowl("resnet56_noshort", 0.5, false)),
		write("c.parquet", bowl("vgg9", 0.1, true))
}

// TestNotebookRuns runs the notebook's code cells as a script on small
// surfaces, 2D and 1D, and checks that it draws its figures. It needs
// NumPy and matplotlib, and the binary built from this checkout; it skips
// without them unless LANDSCAPE_REQUIRE_PYTHON=1.
func TestNotebookRuns(t *testing.T) {
	requirePython(t, "numpy", "matplotlib")
	dir := t.TempDir()
	a, b, c := writeSurfaces(t, dir)
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
			cmd.Env = pythonEnv(t, "LANDSCAPE_SURFACE="+tt.surface, "LANDSCAPE_COMPARE="+tt.compare,
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

// saveCall matches a call of the notebook's save(fig, name).
var saveCall = regexp.MustCompile(`(^|[^\w.])save\(fig,`)

// drawsFigure reports whether a code cell's source draws a figure that it
// should show: it calls contour(, plot_surface( or save(fig, ...).
func drawsFigure(source string) bool {
	for _, line := range strings.Split(source, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "def ") {
			continue
		}
		if strings.Contains(line, "contour(") || strings.Contains(line, "plot_surface(") || saveCall.MatchString(line) {
			return true
		}
	}
	return false
}

// isPNG reports whether an output's image/png, a base64 string (or a list
// of lines of one), holds a PNG.
func isPNG(raw json.RawMessage) bool {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		var lines []string
		if json.Unmarshal(raw, &lines) != nil {
			return false
		}
		s = strings.Join(lines, "")
	}
	png, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(s, "\n", ""))
	return err == nil && bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n"))
}

// checkOutputs checks a notebook's saved outputs: each code cell that draws
// a figure shows one as a PNG, and some cell printed something.
func checkOutputs(t *testing.T, nb notebook) {
	t.Helper()
	streams := 0
	for i, c := range nb.Cells {
		if c.Type != "code" {
			continue
		}
		images := 0
		for _, o := range c.Outputs {
			switch o.Type {
			case "stream":
				streams++
			case "display_data":
				if png, ok := o.Data["image/png"]; ok && isPNG(png) {
					images++
				}
			}
		}
		if drawsFigure(strings.Join(c.Source, "")) && images == 0 {
			t.Errorf("code cell %d (%s) draws a figure but has no PNG among its %d outputs", i, c.ID, len(c.Outputs))
		}
	}
	if streams == 0 {
		t.Error("no code cell has printed output saved")
	}
}

// TestNotebookHasOutputs checks that the committed landscape.ipynb holds
// the outputs of a run: its figures and what it prints.
func TestNotebookHasOutputs(t *testing.T) {
	checkOutputs(t, readNotebook(t, "landscape.ipynb"))
}

// TestNotebookExecute runs make_notebook.py --execute on small surfaces and
// checks that the notebook it writes holds the outputs, and otherwise
// equals landscape.ipynb. It needs what TestNotebookRuns needs.
func TestNotebookExecute(t *testing.T) {
	requirePython(t, "numpy", "matplotlib")
	dir := t.TempDir()
	a, b, _ := writeSurfaces(t, dir)
	out := filepath.Join(dir, "executed.ipynb")
	cmd := exec.Command(python, "make_notebook.py", "--execute", out)
	cmd.Env = pythonEnv(t, "LANDSCAPE_SURFACE="+a, "LANDSCAPE_COMPARE="+b, "LANDSCAPE_METRIC=",
		"LANDSCAPE_NOTEBOOK_OUT=", "MPLCONFIGDIR="+filepath.Join(dir, "mpl"))
	start := time.Now()
	msg, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make_notebook.py --execute: %v after %v\n%s", err, time.Since(start), msg)
	}
	checkOutputs(t, readNotebook(t, out))
	if diff := notebookDiff(t, "landscape.ipynb", out); diff != "" {
		t.Errorf("the executed notebook differs from landscape.ipynb beyond its outputs: %s", diff)
	}
}
