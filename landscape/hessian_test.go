package landscape

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/internal/fixture"
)

// TestHessianMatchesPyTorch finds the extreme eigenvalues and the trace of
// the Hessian of resnet20's loss over its fixture's 20 samples (weights
// of rank > 1) and compares them with testdata/grad/resnet20.hessian.json
// (scripts/fixtures/make_grad.py: Lanczos with full reorthogonalisation
// and Hutchinson's estimator, in float64 PyTorch): the eigenvalues within
// 1e-3 relative, the trace within three standard errors of the two
// estimates combined; on the CPU and, where there is one, the GPU.
func TestHessianMatchesPyTorch(t *testing.T) {
	forEachDevice(t, func(t *testing.T, device string) {
		parallelOnCPU(t, device)
		hessianMatchesPyTorch(t, device)
	})
}

func hessianMatchesPyTorch(t *testing.T, device string) {
	c := fixture.Load(t, "resnet20")
	b, err := os.ReadFile(filepath.Join("..", "testdata", "grad", "resnet20.hessian.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Dim         int
		Min, Max    float64
		Trace       float64
		TraceStderr float64 `json:"trace_stderr"`
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	rep, err := Hessian(context.Background(), HessianSpec{
		Source: Source{Model: c.Model, ModelConfig: c.Config, Checkpoint: c.CheckpointFile(t, "zip"),
			Data: data.Spec{Kind: data.NPZ, Path: c.Data}},
		TraceSamples: 20, DensityRuns: -1,
	}, &Options{Device: Device{Name: device, CPU: cpu.Options{}}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Dim != want.Dim {
		t.Fatalf("%d parameters, PyTorch %d", rep.Dim, want.Dim)
	}
	// A trained checkpoint gets no warning but the trace's, which says
	// when 20 samples leave more than 1% of standard error.
	traceWarned := false
	for _, w := range rep.Warnings {
		if traceWarned = strings.Contains(w, "the trace's standard error"); !traceWarned {
			t.Errorf("a trained checkpoint warned: %q", w)
		}
	}
	if want := rep.TraceStdErr > 0.01*math.Abs(rep.Trace); traceWarned != want {
		t.Errorf("trace %g ± %g after %d samples: warned %v, want %v", rep.Trace, rep.TraceStdErr, rep.TraceSample, traceWarned, want)
	}
	for _, c := range []struct {
		what      string
		got, want float64
	}{{"λmax", rep.Top[0], want.Max}, {"λmin", rep.Min, want.Min}} {
		if rel := math.Abs(c.got-c.want) / math.Abs(c.want); !(rel <= 1e-3) {
			t.Errorf("%s %.7g, PyTorch %.7g (relative difference %.2g)", c.what, c.got, c.want, rel)
		}
	}
	if se := math.Hypot(rep.TraceStdErr, want.TraceStderr); !(math.Abs(rep.Trace-want.Trace) <= 3*se) {
		t.Errorf("trace %.6g ± %.3g, PyTorch %.6g ± %.3g: more than three standard errors apart", rep.Trace, rep.TraceStdErr, want.Trace, want.TraceStderr)
	}
	t.Logf("%s: λmax %.7g (PyTorch %.7g), λmin %.7g (%.7g), trace %.6g ± %.3g (%.6g ± %.3g), %d HVPs in %.1fs",
		rep.Device, rep.Top[0], want.Max, rep.Min, want.Min, rep.Trace, rep.TraceStdErr, want.Trace, want.TraceStderr, rep.HVPs, rep.WallSeconds)
}

// Per tensor, each block of the Hessian of an MLP: a block's top
// eigenvalue is at most the whole Hessian's (it is a principal
// submatrix's), and the blocks' traces add up to the whole trace.
func TestHessianPerLayerBlocks(t *testing.T) {
	t.Parallel()
	c := fixture.Load(t, "resnet20") // its 1x28x28 images
	rep, err := Hessian(context.Background(), HessianSpec{
		Source:       Source{Model: filepath.Join("..", "testdata", "train", "mlp.onnx"), Data: data.Spec{Kind: data.NPZ, Path: c.Data}},
		TraceSamples: 200, DensityRuns: -1, PerLayer: true,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Layers) != 2 || rep.Layers[0].Name != "fc1.weight" || rep.Layers[1].Name != "fc2.weight" || rep.Dim != 784*64+64*10 {
		t.Fatalf("layers %+v over %d parameters", rep.Layers, rep.Dim)
	}
	// The MLP's own weights are untrained: its loss is near ln 10.
	if warned := slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, "near or past chance's, ln 10") }); warned != (rep.Loss >= 0.9*math.Log(10)) || !warned {
		t.Errorf("loss %.4g: warnings %q", rep.Loss, rep.Warnings)
	}
	sum, se := 0.0, rep.TraceStdErr*rep.TraceStdErr
	for _, l := range rep.Layers {
		if l.Top > rep.Top[0]*(1+1e-3) {
			t.Errorf("%s: block top %.6g above the whole Hessian's %.6g", l.Name, l.Top, rep.Top[0])
		}
		sum += l.Trace
		se += l.TraceStdErr * l.TraceStdErr
	}
	if math.Abs(sum-rep.Trace) > 4*math.Sqrt(se) {
		t.Errorf("blocks' traces add to %.6g, the whole trace is %.6g (standard errors %.3g)", sum, rep.Trace, math.Sqrt(se))
	}
	var summary strings.Builder
	if err := rep.WriteSummary(&summary); err != nil || !strings.Contains(summary.String(), "fc2.weight") {
		t.Errorf("summary: %v\n%s", err, summary.String())
	}
}

// TestCompareHessiansTableForTheTerminal checks that the table
// CompareHessians returns for the terminal is plain text in columns, with
// none of the Markdown escapes of hessian.md, which keeps them.
func TestCompareHessiansTableForTheTerminal(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	reps := []*HessianReport{
		{Dim: 50816, Params: "rank2", Top: []float64{12.5}, Min: -0.25, Ratio: 0.02, Trace: 310, TraceStdErr: 2.5},
		{Dim: 50816, Params: "rank2", Top: []float64{48.25}, Min: -3.5, Ratio: 0.0725, Trace: 905, TraceStdErr: 8},
	}
	table, written, err := CompareHessians(out, reps, []string{"resnet56", "resnet56 | no skip"}, nil)
	if err != nil || len(written) != 1 {
		t.Fatalf("wrote %v: %v", written, err)
	}
	lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	if len(lines) != 3 || strings.Contains(table, `\`) || strings.Contains(table, "---") {
		t.Fatalf("terminal table is not plain text in three lines:\n%s", table)
	}
	for _, want := range []string{"|λmin/λmax|", "resnet56 | no skip", "50816 (rank2)", "905 ± 8"} {
		if !strings.Contains(table, want) {
			t.Errorf("terminal table lacks %q:\n%s", want, table)
		}
	}
	// Columns: every line has the parameters column at the same place.
	col := strings.Index(lines[0], "parameters")
	for _, l := range lines[1:] {
		if i := strings.Index(l, "50816"); len([]rune(l[:i])) != len([]rune(lines[0][:col])) {
			t.Errorf("columns not aligned:\n%s", table)
		}
	}
	md, err := os.ReadFile(filepath.Join(out, "hessian.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`| \|λmin/λmax\| |`, `| resnet56 \| no skip | 50816 (rank2) | 48.25 | -3.5 | 0.0725 | 905 ± 8 |`, "|---|"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("hessian.md lacks %q:\n%s", want, md)
		}
	}
}
