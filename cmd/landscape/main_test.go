package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/landscape"
	"github.com/landscape-go/landscape/landscape/surface"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/checkpoint"
	"github.com/landscape-go/landscape/nets/safetensors"
	"github.com/landscape-go/landscape/normalize"
)

const zoo = "../../testdata/zoo"

// landscapeCLI runs the command line in-process and returns its exit code
// and output.
func landscapeCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func surfaceArgs(out string, extra ...string) []string {
	return append([]string{"surface", "--model", "resnet20", "--checkpoint", filepath.Join(zoo, "resnet20.pt"),
		"--data", "npz:" + filepath.Join(zoo, "resnet20.data.npz"), "--x=-1:1:3", "--y=-0.5:0.5:2",
		"--batch-size", "8", "--quiet", "--out", out}, extra...)
}

func TestSurfaceWritesParquet(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "s.parquet")
	code, stdout, stderr := landscapeCLI(t, surfaceArgs(out)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	s, err := export.ReadParquet(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Points) != 6 || strings.Join(s.Metrics, ",") != "train_loss,train_acc" {
		t.Fatalf("read back %d points with metrics %v, want 6 with train_loss,train_acc", len(s.Points), s.Metrics)
	}
	p := s.Provenance
	if p.Model.Name != "resnet20" || p.Model.InChannels != 1 || p.Checkpoint.SHA256 == "" || p.Directions.SHA256 == "" ||
		p.Directions.Kind != "random" || p.Directions.Norm != "filter" || p.Directions.Ignore != "biasbn" || p.Data.Samples[0] != 20 {
		t.Errorf("provenance incomplete: %+v", p)
	}
	// The centre of a 3x2 grid is not a grid point, but every loss must be
	// positive and finite this close to a trained minimum.
	for _, pt := range s.Points {
		if !(pt.Values[0] > 0 && pt.Values[0] < 1e4) {
			t.Errorf("loss at (%g, %g) = %g", pt.X, pt.Y, pt.Values[0])
		}
	}
	checkWithDuckDB(t, out, s)
}

// checkWithDuckDB reads the file with DuckDB (scripts/duckdb/check.mjs), an
// independent Parquet reader, and compares columns, row count, values and
// provenance with what the Go reader saw.
func checkWithDuckDB(t *testing.T, path string, s *surface.Surface) {
	t.Helper()
	node, err := exec.LookPath("node")
	_, modErr := os.Stat("../../scripts/duckdb/node_modules/@duckdb/node-api")
	if err != nil || modErr != nil {
		if os.Getenv("LANDSCAPE_REQUIRE_DUCKDB") == "1" {
			t.Fatalf("DuckDB reader unavailable (node: %v, module: %v) and LANDSCAPE_REQUIRE_DUCKDB=1", err, modErr)
		}
		t.Logf("DuckDB check skipped: node or scripts/duckdb/node_modules missing (cd scripts/duckdb && npm ci)")
		return
	}
	out, err := exec.Command(node, "../../scripts/duckdb/check.mjs", path).Output()
	if err != nil {
		t.Fatalf("check.mjs: %v", err)
	}
	var got struct {
		Columns  []struct{ Name, Type string } `json:"columns"`
		NumRows  int                           `json:"num_rows"`
		Rows     [][]any                       `json:"rows"`
		Metadata map[string]string             `json:"metadata"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range got.Columns {
		names = append(names, c.Name+":"+c.Type)
	}
	if want := "x:DOUBLE,y:DOUBLE,train_loss:DOUBLE,train_acc:DOUBLE"; strings.Join(names, ",") != want {
		t.Errorf("DuckDB columns %s, want %s", strings.Join(names, ","), want)
	}
	if got.NumRows != len(s.Points) {
		t.Errorf("DuckDB reads %d rows, Go %d", got.NumRows, len(s.Points))
	}
	for i, row := range got.Rows {
		if v, ok := row[2].(float64); !ok || v != s.Points[i].Values[0] {
			t.Errorf("row %d: DuckDB train_loss %v, Go %v", i, row[2], s.Points[i].Values[0])
		}
	}
	var prov surface.Provenance
	if err := json.Unmarshal([]byte(got.Metadata[surface.MetadataKey]), &prov); err != nil || prov.Checkpoint.SHA256 != s.Provenance.Checkpoint.SHA256 {
		t.Errorf("DuckDB sees provenance %q (%v)", got.Metadata[surface.MetadataKey], err)
	}
}

func TestUsageErrorsExit2AndWriteNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "s.parquet")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bad axis", surfaceArgs(out, "--x=1:-1:0"), "--x"},
		{"bad split", surfaceArgs(out, "--split", "valid"), "--split"},
		{"bad norm", surfaceArgs(out, "--norm", "filters"), "normalisation"},
		{"no model", []string{"surface", "--out", out}, "--model"},
		{"weights as the model", []string{"surface", "--model", "ck.pt", "--data", "npz:d.npz", "--out", out}, "--model ck.pt is a weights file"},
		{"a folder as merge's output", []string{"merge", dir, "--out", dir}, "is a folder: give the file"},
		{"a Hessian report to plot", []string{"plot", "h/hessian.json", "--out", filepath.Join(dir, "fig")}, "is JSON, not a surface"},
		{"weights as the model of train", []string{"train", "--model", "ck.safetensors", "--data", "npz:d.npz", "--out", dir}, "--model ck.safetensors is a weights file"},
		{"unknown flag", []string{"surface", "--bogus"}, "bogus"},
		{"unknown command", []string{"plott"}, "unknown command"},
	} {
		code, _, stderr := landscapeCLI(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 mentioning %q", tc.name, code, stderr, tc.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("usage errors left files behind: %v", entries)
	}
}

func TestWrongModelNamesEveryMismatchedKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "s.parquet")
	args := surfaceArgs(out)
	args[2] = "resnet20_noshort" // has no shortcut keys
	code, _, stderr := landscapeCLI(t, args...)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %s", code, stderr)
	}
	for _, key := range []string{"layer2.0.shortcut.0.weight", "layer3.0.shortcut.1.running_var", "resnet20.pt"} {
		if !strings.Contains(stderr, key) {
			t.Errorf("error does not name %s:\n%s", key, stderr)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed run left files behind: %v", entries)
	}
}

func TestModelsAndInspect(t *testing.T) {
	t.Parallel()
	code, stdout, _ := landscapeCLI(t, "models")
	if code != 0 || strings.Count(stdout, "\n") < 30 || !strings.Contains(stdout, "resnet56_noshort") || !strings.Contains(stdout, "855770") {
		t.Errorf("models: exit %d\n%s", code, stdout)
	}
	code, stdout, stderr := landscapeCLI(t, "inspect", filepath.Join(zoo, "resnet20.t7"), "--model", "resnet20", "--channels", "1")
	if code != 0 || !strings.Contains(stdout, "layer3.2.bn2.running_var") || !strings.Contains(stdout, "fits model resnet20") {
		t.Errorf("inspect: exit %d\n%s%s", code, stdout, stderr)
	}
}

// The commands without data take a zoo checkpoint's input channels from
// its first convolution: the fixtures are of 1-channel images (Fashion-MNIST
// sized), and inspect, directions and plane need no --channels 1 for them;
// the directions are those --channels 1 gives. A --channels that is given
// is kept, and a checkpoint that does not fit it is still refused.
func TestDataLessCommandsTakeTheChannelsFromTheCheckpoint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ckpt := filepath.Join(zoo, "resnet20.t7")
	code, stdout, stderr := landscapeCLI(t, "inspect", ckpt, "--model", "resnet20")
	if code != 0 || !strings.Contains(stdout, "fits model resnet20") {
		t.Errorf("inspect without --channels: exit %d\n%s%s", code, stdout, stderr)
	}
	var sums []string
	for i, channels := range [][]string{nil, {"--channels", "1"}} {
		out := filepath.Join(dir, fmt.Sprintf("dirs%d.safetensors", i))
		args := append([]string{"directions", "--model", "resnet20", "--checkpoint", ckpt, "--seed", "3", "--out", out}, channels...)
		code, stdout, stderr := landscapeCLI(t, args...)
		if code != 0 {
			t.Fatalf("directions %v: exit %d\n%s%s", channels, code, stdout, stderr)
		}
		_, sum, _ := strings.Cut(stdout, "sha256 ")
		sums = append(sums, strings.TrimSpace(sum))
	}
	if sums[0] == "" || sums[0] != sums[1] {
		t.Errorf("directions without --channels have sha256 %q, with --channels 1 %q", sums[0], sums[1])
	}
	c := writeModels(t, dir, map[string][2]float32{"c": {0.05, -0.08}})["c"]
	code, stdout, stderr = landscapeCLI(t, "plane", "--model", "resnet20", "--checkpoints",
		resnet20A+","+resnet20B+","+c, "--out", filepath.Join(dir, "plane"))
	if code != 0 {
		t.Errorf("plane without --channels: exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = landscapeCLI(t, "inspect", ckpt, "--model", "resnet20", "--channels", "3")
	if code != 1 || !strings.Contains(stderr, "conv1.weight: shape [16 1 3 3] in checkpoint, model wants [16 3 3 3]") {
		t.Errorf("inspect --channels 3 of a 1-channel checkpoint: exit %d, want 1 and the mis-shaped conv1.weight\n%s", code, stderr)
	}
}

// Directions written by the directions command and read back by surface
// give the same surface as drawing them in the run, seed for seed.
func TestDirectionsFileRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dirs := filepath.Join(dir, "dirs.safetensors")
	code, stdout, stderr := landscapeCLI(t, "directions", "--model", "resnet20", "--channels", "1", "--size", "28",
		"--checkpoint", filepath.Join(zoo, "resnet20.pt"), "--seed", "5", "--out", dirs)
	if code != 0 {
		t.Fatalf("directions: exit %d\n%s%s", code, stdout, stderr)
	}
	a, b := filepath.Join(dir, "a.parquet"), filepath.Join(dir, "b.parquet")
	if code, _, stderr := landscapeCLI(t, surfaceArgs(a, "--directions", dirs)...); code != 0 {
		t.Fatal(stderr)
	}
	if code, _, stderr := landscapeCLI(t, surfaceArgs(b, "--seed", "5")...); code != 0 {
		t.Fatal(stderr)
	}
	sa, _ := export.ReadParquet(a)
	sb, _ := export.ReadParquet(b)
	if sa.Provenance.Directions.SHA256 != sb.Provenance.Directions.SHA256 {
		t.Errorf("direction hashes differ: file %s, seed %s", sa.Provenance.Directions.SHA256, sb.Provenance.Directions.SHA256)
	}
	for i := range sa.Points {
		if sa.Points[i].Values[0] != sb.Points[i].Values[0] {
			t.Errorf("point %d: loss %v from the file, %v from the seed", i, sa.Points[i].Values[0], sb.Points[i].Values[0])
		}
	}
}

// A direction file of x and y given for a 1D grid (no --y) computes the
// curve along x, and says that y goes unused; a file of x alone says
// nothing of the kind.
func TestTwoDirectionFileOnA1DGridSaysOnlyXIsUsed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, dims := range []string{"2", "1"} {
		dirs := filepath.Join(dir, "dirs"+dims+".safetensors")
		code, stdout, stderr := landscapeCLI(t, "directions", "--model", "resnet20", "--channels", "1",
			"--checkpoint", filepath.Join(zoo, "resnet20.pt"), "--dims", dims, "--out", dirs)
		if code != 0 {
			t.Fatalf("directions --dims %s: exit %d\n%s%s", dims, code, stdout, stderr)
		}
		out := filepath.Join(dir, "curve"+dims+".parquet")
		code, stdout, stderr = landscapeCLI(t, "surface", "--model", "resnet20", "--checkpoint", filepath.Join(zoo, "resnet20.pt"),
			"--data", "npz:"+filepath.Join(zoo, "resnet20.data.npz"), "--x=-1:1:3", "--batch-size", "8",
			"--directions", dirs, "--out", out)
		if code != 0 {
			t.Fatalf("1D surface on --dims %s directions: exit %d\n%s%s", dims, code, stdout, stderr)
		}
		note := "holds an x and a y direction, but the grid is 1D (no y axis): only x is used"
		if said := strings.Contains(stderr, dirs+" "+note); said != (dims == "2") {
			t.Errorf("1D surface on --dims %s directions: note %q said %v\n%s", dims, note, said, stderr)
		}
		if s, err := export.ReadParquet(out); err != nil || !s.Is1D() || len(s.Points) != 3 {
			t.Errorf("1D surface on --dims %s directions: %v", dims, err)
		}
	}
}

func TestDevicesReportsCPUAndWhyNoGPU(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := landscapeCLI(t, "devices")
	if code != 0 || !strings.Contains(stdout, "cpu: ") || !strings.Contains(stdout, "SGEMM: ") || !strings.Contains(stdout, "cuda: ") {
		t.Errorf("devices: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestUnknownFlagSuggestsTheClosest misspells flags: the error names the
// flag meant, when one is close, and nothing is computed.
func TestUnknownFlagSuggestsTheClosest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ flag, want string }{
		{"--sample=10", "did you mean --samples?"},
		{"--batchsize=8", "did you mean --batch-size?"},
		{"--chekpoint=x", "did you mean --checkpoint?"},
	} {
		code, _, stderr := landscapeCLI(t, "surface", tc.flag)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, %s; want %q", tc.flag, code, stderr, tc.want)
		}
	}
	if _, _, stderr := landscapeCLI(t, "surface", "--zzzzzzzz"); strings.Contains(stderr, "did you mean") {
		t.Errorf("a flag close to none: %s", stderr)
	}
}

// TestPanicExits3 runs a command that panics: the exit status is 3, not
// the 2 of a usage error that a Go panic exits with, and the message asks
// for a report.
func TestPanicExits3(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	boom := command{"boom", "panics", func(context.Context, []string, io.Writer, io.Writer) error { panic("index out of range") }}
	code := dispatch(context.Background(), []command{boom}, []string{"boom"}, &out, &errOut)
	if code != 3 || !strings.Contains(errOut.String(), "internal error (please report it): index out of range") {
		t.Errorf("exit %d, %s", code, errOut.String())
	}
}

// TestInspectONNX lists an exported network's inputs, operators and
// weights under their PyTorch names, and says whether it runs on the
// engines, and if not, why, and that the reference evaluator does.
func TestInspectONNX(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := landscapeCLI(t, "inspect", filepath.Join("..", "..", "testdata", "onnx", "resnet20.onnx"))
	for _, want := range []string{"opset 13", "Conv×21", "BatchNormalization×21", "layer1.0.conv2.weight", "linear.weight",
		"every operator is supported", "runs on the CPU and GPU engines: 72 ops on 1x28x28 inputs, 10 classes, 272186 parameters"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("exit %d, output lacks %q:\n%s%s", code, want, stdout, stderr)
		}
	}
	code, stdout, stderr = landscapeCLI(t, "inspect", filepath.Join("..", "..", "nets", "onnx", "testdata", "small_cnn.onnx"))
	for _, want := range []string{"Conv×4", "fc.weight", "every operator is supported",
		"runs on the CPU and GPU engines: 15 ops on 3x16x16 inputs, 10 classes"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("exit %d; output lacks %q:\n%s%s", code, want, stdout, stderr)
		}
	}
	code, stdout, stderr = landscapeCLI(t, "inspect", filepath.Join("..", "..", "nets", "onnx", "testdata", "tiny_mlp.onnx"))
	for _, want := range []string{"LayerNormalization×1", "every operator is supported",
		`the engines cannot run it: onnx: graph "torch_jit": not runnable on the engines:`, "the engines do not run LayerNormalization yet",
		"the reference evaluator computes it on the CPU, many times more slowly, the graph interpreter on a GPU: 20x1x1 inputs, 5 classes"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("exit %d; output lacks %q:\n%s%s", code, want, stdout, stderr)
		}
	}
}

// inspect of an export with --checkpoint checks that the checkpoint fits
// the export, as a surface would, and says so.
func TestInspectONNXWithACheckpoint(t *testing.T) {
	t.Parallel()
	model := filepath.Join("..", "..", "testdata", "onnx", "resnet20.onnx")
	ckpt := filepath.Join(zoo, "resnet20.pt")
	code, stdout, stderr := landscapeCLI(t, "inspect", model, "--checkpoint", ckpt)
	if code != 0 || !strings.Contains(stdout, ckpt+" fits "+model) {
		t.Errorf("a fitting checkpoint: exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = landscapeCLI(t, "inspect", model, "--checkpoint", filepath.Join(zoo, "resnet20_noshort.pt"))
	if code != 1 || !strings.Contains(stderr, "missing keys: layer2.0.shortcut.0.weight") {
		t.Errorf("a checkpoint of another network: exit %d, %s", code, stderr)
	}
}

// An ONNX export runs wherever a model is taken: surface with the export's
// own weights (no --checkpoint) gives the zoo model's surface, and
// directions drawn for the export are the zoo model's.
func TestONNXModelOnTheCommandLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	model := filepath.Join("..", "..", "testdata", "onnx", "resnet20.onnx")
	zooOut, onnxOut := filepath.Join(dir, "zoo.parquet"), filepath.Join(dir, "onnx.parquet")
	if code, _, stderr := landscapeCLI(t, surfaceArgs(zooOut)...); code != 0 {
		t.Fatal(stderr)
	}
	args := surfaceArgs(onnxOut)
	args = slices.Delete(args, 1, 5) // --model resnet20 --checkpoint FILE
	args = append(args, "--model", model)
	if code, stdout, stderr := landscapeCLI(t, args...); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	a, _ := export.ReadParquet(zooOut)
	b, err := export.ReadParquet(onnxOut)
	if err != nil {
		t.Fatal(err)
	}
	if b.Provenance.Model.Name != "resnet20.onnx" || b.Provenance.Checkpoint.Path != model {
		t.Errorf("provenance: model %+v, checkpoint %+v", b.Provenance.Model, b.Provenance.Checkpoint)
	}
	for i := range a.Points {
		if !slices.Equal(a.Points[i].Values, b.Points[i].Values) {
			t.Errorf("point %d: zoo %v, ONNX %v", i, a.Points[i].Values, b.Points[i].Values)
		}
	}
	zooDirs, onnxDirs := filepath.Join(dir, "zoo.safetensors"), filepath.Join(dir, "onnx.safetensors")
	for _, c := range [][]string{
		{"--model", "resnet20", "--channels", "1", "--size", "28", "--checkpoint", filepath.Join(zoo, "resnet20.pt"), "--out", zooDirs},
		{"--model", model, "--out", onnxDirs},
	} {
		if code, stdout, stderr := landscapeCLI(t, append([]string{"directions"}, c...)...); code != 0 {
			t.Fatalf("directions %q: exit %d\n%s%s", c, code, stdout, stderr)
		}
	}
	ma, _ := normalize.ReadMeta(zooDirs)
	mb, err := normalize.ReadMeta(onnxDirs)
	if err != nil || ma.SHA256 != mb.SHA256 {
		t.Errorf("directions differ: zoo %s, ONNX %s (%v)", ma.SHA256, mb.SHA256, err)
	}
}

// hessian writes its report and the density figure, and prints the
// extreme eigenvalues and the trace.
func TestHessianCommand(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	code, stdout, stderr := landscapeCLI(t, "hessian", "--model", "resnet20", "--channels", "1", "--size", "28",
		"--checkpoint", filepath.Join(zoo, "resnet20.pt"), "--data", "npz:"+filepath.Join(zoo, "resnet20.data.npz"),
		"--samples", "4", "--trace-samples", "4", "--density-steps", "8", "--format", "png", "--quiet", "--out", out,
		"--directions", filepath.Join(out, "plane.safetensors"))
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	// The Hessian plane: a surface on the top two eigenvectors, over the
	// grid the file suggests, its axes named after them.
	meta, err := normalize.ReadMeta(filepath.Join(out, "plane.safetensors"))
	if err != nil || meta.Kind != "hessian" || len(meta.Eigenvalues) != 2 || !(meta.Eigenvalues[0] >= meta.Eigenvalues[1]) || meta.SuggestedX == "" {
		t.Fatalf("direction file: %+v, %v", meta, err)
	}
	surf := filepath.Join(out, "plane.parquet")
	if code, stdout, stderr := landscapeCLI(t, "surface", "--model", "resnet20", "--channels", "1", "--size", "28",
		"--checkpoint", filepath.Join(zoo, "resnet20.pt"), "--data", "npz:"+filepath.Join(zoo, "resnet20.data.npz"), "--samples", "4",
		"--directions", filepath.Join(out, "plane.safetensors"), "--x=auto:3", "--y=auto:3", "--quiet", "--out", surf); code != 0 {
		t.Fatalf("surface on the Hessian plane: exit %d\n%s%s", code, stdout, stderr)
	}
	s, err := export.ReadParquet(surf)
	if err != nil || s.Provenance.Directions.Kind != "file" || len(s.Points) != 9 {
		t.Fatalf("surface: %v", err)
	}
	if center := s.Points[4].Values[0]; !(s.Points[0].Values[0] > center && s.Points[8].Values[0] > center) {
		t.Errorf("the Hessian plane's corners are not above its centre: %v", s.Points)
	}
	for _, want := range []string{"λmax", "λmin", "|λmin/λmax|", "trace", "over 270608 parameters (rank2)", "density.png"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "hessian.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep landscape.HessianReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Dim != 270608 || rep.Data.Samples[0] != 4 || !(rep.Top[0] > 0) || !(rep.Min <= rep.Top[0]) || rep.TraceSample != 4 || rep.Density == nil || rep.HVPs < 10 {
		t.Errorf("report: dim %d, samples %v, top %v, min %g, trace samples %d, density %v, %d HVPs", rep.Dim, rep.Data.Samples, rep.Top, rep.Min, rep.TraceSample, rep.Density != nil, rep.HVPs)
	}
	if code, _, stderr := landscapeCLI(t, "hessian", "--model", "resnet20", "--checkpoint", "x.pt", "--data", "npz:x.npz", "--out", out, "--params", "some"); code != 2 || !strings.Contains(stderr, "want rank2") {
		t.Errorf("--params some: exit %d\n%s", code, stderr)
	}
}

// toy races optimizers on a function and draws their paths, over its
// contours or along its curve; a bad optimizer or function is a usage
// error.
func TestToyCommand(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	code, stdout, stderr := landscapeCLI(t, "toy", "--function", "himmelblau", "--optimizers", "sgd,adam:0.05", "--format", "png,svg", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"sgd, lr 0.005", "adam, lr 0.05", "after 200 steps", "himmelblau_loss_2dcontour_log.png", "himmelblau_loss_2dcontour_log.svg"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	// A function of one variable races its own runs by default, drawn
	// along its curve.
	code, stdout, stderr = landscapeCLI(t, "toy", "--function", "ripple", "--format", "png", "--out", out)
	if code != 0 {
		t.Fatalf("ripple: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"sgd, lr 1 ", "sgd, lr 0.1 ", "sgd, lr 0.01 ", "after 50 steps at x = ", "ripple_loss_1dcurve.png"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("ripple: output lacks %q:\n%s", want, stdout)
		}
	}
	if fi, err := os.Stat(filepath.Join(out, "ripple_loss_1dcurve.png")); err != nil || fi.Size() < 10000 {
		t.Errorf("ripple's figure: %v", err)
	}
	for _, c := range [][]string{
		{"toy", "--optimizers", "lbfgs", "--out", out},
		{"toy", "--function", "ackley", "--out", out},
		{"toy", "--optimizers", "adam:fast", "--out", out},
	} {
		if code, _, stderr := landscapeCLI(t, c...); code != 2 {
			t.Errorf("%q: exit %d, want 2\n%s", c, code, stderr)
		}
	}
}

// train writes a checkpoint per epoch, which PyTorch's key layout and
// the trajectory command read, and resumes a finished run without work.
func TestTrainCommand(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	args := []string{"train", "--model", "resnet20", "--channels", "1", "--size", "28", "--checkpoint", filepath.Join(zoo, "resnet20.pt"),
		"--data", "npz:" + filepath.Join(zoo, "resnet20.data.npz"), "--optimizer", "adam", "--lr", "0.001", "--epochs", "2", "--batch-size", "8", "--quiet", "--out", out}
	code, stdout, stderr := landscapeCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"epoch 1: lr 0.001, loss", "epoch 2: lr 0.001, loss", "model_2.safetensors", "landscape trajectory --model resnet20 --checkpoints"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	sd, _, err := checkpoint.Load(filepath.Join(out, "model_2.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if nbt, ok := sd.Get("bn1.num_batches_tracked"); !ok || nbt.DType != "int64" {
		t.Errorf("num_batches_tracked: %+v", nbt)
	}
	// The run again, its optimizer named in another case: the same run,
	// finished.
	again := slices.Clone(args)
	again[slices.Index(again, "adam")] = "Adam"
	if code, stdout, stderr := landscapeCLI(t, again...); code != 0 || strings.Contains(stdout, "epoch") {
		t.Errorf("a finished run trained again: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := landscapeCLI(t, "train", "--model", "resnet20", "--checkpoint", "x.pt", "--data", "npz:x.npz", "--out", out, "--optimizer", "lbfgs"); code != 2 || !strings.Contains(stderr, `--optimizer "lbfgs": want one of sgd`) {
		t.Errorf("--optimizer lbfgs: exit %d\n%s", code, stderr)
	}
	// A rate given as 0 is refused, not taken for the default (SGD's 0.01).
	if code, _, stderr := landscapeCLI(t, "train", "--model", "resnet20", "--checkpoint", "x.pt", "--data", "npz:x.npz", "--out", out, "--lr", "0"); code != 2 || !strings.Contains(stderr, "--lr 0: want a positive learning rate, or leave --lr out for sgd's default (0.01)") {
		t.Errorf("--lr 0: exit %d\n%s", code, stderr)
	}
}

// race trains each run, writes the surface and the figure, and refuses a
// bad run list.
func TestRaceCommand(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	code, stdout, stderr := landscapeCLI(t, "race", "--model", "resnet20", "--channels", "1", "--size", "28", "--checkpoint", filepath.Join(zoo, "resnet20.pt"),
		"--data", "npz:"+filepath.Join(zoo, "resnet20.data.npz"), "--optimizers", "sgd:0.05,adam:0.001", "--epochs", "2", "--batch-size", "10",
		"--num", "3", "--format", "png", "--quiet", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"trained " + filepath.Join(out, "sgd_lr0.05"), "trained " + filepath.Join(out, "adam_lr0.001"), "race.parquet", "race_train_loss_2dcontour.png"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if code, _, stderr := landscapeCLI(t, "race", "--model", "resnet20", "--checkpoint", "x.pt", "--data", "npz:x.npz", "--out", out, "--optimizers", "adam:fast"); code != 2 {
		t.Errorf("--optimizers adam:fast: exit %d\n%s", code, stderr)
	}
}

// train and race start from scratch with --init-seed: the zoo model at
// PyTorch's default initialisation, shaped for the data, written beside
// the runs and trained from; the same seed gives the same weights; a
// checkpoint beside it, or an ONNX model, is refused.
func TestInitSeed(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	data := "npz:" + filepath.Join(zoo, "resnet20.data.npz")
	for _, run := range []string{"a", "b"} {
		dir := filepath.Join(out, run)
		code, stdout, stderr := landscapeCLI(t, "train", "--model", "resnet20", "--init-seed", "7", "--data", data,
			"--epochs", "1", "--batch-size", "10", "--quiet", "--out", dir)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
	}
	read := func(path string) *nets.StateDict {
		t.Helper()
		sd, _, err := safetensors.Read(path)
		if err != nil {
			t.Fatal(err)
		}
		return sd
	}
	init, again := read(filepath.Join(out, "a", "init-seed7.safetensors")), read(filepath.Join(out, "b", "init-seed7.safetensors"))
	start := read(filepath.Join(out, "a", "model_0.safetensors"))
	conv, _ := init.Get("conv1.weight")
	if len(conv.Shape) != 4 || conv.Shape[1] != 1 {
		t.Fatalf("conv1.weight %v: not shaped for the data's one channel", conv.Shape)
	}
	bound := float32(1 / math.Sqrt(float64(nets.NumElements(conv.Shape[1:]))))
	for _, name := range init.Names() {
		a, _ := init.Get(name)
		b, _ := again.Get(name)
		s, ok := start.Get(name)
		if !ok || !slices.Equal(a.Data, s.Data) || !slices.Equal(a.Data, b.Data) {
			t.Fatalf("%s: the run did not start from the initial weights, or one seed gave two", name)
		}
	}
	for _, v := range conv.Data {
		if v < -bound || v > bound {
			t.Fatalf("conv1.weight holds %g, past PyTorch's default ±%g", v, bound)
		}
	}
	// Another seed in a's folder is another run: refused, and its start
	// is not left there; with --overwrite it replaces a's run, start and
	// all.
	trainA := func(extra ...string) (int, string) {
		args := append([]string{"train", "--model", "resnet20", "--data", data, "--epochs", "1", "--batch-size", "10", "--quiet",
			"--out", filepath.Join(out, "a")}, extra...)
		code, _, stderr := landscapeCLI(t, args...)
		return code, stderr
	}
	if code, stderr := trainA("--init-seed", "8"); code != 1 || !strings.Contains(stderr, "initial weights' SHA-256 differs") {
		t.Errorf("another seed in a's folder: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "a", "init-seed8.safetensors")); err == nil {
		t.Error("the refused run left its start in the other run's folder")
	}
	if code, stderr := trainA("--init-seed", "8", "--overwrite"); code != 0 {
		t.Fatalf("--overwrite: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "a", "init-seed7.safetensors")); err == nil {
		t.Error("--overwrite kept the other run's start")
	}
	for _, bad := range [][]string{
		{"--init-seed", "7", "--checkpoint", "x.pt"},
		{"--init-seed", "seven"},
	} {
		args := append([]string{"race", "--model", "resnet20", "--data", data, "--out", filepath.Join(out, "bad")}, bad...)
		if code, _, stderr := landscapeCLI(t, args...); code != 2 || !strings.Contains(stderr, "--init-seed") {
			t.Errorf("%v: exit %d\n%s", bad, code, stderr)
		}
	}
	if code, _, stderr := landscapeCLI(t, "train", "--model", filepath.Join("..", "..", "testdata", "train", "mlp.onnx"), "--init-seed", "1",
		"--data", data, "--out", filepath.Join(out, "onnx")); code != 2 || !strings.Contains(stderr, "ONNX") {
		t.Errorf("an ONNX model with --init-seed: exit %d\n%s", code, stderr)
	}
}

// compare takes the reports of 'landscape hessian' too: a table of their
// curvature and their densities on one figure.
func TestCompareHessians(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	model := filepath.Join("..", "..", "testdata", "train", "mlp.onnx")
	var reports []string
	for _, seed := range []string{"1", "2"} {
		out := filepath.Join(dir, "h"+seed)
		if code, stdout, stderr := landscapeCLI(t, "hessian", "--model", model, "--data", "npz:"+filepath.Join(zoo, "resnet20.data.npz"),
			"--trace-samples", "5", "--density-steps", "10", "--seed", seed, "--format", "png", "--quiet", "--out", out); code != 0 {
			t.Fatalf("hessian: exit %d\n%s%s", code, stdout, stderr)
		}
		reports = append(reports, filepath.Join(out, "hessian.json"))
	}
	code, stdout, stderr := landscapeCLI(t, append([]string{"compare", "--names", "seed 1,seed 2", "--format", "png", "--out", dir}, reports...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"seed 1 ", "seed 2 ", "50816 (rank2)", "|λmin/λmax|", "hessian.md", "hessian_density.png"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if table, _, _ := strings.Cut(stdout, "wrote "); strings.Contains(table, `\`) || strings.Contains(table, "|---") {
		t.Errorf("the terminal shows Markdown:\n%s", stdout)
	}
	if md, err := os.ReadFile(filepath.Join(dir, "hessian.md")); err != nil || !strings.Contains(string(md), "| seed 1 | 50816 (rank2) |") || !strings.Contains(string(md), `\|λmin/λmax\|`) {
		t.Errorf("hessian.md: %v\n%s", err, md)
	}
	if code, _, stderr := landscapeCLI(t, "compare", "--out", dir, filepath.Join(zoo, "resnet20.json")); code != 1 || !strings.Contains(stderr, "is not a report of 'landscape hessian'") {
		t.Errorf("a JSON that is no report: exit %d\n%s", code, stderr)
	}
}

// TestGCHeadroomHasAFloor checks that a small live heap gets headroom
// toward gcFloor bytes (a heap of a few MB: gcMaxPercent) and a large one
// gcPercent: the tuner reads the live heap after each collection.
func TestGCHeadroomHasAFloor(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	gogc := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	current := func() int {
		metrics.Read(gogc)
		return int(gogc[0].Value.Uint64())
	}
	stop := tuneGC()
	defer stop()
	// After tuneGC the test binary's live heap is a few MB.
	deadline := time.Now().Add(10 * time.Second)
	for current() < gcMaxPercent && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if p := current(); p < gcMaxPercent {
		t.Fatalf("with a live heap of a few MB the headroom is %d%%, want %d%%", p, gcMaxPercent)
	}
	big := make([]byte, 8*gcFloor) // live: the headroom becomes gcPercent
	for current() > 2*gcPercent && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if p := current(); p > 2*gcPercent {
		t.Errorf("with a live heap of %d MB the headroom is %d%%, want about %d%%", len(big)>>20, p, gcPercent)
	}
	runtime.KeepAlive(big)
}
