package main

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/demo"
	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape"
	"github.com/landscape-go/landscape/nets"
)

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "[--out DIR]", stderr)
	out := fs.String("out", "landscape-demo", "output folder")
	samples := fs.Int("samples", demo.DefaultSamples, fmt.Sprintf("test images to average over (at most %d are embedded)", demo.Images))
	axis := fs.String("grid", demo.DefaultGrid, "the x and y axes, min:max:num")
	quiet := fs.Bool("quiet", false, "no progress output")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	ax, err := grid.ParseAxis(*axis)
	if err != nil {
		return usagef("--grid: %v", err)
	}
	if *samples < 1 || *samples > demo.Images {
		return usagef("--samples %d: want 1 to %d", *samples, demo.Images)
	}
	return runDemo(ctx, *out, *samples, ax, *quiet, stdout, stderr)
}

// runDemo is the showcase: the embedded networks, the same architecture
// with and without skip connections, each evaluated on a 2D grid of
// filter-normalised random directions (biases and BN ignored, BN in eval
// mode) over Fashion-MNIST test images; then every plot of each surface,
// the comparison figure and table, and an index.html that shows them.
func runDemo(ctx context.Context, out string, samples int, ax grid.Axis, quiet bool, stdout, stderr io.Writer) error {
	start := time.Now()
	assets := filepath.Join(out, ".assets")
	dataDir, err := demo.Extract(assets)
	if err != nil {
		return err
	}
	defer os.RemoveAll(assets)
	fmt.Fprintf(stdout, "landscape demo: %d networks on %d Fashion-MNIST test images (%dx%d), %dx%d grid over [%g, %g]²\n",
		len(demo.Showcase), samples, demo.Size, demo.Size, ax.Num, ax.Num, ax.Min, ax.Max)
	var surfaces []string
	for i, m := range demo.Showcase {
		cfg := landscape.Config{
			Model:       m.Model,
			ModelConfig: nets.Config{InChannels: 1, Height: demo.Size, Width: demo.Size, Classes: 10},
			Checkpoint:  filepath.Join(assets, m.Checkpoint),
			Data:        data.Spec{Kind: data.FashionMNIST, Path: dataDir},
			Splits:      []string{"test"},
			DataOptions: data.Options{Samples: samples},
			Seed:        123,
			Grid:        grid.Grid{X: ax, Y: &ax},
		}
		path := filepath.Join(out, m.Model+".parquet")
		fmt.Fprintf(stdout, "[%d/%d] %s\n", i+1, len(demo.Showcase), m.Label)
		if err := runSurface(ctx, cfg, path, runOptions{quiet: quiet, overwrite: true}, stdout, stderr); err != nil {
			return err
		}
		surfaces = append(surfaces, path)
	}

	plots := filepath.Join(out, "plots")
	for _, path := range surfaces {
		if err := runPlot(ctx, path, plots, nil, []string{"png"}, &export.PlotOptions{}, io.Discard); err != nil {
			return err
		}
	}
	labels := make([]string, len(demo.Showcase))
	for i, m := range demo.Showcase {
		labels[i] = m.Label
	}
	if err := runCompare(ctx, surfaces, labels, plots, []string{"png"}, &export.PlotOptions{}, &export.SummaryOptions{Radii: []float64{0.25, 0.5, 1}}, stdout); err != nil {
		return err
	}
	index := filepath.Join(out, "index.html")
	if err := writeDemoIndex(index, surfaces, labels, plots, samples, ax); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%.0fs in all): open it in a browser\n", index, time.Since(start).Seconds())
	return nil
}

// writeDemoIndex writes the page that shows every picture of the demo with
// a one-line caption and the comparison table.
func writeDemoIndex(path string, surfaces, labels []string, plots string, samples int, ax grid.Axis) error {
	type picture struct{ File, Caption string }
	type section struct {
		Title    string
		Pictures []picture
	}
	rel := func(p string) string { r, _ := filepath.Rel(filepath.Dir(path), p); return filepath.ToSlash(r) }
	var sections []section
	kinds := []struct{ suffix, caption string }{
		{"3dsurface", "3D surface of the test loss: height and colour are the loss at θ + αu + βv"},
		{"2dcontour", "Contour lines of the test loss (levels 0.1 to 10, step 0.5, as the paper's figures)"},
		{"2dcontourf", "Filled contours of the test loss"},
		{"2dheat", "Heat map of the test loss"},
	}
	for _, k := range kinds {
		var s section
		for i, sp := range surfaces {
			base := filepath.Base(sp[:len(sp)-len(filepath.Ext(sp))])
			matches, _ := filepath.Glob(filepath.Join(plots, base+"_test_loss_"+k.suffix+".png"))
			if len(matches) == 0 {
				matches, _ = filepath.Glob(filepath.Join(plots, base+"*_"+k.suffix+".png"))
			}
			for _, m := range matches {
				s.Pictures = append(s.Pictures, picture{rel(m), labels[i] + ": " + k.caption})
			}
		}
		if len(s.Pictures) > 0 {
			s.Title = k.caption
			sections = append(sections, s)
		}
	}
	compare, _ := filepath.Glob(filepath.Join(plots, "compare_*.png"))
	table, _ := filepath.Glob(filepath.Join(plots, "compare_*.md"))
	var md string
	if len(table) > 0 {
		b, _ := os.ReadFile(table[0])
		md = string(b)
	}
	var cmp []picture
	for _, c := range compare {
		cmp = append(cmp, picture{rel(c), "The two surfaces side by side, on one colour scale and one set of levels"})
	}
	var files []string
	for _, s := range surfaces {
		files = append(files, rel(s))
	}
	var buf bytes.Buffer
	err := demoPage.Execute(&buf, map[string]any{
		"Labels": labels, "Samples": samples, "Grid": fmt.Sprintf("%d×%d over [%g, %g]²", ax.Num, ax.Num, ax.Min, ax.Max),
		"Compare": cmp, "Sections": sections, "Table": md, "Files": files, "Size": demo.Size,
	})
	if err != nil {
		return err
	}
	return writeFileAtomic(path, buf.Bytes())
}

var demoPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>landscape demo: skip connections and the loss landscape</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
figure{display:inline-block;margin:0 1em 1.5em 0;vertical-align:top;max-width:560px}
img{max-width:100%;border:1px solid #ddd}
figcaption{font-size:.9em;color:#444}
pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:.85em}
</style></head><body>
<h1>Skip connections and the loss landscape</h1>
<p>The same network, {{index .Labels 0}} and {{index .Labels 1}}, trained the same way on Fashion-MNIST
({{.Size}}×{{.Size}} images), evaluated on {{.Samples}} test images at θ + αu + βv for a {{.Grid}} grid of
(α, β): u and v are random directions, filter-normalised so that every filter of the network is perturbed in
proportion to its size (Li et al., NeurIPS 2018). With skip connections the surface is a steep, convex bowl;
without them the basin is flatter and its outer contours wander: far more grid points have negative curvature
(see the table). The net without skip connections is also the harder one to train (training loss 0.26 against
0.01 after the same 15 epochs). These are small networks trained for minutes on 14×14 images, not the paper's
fully trained CIFAR-10 networks of Fig. 5, so the contrast is milder than there.</p>
{{range .Compare}}<figure><img src="{{.File}}" alt="{{.Caption}}"><figcaption>{{.Caption}}</figcaption></figure>{{end}}
<h2>How the two surfaces compare</h2>
<pre>{{.Table}}</pre>
{{range .Sections}}<h2>{{.Title}}</h2>
{{range .Pictures}}<figure><img src="{{.File}}" alt="{{.Caption}}"><figcaption>{{.Caption}}</figcaption></figure>
{{end}}{{end}}
<h2>Data</h2>
<p>The surfaces, one row per grid point with their provenance, are in {{range .Files}}<code>{{.}}</code> {{end}}(Parquet:
<code>pandas.read_parquet(f).pivot(index="y", columns="x", values="test_loss")</code>).</p>
</body></html>
`))
