package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/landscape"
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
	if o.Levels, o.VMin, o.VMax, err = export.ParseLevels(f.levels); err != nil {
		return nil, nil, usagef("--%v", err)
	}
	if f.colormap != "" {
		if o.ColorMap, err = export.ParseColorMap(f.colormap); err != nil {
			return nil, nil, usageError{fmt.Errorf("--colormap: %w", err)}
		}
	}
	if f.size != "" {
		if o.Width, o.Height, err = export.ParseFigureSize(f.size); err != nil {
			return nil, nil, usagef("--%v", err)
		}
	}
	formats, err := export.ParseFormats(f.formats)
	if err != nil {
		return nil, nil, usagef("--%v", err)
	}
	return o, formats, nil
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
		return runPathPlot(fs.Arg(0), *out, formats, o, stdout)
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
		sl, err := export.ParseSlice(*slice)
		if err != nil {
			return usagef("--%v", err)
		}
		if slices.ContainsFunc(ks, func(k export.PlotKind) bool { return k != export.CurvePlot }) {
			return usagef("--slice draws the 1D figure; --kind %q asks for others", *kinds)
		}
		if len(o.Paths) > 0 {
			return usagef("--path draws over the 2D figures; --slice draws the 1D figure")
		}
		o.Slice = &sl
	}
	if len(o.Paths) > 0 && ks != nil && !slices.ContainsFunc(ks, drawsPaths) {
		return usagef("--path draws over the contour, filled and heatmap figures; --kind %q asks for none of them", *kinds)
	}
	return runPlot(fs.Arg(0), *out, ks, formats, o, stdout, pf.metrics()...)
}

// runPlot writes the figures of the surface in path (see
// [landscape.PlotSurfaceFile]) and names each file written.
func runPlot(path, out string, kinds []export.PlotKind, formats []string, o *export.PlotOptions, stdout io.Writer, metrics ...string) error {
	if strings.EqualFold(filepath.Ext(path), ".json") {
		return usagef("%s is JSON, not a surface: a report of 'landscape hessian' has its density figure beside it, and 'landscape compare A/%s B/%s --out DIR' compares reports",
			path, landscape.HessianFile, landscape.HessianFile)
	}
	written, err := landscape.PlotSurfaceFile(path, out, kinds, formats, o, metrics...)
	for _, p := range written {
		fmt.Fprintln(stdout, "wrote", p)
	}
	return err
}

// drawsPaths reports whether figures of kind k draw the trajectories of
// --path: the 2D maps do, the 3D surface and the 1D curve do not.
func drawsPaths(k export.PlotKind) bool {
	return k == export.ContourPlot || k == export.FilledContourPlot || k == export.HeatmapPlot
}

// isPathFile reports whether file is a trajectory's path (a .csv file)
// rather than a surface.
func isPathFile(file string) bool { return strings.EqualFold(filepath.Ext(file), ".csv") }

// runPathPlot draws the trajectory in file alone (see
// [landscape.PlotPathFile]) and names each file written.
func runPathPlot(file, out string, formats []string, o *export.PlotOptions, stdout io.Writer) error {
	written, err := landscape.PlotPathFile(file, out, formats, o)
	for _, p := range written {
		fmt.Fprintln(stdout, "wrote", p)
	}
	return err
}
