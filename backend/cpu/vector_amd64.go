//go:build amd64

package cpu

import "unsafe"

// dwArgs are depthwiseAVX2's arguments: one output pixel of a depthwise
// convolution, blocks units of 16 channels.
type dwArgs struct {
	dst, in, pack, bias unsafe.Pointer // the output pixel, the input at the window's centre, the packed weights, the bias
	offs                *int64         // the taps' offsets from the centre, bytes
	taps, blocks        int64
	cp                  int64   // bytes per tap of the packed weights
	lo, hi              float32 // the clamp
}

//go:noescape
func depthwiseAVX2(args *dwArgs)

//go:noescape
func clampAVX2(dst, src *float32, n int64, lo, hi float32)

// depthwiseUnits computes the first channels of one output pixel, whole
// units of 16 of its c, with depthwiseAVX2 (every kernel set here has AVX2
// and FMA): the taps, the bias and the clamp [lo, hi]. It returns how many
// channels it computed.
func depthwiseUnits(dst, in, pack, bias []float32, centre int, offs []int64, cp, c int, lo, hi float32) int {
	blocks := c / 16
	if blocks == 0 {
		return 0
	}
	// The slices reach every float the kernel touches: the output's
	// channels, the bias, the packed weights' taps, the input under every
	// tap.
	n := 16 * blocks
	_, _ = dst[n-1], bias[n-1]
	_ = pack[(len(offs)-1)*cp+n-1]
	for _, off := range offs {
		_, _ = in[centre+int(off/4)], in[centre+int(off/4)+n-1]
	}
	a := dwArgs{dst: unsafe.Pointer(&dst[0]), in: unsafe.Pointer(&in[centre]), pack: unsafe.Pointer(&pack[0]),
		bias: unsafe.Pointer(&bias[0]), offs: &offs[0], taps: int64(len(offs)), blocks: int64(blocks), cp: int64(4 * cp),
		lo: lo, hi: hi}
	depthwiseAVX2(&a)
	return n
}

// clampTo sets dst = min(max(src, lo), hi), NaN staying NaN.
func clampTo(dst, src []float32, lo, hi float32) {
	n := len(dst) &^ 7
	if n > 0 {
		_ = src[n-1]
		clampAVX2(&dst[0], &src[0], int64(n), lo, hi)
	}
	clampScalar(dst[n:], src[n:], lo, hi)
}

//go:noescape
func sigmoidAVX2(dst, src *float32, n, silu int64)

// sigmoidTo sets dst to the sigmoid of src, or with silu to src times it,
// in float32 with a vectorised exponential (within 2 units in the last
// place), NaN staying NaN.
func sigmoidTo(dst, src []float32, silu bool) {
	n := len(dst) &^ 7
	if n > 0 {
		_ = src[n-1]
		flag := int64(0)
		if silu {
			flag = 1
		}
		sigmoidAVX2(&dst[0], &src[0], int64(n), flag)
	}
	sigmoidScalar(dst[n:], src[n:], silu)
}

//go:noescape
func maxWindowAVX2(dst, in *float32, offs *int64, taps, blocks int64)

// maxWindowUnits sets the first channels of dst, whole units of 16 of its
// c, to their maximum over the pixels of in at offs (bytes from base),
// NaN winning, and returns how many it set.
func maxWindowUnits(dst, in []float32, base int, offs []int64, c int) int {
	blocks := c / 16
	if blocks == 0 || len(offs) == 0 {
		return 0
	}
	n := 16 * blocks
	_ = dst[n-1]
	for _, off := range offs {
		_, _ = in[base+int(off/4)], in[base+int(off/4)+n-1]
	}
	maxWindowAVX2(&dst[0], &in[base], &offs[0], int64(len(offs)), int64(blocks))
	return n
}
