package export

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/landscape-go/landscape/internal/atomicfile"
	"github.com/landscape-go/landscape/landscape/surface"
)

// ParquetStore keeps the points of a run in the Parquet file that is the
// run's output: it implements landscape.Store, so that a run saves its
// points there as it goes and resumes from them when started again.
//
// While it is open it holds an exclusive lock on a file beside the output
// (".NAME.lock", released by the system if the process dies, removed by
// Close), so that a second run on the same output fails at once instead
// of both reporting success over each other's points.
type ParquetStore struct {
	path string
	lock *os.File
}

// ErrLocked is wrapped by the error of [OpenParquetStore] when another
// run holds the output.
var ErrLocked = errors.New("another run is writing it")

// OpenParquetStore opens the output path for a run: it refuses a path
// that exists and is not a regular file, takes the lock (failing with
// [ErrLocked] if another run holds it), and then removes the temporary
// files a killed run may have left beside it. Close releases the lock.
func OpenParquetStore(path string) (*ParquetStore, error) {
	if err := atomicfile.CheckRegular(path); err != nil {
		return nil, fmt.Errorf("export: output %w", err)
	}
	dir, base := filepath.Split(path)
	name := filepath.Join(dir, "."+base+".lock")
	var lock *os.File
	for lock == nil {
		f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			folder := filepath.Clean(dir)
			if _, serr := os.Stat(folder); errors.Is(serr, fs.ErrNotExist) {
				return nil, fmt.Errorf("export: cannot write the output %s: its folder %s does not exist", path, folder)
			}
			return nil, fmt.Errorf("export: cannot write the output %s: its lock file beside it: %w", path, err)
		}
		if err := lockFile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("export: output %s: %w (%v)", path, ErrLocked, err)
		}
		// The run that held the lock may have removed the file before we
		// locked it: then the lock is on a file no longer there, and we
		// start again.
		held, err1 := f.Stat()
		there, err2 := os.Stat(name)
		if err1 == nil && err2 == nil && os.SameFile(held, there) {
			lock = f
		} else {
			f.Close()
		}
	}
	stale, _ := filepath.Glob(atomicfile.TempPattern(path))
	for _, f := range stale {
		os.Remove(f)
	}
	return &ParquetStore{path: path, lock: lock}, nil
}

// Load reads the surface saved at the store's path; nil, nil if there is
// no file.
func (p *ParquetStore) Load() (*surface.Surface, error) {
	if _, err := os.Stat(p.path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return ReadParquet(p.path)
}

// Save writes s to the store's path, atomically.
func (p *ParquetStore) Save(s *surface.Surface) error { return WriteParquet(p.path, s) }

// String returns the store's path.
func (p *ParquetStore) String() string { return p.path }

// Close removes the lock file and releases the lock.
func (p *ParquetStore) Close() error {
	os.Remove(p.lock.Name())
	return p.lock.Close()
}
