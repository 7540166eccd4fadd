package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/landscape-go/landscape/demo"
	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/internal/npy"
)

// The cases below are findings of a red-team pass: each was accepted
// silently, hung or crashed before.

// TestResumeRefusesOtherDataUnderTheSameName swaps the contents of the
// data file between two runs on one output: the data's name, path and
// sample count are the same, its values are not, so the saved points
// must not be resumed (they would mix two datasets in one surface).
func TestResumeRefusesOtherDataUnderTheSameName(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	xy := filepath.Join(dir, "data.npz")
	// writeData writes the fixture's samples, negated if negate.
	writeData := func(negate bool) {
		arrays, err := npy.ReadNPZ(filepath.Join(zoo, "resnet20.data.npz"))
		if err != nil {
			t.Fatal(err)
		}
		if x, _ := arrays.Get("x"); negate {
			b := x.Bytes() // little-endian float32
			for i := 3; i < len(b); i += 4 {
				b[i] ^= 0x80
			}
		}
		f, err := os.Create(xy)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := npy.WriteNPZ(f, arrays); err != nil {
			t.Fatal(err)
		}
	}
	writeData(false)
	out := filepath.Join(dir, "s.parquet")
	args := []string{"surface", "--model", "resnet20", "--checkpoint", filepath.Join(zoo, "resnet20.pt"), "--data", "npz:" + xy,
		"--x=-1:1:3", "--batch-size", "8", "--quiet", "--out", out}
	if code, _, stderr := landscapeCLI(t, args...); code != 0 {
		t.Fatal(stderr)
	}
	writeData(true)
	code, _, stderr := landscapeCLI(t, args...)
	if code != 1 || !strings.Contains(stderr, "holds another computation") || !strings.Contains(stderr, "data SHA-256 differs") {
		t.Errorf("exit %d, %s; want a refusal naming the data's hash", code, stderr)
	}
}

// TestResumeRefusesAnotherArithmetic resumes a run with another CPU
// engine: the points of one file are computed alike or not at all. A
// finished file, which nothing is added to, is read with any engine of
// its precision.
func TestResumeRefusesAnotherArithmetic(t *testing.T) {
	out := filepath.Join(t.TempDir(), "s.parquet")
	t.Setenv("LANDSCAPE_CPU", "generic")
	if code, _, stderr := landscapeCLI(t, surfaceArgs(out)...); code != 0 {
		t.Fatal(stderr)
	}
	s, err := export.ReadParquet(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Provenance.Arithmetic, "cpu/generic-") {
		t.Fatalf("LANDSCAPE_CPU=generic recorded arithmetic %q", s.Provenance.Arithmetic)
	}
	t.Setenv("LANDSCAPE_CPU", "")
	if code, stdout, stderr := landscapeCLI(t, surfaceArgs(out)...); code != 0 || !strings.Contains(stdout, "nothing to compute") {
		t.Errorf("the finished file with another engine: exit %d, %s%s", code, stdout, stderr)
	}
	// Cut short, as a killed run leaves it: to be resumed.
	s.Points = s.Points[:2]
	s.Provenance.Progress.Done = 2
	if err := export.WriteParquet(out, s); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := landscapeCLI(t, surfaceArgs(out)...)
	if s.Provenance.Arithmetic == "cpu/generic-gonum/fp32" && !strings.Contains(stderr, "arithmetic differs") {
		t.Logf("this machine has no micro-kernels: %s", stderr)
		return
	}
	if code != 1 || !strings.Contains(stderr, "arithmetic differs") {
		t.Errorf("exit %d, %s; want a refusal naming the arithmetic", code, stderr)
	}
}

// TestTwoRunsOnOneOutput starts a run and, while it computes, a second one
// on the same output: the second fails at once, and the first finishes
// unharmed (its temporary file was once deleted by the second).
func TestTwoRunsOnOneOutput(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "s.parquet")
	first := cliCommand(surfaceArgs(out, "--x=-1:1:41", "--save-every", "50ms")...)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	// The first run has its lock once it has saved points: the lock file
	// alone exists a moment before it is locked, and a second run started
	// then may take the lock first (the first then refuses, rightly).
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(out); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first run never saved a point")
		}
	}
	code, _, stderr := landscapeCLI(t, surfaceArgs(out, "--x=-1:1:41")...)
	if err := first.Wait(); err != nil {
		t.Errorf("the first run failed: %v", err)
	}
	if code != 1 || !strings.Contains(stderr, "another run is writing it") {
		t.Errorf("second run: exit %d, %s; want a refusal", code, stderr)
	}
	s, err := export.ReadParquet(out)
	if err != nil || len(s.Points) != 41*2 {
		t.Errorf("the first run's output: %v points, %v", len(s.Points), err)
	}
}

// TestOutputsThatAreNotRegularFilesAreRefused gives a FIFO as --out (as
// root, /dev/null would have been replaced by the output) and as a part
// to merge (which hung reading it).
func TestOutputsThatAreNotRegularFilesAreRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.parquet")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	code, _, stderr := landscapeCLI(t, surfaceArgs(fifo)...)
	if code != 1 || !strings.Contains(stderr, "is not a regular file") {
		t.Errorf("surface --out FIFO: exit %d, %s", code, stderr)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v, %v", fi.Mode(), err)
	}
	code, _, stderr = landscapeCLI(t, "merge", fifo, "--out", filepath.Join(dir, "m.parquet"))
	if code != 1 || !strings.Contains(stderr, "not a regular file") {
		t.Errorf("merge of a FIFO: exit %d, %s", code, stderr)
	}
}

// TestMergeRefusesToWriteOntoAPart gives one of the parts as --out.
func TestMergeRefusesToWriteOntoAPart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if code, _, stderr := landscapeCLI(t, surfaceArgs(dir, "--shard", "0/2")...); code != 0 {
		t.Fatal(stderr)
	}
	part := filepath.Join(dir, "part-00000-of-00002.parquet")
	before, err := os.ReadFile(part)
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := landscapeCLI(t, "merge", dir, "--out", part)
	after, _ := os.ReadFile(part)
	if code != 2 || !strings.Contains(stderr, "is one of the parts") || string(after) != string(before) {
		t.Errorf("exit %d, %s; part changed: %v", code, stderr, string(after) != string(before))
	}
}

// TestBoundsOfNumbersInFlags gives values that passed the checks and then
// failed late, overflowed or crashed.
func TestBoundsOfNumbersInFlags(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "s.parquet")
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--batch-size=9223372036854775807"}, "--batch-size 9223372036854775807: want 1 to 65536"},
		{[]string{"--workers=-1"}, "--workers -1"},
		{[]string{"--x=-1e308:1e308:3"}, "overflows"},
		{[]string{"--x=-1:1:5000", "--y=-1:1:1000"}, "5000 × 1000 = 5000000 points, want at most 4194304"},
	} {
		code, _, stderr := landscapeCLI(t, surfaceArgs(out, tc.flags...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, %s; want an error saying %q", tc.flags, code, stderr, tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: an output was written", tc.flags)
		}
	}
}

// TestNormalisationMismatchIsReported evaluates the demo's trained
// ResNet-56 on its Fashion-MNIST images, normalised as in training and
// then with another mean and std: the log names the normalisation and the
// centre's accuracy, and warns only when it is near chance.
func TestNormalisationMismatchIsReported(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	images, err := demo.Extract(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := demo.Showcase()[0]
	args := func(out string, extra ...string) []string {
		return append([]string{"surface", "--model", m.Model, "--checkpoint", filepath.Join(dir, m.Checkpoint),
			"--data", "fashion-mnist:" + images, "--split", "test", "--samples", "100", "--x=0:0:1", "--device", "cpu",
			"--out", filepath.Join(dir, out)}, extra...)
	}
	code, _, stderr := landscapeCLI(t, args("good.parquet")...)
	if code != 0 || !strings.Contains(stderr, "normalised with mean [0.286] and std [0.353]") ||
		!strings.Contains(stderr, "centre (the checkpoint itself): test loss") || strings.Contains(stderr, "warning") {
		t.Errorf("trained normalisation: exit %d, %s", code, stderr)
	}
	code, _, stderr = landscapeCLI(t, args("bad.parquet", "--mean", "0.9", "--std", "0.02")...)
	if code != 0 || !strings.Contains(stderr, "warning: the checkpoint is near chance on the test data") {
		t.Errorf("another normalisation: exit %d, %s", code, stderr)
	}
}

// TestInterpolationDefaultsToStatesMode interpolates between two
// checkpoints without --mode: the batch-norm statistics move too (so α = 1
// is the target model), the run says so, and --mode weights warns.
func TestInterpolationDefaultsToStatesMode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	args := func(out string, extra ...string) []string {
		return append([]string{"surface", "--model", "resnet20", "--checkpoint", filepath.Join(zoo, "resnet20.pt"),
			"--target", filepath.Join("..", "..", "testdata", "trajectory", "resnet20_b.safetensors"),
			"--data", "npz:" + filepath.Join(zoo, "resnet20.data.npz"), "--x=0:1:2", "--batch-size", "8", "--out", filepath.Join(dir, out)}, extra...)
	}
	code, _, stderr := landscapeCLI(t, args("s.parquet")...)
	s, err := export.ReadParquet(filepath.Join(dir, "s.parquet"))
	if code != 0 || err != nil || s.Provenance.Directions.Mode != "states" || !strings.Contains(stderr, "interpolation in states mode") {
		t.Fatalf("exit %d, %v, %s", code, err, stderr)
	}
	code, _, stderr = landscapeCLI(t, args("w.parquet", "--mode", "weights")...)
	if code != 0 || !strings.Contains(stderr, "warning: --mode weights with --target") {
		t.Errorf("weights mode: exit %d, %s", code, stderr)
	}
}

// TestAllNaNSurfaceSummary computes a surface only at a point where the
// loss overflows: the summary says so instead of "min 0 max 0".
func TestAllNaNSurfaceSummary(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "s.parquet")
	code, stdout, stderr := landscapeCLI(t, "surface", "--model", "resnet20", "--checkpoint", filepath.Join(zoo, "resnet20.pt"),
		"--data", "npz:"+filepath.Join(zoo, "resnet20.data.npz"), "--x=1e12:1e12:1", "--batch-size", "8", "--quiet", "--out", out)
	if code != 0 || !strings.Contains(stdout, "train_loss  every point NaN or Inf") || strings.Contains(stdout, "min 0") {
		t.Errorf("exit %d, %s%s", code, stdout, stderr)
	}
}

// TestModelAndCheckpointAreCheckedBeforeTheData gives a misspelt model
// and a missing checkpoint with data that does not exist: the error is
// about the model or the checkpoint, not the data (which can take minutes
// to load when it does exist).
func TestModelAndCheckpointAreCheckedBeforeTheData(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "s.parquet")
	for _, tc := range []struct {
		model, ckpt, want string
	}{
		{"resnet21", filepath.Join(zoo, "resnet20.pt"), `unknown model "resnet21"`},
		{"resnet20", "nowhere.pt", "nowhere.pt"},
	} {
		code, _, stderr := landscapeCLI(t, "surface", "--model", tc.model, "--checkpoint", tc.ckpt, "--data", "cifar10:/no/such/folder",
			"--quiet", "--out", out)
		if code != 1 || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "/no/such/folder") {
			t.Errorf("%s %s: exit %d, %s; want an error about %q first", tc.model, tc.ckpt, code, stderr, tc.want)
		}
	}
}

// TestRerunWithAnotherGridIsRefused reruns a 1D surface's command as 2D
// into the same --out: the error says that the grid changed.
func TestRerunWithAnotherGridIsRefused(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "s.parquet")
	args := []string{"surface", "--model", "resnet20", "--checkpoint", filepath.Join(zoo, "resnet20.pt"),
		"--data", "npz:" + filepath.Join(zoo, "resnet20.data.npz"), "--x=-1:1:3", "--batch-size", "8", "--quiet", "--out", out}
	if code, _, stderr := landscapeCLI(t, args...); code != 0 {
		t.Fatal(stderr)
	}
	code, _, stderr := landscapeCLI(t, append(args, "--y=-1:1:3")...)
	if code != 1 || !strings.Contains(stderr, "grid differs") || !strings.Contains(stderr, "--overwrite") {
		t.Errorf("1D then 2D into one --out: exit %d, %s", code, stderr)
	}
}
