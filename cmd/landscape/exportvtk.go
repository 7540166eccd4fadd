package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/landscape-go/landscape/export"
)

func cmdExportVTK(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export-vtk", "SURFACE.parquet [--out F.vtp] [flags]", stderr)
	out := fs.String("out", "", "output .vtp file (default SURFACE_METRIC[_zmax=Z][_log].vtp beside the input, as the reference names it)")
	metric := fs.String("metric", "", "metric to write (default train_loss, else the first *_loss column)")
	ascii := fs.Bool("ascii", false, "write numbers as text rather than base64 binary")
	log := fs.Bool("log", false, "write z = ln(z + 0.1), as the reference's --log")
	zmax := fs.Float64("zmax", 0, "clip values above this (applied before --log); 0 = no clipping")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want one surface file")
	}
	if *zmax < 0 || math.IsNaN(*zmax) {
		return usagef("--zmax %g: want a positive number, or 0 for none", *zmax)
	}
	o := &export.VTKOptions{Metric: *metric, ASCII: *ascii, Log: *log, ZMax: *zmax}
	return runExportVTK(ctx, fs.Arg(0), *out, o, stdout)
}

// runExportVTK reads the surface in path and writes it as VTK PolyData to
// out, or to the reference's file name beside path if out is empty.
func runExportVTK(ctx context.Context, path, out string, o *export.VTKOptions, stdout io.Writer) error {
	s, err := export.ReadParquet(path)
	if err != nil {
		return err
	}
	if o.Metric == "" {
		o.Metric = export.DefaultMetric(s)
	}
	if out == "" {
		out = strings.TrimSuffix(path, filepath.Ext(path)) + "_" + o.Metric
		if o.ZMax > 0 {
			out += "_zmax=" + strconv.FormatFloat(o.ZMax, 'g', -1, 64)
		}
		if o.Log {
			out += "_log"
		}
		out += ".vtp"
	}
	if err := export.WriteVTK(out, s, o); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %s of %d points\n", out, o.Metric, len(s.Points))
	return ctx.Err()
}
