//go:build linux && !android

package cuda

import (
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/backend/backendtest"
	"github.com/landscape-go/landscape/backend/cpu"
)

// TestGPUConforms runs the backend conformance suite on the GPU, in FP32,
// against the CPU's portable engine.
func TestGPUConforms(t *testing.T) {
	requireGPU(t)
	backendtest.Run(t,
		func(p *backend.Problem) (backend.Evaluator, error) { return cpu.New(p, &cpu.Options{Generic: true}) },
		backendtest.Candidate{Name: "cuda", New: func(p *backend.Problem) (backend.Evaluator, error) { return New(p, nil) }},
		backendtest.Candidate{Name: "cuda-benchmarked", TimedAlgorithms: true, New: func(p *backend.Problem) (backend.Evaluator, error) {
			return New(p, &Options{Benchmark: true})
		}},
	)
}
