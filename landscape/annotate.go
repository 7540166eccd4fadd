package landscape

import (
	"fmt"
	"os"
	"path/filepath"

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
	d := s.Provenance.Directions
	if d.File == "" || d.Kind == "random" || d.Kind == "target" {
		return
	}
	var meta normalize.Meta
	err := os.ErrNotExist
	for _, f := range []string{d.File, filepath.Join(filepath.Dir(path), filepath.Base(d.File))} {
		if meta, err = normalize.ReadMeta(f); err == nil {
			break
		}
	}
	if err != nil || (!s.Is1D() && meta.SHA256 != "" && d.SHA256 != "" && meta.SHA256 != d.SHA256) {
		return
	}
	NameAxes(o, meta)
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
