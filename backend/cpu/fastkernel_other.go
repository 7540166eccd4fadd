//go:build !amd64

package cpu

// There are no micro-kernels for this architecture yet: the SGEMM engine
// runs.

// depthwiseUnits computes no channel: the caller's loops compute them all.
func depthwiseUnits(dst, in, pack, bias []float32, centre int, offs []int64, cp, c int, lo, hi float32) int {
	return 0
}

// clampTo sets dst = min(max(src, lo), hi), NaN staying NaN.
func clampTo(dst, src []float32, lo, hi float32) { clampScalar(dst, src, lo, hi) }

// sigmoidTo sets dst to the sigmoid of src, or with silu to src times it.
func sigmoidTo(dst, src []float32, silu bool) { sigmoidScalar(dst, src, silu) }

// maxWindowUnits sets no channel: the caller's loops set them all.
func maxWindowUnits(dst, in []float32, base int, offs []int64, c int) int { return 0 }
