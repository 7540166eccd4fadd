package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplacesOrLeavesAlone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	if err := Write(path, func(w io.Writer) error { _, err := io.WriteString(w, "one"); return err }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, func(w io.Writer) error { io.WriteString(w, "partial"); return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want boom", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "one" {
		t.Errorf("a failed write changed the file to %q", b)
	}
	if left, _ := filepath.Glob(TempPattern(path)); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	if err := Write(filepath.Join(dir, "no", "such", "dir"), func(io.Writer) error { return nil }); err == nil {
		t.Error("writing into a missing folder gave no error")
	}
}

// TestSyncDirSyncsOrReports checks that syncing a folder succeeds on the
// test's file system and reports a folder that is not there.
func TestSyncDirSyncsOrReports(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := syncDir(dir); err != nil {
		t.Errorf("syncing %s: %v", dir, err)
	}
	if err := syncDir(filepath.Join(dir, "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("syncing a missing folder: %v, want os.ErrNotExist", err)
	}
}
