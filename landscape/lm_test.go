package landscape

import (
	"testing"

	"github.com/landscape-go/landscape/internal/fixture"
)

// A causal transformer language model, exported to ONNX
// (scripts/fixtures/make_lm.py: token and position embeddings, attention
// with a causal mask, GELU, layer norm, an output projection tied to the
// embedding), on token data: x holds sequences of 16 ids, the inputs
// being their first 15 and the targets their next tokens. At every point
// of the fixture the mean next-token cross-entropy over all predicted
// tokens is PyTorch's within 1e-4 relative, and the token accuracy is
// PyTorch's.
func TestLanguageModelMatchesPyTorch(t *testing.T) {
	t.Parallel()
	c := fixture.Load(t, "lm/causal_lm")
	testLossMatchesPyTorch(t, c, c.ModelFile(t), "", c.DirectionFile(t), "cpu")
}
