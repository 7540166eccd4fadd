//go:build linux && !android

package cuda

import (
	"bytes"
	_ "embed"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unsafe"
)

//go:embed kernels.cu
var kernelSource string

//go:embed diff.cu
var diffSource string

//go:embed graph.cu
var graphSource string

// source is every kernel's, compiled together.
var source = kernelSource + diffSource + graphSource

// kernelNames lists the kernels of kernels.cu, diff.cu and graph.cu.
var kernelNames = []string{
	"form_weights", "fold", "epilogue", "activate", "mul", "channels", "maxpool", "avgpool", "gavgpool", "place", "xent", "total",
	"add_channel", "bn_forward", "relu_forward", "relu_backward", "sum2", "accumulate", "maxpool_forward", "maxpool_backward",
	"avgpool_backward", "gavgpool_backward", "take", "bn_backward_x", "channel_sums", "xent_grad",
	"bn_train_stats", "bn_train_sums", "bn_train_backward_x", "activate_forward", "activate_backward", "mul_tangent",
	"mul_backward_a", "mul_backward_b", "channels_backward",
	"copy_view", "gather_map", "binary", "where", "unary", "softmax_rows", "layer_norm_rows", "gather_rows", "pool_table", "reduce_rows",
}

// thread runs functions on one goroutine locked to its OS thread: a CUDA
// context is current per OS thread, and Go moves goroutines between them.
type thread struct{ jobs chan func() }

func startThread() *thread {
	t := &thread{jobs: make(chan func())}
	go func() {
		runtime.LockOSThread()
		for f := range t.jobs {
			f()
		}
	}()
	return t
}

// do runs f on the thread and returns its error; a panic in f is returned
// as an error rather than killing the thread.
func (t *thread) do(f func() error) error {
	done := make(chan error, 1)
	t.jobs <- func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("cuda: %v", r)
			}
		}()
		done <- f()
	}
	return <-done
}

func (t *thread) stop() { close(t.jobs) }

// ptr is a device address.
type ptr uint64

// gpu is one device's context with the handles, kernels and memory of an
// evaluator. Its methods run on the evaluator's thread.
type gpu struct {
	a      *api
	dev    int32
	ctx    uintptr
	name   string
	major  int
	minor  int
	sms    int
	module uintptr
	fns    map[string]uintptr
	blas   uintptr
	dnn    uintptr
	allocs []ptr

	// Kernel arguments: each value in params, a pointer to each in args.
	// Kept in the struct (on the heap) for cuLaunchKernel, which copies
	// them before it returns.
	params [16]uint64
	args   [16]unsafe.Pointer
}

const (
	attrMultiprocessors = 16
	attrCCMajor         = 75
	attrCCMinor         = 76
)

// openOn opens device ordinal on thread t (see openGPU) and runs setup
// there with it: how an evaluator or a differentiator starts.
func openOn(t *thread, a *api, ordinal int, setup func(g *gpu) error) error {
	return t.do(func() error {
		g, err := openGPU(a, ordinal)
		if err != nil {
			return err
		}
		return setup(g)
	})
}

// openGPU makes device ordinal's primary context current on the calling
// thread, compiles the kernels and creates the cuBLAS and cuDNN handles.
func openGPU(a *api, ordinal int) (*gpu, error) {
	g := &gpu{a: a, fns: map[string]uintptr{}}
	if err := a.cu("cuInit", a.cuInit(0)); err != nil {
		return nil, err
	}
	var n int32
	if err := a.cu("cuDeviceGetCount", a.cuDeviceGetCount(&n)); err != nil {
		return nil, err
	}
	if ordinal < 0 || ordinal >= int(n) {
		return nil, fmt.Errorf("cuda: no device cuda:%d (the driver sees %d)", ordinal, n)
	}
	if err := a.cu("cuDeviceGet", a.cuDeviceGet(&g.dev, int32(ordinal))); err != nil {
		return nil, err
	}
	name := make([]byte, 256)
	a.cuDeviceGetName(&name[0], int32(len(name)), g.dev)
	if k := bytes.IndexByte(name, 0); k >= 0 {
		name = name[:k]
	}
	g.name = string(name)
	var v int32
	a.cuDeviceGetAttribute(&v, attrCCMajor, g.dev)
	g.major = int(v)
	a.cuDeviceGetAttribute(&v, attrCCMinor, g.dev)
	g.minor = int(v)
	a.cuDeviceGetAttribute(&v, attrMultiprocessors, g.dev)
	g.sms = max(1, int(v))
	if err := a.cu("cuDevicePrimaryCtxRetain", a.cuDevicePrimaryCtxRetain(&g.ctx, g.dev)); err != nil {
		return nil, err
	}
	if err := a.cu("cuCtxSetCurrent", a.cuCtxSetCurrent(g.ctx)); err != nil {
		a.cuDevicePrimaryCtxRelease(g.dev)
		return nil, err
	}
	err := g.compile()
	if err == nil {
		err = a.cublas("cublasCreate", a.cublasCreate(&g.blas))
	}
	if err == nil {
		err = a.cudnn("cudnnCreate", a.cudnnCreate(&g.dnn))
	}
	if err != nil {
		g.close()
		return nil, err
	}
	return g, nil
}

// ptxCache holds the kernels compiled for each architecture: NVRTC takes
// a good part of a second, and a trajectory makes an evaluator per
// checkpoint.
var ptxCache struct {
	sync.Mutex
	ptx map[int][]byte
}

// compile builds the kernels with NVRTC for the device's architecture (or
// the newest older one this NVRTC knows; the driver compiles the PTX on)
// and loads them.
func (g *gpu) compile() error {
	arch := g.major*10 + g.minor
	ptxCache.Lock()
	ptx, ok := ptxCache.ptx[arch]
	ptxCache.Unlock()
	if !ok {
		var err error
		if ptx, err = g.nvrtc(arch); err != nil {
			return err
		}
		ptxCache.Lock()
		if ptxCache.ptx == nil {
			ptxCache.ptx = map[int][]byte{}
		}
		ptxCache.ptx[arch] = ptx
		ptxCache.Unlock()
	}
	a := g.a
	if err := a.cu("cuModuleLoadData", a.cuModuleLoadData(&g.module, unsafe.Pointer(&ptx[0]))); err != nil {
		return err
	}
	for _, name := range kernelNames {
		var f uintptr
		if err := a.cu("cuModuleGetFunction "+name, a.cuModuleGetFunction(&f, g.module, name)); err != nil {
			return err
		}
		g.fns[name] = f
	}
	return nil
}

// nvrtc compiles the kernels (source) to PTX for compute capability arch.
func (g *gpu) nvrtc(arch int) ([]byte, error) {
	a := g.a
	var ptx []byte
	var errs []string
	for _, target := range []int{arch, 90, 80, 75, 70} {
		if target > arch {
			continue
		}
		var prog uintptr
		if err := a.nvrtc("nvrtcCreateProgram", a.nvrtcCreateProgram(&prog, source, "landscape.cu", 0, nil, nil)); err != nil {
			return nil, err
		}
		opts := [][]byte{[]byte(fmt.Sprintf("--gpu-architecture=compute_%d\x00", target)), []byte("--fmad=false\x00")}
		cOpts := make([]*byte, len(opts))
		for i := range opts {
			cOpts[i] = &opts[i][0]
		}
		rc := a.nvrtcCompileProgram(prog, int32(len(cOpts)), &cOpts[0])
		runtime.KeepAlive(opts)
		if rc != 0 {
			var n uintptr
			a.nvrtcGetProgramLogSize(prog, &n)
			log := make([]byte, n+1)
			a.nvrtcGetProgramLog(prog, &log[0])
			errs = append(errs, fmt.Sprintf("compute_%d: %s: %s", target, a.nvrtcGetErrorString(rc), bytes.TrimRight(log, "\x00\n")))
			a.nvrtcDestroyProgram(&prog)
			continue
		}
		var n uintptr
		if err := a.nvrtc("nvrtcGetPTXSize", a.nvrtcGetPTXSize(prog, &n)); err != nil {
			a.nvrtcDestroyProgram(&prog)
			return nil, err
		}
		ptx = make([]byte, n+1)
		err := a.nvrtc("nvrtcGetPTX", a.nvrtcGetPTX(prog, &ptx[0]))
		a.nvrtcDestroyProgram(&prog)
		return ptx, err
	}
	return nil, fmt.Errorf("cuda: NVRTC could not compile the kernels:\n%s", strings.Join(errs, "\n"))
}

// close releases everything g holds.
func (g *gpu) close() {
	a := g.a
	for _, p := range g.allocs {
		a.cuMemFree(uint64(p))
	}
	g.allocs = nil
	if g.dnn != 0 {
		a.cudnnDestroy(g.dnn)
		g.dnn = 0
	}
	if g.blas != 0 {
		a.cublasDestroy(g.blas)
		g.blas = 0
	}
	if g.module != 0 {
		a.cuModuleUnload(g.module)
		g.module = 0
	}
	if g.ctx != 0 {
		a.cuDevicePrimaryCtxRelease(g.dev)
		g.ctx = 0
	}
}

// freeMemory returns the device memory free now, in bytes.
func (g *gpu) freeMemory() (uint64, error) {
	var free, total uintptr
	if err := g.a.cu("cuMemGetInfo", g.a.cuMemGetInfo(&free, &total)); err != nil {
		return 0, err
	}
	return uint64(free), nil
}

// alloc returns n bytes of zeroed device memory, freed by close.
func (g *gpu) alloc(n int) (ptr, error) {
	if n <= 0 {
		return 0, nil
	}
	var p uint64
	if err := g.a.cu(fmt.Sprintf("cuMemAlloc(%d MiB)", n>>20), g.a.cuMemAlloc(&p, uintptr(n))); err != nil {
		return 0, err
	}
	g.allocs = append(g.allocs, ptr(p))
	return ptr(p), g.a.cu("cuMemsetD8", g.a.cuMemsetD8(p, 0, uintptr(n)))
}

// allocator returns a function that allocates as alloc does and keeps the
// first error in *err, allocating nothing after it: a run of allocations
// is checked once, at its end.
func (g *gpu) allocator(err *error) func(bytes int) ptr {
	return func(bytes int) ptr {
		var q ptr
		if *err == nil {
			q, *err = g.alloc(bytes)
		}
		return q
	}
}

// free releases p, which alloc returned (0: nothing).
func (g *gpu) free(p ptr) error {
	if p == 0 {
		return nil
	}
	i := slices.Index(g.allocs, p)
	if i < 0 {
		return fmt.Errorf("cuda: freeing %#x, which was not allocated", uint64(p))
	}
	g.allocs = slices.Delete(g.allocs, i, i+1)
	return g.a.cu("cuMemFree", g.a.cuMemFree(uint64(p)))
}

// zero sets n bytes at p to zero.
func (g *gpu) zero(p ptr, n int) error {
	if n <= 0 {
		return nil
	}
	return g.a.cu("cuMemsetD8", g.a.cuMemsetD8(uint64(p), 0, uintptr(n)))
}

// upload copies src to the device at dst.
func upload[T float32 | int32 | int64](g *gpu, dst ptr, src []T) error {
	if len(src) == 0 {
		return nil
	}
	n := uintptr(len(src)) * unsafe.Sizeof(src[0])
	return g.a.cu("cuMemcpyHtoD", g.a.cuMemcpyHtoD(uint64(dst), unsafe.Pointer(&src[0]), n))
}

// download copies len(dst) values from the device at src; it waits for
// the work queued before it.
func download[T float32 | float64 | int32](g *gpu, dst []T, src ptr) error {
	if len(dst) == 0 {
		return nil
	}
	n := uintptr(len(dst)) * unsafe.Sizeof(dst[0])
	return g.a.cu("cuMemcpyDtoH", g.a.cuMemcpyDtoH(unsafe.Pointer(&dst[0]), uint64(src), n))
}

// launchBlock is the threads per block of the element-wise kernels.
const launchBlock = 256

// launch runs kernel name over n elements (grid-stride, so the grid is
// capped at a few waves) with the given arguments, each a ptr, int32, int64,
// float32 or float64, in the kernel's order.
func (g *gpu) launch(name string, n int64, args ...any) error {
	blocks := max(1, min((n+launchBlock-1)/launchBlock, int64(g.sms)*32))
	return g.launchGrid(name, uint32(blocks), launchBlock, args...)
}

func (g *gpu) launchGrid(name string, blocks, threads uint32, args ...any) error {
	f, ok := g.fns[name]
	if !ok {
		return fmt.Errorf("cuda: no kernel %s", name)
	}
	if len(args) > len(g.params) {
		return fmt.Errorf("cuda: kernel %s: %d arguments", name, len(args))
	}
	for i, v := range args {
		switch v := v.(type) {
		case ptr:
			g.params[i] = uint64(v)
		case int32:
			g.params[i] = uint64(uint32(v))
		case int64:
			g.params[i] = uint64(v)
		case float32:
			g.params[i] = uint64(math.Float32bits(v))
		case float64:
			g.params[i] = math.Float64bits(v)
		default:
			return fmt.Errorf("cuda: kernel %s: argument %d of type %T", name, i, v)
		}
		g.args[i] = unsafe.Pointer(&g.params[i])
	}
	rc := g.a.cuLaunchKernel(f, blocks, 1, 1, threads, 1, 1, 0, 0, &g.args[0], nil)
	return g.a.cu("cuLaunchKernel "+name, rc)
}
