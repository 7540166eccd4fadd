package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/export/view"
)

func cmdView(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("view", "SURFACE.parquet [...] [--out FILE.html|DIR] [--mesh FILE.obj|.ply|.glb|.gltf] [flags]", stderr)
	out := fs.String("out", "", "the page: FILE.html, or a folder, created if missing, to write index.html in (default SURFACE.html beside a single surface)")
	metric := fs.String("metric", "", "metric to show (default train_loss, else the first *_loss column)")
	levels := fs.String("levels", "", "contour levels MIN:MAX:STEP as numpy.arange (default 0.1:10:0.5, the reference's) or a comma-separated list")
	log := fs.Bool("log", false, "logarithmic colour scale and 3D z axis")
	names := fs.String("names", "", "comma-separated labels for the surfaces (default: their model names, with file names where those repeat, or folder names where the files share one)")
	title := fs.String("title", "", "the page's title (default: the surfaces' labels)")
	mesh := fs.String("mesh", "", "also write the 3D surface as a mesh for Blender, ParaView or a glTF viewer: files ending .obj, .ply, .glb or .gltf, comma-separated (one surface only)")
	if err := parse(fs, args, 1000); err != nil {
		return err
	}
	if fs.NArg() < 1 {
		return usagef("want at least one surface file")
	}
	if *out == "" && fs.NArg() > 1 {
		return usagef("--out is required with several surfaces")
	}
	o := &export.PlotOptions{Metric: *metric, Log: *log}
	var err error
	if o.Levels, o.VMin, o.VMax, err = export.ParseLevels(*levels); err != nil {
		return usagef("--%v", err)
	}
	labels, err := parseNames(*names, fs.NArg())
	if err != nil {
		return err
	}
	var meshes []string
	if *mesh != "" {
		if fs.NArg() > 1 {
			return usagef("--mesh writes one surface; %d are given", fs.NArg())
		}
		for _, m := range strings.Split(*mesh, ",") {
			if _, err := export.MeshFormatOf(m); err != nil {
				return usagef("--mesh %q: want files ending .obj, .ply, .glb or .gltf", m)
			}
			meshes = append(meshes, m)
		}
	}
	return runView(ctx, fs.Args(), labels, *out, *title, o, meshes, stdout)
}

// runView reads the surfaces in paths and writes the interactive page of
// their metric o.Metric to out (a .html file, or a folder that gets
// index.html; "" means the first surface's path with .html for .parquet),
// then the meshes of the first surface. Labels name the surfaces; nil
// means [export.Labels]. The title defaults to the labels.
func runView(ctx context.Context, paths, labels []string, out, title string, o *export.PlotOptions, meshes []string, stdout io.Writer) error {
	ss, err := export.ReadParquetFiles(paths...)
	if err != nil {
		return err
	}
	if labels == nil {
		labels = export.Labels(paths, ss)
	}
	panels := make([]*view.Panel, len(ss))
	for i, s := range ss {
		if panels[i], err = view.NewPanel(s, &view.Options{Plot: o, Label: labels[i]}); err != nil {
			return fmt.Errorf("%s: %w", paths[i], err)
		}
	}
	page := view.PagePath(paths[0], out)
	if title == "" {
		title = "landscape: " + strings.Join(labels, ", ")
	}
	if err := os.MkdirAll(filepath.Dir(page), 0o755); err != nil {
		return err
	}
	if err := view.WritePage(page, title, panels...); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: open it in a browser\n", page)
	for _, m := range meshes {
		if err := export.WriteMesh(m, ss[0], &export.MeshOptions{Plot: o}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", m)
	}
	return ctx.Err()
}

// parseNames parses --names, comma-separated labels for n surfaces; ""
// gives nil, for the default names.
func parseNames(names string, n int) ([]string, error) {
	if names == "" {
		return nil, nil
	}
	labels := strings.Split(names, ",")
	if len(labels) != n {
		return nil, usagef("--names has %d labels for %d surfaces", len(labels), n)
	}
	return labels, nil
}
