package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/landscape"
	"github.com/landscape-go/landscape/landscape/surface"
)

func cmdCompare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compare", "A.parquet B.parquet [...] | A/hessian.json B/hessian.json [...] --out DIR [flags]", stderr)
	var pf plotFlags
	pf.register(fs)
	out := fs.String("out", "", "output folder for the figure and the tables, created if missing")
	radii := fs.String("radii", "0.25,0.5,1", "radii of the circles around (0, 0) over which the mean rise of the metric is taken")
	threshold := fs.Float64("threshold", 0, "basin level: the area and widths where the metric is below it (default: each surface's centre value + --rise)")
	rise := fs.Float64("rise", 1, "with no --threshold, the basin level is the centre value plus this")
	paths := fs.String("path", "", "trajectory files (path.csv of 'landscape trajectory'), comma-separated, drawn over every panel")
	names := fs.String("names", "", "comma-separated labels for the surfaces or reports (default: their model names, with file names where those repeat, or folder names where the files share one)")
	tableOnly := fs.Bool("table-only", false, "write the tables only, no figure (for scripts that read the flatness figures)")
	if err := parse(fs, args, 1000); err != nil {
		return err
	}
	if fs.NArg() < 1 {
		return usagef("want at least one surface file")
	}
	if *out == "" {
		return usagef("--out is required")
	}
	o, formats, err := pf.options()
	if err != nil {
		return err
	}
	labels, err := parseNames(*names, fs.NArg())
	if err != nil {
		return err
	}
	if *tableOnly {
		formats = nil
	}
	isReport := func(file string) bool { return strings.EqualFold(filepath.Ext(file), ".json") }
	for _, f := range fs.Args()[1:] {
		if isReport(f) != isReport(fs.Arg(0)) {
			report, surf := f, fs.Arg(0)
			if isReport(surf) {
				report, surf = surf, f
			}
			return usagef("%s is a report of 'landscape hessian' (JSON), %s a surface: compare takes surfaces, or reports, not both", report, surf)
		}
	}
	if isReport(fs.Arg(0)) {
		if *paths != "" {
			return usagef("--path draws over surfaces; %s is a report of 'landscape hessian'", fs.Arg(0))
		}
		return compareHessians(fs.Args(), labels, *out, formats, stdout)
	}
	if o.Paths, err = landscape.ReadPaths(strings.Split(*paths, ",")...); err != nil {
		return err
	}
	so := &export.SummaryOptions{Threshold: *threshold, Rise: *rise}
	if *rise <= 0 || math.IsNaN(*rise) {
		return usagef("--rise %g: want a positive number", *rise)
	}
	for _, r := range strings.Split(*radii, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(r), 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return usagef("--radii %q: want positive numbers, comma-separated", *radii)
		}
		so.Radii = append(so.Radii, v)
	}
	return runCompare(ctx, fs.Args(), labels, *out, formats, o, so, stdout, stderr)
}

// runCompare reads the surfaces in paths, prints the table of their
// summaries and writes it as CSV and Markdown to out with the figure of
// their contours in each format, the axes named as plot names them
// ([landscape.AnnotateComparison]). Labels name the surfaces; nil means
// [export.Labels]. Surfaces on directions of different kinds get a note
// on stderr.
func runCompare(ctx context.Context, paths, labels []string, out string, formats []string, o *export.PlotOptions, so *export.SummaryOptions, stdout, stderr io.Writer) error {
	ss, err := export.ReadParquetFiles(paths...)
	if err != nil {
		return err
	}
	for i, s := range ss {
		if err := wholeSurface(paths[i], s); err != nil {
			return err
		}
	}
	if len(o.Paths) > 0 && ss[0].Is1D() {
		return fmt.Errorf("%s is a 1D surface, with no plane to draw a trajectory's path on: --path draws over 2D surfaces' contours", paths[0])
	}
	if labels == nil {
		labels = export.Labels(paths, ss)
	}
	for i, s := range ss {
		if err := landscape.CheckPaths(paths[i], s, o.Paths); err != nil {
			return err
		}
	}
	noteDirections(stderr, ss, paths)
	landscape.AnnotateComparison(o, ss, paths)
	sums, written, err := export.WriteComparison(out, ss, labels, formats, o, so)
	if err != nil {
		return err
	}
	if err := export.WriteSummaryText(stdout, sums); err != nil {
		return err
	}
	for _, f := range written {
		fmt.Fprintln(stdout, "wrote", f)
	}
	return nil
}

// noteDirections notes on w when the surfaces ss, read from paths, lie on
// directions of different kinds, naming each file's. Where their
// coordinates are not on one scale (a trajectory's principal components,
// unit vectors in weight space, and filter-normalised random directions,
// say), their shapes compare but their widths, areas and rises do not.
// Comparing them is still what a researcher may want, so it is a note,
// not an error.
func noteDirections(w io.Writer, ss []*surface.Surface, paths []string) {
	kinds := make([]string, len(ss))
	var known, scales []string
	for i, s := range ss {
		kind := landscape.DirectionsKind(s, paths[i])
		if kinds[i] = directionsInWords(kind, s.Provenance.Directions.Norm); kinds[i] == "" {
			continue
		}
		scale := kinds[i]
		if kind == "pca" || kind == "plane" || kind == "hessian" {
			scale = "unit vectors" // coordinates are distances in weight space
		}
		if !slices.Contains(known, kinds[i]) {
			known = append(known, kinds[i])
		}
		if !slices.Contains(scales, scale) {
			scales = append(scales, scale)
		}
	}
	switch {
	case len(known) < 2:
		return
	case len(scales) > 1:
		fmt.Fprintln(w, "note: the surfaces lie on directions of different kinds, whose coordinates are not on one scale: compare their shapes, not their widths, areas and rises")
	default:
		fmt.Fprintln(w, "note: the surfaces lie on directions of different kinds; their coordinates are distances in weight space in each, but along different directions")
	}
	for i, k := range kinds {
		if k == "" {
			k = "directions of a kind not recorded"
		}
		fmt.Fprintf(w, "  %s: %s\n", paths[i], k)
	}
}

// directionsInWords describes directions of the kind that
// [landscape.DirectionsKind] returns, normalised as norm says; "" for "".
func directionsInWords(kind, norm string) string {
	switch kind {
	case "":
		return ""
	case "pca":
		return "a trajectory's principal components (PCA)"
	case "plane":
		return "the plane through three models"
	case "hessian":
		return "the Hessian's top eigenvectors"
	case "target":
		return "the line to a target model"
	case "random":
		switch norm {
		case "":
			return "random directions"
		case "none":
			return "random directions, not normalised"
		}
		return "random directions, " + norm + "-normalised"
	}
	return kind + " directions"
}

// wholeSurface refuses a surface read from path that lacks points: a
// shard's part, or a run cut short. Its basin, widths and rise would be
// those of the points it happens to hold, computed as if the rest were
// outside the basin.
func wholeSurface(path string, s *surface.Surface) error {
	p := s.Provenance
	switch {
	case p.Shard.Count > 1:
		return fmt.Errorf("%s is shard %s of a surface, %d of its %d points: merge the parts first (landscape merge %s --out surface.parquet)",
			path, p.Shard, len(s.Points), p.Grid.Len(), filepath.Dir(path))
	case !p.Progress.Complete():
		return fmt.Errorf("%s is unfinished: %d of %d points (run its command again to finish it)", path, p.Progress.Done, p.Progress.Total)
	}
	return nil
}

// compareHessians compares the reports of 'landscape hessian' in files
// (see [landscape.CompareHessians]), labelled by labels or as surfaces are
// ([export.LabelsOf]).
func compareHessians(files, labels []string, out string, formats []string, stdout io.Writer) error {
	reps := make([]*landscape.HessianReport, len(files))
	models := make([]string, len(files))
	for i, f := range files {
		r, err := landscape.ReadHessianReport(f)
		if err != nil {
			return err
		}
		reps[i], models[i] = r, r.Model.Name
	}
	if labels == nil {
		labels = export.LabelsOf(files, models)
	}
	table, written, err := landscape.CompareHessians(out, reps, labels, formats)
	fmt.Fprint(stdout, table)
	for _, f := range written {
		fmt.Fprintln(stdout, "wrote", f)
	}
	return err
}
