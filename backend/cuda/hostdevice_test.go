//go:build linux && !android && (amd64 || arm64)

package cuda

import (
	"fmt"
	"sort"
	"syscall"
	"testing"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// hostAPI returns entry points that make the host a GPU, so that the
// evaluator and the differentiator run, call for call, as on a GPU, with
// no GPU in sight: the kernels are kernels.cu, diff.cu and graph.cu compiled for the
// host (hostKernels), device memory is memory mapped outside Go's heap,
// and the convolutions and matrix products are written out here, after
// cuDNN's and cuBLAS's documented semantics (NCHW cross-correlation with
// groups; column-major GEMM; y = α·op + β·y, y unread where β = 0), summed
// in float64. What this cannot check is whether cuDNN and cuBLAS behave as
// documented, and the GPU's concurrency: that is the GPU check's
// (scripts/gpu-check.sh).
func hostAPI(t *testing.T) *api {
	t.Helper()
	k := compileHostKernels(t)
	h := &hostDevice{k: k, descs: map[uintptr]any{}}
	t.Cleanup(h.release)
	ok := func() int32 { return 0 }
	a := &api{paths: []string{"host"}}

	a.cuInit = func(uint32) int32 { return ok() }
	a.cuDeviceGetCount = func(n *int32) int32 { *n = 1; return 0 }
	a.cuDeviceGet = func(dev *int32, ordinal int32) int32 { *dev = ordinal; return 0 }
	a.cuDeviceGetName = func(name *byte, n int32, dev int32) int32 {
		copy(unsafe.Slice(name, n), "host\x00")
		return 0
	}
	a.cuDeviceGetAttribute = func(v *int32, attr int32, dev int32) int32 {
		switch attr {
		case attrCCMajor:
			*v = 0 // an architecture no real GPU has, for the PTX cache
		case attrCCMinor:
			*v = 1
		default:
			*v = 2
		}
		return 0
	}
	a.cuDevicePrimaryCtxRetain = func(ctx *uintptr, dev int32) int32 { *ctx = 1; return 0 }
	a.cuDevicePrimaryCtxRelease = func(int32) int32 { return 0 }
	a.cuCtxSetCurrent = func(uintptr) int32 { return 0 }
	a.cuCtxSynchronize = func() int32 { return 0 }
	a.cuMemGetInfo = func(free, total *uintptr) int32 { *free, *total = 4<<30, 8<<30; return 0 }
	a.cuMemAlloc = h.alloc
	a.cuMemFree = h.free
	a.cuMemcpyHtoD = func(dst uint64, src unsafe.Pointer, n uintptr) int32 {
		copy(h.bytes(dst, int(n)), unsafe.Slice((*byte)(src), n))
		return 0
	}
	a.cuMemcpyDtoH = func(dst unsafe.Pointer, src uint64, n uintptr) int32 {
		copy(unsafe.Slice((*byte)(dst), n), h.bytes(src, int(n)))
		return 0
	}
	a.cuMemcpyDtoD = func(dst, src uint64, n uintptr) int32 {
		copy(h.bytes(dst, int(n)), h.bytes(src, int(n)))
		return 0
	}
	a.cuMemsetD8 = func(dst uint64, v uint8, n uintptr) int32 {
		b := h.bytes(dst, int(n))
		if v == 0 {
			clear(b) // what the evaluators set
			return 0
		}
		for i := range b {
			b[i] = v
		}
		return 0
	}
	a.cuModuleLoadData = func(mod *uintptr, _ unsafe.Pointer) int32 { *mod = 1; return 0 }
	a.cuModuleUnload = func(uintptr) int32 { return 0 }
	a.cuModuleGetFunction = func(fn *uintptr, _ uintptr, name string) int32 {
		for i, n := range k.names {
			if n == name {
				*fn = uintptr(i + 1)
				return 0
			}
		}
		return 500 // CUDA_ERROR_NOT_FOUND
	}
	a.cuLaunchKernel = func(f uintptr, gx, _, _, bx, _, _, _ uint32, _ uintptr, params, _ *unsafe.Pointer) int32 {
		k.launcher[f-1](unsafe.Pointer(params), gx, bx)
		return 0
	}
	errName := []byte("CUDA_ERROR_ON_THE_HOST\x00")
	a.cuGetErrorName = func(rc int32, s **byte) int32 { *s = &errName[0]; return 0 }

	a.nvrtcVersion = func(major, minor *int32) int32 { *major, *minor = 0, 0; return 0 }
	a.nvrtcCreateProgram = func(p *uintptr, _, _ string, _ int32, _, _ **byte) int32 { *p = 1; return 0 }
	a.nvrtcCompileProgram = func(uintptr, int32, **byte) int32 { return 0 }
	a.nvrtcGetProgramLogSize = func(_ uintptr, n *uintptr) int32 { *n = 0; return 0 }
	a.nvrtcGetProgramLog = func(uintptr, *byte) int32 { return 0 }
	a.nvrtcGetPTXSize = func(_ uintptr, n *uintptr) int32 { *n = 1; return 0 }
	a.nvrtcGetPTX = func(_ uintptr, ptx *byte) int32 { *ptx = 0; return 0 }
	a.nvrtcDestroyProgram = func(*uintptr) int32 { return 0 }
	a.nvrtcGetErrorString = func(rc int32) string { return fmt.Sprintf("nvrtc error %d", rc) }

	a.cublasCreate = func(p *uintptr) int32 { *p = 1; return 0 }
	a.cublasDestroy = func(uintptr) int32 { return 0 }
	a.cublasGetVersion = func(_ uintptr, v *int32) int32 { *v = 0; return 0 }
	a.cublasSetMathMode = func(uintptr, int32) int32 { return 0 }
	a.cublasSgemm = h.sgemm
	a.cublasSgemmBatched = h.sgemmBatched
	a.cublasSgemmStridedBatched = h.sgemmStridedBatched

	a.cudnnGetVersion = func() uintptr { return 0 }
	a.cudnnGetErrorString = func(rc int32) string { return fmt.Sprintf("cudnnStatus %d", rc) }
	a.cudnnCreate = func(p *uintptr) int32 { *p = 1; return 0 }
	a.cudnnDestroy = func(uintptr) int32 { return 0 }
	a.cudnnCreateTensorDescriptor = func(d *uintptr) int32 { *d = h.newDesc(&hostTensor{}); return 0 }
	a.cudnnCreateFilterDescriptor = func(d *uintptr) int32 { *d = h.newDesc(&hostTensor{}); return 0 }
	a.cudnnCreateConvolutionDescriptor = func(d *uintptr) int32 { *d = h.newDesc(&hostConv{groups: 1}); return 0 }
	destroy := func(d uintptr) int32 { delete(h.descs, d); return 0 }
	a.cudnnDestroyTensorDescriptor, a.cudnnDestroyFilterDescriptor, a.cudnnDestroyConvolutionDescriptor = destroy, destroy, destroy
	a.cudnnSetTensor4dDescriptor = func(d uintptr, format, dtype, n, c, hh, w int32) int32 {
		if format != cudnnTensorNCHW || dtype != cudnnDataFloat {
			return 3 // CUDNN_STATUS_BAD_PARAM
		}
		*h.descs[d].(*hostTensor) = hostTensor{int(n), int(c), int(hh), int(w)}
		return 0
	}
	a.cudnnSetFilter4dDescriptor = func(d uintptr, dtype, format, kk, c, hh, w int32) int32 {
		if format != cudnnTensorNCHW || dtype != cudnnDataFloat {
			return 3
		}
		*h.descs[d].(*hostTensor) = hostTensor{int(kk), int(c), int(hh), int(w)}
		return 0
	}
	a.cudnnSetConvolution2dDescriptor = func(d uintptr, padH, padW, strideH, strideW, dilH, dilW, mode, dtype int32) int32 {
		if mode != cudnnCrossCorrelation || strideH < 1 || strideW < 1 || dilH < 1 || dilW < 1 {
			return 3
		}
		c := h.descs[d].(*hostConv)
		c.ph, c.pw, c.sh, c.sw, c.dh, c.dw = int(padH), int(padW), int(strideH), int(strideW), int(dilH), int(dilW)
		return 0
	}
	a.cudnnSetConvolutionMathType = func(uintptr, int32) int32 { return 0 }
	a.cudnnSetConvolutionGroupCount = func(d uintptr, groups int32) int32 { h.descs[d].(*hostConv).groups = int(groups); return 0 }
	a.cudnnGetConvolution2dForwardOutputDim = func(conv, x, w uintptr, n, c, hh, wd *int32) int32 {
		cv, xt, wt := h.descs[conv].(*hostConv), h.descs[x].(*hostTensor), h.descs[w].(*hostTensor)
		*n, *c = int32(xt.n), int32(wt.n)
		*hh = int32((xt.h+2*cv.ph-cv.dh*(wt.h-1)-1)/cv.sh + 1)
		*wd = int32((xt.w+2*cv.pw-cv.dw*(wt.w-1)-1)/cv.sw + 1)
		return 0
	}
	oneAlgo := func(_, _, _, _, _ uintptr, requested int32, returned *int32, perf *convAlgoPerf) int32 {
		*perf = convAlgoPerf{Determinism: cudnnDeterministic, MathType: cudnnFMAMath}
		*returned = 1
		return 0
	}
	a.cudnnFindConvolutionForwardAlgorithm, a.cudnnGetConvolutionForwardAlgorithm = oneAlgo, oneAlgo
	a.cudnnGetConvolutionBackwardDataAlgorithm, a.cudnnGetConvolutionBackwardFilterAlgorithm = oneAlgo, oneAlgo
	noWorkspace := func(_, _, _, _, _ uintptr, _ int32, size *uintptr) int32 { *size = 0; return 0 }
	a.cudnnGetConvolutionForwardWorkspaceSize = noWorkspace
	a.cudnnGetConvolutionBackwardDataWorkspaceSize = noWorkspace
	a.cudnnGetConvolutionBackwardFilterWorkspaceSize = noWorkspace
	a.cudnnConvolutionForward = func(_ uintptr, alpha *float32, xd uintptr, x uint64, wd uintptr, w uint64, conv uintptr, _ int32, _ uint64, _ uintptr,
		beta *float32, yd uintptr, y uint64) int32 {
		c := h.conv(xd, wd, yd, conv)
		h.convolve(c, *alpha, *beta, x, w, y, convForward)
		return 0
	}
	a.cudnnConvolutionBackwardData = func(_ uintptr, alpha *float32, wd uintptr, w uint64, dyd uintptr, dy uint64, conv uintptr, _ int32, _ uint64, _ uintptr,
		beta *float32, dxd uintptr, dx uint64) int32 {
		c := h.conv(dxd, wd, dyd, conv)
		h.convolve(c, *alpha, *beta, dx, w, dy, convData)
		return 0
	}
	a.cudnnConvolutionBackwardFilter = func(_ uintptr, alpha *float32, xd uintptr, x uint64, dyd uintptr, dy uint64, conv uintptr, _ int32, _ uint64, _ uintptr,
		beta *float32, dwd uintptr, dw uint64) int32 {
		c := h.conv(xd, dwd, dyd, conv)
		h.convolve(c, *alpha, *beta, x, dw, dy, convFilter)
		return 0
	}
	return a
}

// hostDevice is the host's memory and cuDNN descriptors, as hostAPI's
// entry points see them.
type hostDevice struct {
	k       *hostKernels
	regions []hostRegion // by base address
	descs   map[uintptr]any
	next    uintptr
}

// hostRegion is one allocation, mapped outside Go's heap as device memory
// is outside the host's.
type hostRegion struct {
	base uint64
	mem  []byte
}

// hostTensor is a tensor descriptor's N, C, H, W (a filter's K, C, H, W).
type hostTensor struct{ n, c, h, w int }

// hostConv is a convolution descriptor: padding, strides and dilations by
// axis, and groups.
type hostConv struct{ ph, pw, sh, sw, dh, dw, groups int }

func (h *hostDevice) newDesc(d any) uintptr {
	h.next++
	h.descs[h.next] = d
	return h.next
}

func (h *hostDevice) alloc(p *uint64, n uintptr) int32 {
	mem, err := syscall.Mmap(-1, 0, int(n), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return 2 // CUDA_ERROR_OUT_OF_MEMORY
	}
	r := hostRegion{base: uint64(uintptr(unsafe.Pointer(&mem[0]))), mem: mem}
	i := sort.Search(len(h.regions), func(i int) bool { return h.regions[i].base > r.base })
	h.regions = append(h.regions[:i], append([]hostRegion{r}, h.regions[i:]...)...)
	*p = r.base
	return 0
}

func (h *hostDevice) free(p uint64) int32 {
	for i, r := range h.regions {
		if r.base == p {
			syscall.Munmap(r.mem)
			h.regions = append(h.regions[:i], h.regions[i+1:]...)
			return 0
		}
	}
	return 1 // CUDA_ERROR_INVALID_VALUE
}

func (h *hostDevice) release() {
	for _, r := range h.regions {
		syscall.Munmap(r.mem)
	}
	h.regions = nil
}

// bytes returns the n bytes at device address p; it panics (the thread
// turns the panic into an error) if they are not all in one allocation.
func (h *hostDevice) bytes(p uint64, n int) []byte {
	if n == 0 {
		return nil
	}
	i := sort.Search(len(h.regions), func(i int) bool { return h.regions[i].base > p }) - 1
	if i < 0 || p+uint64(n) > h.regions[i].base+uint64(len(h.regions[i].mem)) {
		panic(fmt.Sprintf("host device: %d bytes at %#x are outside every allocation", n, p))
	}
	off := p - h.regions[i].base
	return h.regions[i].mem[off : off+uint64(n)]
}

// floats returns the n float32 values at device address p.
func (h *hostDevice) floats(p uint64, n int) []float32 {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&h.bytes(p, 4*n)[0])), n)
}

// sgemm is cublasSgemm: C = α·op(A)·op(B) + β·C, column-major, C m×n,
// the product in float64 by gonum's GEMM.
func (h *hostDevice) sgemm(_ uintptr, ta, tb, m, n, k int32, alpha *float32, a uint64, lda int32, b uint64, ldb int32, beta *float32, c uint64, ldc int32) int32 {
	// A column-major matrix of r rows, c columns and leading dimension ld
	// is the row-major c×r matrix with stride ld: its transpose.
	operand := func(p uint64, ld, rows, cols int32) blas64.General {
		f := h.floats(p, int(ld*(cols-1)+rows))
		g := blas64.General{Rows: int(cols), Cols: int(rows), Stride: int(ld), Data: make([]float64, len(f))}
		for i, v := range f {
			g.Data[i] = float64(v)
		}
		return g
	}
	rowsA, colsA, rowsB, colsB := m, k, k, n
	if ta != 0 {
		rowsA, colsA = k, m
	}
	if tb != 0 {
		rowsB, colsB = n, k
	}
	A, B := operand(a, lda, rowsA, colsA), operand(b, ldb, rowsB, colsB)
	// Cᵀ (n×m, row-major) = op(B)ᵀ·op(A)ᵀ, where op(X)ᵀ is the row-major
	// view of X itself without a transpose, its transpose with one.
	opA, opB := blas.NoTrans, blas.NoTrans
	if ta != 0 {
		opA = blas.Trans
	}
	if tb != 0 {
		opB = blas.Trans
	}
	prod := blas64.General{Rows: int(n), Cols: int(m), Stride: int(m), Data: make([]float64, int(n)*int(m))}
	blas64.Gemm(opB, opA, 1, B, A, 0, prod)
	C := h.floats(c, int(ldc*(n-1)+m))
	for j := range n {
		for i := range m {
			out := *alpha * float32(prod.Data[int(j)*int(m)+int(i)])
			if *beta != 0 {
				out += *beta * C[i+j*ldc]
			}
			C[i+j*ldc] = out
		}
	}
	return 0
}

// sgemmBatched is cublasSgemmBatched: sgemm on each of batch triples of
// matrices, whose addresses the device arrays a, b and c hold.
func (h *hostDevice) sgemmBatched(hd uintptr, ta, tb, m, n, k int32, alpha *float32, a uint64, lda int32, b uint64, ldb int32, beta *float32, c uint64, ldc int32, batch int32) int32 {
	addr := func(p uint64, i int32) uint64 {
		return *(*uint64)(unsafe.Pointer(&h.bytes(p+8*uint64(i), 8)[0]))
	}
	for i := range batch {
		if rc := h.sgemm(hd, ta, tb, m, n, k, alpha, addr(a, i), lda, addr(b, i), ldb, beta, addr(c, i), ldc); rc != 0 {
			return rc
		}
	}
	return 0
}

// sgemmStridedBatched is cublasSgemmStridedBatched: sgemm on each of
// batch triples of matrices, the i-th of each operand i strides (in
// values) after its first.
func (h *hostDevice) sgemmStridedBatched(hd uintptr, ta, tb, m, n, k int32, alpha *float32, a uint64, lda int32, sa int64, b uint64, ldb int32, sb int64, beta *float32, c uint64, ldc int32, sc int64, batch int32) int32 {
	for i := range int64(batch) {
		if rc := h.sgemm(hd, ta, tb, m, n, k, alpha, a+uint64(4*i*sa), lda, b+uint64(4*i*sb), ldb, beta, c+uint64(4*i*sc), ldc); rc != 0 {
			return rc
		}
	}
	return 0
}

// hostConvShape is a convolution's input x, filter w and output y with its
// padding, stride and groups.
type hostConvShape struct {
	x, w, y hostTensor
	hostConv
}

func (h *hostDevice) conv(xd, wd, yd, conv uintptr) hostConvShape {
	return hostConvShape{*h.descs[xd].(*hostTensor), *h.descs[wd].(*hostTensor), *h.descs[yd].(*hostTensor), *h.descs[conv].(*hostConv)}
}

// The three products of a convolution.
const (
	convForward = iota // y = x ⋆ w
	convData           // x = the input gradient of y through w
	convFilter         // w = Σ x ⋆ y, the weights' gradient
)

// convolve computes product kind of convolution c in float64 (im2col and
// gonum's GEMM), then out = α·product + β·out, out unread where β = 0.
func (h *hostDevice) convolve(c hostConvShape, alpha, beta float32, x, w, y uint64, kind int) {
	X := h.floats(x, c.x.n*c.x.c*c.x.h*c.x.w)
	W := h.floats(w, c.w.n*c.w.c*c.w.h*c.w.w)
	Y := h.floats(y, c.y.n*c.y.c*c.y.h*c.y.w)
	out := map[int][]float32{convForward: Y, convData: X, convFilter: W}[kind]
	sums := make([]float64, len(out))
	cin, cout, kh, kw := c.w.c, c.y.c/c.groups, c.w.h, c.w.w // per group
	size, pix := cin*kh*kw, c.y.h*c.y.w
	inSample, outSample := c.x.c*c.x.h*c.x.w, c.y.c*pix
	// at[q·pix + p]: where in a sample's input (group 0) the patch value
	// q of output pixel p is, q running over a filter's (channel, row,
	// column); -1 in the padding.
	at := make([]int, size*pix)
	for q := range size {
		j, ky, kx := q/(kh*kw), q/kw%kh, q%kw
		for p := range pix {
			iy, ix := p/c.y.w*c.sh-c.ph+ky*c.dh, p%c.y.w*c.sw-c.pw+kx*c.dw
			at[q*pix+p] = -1
			if iy >= 0 && iy < c.x.h && ix >= 0 && ix < c.x.w {
				at[q*pix+p] = (j*c.x.h+iy)*c.x.w + ix
			}
		}
	}
	// One product per group over every sample: the patches of all the
	// samples' pixels side by side.
	N := c.x.n
	cols := blas64.General{Rows: size, Cols: N * pix, Stride: N * pix, Data: make([]float64, size*N*pix)}
	filters := blas64.General{Rows: cout, Cols: size, Stride: size, Data: make([]float64, cout*size)}
	outs := blas64.General{Rows: cout, Cols: N * pix, Stride: N * pix, Data: make([]float64, cout*N*pix)}
	for g := range c.groups {
		in := func(n, a int) int { return n*inSample + g*cin*c.x.h*c.x.w + a } // a: at's index
		for q := range size {
			for n := range N {
				for p := range pix {
					v := 0.0
					if a := at[q*pix+p]; a >= 0 {
						v = float64(X[in(n, a)])
					}
					cols.Data[q*N*pix+n*pix+p] = v
				}
			}
		}
		for i := range filters.Data {
			filters.Data[i] = float64(W[g*cout*size+i])
		}
		for oc := range cout {
			for n := range N {
				for p := range pix {
					outs.Data[oc*N*pix+n*pix+p] = float64(Y[n*outSample+(g*cout+oc)*pix+p])
				}
			}
		}
		switch kind {
		case convForward:
			blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, filters, cols, 0, outs)
			for oc := range cout {
				for n := range N {
					for p := range pix {
						sums[n*outSample+(g*cout+oc)*pix+p] = outs.Data[oc*N*pix+n*pix+p]
					}
				}
			}
		case convData:
			blas64.Gemm(blas.Trans, blas.NoTrans, 1, filters, outs, 0, cols)
			for q := range size {
				for n := range N {
					for p := range pix {
						if a := at[q*pix+p]; a >= 0 {
							sums[in(n, a)] += cols.Data[q*N*pix+n*pix+p]
						}
					}
				}
			}
		default:
			blas64.Gemm(blas.NoTrans, blas.Trans, 1, outs, cols, 0, filters)
			copy(sums[g*cout*size:], filters.Data)
		}
	}
	for i, s := range sums {
		v := alpha * float32(s)
		if beta != 0 {
			v += beta * out[i]
		}
		out[i] = v
	}
}
