package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/landscape-go/landscape/export"
)

func cmdConvert(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("convert", "SURFACE.parquet [--to csv|jsonl] [--out FILE]", stderr)
	to := fs.String("to", "", "output format: csv (with a header line) or jsonl (JSON lines) (default: the extension of --out, else csv)")
	out := fs.String("out", "", "output file (default SURFACE.csv or SURFACE.jsonl beside the input); the provenance goes to OUT"+export.ProvenanceSuffix)
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want one surface file")
	}
	name := *to
	if name == "" {
		name = strings.TrimPrefix(filepath.Ext(*out), ".")
		if _, err := export.ParseTextFormat(name); err != nil {
			name = "csv"
		}
	}
	f, err := export.ParseTextFormat(name)
	if err != nil {
		return usageError{err}
	}
	return runConvert(ctx, fs.Arg(0), *out, f, stdout)
}

// runConvert reads the surface in path and writes it in format f to out,
// or beside path with f's extension if out is empty, with its provenance
// in the file beside that.
func runConvert(ctx context.Context, path, out string, f export.TextFormat, stdout io.Writer) error {
	s, err := export.ReadParquet(path)
	if err != nil {
		return err
	}
	if out == "" {
		out = strings.TrimSuffix(path, filepath.Ext(path)) + "." + f.String()
	}
	if err := export.WriteText(out, s, f); err != nil {
		return err
	}
	points := fmt.Sprintf("%d points", len(s.Points))
	if p := s.Provenance.Progress; p.Total > 0 && !p.Complete() {
		points = fmt.Sprintf("%d of %d points (an unfinished run: the command that wrote %s finishes it)", p.Done, p.Total, path)
	}
	fmt.Fprintf(stdout, "wrote %s: %s, provenance in %s\n", out, points, out+export.ProvenanceSuffix)
	return ctx.Err()
}
