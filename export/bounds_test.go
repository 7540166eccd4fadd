package export

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape/surface"
)

// TestHugeGridInProvenanceIsRefused reads a small file whose provenance
// claims a grid of 999,985 × 9 points (a red-team file of a few KB):
// plot, compare, export-vtk and merge allocate by the grid, so it is
// refused when read, before anything the size of the grid exists.
func TestHugeGridInProvenanceIsRefused(t *testing.T) {
	t.Parallel()
	y := grid.Axis{Min: 0, Max: 1, Num: 2}
	s := &surface.Surface{Metrics: []string{"train_loss", "train_acc"}}
	s.Provenance.Grid = grid.Grid{X: grid.Axis{Min: -1, Max: 1, Num: 999985}, Y: &y}
	s.Provenance.Shard = grid.Whole()
	s.Points = []surface.Point{{Index: 0, X: -1, Y: 0, Values: []float64{1, 50}}}
	s.Provenance.Progress = surface.Progress{Done: 1, Total: 1999970}
	var buf bytes.Buffer
	if err := EncodeParquet(&buf, s); err != nil {
		t.Fatal(err)
	}
	// The y axis's "num":2 becomes "num":9, the same length: 8,999,865 points.
	b := bytes.Replace(buf.Bytes(), []byte(`"min":0,"max":1,"num":2}`), []byte(`"min":0,"max":1,"num":9}`), 1)
	if bytes.Equal(b, buf.Bytes()) {
		t.Fatal("the y axis was not found in the file's provenance")
	}
	path := filepath.Join(t.TempDir(), "huge.parquet")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadParquet(path)
	if err == nil || !strings.Contains(err.Error(), "999985 × 9 = 8999865 points, want at most") {
		t.Errorf("ReadParquet of a file claiming 8,999,865 points: %v", err)
	}
}
