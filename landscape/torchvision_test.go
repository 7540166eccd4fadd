package landscape

import (
	"path/filepath"
	"testing"

	"github.com/landscape-go/landscape/internal/fixture"
)

// torchvision's architectures, exported by torch.onnx.export as the README
// advises (scripts/fixtures/make_torchvision.py: seeded weights, external
// data), run as a user's own models: at every point of the fixture the
// loss is PyTorch's within 1e-4 relative and the accuracy is PyTorch's.
// Graphs the engines run take their fast kernels; the others (layer norm,
// GELU, attention, channel shuffles, hard-swish...) the reference
// evaluator.
func TestTorchvisionModelsMatchPyTorch(t *testing.T) {
	t.Parallel()
	for _, name := range fixture.Torchvision(t) {
		c := fixture.Load(t, name)
		t.Run(filepath.Base(name), func(t *testing.T) {
			forEachDevice(t, func(t *testing.T, device string) {
				parallelOnCPU(t, device)
				testLossMatchesPyTorch(t, c, c.ModelFile(t), "", c.DirectionFile(t), device)
			})
		})
	}
}
