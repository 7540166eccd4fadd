package main

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/landscape-go/landscape/backend/cuda"
	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/internal/fixture"
	"github.com/landscape-go/landscape/internal/npy"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/checkpoint"
	"github.com/landscape-go/landscape/nets/safetensors"
)

// The bad inputs of docs/errors.md, each with the words its error must
// contain. Every case must fail with exit status 1 (2 for usage errors)
// and leave no output file.
func TestBadInputsGetClearErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ckpt := filepath.Join(zoo, "resnet20.pt")
	data := "npz:" + filepath.Join(zoo, "resnet20.data.npz")
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	orig, err := os.ReadFile(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	legacy, _ := os.ReadFile(filepath.Join(zoo, "resnet20.t7"))
	flipped := bytes.Clone(orig) // bytes of the zip changed: its CRCs catch it
	for i := 2000; i < 2400; i++ {
		flipped[i] ^= 0x5a
	}
	corrupt := rezip(t, orig, func(name string, b []byte) []byte { // a bad pickle with good CRCs
		if strings.HasSuffix(name, "data.pkl") {
			b = bytes.Clone(b)
			b[2] = 0xd3 // the first opcode after PROTO: there is no 0xd3
		}
		return b
	})
	sd, _, err := checkpoint.Load(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := sd.Get("layer1.0.conv1.weight")
	saved := w.Data[5]
	w.Data[5] = float32(math.NaN())
	nanCkpt := filepath.Join(dir, "nan.safetensors")
	if err := safetensors.Write(nanCkpt, sd, nil); err != nil {
		t.Fatal(err)
	}
	w.Data[5] = saved

	npz := func(name string, x []float32, shape []int, y []int64) string {
		var xb, yb bytes.Buffer
		binary.Write(&xb, binary.LittleEndian, x)
		binary.Write(&yb, binary.LittleEndian, y)
		xa, err1 := npy.FromBytes("<f4", shape, false, xb.Bytes())
		ya, err2 := npy.FromBytes("<i8", []int{len(y)}, false, yb.Bytes())
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		var buf bytes.Buffer
		if err := npy.WriteNPZ(&buf, npy.Archive{{Name: "x", Array: xa}, {Name: "y", Array: ya}}); err != nil {
			t.Fatal(err)
		}
		return "npz:" + write(name, buf.Bytes())
	}
	pathCSV := write("path.csv", []byte("checkpoint,x,y,residual\nrun/model_1.t7,-0.8,0.5,0.01\n"))
	report := write("hessian.json", []byte("{\"model\": \"resnet20\", \"trace\": 12.5}\n"))
	surf := writeSurface(t, dir, "s", "resnet20", false, 0.1)
	dirs := fixture.Load(t, "resnet20").DirectionFile(t)
	figs := filepath.Join(dir, "figs")
	badLabels := npz("labels.npz", make([]float32, 2*28*28), []int{2, 1, 28, 28}, []int64{3, 12})
	empty := npz("empty.npz", nil, []int{0, 1, 28, 28}, nil)

	type tc struct {
		name string
		args []string
		code int
		want []string
	}
	surface := func(model, ckpt, data string, extra ...string) []string {
		return append([]string{"surface", "--model", model, "--checkpoint", ckpt, "--data", data, "--x=-1:1:2",
			"--quiet", "--out", filepath.Join(dir, "out.parquet")}, extra...)
	}
	cases := []tc{
		{"truncated zip checkpoint", surface("resnet20", write("t.pt", orig[:len(orig)/2]), data), 1, []string{"t.pt", "not a valid zip file"}},
		{"truncated legacy checkpoint", surface("resnet20", write("t.t7", legacy[:len(legacy)/3]), data), 1, []string{"t.t7", "unexpected EOF"}},
		{"corrupt zip checkpoint", surface("resnet20", write("f.pt", flipped), data), 1, []string{"f.pt", "checksum error"}},
		{"corrupt pickle", surface("resnet20", write("c.pt", corrupt), data), 1, []string{"c.pt", "malformed pickle"}},
		{"not a checkpoint", surface("resnet20", write("hello.pt", []byte("hello\n")), data), 1, []string{"hello.pt", "unrecognised checkpoint format", `"hello\n"`}},
		{"pickle calling os.system", surface("resnet20", "../../nets/torch/testdata/evil_zip.pt", data), 1, []string{"evil_zip.pt", "global posix.system is not allowed"}},
		{"pickled whole model", surface("resnet20", "../../nets/torch/testdata/whole_model_zip.pt", data), 1, []string{"torch.nn.modules.container.Sequential is not allowed", "save model.state_dict()"}},
		{"checkpoint of another architecture", surface("resnet20", filepath.Join(zoo, "resnet20_noshort.pt"), data), 1,
			[]string{"does not fit the model", "10 missing keys", "layer2.0.shortcut.0.weight", "layer3.0.shortcut.1.running_mean", "fits model resnet20_noshort"}},
		{"wrong channel count", surface("resnet20", ckpt, "npz:"+filepath.Join(zoo, "resnet56.data.npz")), 1,
			[]string{"conv1.weight: shape [16 1 3 3] in checkpoint, model wants [16 3 3 3]", "the checkpoint takes 1-channel input; the model was built for 3 channels"}},
		{"labels out of range", surface("resnet20", ckpt, badLabels), 1, []string{"sample 1 has label 12", "10 classes"}},
		{"empty dataset", surface("resnet20", ckpt, empty), 1, []string{"empty.npz", "no samples"}},
		{"NaN in the weights", surface("resnet20", nanCkpt, data), 1, []string{"nan.safetensors", "NaN or Inf in layer1.0.conv1.weight (1 of 2304 values)"}},
		{"grid 1:-1:0", surface("resnet20", ckpt, data, "--x=1:-1:0"), 2, []string{"--x", "num is 0"}},
		{"direction file of another model", surface("resnet20", ckpt, data, "--directions", fixture.Load(t, "vgg9").DirectionFile(t)), 1,
			[]string{"vgg9.dirs.safetensors", "does not fit model resnet20", "model resnet20 has no features.0.weight"}},
		{"unwritable output", []string{"surface", "--model", "resnet20", "--checkpoint", ckpt, "--data", data, "--quiet", "--out", "/nonexistent/dir/s.parquet"}, 1,
			[]string{"cannot write the output /nonexistent/dir/s.parquet"}},
		{"missing checkpoint", surface("resnet20", filepath.Join(dir, "nope.pt"), data), 1, []string{"nope.pt", "no such file"}},
		{"unknown model", surface("resnet21", ckpt, data), 1, []string{`unknown model "resnet21"`, "resnet20_noshort"}},
		{"unknown device", surface("resnet20", ckpt, data, "--device", "tpu"), 2, []string{"--device tpu", "want auto, cpu, cuda, cuda:N or cuda:all"}},
		// A file of another kind is named for what it is, and for what was wanted.
		{"a CSV as --directions", surface("resnet20", ckpt, data, "--directions", pathCSV), 1,
			[]string{"direction file " + pathCSV + " is CSV text, not a direction file (a safetensors file of x.<key> and y.<key> tensors"}},
		{"a checkpoint as --directions", surface("resnet20", ckpt, data, "--directions", ckpt), 1,
			[]string{"direction file " + ckpt + " is a zip archive (the format of PyTorch checkpoints and npz files), not a direction file"}},
		{"a safetensors checkpoint as --directions", surface("resnet20", ckpt, data, "--directions", filepath.Join(zoo, "resnet20.safetensors")), 1,
			[]string{"resnet20.safetensors looks like a checkpoint, not directions: its 128 tensors are named as a state dict's (conv1.weight, bn1.weight, bn1.bias, ...)"}},
		{"a direction file as --path", []string{"plot", surf, "--out", figs, "--path", dirs}, 1,
			[]string{"path " + dirs + " is a safetensors file (the format of checkpoints and direction files), not a trajectory's path (the path.csv 'landscape trajectory' writes"}},
		{"a surface as --path", []string{"plot", surf, "--out", figs, "--path", surf}, 1,
			[]string{"path " + surf + " is a Parquet file (the format of surfaces), not a trajectory's path"}},
		{"a checkpoint as a surface", []string{"plot", ckpt, "--out", figs}, 1,
			[]string{"read " + ckpt + ": not a Parquet file but a zip archive", "a surface is the Parquet file 'landscape surface' writes"}},
		{"a hessian report among surfaces", []string{"compare", surf, report, "--out", figs}, 2,
			[]string{report + " is a report of 'landscape hessian' (JSON), " + surf + " a surface: compare takes surfaces, or reports, not both"}},
	}
	if r := cuda.Probe(); len(r.Devices) == 0 { // a GPU asked for where there is none
		cases = append(cases, tc{"no GPU", surface("resnet20", ckpt, data, "--device", "cuda"), 1, []string{"no GPU to compute on", "no NVIDIA driver"}})
	}
	for _, c := range cases {
		code, stdout, stderr := landscapeCLI(t, c.args...)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d\n%s%s", c.name, code, c.code, stdout, stderr)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: error does not say %q:\n%s", c.name, w, stderr)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "out.parquet")); err == nil {
			t.Fatalf("%s: left an output file", c.name)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// Far from the minimum the loss overflows to +Inf or NaN; such points are
// stored as they are, with their accuracy, and the summary counts them.
func TestNonFiniteLossesAreKept(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "far.parquet")
	code, stdout, stderr := landscapeCLI(t, surfaceArgs(out, "--x=-1e30:1e30:3", "--y=0:0:1")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	s, err := export.ReadParquet(out)
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for _, p := range s.Points {
		if math.IsNaN(p.Values[0]) || math.IsInf(p.Values[0], 0) {
			bad++
		}
		if a := p.Values[1]; a < 0 || a > 100 {
			t.Errorf("accuracy %v at a far point", a)
		}
	}
	if bad != 2 || !strings.Contains(stdout, "(2 points NaN or Inf)") {
		t.Errorf("%d non-finite losses; summary:\n%s", bad, stdout)
	}
}

// Ctrl-C stops a run within a couple of seconds with exit status 130,
// keeping every point finished (the same command resumes) and leaving no
// temporary file.
func TestInterruptSavesAndExits130(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "s.parquet")
	cmd := cliCommand(surfaceArgs(out, "--x=-1:1:12", "--y=-1:1:10", "--save-every", "100ms", "--workers", "1")...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(out); err == nil {
			break
		}
	}
	sent := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	took := time.Since(sent)
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit %d (%v), want 130\n%s", code, err, stderr.String())
	}
	if took > 3*time.Second {
		t.Errorf("took %v to stop", took)
	}
	s, err := export.ReadParquet(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "run the same command again to resume") || s.Provenance.Progress.Done != len(s.Points) || len(s.Points) == 0 {
		t.Errorf("saved %d points, progress %+v; stderr:\n%s", len(s.Points), s.Provenance.Progress, stderr.String())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// A full disk (here a file-size limit) is an error naming the output, and
// leaves neither a half-written output nor a temporary file.
func TestFullDisk(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("needs bash for ulimit")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "s.parquet")
	args := strings.Join(surfaceArgs(out), " ")
	cmd := exec.Command("bash", "-c", "ulimit -f 1; exec "+os.Args[0]+" "+args)
	cmd.Env = append(os.Environ(), "LANDSCAPE_TEST_AS_CLI=1")
	b, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("no error writing past a 1 KiB file-size limit:\n%s", b)
	}
	if !strings.Contains(string(b), "s.parquet") || !strings.Contains(string(b), "file too large") {
		t.Errorf("error does not name the output and the cause:\n%s", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}

var _ = nets.NumElements

// rezip returns the zip archive b with each entry's contents replaced by
// change(name, contents), stored uncompressed with correct CRCs.
func rezip(t *testing.T, b []byte, change func(name string, contents []byte) []byte) []byte {
	t.Helper()
	r, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := zip.NewWriter(&out)
	for _, f := range r.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		contents, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		fw, err := w.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(change(f.Name, contents)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
