// Package atomicfile writes files so that a reader, or a run that is
// killed, never finds a half-written file under the real name.
//
// # Overview
//
// [Write] fills a temporary file in the destination's folder
// (".NAME.tmp-*"), syncs it to disk, renames it over the destination and
// syncs the folder, so that after a crash the destination holds either
// its old contents or all of the new; on any error the temporary file is
// removed and the destination is left as it was.
//
// Every output of landscape goes through it: surfaces and part files,
// figures and VTK files (package export), direction files
// (nets/safetensors), trajectories and the tables of "landscape compare".
// The embedded sample data and checkpoints that "landscape demo" unpacks
// are written as plain files.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
)

// ErrNotRegular is wrapped by the error for an output path that exists
// and is not a regular file.
var ErrNotRegular = errors.New("exists and is not a regular file")

// CheckRegular returns nil if path does not exist or is a regular file (or
// a symbolic link to one), and an error wrapping [ErrNotRegular]
// otherwise.
func CheckRegular(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s %w (%s): refusing to replace it", path, ErrNotRegular, Kind(fi.Mode()))
	}
	return nil
}

// Kind names the type of a file that is not a regular one, for messages:
// "a folder", "a FIFO", ... ("d---------" says little).
func Kind(m fs.FileMode) string {
	switch t := m.Type(); {
	case t&fs.ModeDir != 0:
		return "a folder"
	case t&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case t&fs.ModeSocket != 0:
		return "a socket"
	case t&fs.ModeCharDevice != 0:
		return "a character device"
	case t&fs.ModeDevice != 0:
		return "a device"
	case t&fs.ModeSymlink != 0:
		return "a symbolic link"
	case t == 0:
		return "a regular file"
	default:
		return "a file of type " + t.String()
	}
}

// TempPattern is the pattern of the temporary files Write creates beside
// path, for callers that clean up after a killed run.
func TempPattern(path string) string {
	dir, base := filepath.Split(path)
	return filepath.Join(dir, "."+base+".tmp-*")
}

// Write writes path with fill, atomically. The file gets mode 0644, as
// os.Create gives under the usual umask. fill's writes are buffered. The
// file and, after the rename, its folder are synced to disk; an error
// syncing the folder is returned although path then holds the new file.
//
// An existing path that is not a regular file (a device such as
// /dev/null, a FIFO, a folder) is refused with [ErrNotRegular]: the
// rename would replace it, and as root that destroys a device node.
func Write(path string, fill func(w io.Writer) error) (err error) {
	if err := CheckRegular(path); err != nil {
		return err
	}
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
	return syncDir(dir)
}

// syncDir syncs the folder dir, so that a rename in it survives a crash.
// Where the system or file system cannot sync a folder (Windows, some
// network file systems) there is nothing more to do, and no error.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		err = nil
	}
	return errors.Join(err, d.Close())
}
