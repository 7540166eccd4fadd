//go:build !amd64

package cpu

// There are no tiled transposes for this architecture: the layout copies'
// loops move every value.
var hasTransposeTile = false

func transposeTile(dst *float32, dstStride int, src0, src1 *float32, srcStride int, add bool) {
	panic("cpu: transposeTile without AVX-512")
}

func transposeTileSplit(dst0, dst1 *float32, dstStride int, src *float32, srcStride int) {
	panic("cpu: transposeTileSplit without AVX-512")
}
