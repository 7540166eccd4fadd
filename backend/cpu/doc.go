// Package cpu evaluates loss surfaces on the CPU in float32.
//
// # Overview
//
// An [Evaluator] splits the work into batches of every grid point; all
// cores take batches in point order, and per-batch sums are added in batch
// order, so the numbers do not depend on the number of workers. It has two
// engines, which agree to float32 rounding.
//
// # Micro-kernels
//
// On x86-64 with AVX-512 the forward pass runs on the package's own
// assembly kernels (written by internal/asmgen). Values are stored
// channels-last with a one-pixel zero border shared by neighbouring rows and
// images, so a convolution reads its taps as fixed offsets from each output
// pixel and needs no im2col matrix. One kernel shape serves everything: a
// block of output pixels (or Winograd tiles, or samples) by up to 64 output
// channels, accumulated in registers from broadcast inputs and packed
// weights, with an epilogue that adds the bias, a residual and applies the
// ReLU. At each grid point the weights θ + αu + βv are formed once, shared
// by the workers, and the batch norm that follows each convolution is
// folded into its weights (scale) and bias (shift), so BN, residual Add and
// ReLU cost nothing beyond the convolution's store.
//
// 3x3 stride-1 convolutions whose feature maps are multiples of 4 on each
// side run as Winograd F(4x4, 3x3): the input tiles are transformed
// (Bᵀ d B), multiplied with the transformed weights (G g Gᵀ, computed in
// float64 at each point) in 36 small matrix products, and transformed back
// (Aᵀ M A) with the epilogue. That is 2.25 multiplications per output
// instead of 9, at an error that stays within float32 rounding of the
// direct product for the zoo's networks (the tests compare both with the
// im2col engine and PyTorch). [Options].NoWinograd computes every
// convolution directly (the command line's LANDSCAPE_WINOGRAD=0).
//
// The [Differentiator] runs its convolutions on the same kernels (see
// diff_direct.go), copying each sample to their layout and back: forward
// products, input gradients where they are convolutions (and, for a
// strided convolution, by phases: see diff_strided.go), and weight
// gradients, for gradients, Hessian-vector products and training steps.
//
// Samples go through the network a few at a time (a sub-batch), so that a
// sample's activations stay in the core's cache from one layer to the next;
// this does not change the summation order of anything.
//
// # im2col and SGEMM
//
// Elsewhere, or with [Options].Generic (LANDSCAPE_CPU=generic), values are
// laid out channel-major across the batch (CNHW), every convolution and
// linear layer is an SGEMM over im2col chunks whose epilogue applies the
// bias, the folded batch norm and the ReLU. The SGEMM is OpenBLAS's, loaded
// at run time with purego when libopenblas is present (the binary is built
// with CGO_ENABLED=0), gonum's pure-Go one otherwise; [BLAS] names it.
package cpu
