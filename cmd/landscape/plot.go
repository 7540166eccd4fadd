package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/landscape"
	"github.com/landscape-go/landscape/normalize"
)

// plotFlags are the figure flags that plot and compare share.
type plotFlags struct {
	metric, formats, levels, colormap string
	log                               bool
	size                              string
	dpi                               int
	// several lets --metric name several metrics, comma-separated.
	several bool
}

func (f *plotFlags) register(fs *flag.FlagSet) {
	if f.several {
		fs.StringVar(&f.metric, "metric", "", "metrics to draw, comma-separated, e.g. train_loss,test_loss (default every *_loss column; of a 1D surface, train_loss's figure shows test_loss too)")
	} else {
		fs.StringVar(&f.metric, "metric", "", "metric to draw (default train_loss, else the first *_loss column)")
	}
	fs.StringVar(&f.formats, "format", "png,svg,pdf", "comma-separated output formats: png, svg, pdf, jpg")
	fs.StringVar(&f.levels, "levels", "", "contour levels MIN:MAX:STEP as numpy.arange (default 0.1:10:0.5, the reference's) or a comma-separated list")
	fs.BoolVar(&f.log, "log", false, "logarithmic colour scale (and 3D z axis, 1D loss axis)")
	fs.StringVar(&f.colormap, "colormap", "", "colour map: "+strings.Join(export.ColorMapNames(), ", ")+", or one of them with _r, reversed (default viridis, and coolwarm for the 3D surface)")
	fs.StringVar(&f.size, "size", "", "figure size WxH in inches (default 6x4.5; larger for comparisons)")
	fs.IntVar(&f.dpi, "dpi", 150, "PNG and JPEG resolution in dots per inch")
}

// metrics returns the metrics --metric names, in order, each once.
func (f *plotFlags) metrics() []string {
	var ms []string
	for _, m := range strings.Split(f.metric, ",") {
		if m = strings.TrimSpace(m); m != "" && !slices.Contains(ms, m) {
			ms = append(ms, m)
		}
	}
	return ms
}

// options turns the flags into plot options and the list of formats. With
// several metrics, o.Metric is empty: the caller draws each of
// [plotFlags.metrics].
func (f *plotFlags) options() (*export.PlotOptions, []string, error) {
	o := &export.PlotOptions{Log: f.log, DPI: f.dpi}
	if f.dpi < 10 || f.dpi > 2400 {
		return nil, nil, usagef("--dpi %d: want 10 to 2400", f.dpi)
	}
	switch ms := f.metrics(); {
	case len(ms) == 1:
		o.Metric = ms[0]
	case len(ms) > 1 && !f.several:
		return nil, nil, usagef("--metric %q: want one metric", f.metric)
	}
	var err error
	if o.Levels, o.VMin, o.VMax, err = parseLevels(f.levels); err != nil {
		return nil, nil, err
	}
	if f.colormap != "" {
		if o.ColorMap, err = export.ParseColorMap(f.colormap); err != nil {
			return nil, nil, usageError{fmt.Errorf("--colormap: %w", err)}
		}
	}
	if f.size != "" {
		ws, hs, ok := strings.Cut(f.size, "x")
		w, err1 := strconv.ParseFloat(ws, 64)
		h, err2 := strconv.ParseFloat(hs, 64)
		if !ok || err1 != nil || err2 != nil || !(w >= 1 && w <= 100 && h >= 1 && h <= 100) {
			return nil, nil, usagef("--size %q: want WxH in inches, e.g. 6x4.5", f.size)
		}
		o.Width, o.Height = vg.Length(w)*vg.Inch, vg.Length(h)*vg.Inch
	}
	var formats []string
	for _, s := range strings.Split(f.formats, ",") {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "jpeg" {
			s = "jpg"
		}
		if !slices.Contains(export.Formats(), s) {
			return nil, nil, usagef("--format %q: want png, svg, pdf or jpg, comma-separated", f.formats)
		}
		if !slices.Contains(formats, s) {
			formats = append(formats, s)
		}
	}
	return o, formats, nil
}

// parseLevels parses --levels: "" for the defaults, MIN:MAX:STEP for
// numpy.arange(MIN, MAX, STEP) with the colour scale from MIN to MAX, or a
// comma-separated list with the scale from its least to its greatest.
func parseLevels(s string) (levels []float64, vmin, vmax float64, err error) {
	if s == "" {
		return nil, 0, 0, nil
	}
	if parts := strings.Split(s, ":"); len(parts) == 3 {
		var v [3]float64
		for i, p := range parts {
			if v[i], err = strconv.ParseFloat(strings.TrimSpace(p), 64); err != nil {
				return nil, 0, 0, usagef("--levels %q: %q is not a number", s, p)
			}
		}
		lo, hi, step := v[0], v[1], v[2]
		n := math.Ceil((hi - lo) / step)
		if !(step > 0) || !(hi > lo) || !(n <= 1000) {
			return nil, 0, 0, usagef("--levels %q: want MIN:MAX:STEP with MIN < MAX and at most 1000 levels", s)
		}
		for i := range int(n) {
			levels = append(levels, lo+float64(i)*step)
		}
		return levels, lo, hi, nil
	}
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, 0, 0, usagef("--levels %q: want MIN:MAX:STEP or comma-separated numbers", s)
		}
		levels = append(levels, v)
	}
	slices.Sort(levels)
	if levels[0] == levels[len(levels)-1] {
		return levels, 0, 0, nil
	}
	return levels, levels[0], levels[len(levels)-1], nil
}

func cmdPlot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plot", "SURFACE.parquet | PATH.csv --out DIR [flags]", stderr)
	pf := plotFlags{several: true}
	pf.register(fs)
	out := fs.String("out", "", "output folder, created if missing")
	kinds := fs.String("kind", "", "figures to draw, comma-separated: contour, filled, heatmap, 3d (2D surfaces), 1d (1D); default all that suit the surface")
	paths := fs.String("path", "", "trajectory files (path.csv of 'landscape trajectory'), comma-separated, drawn over the 2D figures")
	slice := fs.String("slice", "", "draw one grid line of a 2D surface as a 1D curve: y=VALUE, the row nearest it (along x), or x=VALUE, the column")
	azimuth := fs.Float64("azimuth", 45, "3D view: azimuth in degrees, as matplotlib's view_init (the reference's figures use -60)")
	elevation := fs.Float64("elevation", 30, "3D view: elevation in degrees")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want one surface file, or a trajectory's path.csv")
	}
	if *out == "" {
		return usagef("--out is required")
	}
	o, formats, err := pf.options()
	if err != nil {
		return err
	}
	o.Azimuth, o.Elevation = *azimuth, *elevation
	if o.Paths, err = landscape.ReadPaths(strings.Split(*paths, ",")...); err != nil {
		return err
	}
	if isPathFile(fs.Arg(0)) {
		for _, name := range []string{"metric", "kind", "slice", "levels", "log", "colormap", "azimuth", "elevation"} {
			if flagSet(fs, name) {
				return usagef("--%s draws surfaces; %s is a trajectory's path", name, fs.Arg(0))
			}
		}
		return runPathPlot(ctx, fs.Arg(0), *out, formats, o, stdout)
	}
	if o.Azimuth == 0 && o.Elevation == 0 {
		o.Elevation = 1e-9 // zero for both means the default view
	}
	var ks []export.PlotKind
	if *kinds != "" {
		for _, k := range strings.Split(*kinds, ",") {
			kind, err := export.ParsePlotKind(strings.TrimSpace(k))
			if err != nil {
				return usageError{err}
			}
			ks = append(ks, kind)
		}
	}
	if *slice != "" {
		sl, err := parseSlice(*slice)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(ks, func(k export.PlotKind) bool { return k != export.CurvePlot }) {
			return usagef("--slice draws the 1D figure; --kind %q asks for others", *kinds)
		}
		o.Slice = &sl
	}
	return runPlot(ctx, fs.Arg(0), *out, ks, formats, o, stdout, pf.metrics()...)
}

// parseSlice parses --slice: y=VALUE or x=VALUE.
func parseSlice(s string) (export.Slice, error) {
	name, value, ok := strings.Cut(s, "=")
	v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
	sl := export.Slice{At: v}
	switch strings.TrimSpace(name) {
	case "x":
		sl.Fixed = export.DimX
	case "y":
		sl.Fixed = export.DimY
	default:
		ok = false
	}
	if !ok || err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return sl, usagef("--slice %q: want y=VALUE or x=VALUE, e.g. y=0", s)
	}
	return sl, nil
}

// runPlot reads the surface in path and writes its figures of the given
// kinds (nil: all that suit it) in each format to the folder out: those
// of each of metrics, or if there are none, of o.Metric, or if that is
// empty of each metric [export.PlotMetrics] gives. Axes and marks that o
// leaves to the provenance come from the surface's direction file where
// it can be read (see [directionLabels]).
func runPlot(ctx context.Context, path, out string, kinds []export.PlotKind, formats []string, o *export.PlotOptions, stdout io.Writer, metrics ...string) error {
	s, err := export.ReadParquet(path)
	if err != nil {
		return err
	}
	for _, m := range metrics {
		if !slices.Contains(s.Metrics, m) {
			return fmt.Errorf("%s has no metric %q; it has %s", path, m, strings.Join(s.Metrics, ", "))
		}
	}
	if len(metrics) == 0 {
		metrics = []string{o.Metric}
	}
	opt := *o
	landscape.Annotate(&opt, s, path)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	for _, m := range metrics {
		opt.Metric = m
		paths, err := export.WritePlots(out, base, s, kinds, formats, &opt)
		for _, p := range paths {
			fmt.Fprintln(stdout, "wrote", p)
		}
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// isPathFile reports whether file is a trajectory's path (a .csv file)
// rather than a surface.
func isPathFile(file string) bool { return strings.EqualFold(filepath.Ext(file), ".csv") }

// runPathPlot draws the trajectory in the path file (a path.csv that
// "landscape trajectory" writes) alone, with o.Paths beside it, and writes
// the figure in each format to the folder out as FOLDER_path.FORMAT,
// FOLDER being the folder of the file. The checkpoints' names and the
// axes' come from the direction file in the same folder, if it is there.
func runPathPlot(ctx context.Context, file, out string, formats []string, o *export.PlotOptions, stdout io.Writer) error {
	if _, err := os.Stat(file + ".provenance.json"); err == nil {
		return fmt.Errorf("%s is a surface written by 'landscape convert'; plot its Parquet file", file)
	}
	path, err := landscape.ReadPath(file)
	if err != nil {
		return err
	}
	dir, _ := filepath.Abs(filepath.Dir(file))
	path.Label = filepath.Base(dir)
	opt := *o
	if meta, err := normalize.ReadMeta(filepath.Join(filepath.Dir(file), landscape.DirectionsFile)); err == nil {
		landscape.NameAxes(&opt, meta)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	base := path.Label + "_" + strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	paths, err := export.WritePathPlots(out, base, append([]export.Path{path}, opt.Paths...), formats, &opt)
	for _, p := range paths {
		fmt.Fprintln(stdout, "wrote", p)
	}
	if err != nil {
		return err
	}
	return ctx.Err()
}
