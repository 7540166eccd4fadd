package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/landscape/surface"
)

func cmdMerge(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("merge", "DIR|PART... --out surface.parquet", stderr)
	out := fs.String("out", "", "output Parquet file")
	if err := parse(fs, args, 1<<20); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 {
		return usagef("give the folder of part files (or the files) and --out")
	}
	return runMerge(fs.Args(), *out, stdout)
}

// runMerge reads the part files (a folder's part-*.parquet, or files
// named one by one), checks they form one complete surface and writes it.
func runMerge(inputs []string, out string, stdout io.Writer) error {
	var files []string
	for _, in := range inputs {
		st, err := os.Stat(in)
		if err != nil {
			return err
		}
		if !st.IsDir() {
			files = append(files, in)
			continue
		}
		parts, err := filepath.Glob(filepath.Join(in, "part-*-of-*.parquet"))
		if err != nil {
			return err
		}
		if len(parts) == 0 {
			return fmt.Errorf("%s holds no part-*-of-*.parquet files", in)
		}
		files = append(files, parts...)
	}
	if outInfo, err := os.Stat(out); err == nil {
		for _, f := range files {
			if fi, err := os.Stat(f); err == nil && os.SameFile(fi, outInfo) {
				return usagef("--out %s is one of the parts being merged", out)
			}
		}
	}
	var surfaces []*surface.Surface
	for _, f := range files {
		s, err := export.ReadParquet(f)
		if err != nil {
			return err
		}
		if !s.Provenance.Progress.Complete() {
			return fmt.Errorf("%s is unfinished: %d of %d points (run its shard again to resume it)", f, s.Provenance.Progress.Done, s.Provenance.Progress.Total)
		}
		surfaces = append(surfaces, s)
	}
	merged, err := surface.Merge(surfaces)
	if err != nil {
		return err
	}
	if err := export.WriteParquet(out, merged); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d points from %d parts\n", out, len(merged.Points), len(files))
	return nil
}
