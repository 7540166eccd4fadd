package normalize

import (
	"reflect"
	"strings"
	"testing"
)

// Every field survives the trip through a direction file's metadata;
// files of earlier versions (final, origin) still read; a value that does
// not parse is an error naming its key.
func TestMetaRoundTrip(t *testing.T) {
	t.Parallel()
	m := Meta{
		Kind: "hessian", Model: "resnet20", Checkpoint: "a.pt", CheckpointSHA256: "ab12", Seed: 7,
		Norm: "none", Ignore: "biasbn", Mode: "weights", SHA256: "cd34",
		SuggestedX: "-1:1:51", SuggestedY: "-2:2:51",
		Checkpoints: []string{"a.pt", "b.pt"}, Path: [][2]float64{{0, 0}, {1, 0.5}},
		ExplainedVariance: []float64{3, 1}, ExplainedVarianceRatio: []float64{0.75, 0.25}, SingularValues: []float64{2, 1},
		Eigenvalues: []float64{353.5, 120.25},
	}
	got, err := ParseMeta(m.Map())
	if err != nil || !reflect.DeepEqual(got, m) {
		t.Errorf("round trip: %+v, %v\nwant %+v", got, err, m)
	}
	for _, key := range []string{"final", "origin"} {
		if got, _ := ParseMeta(map[string]string{key: "old.t7"}); got.Checkpoint != "old.t7" {
			t.Errorf("%s: checkpoint %q", key, got.Checkpoint)
		}
	}
	for key, bad := range map[string]string{"seed": "-1", "eigenvalues": "[1,", "path": "{}"} {
		if _, err := ParseMeta(map[string]string{key: bad}); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s %q: error %v", key, bad, err)
		}
	}
}
