package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/landscape/surface"
)

func cmdMerge(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("merge", "DIR|PART... --out surface.parquet", stderr)
	out := fs.String("out", "", "output Parquet file")
	overwrite := fs.Bool("overwrite", false, "replace an --out that holds another computation or is no surface")
	if err := parse(fs, args, 1<<20); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 {
		return usagef("give the folder of part files (or the files) and --out")
	}
	return runMerge(fs.Args(), *out, *overwrite, stdout)
}

// runMerge reads the part files (a folder's part-*.parquet, or files
// named one by one), checks they form one complete surface and writes it.
// An existing out is replaced only where it is this surface already (the
// merge run again) or with overwrite.
func runMerge(inputs []string, out string, overwrite bool, stdout io.Writer) error {
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		return usagef("--out %s is a folder: give the file to write the surface to, e.g. --out surface.parquet", out)
	}
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
			return fmt.Errorf("%w\n  (a part that cannot be read: delete it and run its shard again, which computes it anew)", err)
		}
		if !s.Provenance.Progress.Complete() {
			return fmt.Errorf("%s is unfinished: %d of %d points (run its shard again to resume it)", f, s.Provenance.Progress.Done, s.Provenance.Progress.Total)
		}
		surfaces = append(surfaces, s)
	}
	merged, err := surface.Merge(surfaces)
	var pe *surface.PartError
	var m *surface.Mismatch
	switch {
	case errors.As(err, &pe) && errors.As(pe.Err, &m):
		return fmt.Errorf("%s (shard %s) is not of the surface of %s: %s; rerun that shard with the same flags as the others, or leave it out",
			files[pe.Part], pe.Shard, files[0], m.Between(files[0], files[pe.Part]))
	case errors.As(err, &pe):
		return fmt.Errorf("%s (shard %s): %w", files[pe.Part], pe.Shard, pe.Err)
	case err != nil:
		return err
	}
	if !overwrite {
		if err := checkReplace(out, merged); err != nil {
			return err
		}
	}
	if err := export.WriteParquet(out, merged); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d points from %d parts\n", out, len(merged.Points), len(files))
	return nil
}

// checkReplace refuses to replace an existing out with the surface s
// unless out holds s's computation already: a merge is rerun, but a
// surface of another computation, or a file that is no surface, is not
// lost to a mistyped --out.
func checkReplace(out string, s *surface.Surface) error {
	if _, err := os.Stat(out); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	prev, err := export.ReadParquet(out)
	if err != nil {
		return fmt.Errorf("--out %s exists and is not a surface (%v): remove it, choose another --out, or pass --overwrite", out, err)
	}
	if err := s.Provenance.Compatible(prev.Provenance, false); err != nil {
		msg := err.Error()
		var m *surface.Mismatch
		if errors.As(err, &m) {
			msg = m.Between("the parts", out)
		}
		return fmt.Errorf("--out %s holds another computation (%s): remove it, choose another --out, or pass --overwrite", out, msg)
	}
	return nil
}
