package landscape

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/internal/filekind"
	"github.com/landscape-go/landscape/landscape/surface"
	"github.com/landscape-go/landscape/normalize"
)

// ReadPaths reads trajectory files (see [ReadPath]); empty names are
// skipped.
func ReadPaths(files ...string) ([]export.Path, error) {
	var paths []export.Path
	for _, p := range files {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		path, err := ReadPath(p)
		if err != nil {
			return nil, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// ReadPath reads the x and y columns of a trajectory's path file (written
// by [Trajectory.WritePathCSV]) for drawing over a surface, with the
// checkpoints' names (their file names without extension) from its
// checkpoint column; the legend label is the name of the folder it is in,
// where a run's outputs usually are.
func ReadPath(file string) (export.Path, error) {
	f, err := os.Open(file)
	if err != nil {
		return export.Path{}, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		switch k := filekind.DetectAt(f, st.Size()); k {
		case filekind.CSV, filekind.Text, filekind.Unknown:
		default:
			return export.Path{}, fmt.Errorf("landscape: path %s is %s, not a trajectory's path (the path.csv 'landscape trajectory' writes: CSV with x and y columns)", file, k)
		}
	}
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return export.Path{}, fmt.Errorf("landscape: path %s: %w", file, err)
	}
	if len(rows) < 2 {
		return export.Path{}, fmt.Errorf("landscape: path %s: no points", file)
	}
	ix, iy := slices.Index(rows[0], "x"), slices.Index(rows[0], "y")
	if ix < 0 || iy < 0 {
		return export.Path{}, fmt.Errorf("landscape: path %s: no x and y columns in header %v", file, rows[0])
	}
	p := export.Path{Label: filepath.Base(filepath.Dir(file)), Directions: pathDirections(file), File: file}
	ic := slices.Index(rows[0], "checkpoint")
	for k, row := range rows[1:] {
		if ic >= 0 {
			c := row[ic]
			p.Names = append(p.Names, strings.TrimSuffix(filepath.Base(c), filepath.Ext(c)))
		}
		x, err1 := strconv.ParseFloat(row[ix], 64)
		y, err2 := strconv.ParseFloat(row[iy], 64)
		if err1 != nil || err2 != nil {
			return export.Path{}, fmt.Errorf("landscape: path %s: line %d: x %q, y %q are not numbers", file, k+2, row[ix], row[iy])
		}
		p.X, p.Y = append(p.X, x), append(p.Y, y)
	}
	return p, nil
}

// pathDirections returns the SHA-256 of the directions the path in file
// was projected on: as the trajectory.json beside it records it for its
// path.csv, else as the direction file beside it records its own (a
// race's runs' paths lie beside the plane's directions); "" where neither
// says.
func pathDirections(file string) string {
	dir := filepath.Dir(file)
	if raw, err := os.ReadFile(filepath.Join(dir, TrajectoryFile)); err == nil {
		var rec TrajectorySummary
		if json.Unmarshal(raw, &rec) == nil && rec.PathFile == filepath.Base(file) {
			return rec.Directions.SHA256
		}
	}
	if meta, err := normalize.ReadMeta(filepath.Join(dir, DirectionsFile)); err == nil {
		return meta.SHA256
	}
	return ""
}

// CheckPaths refuses paths projected on other directions than those of
// the surface s read from file: drawn over it, their coordinates would be
// read on axes that mean something else. A path or a surface whose
// directions are not recorded passes.
func CheckPaths(file string, s *surface.Surface, paths []export.Path) error {
	want := s.Provenance.Directions.SHA256
	for _, p := range paths {
		if p.Directions != "" && want != "" && p.Directions != want {
			return fmt.Errorf("landscape: path %s was projected on other directions (SHA-256 %.12s…) than those of the surface %s (%.12s…): "+
				"its coordinates are not the surface's; draw it over a surface computed with --directions %s",
				p.File, p.Directions, file, want, filepath.Join(filepath.Dir(p.File), DirectionsFile))
		}
	}
	return nil
}

// GlobCheckpoints expands each glob pattern (empty ones are skipped), its
// matches in natural order (see [NaturalCompare]): the checkpoints of a
// training run in training order. A pattern that matches nothing is an
// error.
func GlobCheckpoints(patterns ...string) ([]string, error) {
	var out []string
	for _, pat := range patterns {
		pat = strings.TrimSpace(pat)
		if pat == "" {
			continue
		}
		m, err := filepath.Glob(pat)
		if err != nil {
			return nil, fmt.Errorf("landscape: checkpoints %q: %w", pat, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("landscape: no checkpoint matches %q", pat)
		}
		slices.SortFunc(m, NaturalCompare)
		out = append(out, m...)
	}
	return out, nil
}

// NaturalCompare orders strings with runs of digits compared as numbers,
// so that model_2.t7 comes before model_10.t7 (and model_2 before
// model_02).
func NaturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := len(na) - len(nb); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			if c := da - db; c != 0 { // fewer leading zeros first
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
