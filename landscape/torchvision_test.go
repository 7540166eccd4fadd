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
// Graphs the engines run take their fast kernels, on the CPU and on the
// GPU; the others (layer norm, GELU, attention: convnext_tiny, vit_b_16) the
// reference evaluator on the CPU and the graph interpreter on the GPU.
func TestTorchvisionModelsMatchPyTorch(t *testing.T) {
	t.Parallel()
	for _, name := range fixture.Torchvision(t) {
		c := fixture.Load(t, name)
		t.Run(filepath.Base(name), func(t *testing.T) {
			model := c.ModelFile(t)
			run := func(t *testing.T, device string) {
				parallelOnCPU(t, device)
				testLossMatchesPyTorch(t, c, model, "", c.DirectionFile(t), device)
			}
			forEachDevice(t, run)
		})
	}
}
