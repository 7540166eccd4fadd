package cuda

// Options set up a CUDA evaluator.
type Options struct {
	// Device is the ordinal of the GPU, as in cuda:N.
	Device int
	// TF32 lets cuDNN compute convolutions with TF32 tensor cores, as
	// PyTorch does by default: about 3 decimal digits fewer in each
	// product, several times the speed. The default is FP32 throughout.
	TF32 bool
	// MaxBatch bounds the samples per forward pass; 0 lets free device
	// memory decide (at most 4096). The batch changes only the order of
	// summation.
	MaxBatch int
}
