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
)

// plotFlags are the figure flags that plot and compare share.
type plotFlags struct {
	metric, formats, levels string
	log                     bool
	size                    string
	dpi                     int
}

func (f *plotFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.metric, "metric", "", "metric to draw (default train_loss, else the first *_loss column)")
	fs.StringVar(&f.formats, "format", "png,svg,pdf", "comma-separated output formats: png, svg, pdf")
	fs.StringVar(&f.levels, "levels", "", "contour levels MIN:MAX:STEP as numpy.arange (default 0.1:10:0.5, the reference's) or a comma-separated list")
	fs.BoolVar(&f.log, "log", false, "logarithmic colour scale (and 3D z axis, 1D loss axis)")
	fs.StringVar(&f.size, "size", "", "figure size WxH in inches (default 6x4.5; larger for comparisons)")
	fs.IntVar(&f.dpi, "dpi", 150, "PNG resolution in dots per inch")
}

// options turns the flags into plot options and the list of formats.
func (f *plotFlags) options() (*export.PlotOptions, []string, error) {
	o := &export.PlotOptions{Metric: f.metric, Log: f.log, DPI: f.dpi}
	if f.dpi < 10 || f.dpi > 2400 {
		return nil, nil, usagef("--dpi %d: want 10 to 2400", f.dpi)
	}
	var err error
	if o.Levels, o.VMin, o.VMax, err = parseLevels(f.levels); err != nil {
		return nil, nil, err
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
		if !slices.Contains(export.Formats(), s) {
			return nil, nil, usagef("--format %q: want png, svg or pdf, comma-separated", f.formats)
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
	fs := newFlags("plot", "SURFACE.parquet --out DIR [flags]", stderr)
	var pf plotFlags
	pf.register(fs)
	out := fs.String("out", "", "output folder, created if missing")
	kinds := fs.String("kind", "", "figures to draw, comma-separated: contour, filled, heatmap, 3d (2D surfaces), 1d (1D); default all that suit the surface")
	paths := fs.String("path", "", "trajectory files (path.csv of 'landscape trajectory'), comma-separated, drawn over the 2D figures")
	azimuth := fs.Float64("azimuth", 45, "3D view: azimuth in degrees, as matplotlib's view_init (the reference's figures use -60)")
	elevation := fs.Float64("elevation", 30, "3D view: elevation in degrees")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want one surface file")
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
	return runPlot(ctx, fs.Arg(0), *out, ks, formats, o, stdout)
}

// runPlot reads the surface in path and writes its figures of the given
// kinds (nil: all that suit it) in each format to the folder out.
func runPlot(ctx context.Context, path, out string, kinds []export.PlotKind, formats []string, o *export.PlotOptions, stdout io.Writer) error {
	s, err := export.ReadParquet(path)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	paths, err := export.WritePlots(out, base, s, kinds, formats, o)
	for _, p := range paths {
		fmt.Fprintln(stdout, "wrote", p)
	}
	if err != nil {
		return err
	}
	return ctx.Err()
}
