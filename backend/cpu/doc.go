// Package cpu evaluates loss surfaces on the CPU in float32.
//
// # Overview
//
// A forward pass is compiled once per network into fused steps: every
// convolution and linear layer is a GEMM (im2col in cache-sized chunks) whose
// epilogue adds the bias and applies the following eval-mode batch norm,
// folded into a per-channel scale and shift at each grid point, and the
// ReLU. Values are laid out channel-major across the batch (CNHW), so a
// convolution over a whole batch is one matrix product and buffers are
// reused as soon as their last reader has run.
//
// Work is split into batches of every grid point; all cores take batches in
// point order, and per-batch sums are added in batch order, so the numbers
// do not depend on the number of workers.
package cpu
