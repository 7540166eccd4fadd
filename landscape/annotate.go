package landscape

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/landscape/surface"
	"github.com/landscape-go/landscape/normalize"
)

// Annotate fills in o, from the direction file the surface s was
// computed on, what the surface's provenance does not say (see
// [NameAxes]). It leaves o as it is if the file (looked for as recorded,
// then in the folder of the surface file at path) is gone or unreadable,
// or if its directions are not those of the surface.
func Annotate(o *export.PlotOptions, s *surface.Surface, path string) {
	if meta, ok := directionsMeta(s, path); ok {
		NameAxes(o, meta)
	}
}

// AnnotateComparison fills in o, for the comparison of the surfaces ss
// read from paths, what [Annotate] fills in for each: the names of the
// axes and the marks where the surfaces share them, else each panel's
// axes (o.PanelLabels) and no marks.
func AnnotateComparison(o *export.PlotOptions, ss []*surface.Surface, paths []string) {
	each := make([]export.PlotOptions, len(ss))
	same := true
	for i, s := range ss {
		each[i] = *o
		Annotate(&each[i], s, paths[i])
		same = same && each[i].XLabel == each[0].XLabel && each[i].YLabel == each[0].YLabel && slices.Equal(each[i].Marks, each[0].Marks)
	}
	if same {
		if len(each) > 0 {
			*o = each[0]
		}
		return
	}
	for _, e := range each {
		o.PanelLabels = append(o.PanelLabels, [2]string{e.XLabel, e.YLabel})
	}
}

// DirectionsKind returns how the directions of the surface s, read from
// path, were made: for directions read from a file, the kind the file
// records ("pca", "plane", "hessian" or "random"), else the kind the
// provenance records ("random", "target", ...); "" if it cannot tell (a
// direction file that is gone, or holds other directions).
func DirectionsKind(s *surface.Surface, path string) string {
	d := s.Provenance.Directions
	if d.Kind != "file" {
		return d.Kind
	}
	meta, _ := directionsMeta(s, path)
	return meta.Kind
}

// directionsMeta returns the metadata of the direction file the surface s
// was computed on, looked for as recorded, then in the folder of the
// surface file at path; false if there is none (random or target
// directions), it is gone or unreadable, or its directions are not those
// of the surface.
func directionsMeta(s *surface.Surface, path string) (normalize.Meta, bool) {
	d := s.Provenance.Directions
	if d.File == "" || d.Kind == "random" || d.Kind == "target" {
		return normalize.Meta{}, false
	}
	var meta normalize.Meta
	err := os.ErrNotExist
	for _, f := range []string{d.File, filepath.Join(filepath.Dir(path), filepath.Base(d.File))} {
		if meta, err = normalize.ReadMeta(f); err == nil {
			break
		}
	}
	if err != nil || (!s.Is1D() && meta.SHA256 != "" && d.SHA256 != "" && meta.SHA256 != d.SHA256) {
		return normalize.Meta{}, false
	}
	return meta, true
}

// NameAxes names the axes of o, where it does not, after the directions
// whose recipe is meta: a trajectory's principal components with their
// share of the variance, PC1 (81.8%), and a plane's basis, whose models
// A, B and C it marks unless o has marks.
func NameAxes(o *export.PlotOptions, meta normalize.Meta) {
	var x, y string
	switch meta.Kind {
	case "pca":
		if r := meta.ExplainedVarianceRatio; len(r) >= 2 {
			x, y = fmt.Sprintf("PC1 (%.1f%%)", 100*r[0]), fmt.Sprintf("PC2 (%.1f%%)", 100*r[1])
		}
	case "hessian":
		if e := meta.Eigenvalues; len(e) >= 2 {
			x, y = fmt.Sprintf("Hessian eigenvector 1 (λ = %.4g)", e[0]), fmt.Sprintf("Hessian eigenvector 2 (λ = %.4g)", e[1])
		}
	case "plane":
		x, y = "u (from A towards B)", "v (towards C, orthogonal to u)"
		if o.Marks == nil && len(meta.Path) == 3 {
			for i, p := range meta.Path {
				o.Marks = append(o.Marks, export.Mark{Label: string(rune('A' + i)), X: p[0], Y: p[1]})
			}
		}
	}
	if o.XLabel == "" {
		o.XLabel = x
	}
	if o.YLabel == "" {
		o.YLabel = y
	}
}
