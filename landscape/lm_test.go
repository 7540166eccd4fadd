package landscape

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/internal/fixture"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/safetensors"
)

// A causal transformer language model, exported to ONNX
// (scripts/fixtures/make_lm.py: token and position embeddings, attention
// with a causal mask, GELU, layer norm, an output projection tied to the
// embedding), on token data: x holds sequences of 16 ids, the inputs
// being their first 15 and the targets their next tokens. At every point
// of the fixture the mean next-token cross-entropy over all predicted
// tokens is PyTorch's within 1e-4 relative, and the token accuracy is
// PyTorch's: with the export's own weights, and with a PyTorch state dict
// replacing them, which names the tied projection twice (tok.weight and
// head.weight). The export's own weights run on the CPU (the reference
// evaluator) and on the GPU (the graph interpreter).
func TestLanguageModelMatchesPyTorch(t *testing.T) {
	t.Parallel()
	c := fixture.Load(t, "lm/causal_lm")
	model := c.ModelFile(t)
	t.Run("own weights", func(t *testing.T) {
		forEachDevice(t, func(t *testing.T, device string) {
			testLossMatchesPyTorch(t, c, model, "", c.DirectionFile(t), device)
		})
	})
	t.Run("state dict with the tie", func(t *testing.T) {
		testLossMatchesPyTorch(t, c, model, tiedCheckpoint(t, c, 1), c.DirectionFile(t), "cpu")
	})
	// A second name whose values differ is no tie: it is refused.
	_, err := Prepare(Spec{Model: model, Checkpoint: tiedCheckpoint(t, c, 2), ModelConfig: c.Config,
		Data: data.Spec{Kind: data.NPZ, Path: c.Data}, Grid: grid.Grid{X: grid.Axis{Min: -1, Max: 1, Num: 3}}}, nil)
	if err == nil || !strings.Contains(err.Error(), "1 unexpected key: head.weight") {
		t.Errorf("an untied head.weight: error %v", err)
	}
}

// tiedCheckpoint writes the case's weights as the PyTorch model's state
// dict holds them: the token embedding a second time, as head.weight,
// times scale (1 for the tie).
func tiedCheckpoint(t *testing.T, c *fixture.Case, scale float32) string {
	t.Helper()
	w := c.Weights(t)
	sd := &nets.StateDict{}
	for _, k := range w.Names() {
		v, _ := w.Get(k)
		sd.Set(k, v)
	}
	tok, _ := w.Get("tok.weight")
	head := tok.Clone()
	for i := range head.Data {
		head.Data[i] *= scale
	}
	sd.Set("head.weight", head)
	path := filepath.Join(t.TempDir(), "lm.safetensors")
	if err := safetensors.Write(path, sd, nil); err != nil {
		t.Fatal(err)
	}
	return path
}
