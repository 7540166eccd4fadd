//go:build amd64

package cpu

import "golang.org/x/sys/cpu"

// hasTransposeTile says that this machine runs transposeTile and
// transposeTileSplit (AVX-512F, saved by the operating system).
var hasTransposeTile = cpu.X86.HasAVX512F

// transposeTile stores the transpose of a 16x16 tile whose rows 0-7 start
// at src0 and rows 8-15 at src1, srcStride bytes apart, as rows from dst
// dstStride bytes apart, or adds it to them with add.
//
//go:noescape
func transposeTile(dst *float32, dstStride int, src0, src1 *float32, srcStride int, add bool)

// transposeTileSplit stores the transpose of the 16x16 tile whose rows
// start at src, srcStride bytes apart: its rows 0-7 from dst0 and 8-15
// from dst1, dstStride bytes apart.
//
//go:noescape
func transposeTileSplit(dst0, dst1 *float32, dstStride int, src *float32, srcStride int)
