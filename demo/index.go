package demo

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/landscape-go/landscape/export/view"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/internal/atomicfile"
)

// WriteIndex writes the demo's page, path, which shows the interactive
// views of the surfaces (one panel each, in their order), then every
// picture of the demo (the figures in plots of the surfaces, labelled)
// with a one-line caption and the comparison table, atomically.
func WriteIndex(path string, surfaces, labels []string, views []*view.Panel, plots string, samples int, ax grid.Axis) error {
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
	// The curvature maps of "landscape demo --curvature", if made.
	var curv section
	for i, sp := range surfaces {
		base := filepath.Base(sp[:len(sp)-len(filepath.Ext(sp))])
		m := filepath.Join(plots, base+CurvatureSuffix+"_test_lambda_ratio_2dheat.png")
		if _, err := os.Stat(m); err == nil {
			curv.Pictures = append(curv.Pictures, picture{rel(m), labels[i] + ": |λmin/λmax| of the Hessian of the test loss at every point of a coarser grid on the same plane"})
		}
	}
	if len(curv.Pictures) > 0 {
		curv.Title = "Curvature: |λmin/λmax| of the Hessian, as the paper's Fig. 7 maps it (near 0: locally convex; large: strong negative curvature)"
		sections = append([]section{curv}, sections...)
	}
	// The race, if run: next to the page, in RaceDir.
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), RaceDir, "race_*_loss_2dcontour.png")); len(m) > 0 {
		sections = append(sections, section{
			Title: "Optimizers racing on one landscape",
			Pictures: []picture{{rel(m[0]), fmt.Sprintf("ResNet-56 trained from PyTorch's default initialisation by %s (optimizer:learning rate; "+
				"momentum is SGD's 0.9) on the same batches of embedded test images (the demo carries no training set). Each epoch's "+
				"weights are projected on the plane of the principal components of all the runs' checkpoints, centred on the first "+
				"run's final weights, over the loss on that plane. The other runs' weights lie off the plane: the loss under their "+
				"paths is the plane's, not theirs", strings.ReplaceAll(RaceOptimizers, ",", ", "))}},
		})
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
	var panels []template.HTML
	for _, v := range views {
		panels = append(panels, v.HTML())
	}
	var buf bytes.Buffer
	err := demoPage.Execute(&buf, map[string]any{
		"Head": view.Head(), "Views": panels, "Footer": view.Footer(),
		"Labels": labels, "Samples": samples, "Grid": fmt.Sprintf("%d×%d over [%g, %g]²", ax.Num, ax.Num, ax.Min, ax.Max),
		"Compare": cmp, "Sections": sections, "Table": md, "Files": files, "Size": Size,
	})
	if err != nil {
		return err
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
}

var demoPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>landscape demo: skip connections and the loss landscape</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
figure{display:inline-block;margin:0 1em 1.5em 0;vertical-align:top;max-width:560px}
img{max-width:100%;border:1px solid #ddd}
figcaption{font-size:.9em;color:#444}
pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:.85em}
</style>
{{.Head}}</head><body>
<h1>Skip connections and the loss landscape</h1>
<p>The same network, {{index .Labels 0}} and {{index .Labels 1}}, trained the same way on Fashion-MNIST
({{.Size}}×{{.Size}} images), evaluated on {{.Samples}} test images at θ + αu + βv for a {{.Grid}} grid of
(α, β): u and v are random directions, filter-normalised so that every filter of the network is perturbed in
proportion to its size (Li et al., NeurIPS 2018). With skip connections the surface is a steep, convex bowl;
without them the basin is flatter and its outer contours wander: far more grid points have negative curvature
(see the table). The net without skip connections is also the harder one to train (training loss 0.26 against
0.01 after the same 15 epochs). These are small networks trained for minutes on 14×14 images, not the paper's
fully trained CIFAR-10 networks of Fig. 5, so the contrast is milder than there.</p>
{{if .Views}}<p><b>Interactive:</b> drag a 3D surface to turn it, scroll to zoom; hover over the contours to read the loss and
accuracy at a grid point.</p>
{{range .Views}}{{.}}{{end}}<h2>Side by side, on one colour scale</h2>
{{end}}{{range .Compare}}<figure><img src="{{.File}}" alt="{{.Caption}}"><figcaption>{{.Caption}}</figcaption></figure>{{end}}
<h2>How the two surfaces compare</h2>
<pre>{{.Table}}</pre>
{{range .Sections}}<h2>{{.Title}}</h2>
{{range .Pictures}}<figure><img src="{{.File}}" alt="{{.Caption}}"><figcaption>{{.Caption}}</figcaption></figure>
{{end}}{{end}}
<h2>Data</h2>
<p>The surfaces, one row per grid point with their provenance, are in {{range .Files}}<code>{{.}}</code> {{end}}(Parquet:
<code>pandas.read_parquet(f).pivot(index="y", columns="x", values="test_loss")</code>).
<code>landscape view FILE.parquet</code> writes the interactive view of any surface.</p>
{{.Footer}}</body></html>
`))
