package export

import (
	"slices"
	"testing"

	"github.com/landscape-go/landscape/landscape/surface"
)

// A model name labels its surface; a repeated one gets the file name
// beside it, and a missing one is replaced by the file name.
func TestLabelsAreModelNamesMadeUnique(t *testing.T) {
	t.Parallel()
	named := func(m string) *surface.Surface {
		s := &surface.Surface{}
		s.Provenance.Model.Name = m
		return s
	}
	files := []string{"runs/a.parquet", "runs/b.parquet", "c.parquet", "x/d.parquet"}
	ss := []*surface.Surface{named("resnet56"), named("resnet56"), named("vgg9"), named("")}
	want := []string{"resnet56 (a)", "resnet56 (b)", "vgg9", "d"}
	if got := Labels(files, ss); !slices.Equal(got, want) {
		t.Errorf("Labels = %q, want %q", got, want)
	}
}
