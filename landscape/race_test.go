package landscape

import (
	"slices"
	"testing"
)

// A race reports its runs' training as one progress: run i of n counts
// from i/n of the whole, so that a bar fills once rather than once a run.
func TestRaceProgressFillsOnceOverEveryRun(t *testing.T) {
	t.Parallel()
	var got [][2]int
	opts := &Options{Progress: func(done, total int) { got = append(got, [2]int{done, total}) }}
	for i := range 3 {
		o := raceProgress(opts, i, 3)
		o.Progress(0, 4)
		o.Progress(4, 4)
	}
	want := [][2]int{{0, 12}, {4, 12}, {4, 12}, {8, 12}, {8, 12}, {12, 12}}
	if !slices.Equal(got, want) {
		t.Errorf("progress %v, want %v", got, want)
	}
	if quiet := (&Options{}); raceProgress(quiet, 1, 3) != quiet {
		t.Error("options without progress should pass through as they are")
	}
}
