package cpu

import "unsafe"

// kernelArgs is what a micro-kernel reads (see internal/asmgen): a block of
// rows of A (channels-last pixels, Winograd tiles or samples), the byte
// offsets of the taps, the packed weights B, and the output rows C with
// their epilogue.
type kernelArgs struct {
	a       unsafe.Pointer // row 0 of A, before the tap offset
	offs    unsafe.Pointer // []int64 of tap offsets in bytes
	offsEnd uintptr        // one past the last tap offset
	k       int64          // channels summed per tap
	aStride int64          // bytes between rows of A
	b       unsafe.Pointer // weights [tap][k][16·v], consecutive
	c       unsafe.Pointer // row 0 of the output
	cStride int64          // bytes between output rows (and residual rows)
	bias    unsafe.Pointer // 16·v floats added to every row, or nil
	res     unsafe.Pointer // residual rows added after the bias, or nil
	relu    int64          // non-zero: max(·, 0) before the store
	accum   int64          // non-zero: start from the output rows, not zero

	// A kernel call repeats the product batch times (at least once), B
	// running on through consecutive blocks and A, C and the residual
	// moving by aBatch and cBatch bytes each time.
	batch, aBatch, cBatch int64

	// The kernel's own state.
	aCur, cCur, resCur uintptr
	left               int64
}

// setOffs points args at the tap offsets offs.
func (args *kernelArgs) setOffs(offs []int64) {
	args.offs = unsafe.Pointer(unsafe.SliceData(offs))
	args.offsEnd = uintptr(args.offs) + uintptr(8*len(offs))
}

// kernelSet is one instruction set's micro-kernels.
type kernelSet struct {
	name string
	// gemm[v][r] computes r rows of v units of 16 channels, for r up to
	// len(gemm[v])-1 and v up to len(gemm)-1.
	gemm [][]func(*kernelArgs)
	// wgInput and wgOutputs[res][relu] are Winograd's transforms.
	wgInput   func(*wgArgs)
	wgOutputs [2][2]func(*wgArgs)
	lanes     int // floats per vector register
}

// fastKernels is the best kernel set of this machine, nil where there is
// none (then the engine uses im2col and SGEMM); kernelSets lists every set
// that runs here, for the tests.
var (
	fastKernels *kernelSet
	kernelSets  []*kernelSet
)

// runRows computes rows rows in blocks of at most rowsMax[v], as equal as
// possible, moving A, C and the residual on by their strides. It leaves
// args as it found them. args should not live on the stack: the kernels
// are called through a table, so it escapes.
func runRows(ks *kernelSet, args *kernelArgs, rows, v int) {
	kernels := ks.gemm
	maxR := len(kernels[v]) - 1
	if args.batch < 1 {
		args.batch = 1
	}
	a, c, res := args.a, args.c, args.res
	blocks := (rows + maxR - 1) / maxR
	row := 0
	for b := range blocks {
		r := rows / blocks
		if b < rows%blocks {
			r++
		}
		// Only rows that exist are pointed at: a pointer past the end of
		// its slice would upset the garbage collector.
		args.a = unsafe.Add(a, int64(row)*args.aStride)
		args.c = unsafe.Add(c, int64(row)*args.cStride)
		if res != nil {
			args.res = unsafe.Add(res, int64(row)*args.cStride)
		}
		kernels[v][r](args)
		row += r
	}
	args.a, args.c, args.res = a, c, res
}

// fastSub is the number of samples the fast engine takes through the
// network at a time: small enough for a sample's activations to stay in
// cache between steps. It changes no result.
const fastSub = 8

// wgArgs is what the Winograd transforms read (see internal/asmgen).
type wgArgs struct {
	src        unsafe.Pointer // the image (wgInput) or the products M (wgOutput)
	dst        unsafe.Pointer // the transformed tiles V (wgInput) or the image (wgOutput)
	offs       unsafe.Pointer // []int64: each tile's corner in the image, in bytes
	offsEnd    uintptr        // one past the last tile offset
	groups     int64          // vectors of channels per pixel
	rowStride  int64          // bytes between image rows
	pixStride  int64          // bytes between pixels, and between the 36 planes of a tile in V or M
	tileStride int64          // bytes between tiles in V or M
	bias       unsafe.Pointer // wgOutput: a vector per group added to every pixel
	res        unsafe.Pointer // wgOutput: residual image, same layout as dst, or nil

	// The transforms' own state.
	left    int64
	biasCur uintptr
}

func (args *wgArgs) setOffs(offs []int64) {
	args.offs = unsafe.Pointer(unsafe.SliceData(offs))
	args.offsEnd = uintptr(args.offs) + uintptr(8*len(offs))
}

// wgChunkFloats bounds the floats of V and M for one chunk of tiles.
const wgChunkFloats = 1 << 17
