package landscape

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/normalize"
)

// PlotSurfaceFile reads the surface in file and writes its figures of the
// given kinds (nil: all that suit it) in each format to the folder out,
// created if missing: those of each of metrics, or if there are none, of
// o.Metric, or if that is empty of each metric [export.PlotMetrics] gives.
// Axes and marks that o leaves to the provenance come from the surface's
// direction file where it can be read (see [Annotate]). Paths in o are
// drawn over the figures of a 2D surface; a 1D one with paths is an
// error. It returns the files written, also when it fails part way.
func PlotSurfaceFile(file, out string, kinds []export.PlotKind, formats []string, o *export.PlotOptions, metrics ...string) ([]string, error) {
	s, err := export.ReadParquet(file)
	if err != nil {
		return nil, err
	}
	if len(o.Paths) > 0 && s.Is1D() {
		return nil, fmt.Errorf("landscape: plot %s: a 1D surface has no plane to draw a trajectory's path on: --path draws over a 2D surface's contours and heat map", file)
	}
	if err := CheckPaths(file, s, o.Paths); err != nil {
		return nil, err
	}
	for _, m := range metrics {
		if !slices.Contains(s.Metrics, m) {
			return nil, fmt.Errorf("%s has no metric %q; it has %s", file, m, strings.Join(s.Metrics, ", "))
		}
	}
	if len(metrics) == 0 {
		metrics = []string{o.Metric}
	}
	opt := *o
	Annotate(&opt, s, file)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	var written []string
	for _, m := range metrics {
		opt.Metric = m
		paths, err := export.WritePlots(out, base, s, kinds, formats, &opt)
		written = append(written, paths...)
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// PlotPathFile draws the trajectory in file (a path.csv that
// [Trajectory.Write] writes) alone, with o.Paths beside it, and writes the
// figure in each format to the folder out as FOLDER_path.FORMAT, FOLDER
// being the folder of the file. The checkpoints' names and the axes' come
// from the direction file in the same folder, if it is there. It returns
// the files written, also when it fails part way.
func PlotPathFile(file, out string, formats []string, o *export.PlotOptions) ([]string, error) {
	if _, err := os.Stat(file + ".provenance.json"); err == nil {
		return nil, fmt.Errorf("%s is a surface written by 'landscape convert'; plot its Parquet file", file)
	}
	path, err := ReadPath(file)
	if err != nil {
		return nil, err
	}
	dir, _ := filepath.Abs(filepath.Dir(file))
	path.Label = filepath.Base(dir)
	opt := *o
	if meta, err := normalize.ReadMeta(filepath.Join(filepath.Dir(file), DirectionsFile)); err == nil {
		NameAxes(&opt, meta)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	base := path.Label + "_" + strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	return export.WritePathPlots(out, base, append([]export.Path{path}, opt.Paths...), formats, &opt)
}
