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

// Files of one name in other folders (every report of 'landscape hessian'
// is hessian.json) are told apart by their folders.
func TestLabelsOfFilesOfOneNameAreTheirFolders(t *testing.T) {
	t.Parallel()
	files := []string{"hessA/hessian.json", "runs/hessB/hessian.json", "c/other.json"}
	want := []string{"resnet20 (hessA)", "resnet20 (hessB)", "vgg9"}
	if got := LabelsOf(files, []string{"resnet20", "resnet20", "vgg9"}); !slices.Equal(got, want) {
		t.Errorf("LabelsOf = %q, want %q", got, want)
	}
}
