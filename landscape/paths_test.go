package landscape

import (
	"slices"
	"testing"
)

// TestNaturalCompareOrdersNumbersByValue sorts checkpoint names as a
// training run numbers them: model_2 before model_10, fewer leading zeros
// first.
func TestNaturalCompareOrdersNumbersByValue(t *testing.T) {
	t.Parallel()
	got := []string{"model_10.t7", "model_2.t7", "model_1.t7", "model_02.t7", "b", "a10b", "a9b", "model_300.t7", "a"}
	slices.SortFunc(got, NaturalCompare)
	want := []string{"a", "a9b", "a10b", "b", "model_1.t7", "model_2.t7", "model_02.t7", "model_10.t7", "model_300.t7"}
	if !slices.Equal(got, want) {
		t.Errorf("natural order %v, want %v", got, want)
	}
}
