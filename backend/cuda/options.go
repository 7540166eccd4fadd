package cuda

import "io"

// Options set up a CUDA evaluator.
type Options struct {
	// Device is the ordinal of the GPU, as in cuda:N.
	Device int
	// TF32 lets cuDNN compute convolutions with TF32 tensor cores, as
	// PyTorch does by default: about 3 decimal digits fewer in each
	// product, several times the speed. The default is FP32 throughout.
	TF32 bool
	// Benchmark times every convolution algorithm cuDNN offers for each
	// layer shape and takes the fastest, as torch.backends.cudnn.benchmark
	// does: sometimes faster, but the choice, and with it the last bits of
	// the results, can differ between runs (the command line's
	// LANDSCAPE_CUDNN_BENCHMARK=1). By default the algorithms come from
	// cuDNN's heuristics, the same on every run.
	Benchmark bool
	// MaxBatch bounds the samples per forward pass; 0 lets free device
	// memory decide (at most 4096). The batch changes only the order of
	// summation.
	MaxBatch int
	// Profile, if not nil, receives when the evaluator closes the time the
	// graph interpreter's work on the batches took, by operator type (the
	// command line's LANDSCAPE_PROFILE=1 sends it to stderr). Each node is
	// waited for, which slows the run a little. Networks of the engines'
	// ops are not profiled.
	Profile io.Writer
}
