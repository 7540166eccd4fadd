//go:build !amd64

package cpu

// There are no tiled transposes for this architecture: the layout copies'
// loops move every value.
var hasTransposeTile = false

func transposeTile(dst *float32, dstStride int, src *float32, offs *[16]int64, add bool) {
	panic("cpu: transposeTile without AVX-512")
}

func transposeTileScatter(dst *float32, offs *[16]int64, src *float32, srcStride int) {
	panic("cpu: transposeTileScatter without AVX-512")
}
