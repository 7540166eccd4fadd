//go:build amd64

package cpu

import "golang.org/x/sys/cpu"

// hasTransposeTile says that this machine runs transposeTile and
// transposeTileScatter (AVX-512F, saved by the operating system).
var hasTransposeTile = cpu.X86.HasAVX512F

// transposeTile stores the transpose of the 16x16 tile whose row k starts
// at src + offs[k] bytes as rows from dst, dstStride bytes apart, or adds
// it to them with add.
//
//go:noescape
func transposeTile(dst *float32, dstStride int, src *float32, offs *[16]int64, add bool)

// transposeTileScatter stores the transpose of the 16x16 tile whose rows
// start at src, srcStride bytes apart: its row k at dst + offs[k] bytes.
//
//go:noescape
func transposeTileScatter(dst *float32, offs *[16]int64, src *float32, srcStride int)
