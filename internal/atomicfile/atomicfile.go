// Package atomicfile writes files so that a reader, or a run that is
// killed, never finds a half-written file under the real name.
//
// # Overview
//
// [Write] fills a temporary file in the destination's folder
// (".NAME.tmp-*"), syncs it to disk and renames it over the destination;
// on any error the temporary file is removed and the destination is left as
// it was. Every output of landscape — surfaces, part files, direction files,
// figures' tables, VTK files — goes through it.
package atomicfile

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
)

// TempPattern is the pattern of the temporary files Write creates beside
// path, for callers that clean up after a killed run.
func TempPattern(path string) string {
	dir, base := filepath.Split(path)
	return filepath.Join(dir, "."+base+".tmp-*")
}

// Write writes path with fill, atomically. The file gets mode 0644, as
// os.Create gives under the usual umask. fill's writes are buffered.
func Write(path string, fill func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close() // a second Close after a failed one only reports os.ErrClosed
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	if err := fill(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil { // make the rename durable too
		d.Sync()
		d.Close()
	}
	return nil
}
