package main

import (
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape/surface"
)

// TestMain lets the test binary stand in for the landscape command, so
// tests can run it as a separate process and kill it.
func TestMain(m *testing.M) {
	if os.Getenv("LANDSCAPE_TEST_AS_CLI") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// cliCommand is the landscape command as a separate process (this test
// binary standing in for it), for tests that signal or kill it.
func cliCommand(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "LANDSCAPE_TEST_AS_CLI=1")
	return cmd
}

func TestResolveShard(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		flag    string
		count   int
		env     map[string]string
		want    grid.Shard
		sharded bool
		err     string
	}{
		{"", 0, nil, grid.Whole(), false, ""},
		{"2/5", 0, nil, grid.Shard{Index: 2, Count: 5}, true, ""},
		{"5/5", 0, nil, grid.Shard{}, false, "bad shard"},
		{"", 0, map[string]string{"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "3"}, grid.Shard{Index: 3, Count: 4}, true, ""},
		{"", 0, map[string]string{"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "8"}, grid.Shard{Index: 4, Count: 8}, true, ""},
		{"", 0, map[string]string{"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_COUNT": "4"}, grid.Shard{}, false, "contiguous"},
		{"1/2", 0, map[string]string{"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4"}, grid.Shard{Index: 1, Count: 2}, true, ""},
		{"", 6, map[string]string{"JOB_COMPLETION_INDEX": "5"}, grid.Shard{Index: 5, Count: 6}, true, ""},
		{"", 0, map[string]string{"JOB_COMPLETION_INDEX": "5"}, grid.Shard{}, false, "--shard-count"},
		{"", 0, map[string]string{"JOB_COMPLETION_INDEX": "x"}, grid.Shard{}, false, "not a number"},
		{"", 16, map[string]string{"JOB_COMPLETION_INDEX": "16"}, grid.Shard{}, false, "JOB_COMPLETION_INDEX=16 with 16 shards"},
		// --shard 0/1 is the whole grid, inside an array too.
		{"0/1", 0, map[string]string{"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "5"}, grid.Whole(), true, ""},
	} {
		got, sharded, err := resolveShard(tc.flag, tc.count, func(k string) string { return tc.env[k] })
		if tc.err != "" {
			var usage usageError
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.As(err, &usage) {
				t.Errorf("%q %v: error %v, want one mentioning %q", tc.flag, tc.env, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want || sharded != tc.sharded {
			t.Errorf("%q %v = %v, %v, %v; want %v, %v", tc.flag, tc.env, got, sharded, err, tc.want, tc.sharded)
		}
	}
}

// sameValues fails unless a and b hold the same points with bit-identical
// values.
func sameValues(t *testing.T, a, b *surface.Surface) {
	t.Helper()
	if len(a.Points) != len(b.Points) {
		t.Fatalf("%d points vs %d", len(a.Points), len(b.Points))
	}
	for i := range a.Points {
		p, q := a.Points[i], b.Points[i]
		if p.Index != q.Index {
			t.Fatalf("point %d has index %d vs %d", i, p.Index, q.Index)
		}
		for m := range p.Values {
			if math.Float64bits(p.Values[m]) != math.Float64bits(q.Values[m]) {
				t.Errorf("point %d %s: %v vs %v", p.Index, a.Metrics[m], p.Values[m], q.Values[m])
			}
		}
	}
}

// The parts of a sharded run, merged, equal a single-process run bit for
// bit, every shard drawing the same directions from the seed.
func TestShardsMergeToTheSingleRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	single := filepath.Join(dir, "single.parquet")
	if code, _, stderr := landscapeCLI(t, surfaceArgs(single, "--x=-1:1:4", "--y=-1:1:3")...); code != 0 {
		t.Fatal(stderr)
	}
	parts := filepath.Join(dir, "parts")
	for i := range 3 {
		args := surfaceArgs(parts, "--x=-1:1:4", "--y=-1:1:3", "--shard", grid.Shard{Index: i, Count: 3}.String())
		if code, _, stderr := landscapeCLI(t, args...); code != 0 {
			t.Fatal(stderr)
		}
	}
	merged := filepath.Join(dir, "merged.parquet")
	if code, _, stderr := landscapeCLI(t, "merge", parts, "--out", merged); code != 0 {
		t.Fatal(stderr)
	}
	a, _ := export.ReadParquet(single)
	b, err := export.ReadParquet(merged)
	if err != nil {
		t.Fatal(err)
	}
	sameValues(t, a, b)
	if err := a.Provenance.Compatible(b.Provenance, true); err != nil {
		t.Error(err)
	}

	// A missing part is named.
	os.Remove(filepath.Join(parts, "part-00001-of-00003.parquet"))
	code, _, stderr := landscapeCLI(t, "merge", parts, "--out", filepath.Join(dir, "incomplete.parquet"))
	if code != 1 || !strings.Contains(stderr, "4 of 12 points missing") || !strings.Contains(stderr, "shard 1 of 3") {
		t.Errorf("merge with a part missing: exit %d, %s", code, stderr)
	}
	// Parts of another computation are refused.
	other := filepath.Join(dir, "other")
	landscapeCLI(t, surfaceArgs(other, "--x=-1:1:4", "--y=-1:1:3", "--seed", "9", "--shard", "1/3")...)
	os.Rename(filepath.Join(other, "part-00001-of-00003.parquet"), filepath.Join(parts, "part-00001-of-00003.parquet"))
	code, _, stderr = landscapeCLI(t, "merge", parts, "--out", filepath.Join(dir, "mixed.parquet"))
	part1 := filepath.Join(parts, "part-00001-of-00003.parquet")
	if code != 1 || !strings.Contains(stderr, "direction seed differs: 123 in "+filepath.Join(parts, "part-00000-of-00003.parquet")+", 9 in "+part1) {
		t.Errorf("merge of mixed parts: exit %d, %s", code, stderr)
	}
}

// A merge replaces its --out only where that holds the merged surface
// already (the merge run again), or with --overwrite: another
// computation's surface, or a file that is no surface, is not lost to a
// mistyped --out.
func TestMergeKeepsAnotherFileAtItsOutput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	parts := filepath.Join(dir, "parts")
	for i := range 2 {
		if code, _, stderr := landscapeCLI(t, surfaceArgs(parts, "--shard", grid.Shard{Index: i, Count: 2}.String())...); code != 0 {
			t.Fatal(stderr)
		}
	}
	other, notes := filepath.Join(dir, "other.parquet"), filepath.Join(dir, "notes.txt")
	if code, _, stderr := landscapeCLI(t, surfaceArgs(other, "--seed", "9")...); code != 0 {
		t.Fatal(stderr)
	}
	if err := os.WriteFile(notes, []byte("notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ out, want string }{
		{other, "holds another computation (direction seed differs: 123 in the parts, 9 in " + other + ")"},
		{notes, "exists and is not a surface"},
	} {
		before, _ := os.ReadFile(tc.out)
		code, _, stderr := landscapeCLI(t, "merge", parts, "--out", tc.out)
		after, _ := os.ReadFile(tc.out)
		if code != 1 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "--overwrite") || string(after) != string(before) {
			t.Errorf("merge onto %s: exit %d, %s; file changed: %v", tc.out, code, stderr, string(after) != string(before))
		}
		if code, _, stderr := landscapeCLI(t, "merge", parts, "--out", tc.out, "--overwrite"); code != 0 {
			t.Errorf("merge --overwrite onto %s: exit %d, %s", tc.out, code, stderr)
		}
	}
	// The merge run again replaces its own surface.
	if code, _, stderr := landscapeCLI(t, "merge", parts, "--out", notes); code != 0 {
		t.Errorf("the merge run again: exit %d, %s", code, stderr)
	}
}

// Parts computed with different batch sizes merge (the batch changes the
// order of summation only), and the merged provenance says they differed
// instead of claiming the first part's.
func TestMergeOfMixedBatchSizesSaysSo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	parts := filepath.Join(dir, "parts")
	for i, batch := range []string{"8", "5"} {
		if code, _, stderr := landscapeCLI(t, surfaceArgs(parts, "--shard", grid.Shard{Index: i, Count: 2}.String(), "--batch-size", batch)...); code != 0 {
			t.Fatal(stderr)
		}
	}
	out := filepath.Join(dir, "m.parquet")
	if code, _, stderr := landscapeCLI(t, "merge", parts, "--out", out); code != 0 {
		t.Fatal(stderr)
	}
	s, err := export.ReadParquet(out)
	if err != nil {
		t.Fatal(err)
	}
	if s.Provenance.BatchSize != 0 {
		t.Errorf("merged batch size %d, want 0 (parts of 8 and 5)", s.Provenance.BatchSize)
	}
}

// A surface computed inside a job array by a command that does not say
// --shard is sharded by the array, and says so; --shard 0/1 computes the
// whole grid into the one file --out names; an --out that is a file
// cannot take a shard's folder of parts.
func TestShardFromTheEnvironmentIsSaid(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SLURM_ARRAY_TASK_ID", "1")
	t.Setenv("SLURM_ARRAY_TASK_COUNT", "3")
	args := surfaceArgs(filepath.Join(dir, "s.parquet"))
	loud := slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == "--quiet" })
	code, _, stderr := landscapeCLI(t, loud...)
	if code != 0 || !strings.Contains(stderr, "shard 1/3, from the job array's environment") {
		t.Errorf("exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "s.parquet", "part-00001-of-00003.parquet")); err != nil {
		t.Error(err)
	}
	whole := filepath.Join(dir, "whole.parquet")
	if code, _, stderr := landscapeCLI(t, surfaceArgs(whole, "--shard", "0/1")...); code != 0 {
		t.Fatal(stderr)
	}
	if s, err := export.ReadParquet(whole); err != nil || len(s.Points) != 6 {
		t.Errorf("--shard 0/1 in an array: %v", err)
	}
	code, _, stderr = landscapeCLI(t, surfaceArgs(whole, "--shard", "0/2")...)
	if code != 2 || !strings.Contains(stderr, "is a file, but shard 0/2 writes a folder") {
		t.Errorf("--shard 0/2 onto a file: exit %d, %s", code, stderr)
	}
	// The whole grid as the one part of a folder that is there already
	// (the Slurm example's array of one task).
	parts := filepath.Join(dir, "parts")
	if err := os.Mkdir(parts, 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := landscapeCLI(t, surfaceArgs(parts, "--shard", "0/1")...); code != 0 {
		t.Fatal(stderr)
	}
	if _, err := os.Stat(filepath.Join(parts, "part-00000-of-00001.parquet")); err != nil {
		t.Error(err)
	}
}

// A run killed with SIGKILL in the middle and started again computes only
// the points it had not saved, and ends with the single run's surface.
func TestKilledRunResumes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "s.parquet")
	args := surfaceArgs(out, "--x=-1:1:12", "--y=-1:1:10", "--save-every", "200ms", "--workers", "1")
	cmd := cliCommand(args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	var saved int
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		if s, err := export.ReadParquet(out); err == nil {
			saved = len(s.Points)
			break
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if saved == 0 || saved == 120 {
		t.Fatalf("killed run saved %d points, want some but not all of 120", saved)
	}
	partial, err := export.ReadParquet(out)
	if err != nil {
		t.Fatalf("after SIGKILL the output is unreadable: %v", err)
	}
	if partial.Provenance.Progress.Complete() {
		t.Fatalf("partial file claims to be complete: %+v", partial.Provenance.Progress)
	}
	code, _, stderr := landscapeCLI(t, append(args[:len(args)-4:len(args)-4], "--save-every", "1h")...)
	if code != 0 || !strings.Contains(stderr, "") {
		t.Fatalf("resumed run: exit %d\n%s", code, stderr)
	}
	resumed, _ := export.ReadParquet(out)
	single := filepath.Join(dir, "single.parquet")
	if code, _, stderr := landscapeCLI(t, surfaceArgs(single, "--x=-1:1:12", "--y=-1:1:10")...); code != 0 {
		t.Fatal(stderr)
	}
	want, _ := export.ReadParquet(single)
	sameValues(t, want, resumed)
	if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
	t.Logf("killed after %d of 120 points", saved)
}

func TestOutputOfAnotherComputationIsRefused(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "s.parquet")
	if code, _, stderr := landscapeCLI(t, surfaceArgs(out)...); code != 0 {
		t.Fatal(stderr)
	}
	code, _, stderr := landscapeCLI(t, surfaceArgs(out, "--seed", "77")...)
	if code != 1 || !strings.Contains(stderr, "holds another computation") {
		t.Errorf("exit %d, %s", code, stderr)
	}
	if code, _, stderr := landscapeCLI(t, surfaceArgs(out, "--seed", "77", "--overwrite")...); code != 0 {
		t.Errorf("--overwrite: exit %d, %s", code, stderr)
	}
}

// A finished surface's command run again computes nothing and leaves the
// file as it is, byte for byte (its times included): pipelines that watch
// files' times see no change.
func TestFinishedRunAgainChangesNothing(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "s.parquet")
	if code, _, stderr := landscapeCLI(t, surfaceArgs(out)...); code != 0 {
		t.Fatal(stderr)
	}
	before, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	bytes, _ := os.ReadFile(out)
	code, stdout, stderr := landscapeCLI(t, surfaceArgs(out)...)
	after, _ := os.Stat(out)
	again, _ := os.ReadFile(out)
	if code != 0 || !strings.Contains(stdout, "holds all 6 points already: nothing to compute") {
		t.Errorf("exit %d, %s%s", code, stdout, stderr)
	}
	if string(again) != string(bytes) || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("the file was rewritten: modified %v, then %v", before.ModTime(), after.ModTime())
	}
}
