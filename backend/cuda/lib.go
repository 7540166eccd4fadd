//go:build linux && !android

package cuda

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// The libraries the evaluator needs beside the driver come with PyTorch's
// NVIDIA wheels (site-packages/nvidia/cu13/lib and nvidia/cudnn/lib), with a
// CUDA toolkit (/usr/local/cuda/lib64) or with the distribution's packages.
// glibc reads LD_LIBRARY_PATH only when a process starts, so the libraries
// are opened by absolute path, each one's dependencies first and with
// RTLD_GLOBAL: a later lookup of the same soname (libcudnn.so.9 opening
// libcudnn_cnn.so.9, NVRTC opening its builtins) then finds the one loaded.

// EnvLibraryPath names the environment variable listing, separated by
// colons, directories to search for the CUDA libraries before the usual
// places.
const EnvLibraryPath = "LANDSCAPE_CUDA_PATH"

// libraryDirs returns the directories searched for the CUDA libraries, in
// order: LANDSCAPE_CUDA_PATH, the NVIDIA wheels of the Python
// environments in sight (VIRTUAL_ENV, CONDA_PREFIX, every python3 on
// PATH, the usual system and user site-packages), then the CUDA toolkit's
// and the system's library directories.
func libraryDirs() []string {
	var dirs []string
	add := func(patterns ...string) {
		for _, p := range patterns {
			matches, _ := filepath.Glob(p)
			slices.Sort(matches)
			slices.Reverse(matches) // newest Python first
			for _, m := range matches {
				if fi, err := os.Stat(m); err == nil && fi.IsDir() && !slices.Contains(dirs, m) {
					dirs = append(dirs, m)
				}
			}
		}
	}
	for _, d := range filepath.SplitList(os.Getenv(EnvLibraryPath)) {
		add(d)
	}
	wheels := func(prefix string) {
		for _, sp := range []string{"lib/python3*/site-packages", "lib/python3*/dist-packages", "lib64/python3*/site-packages"} {
			for _, sub := range []string{"cu13", "cu12", "cudnn", "cublas", "cuda_nvrtc", "cuda_runtime", "nvjitlink"} {
				add(filepath.Join(prefix, sp, "nvidia", sub, "lib"))
			}
		}
	}
	var prefixes []string
	for _, env := range []string{"VIRTUAL_ENV", "CONDA_PREFIX"} {
		if p := os.Getenv(env); p != "" {
			prefixes = append(prefixes, p)
		}
	}
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(d, "python3")); err == nil {
			prefixes = append(prefixes, filepath.Dir(d))
		}
	}
	home, _ := os.UserHomeDir()
	// The last two: images that keep PyTorch in a virtual environment in /opt.
	prefixes = append(prefixes, "/usr/local", "/usr", "/opt/conda", filepath.Join(home, ".local"), "/opt/*/.venv", "/opt/*/venv")
	for _, p := range prefixes {
		wheels(p) // add globs the patterns
	}
	add("/usr/local/cuda/lib64", "/usr/local/cuda-1[23]*/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib/aarch64-linux-gnu")
	return dirs
}

// library is one shared object to open: the glob patterns of its file name,
// newest first, and whether the evaluator cannot run without it.
type library struct {
	names    []string
	required bool
}

// Load order: each library after those it needs.
var libraries = []library{
	{[]string{"libcudart.so.13", "libcudart.so.12"}, false},
	{[]string{"libnvJitLink.so.13", "libnvJitLink.so.12"}, false},
	{[]string{"libcublasLt.so.13", "libcublasLt.so.12"}, true},
	{[]string{"libcublas.so.13", "libcublas.so.12"}, true},
	{[]string{"libnvrtc-builtins.so.13*", "libnvrtc-builtins.so.12*"}, false},
	{[]string{"libnvrtc.so.13", "libnvrtc.so.12"}, true},
	{[]string{"libcudnn_graph.so.9"}, false},
	{[]string{"libcudnn_engines_precompiled.so.9"}, false},
	{[]string{"libcudnn_engines_runtime_compiled.so.9"}, false},
	{[]string{"libcudnn_heuristic.so.9"}, false},
	{[]string{"libcudnn_ops.so.9"}, false},
	{[]string{"libcudnn_cnn.so.9"}, false},
	{[]string{"libcudnn.so.9"}, true},
}

// openLibrary opens the first file matching one of lib's names in dirs,
// else the name itself through the dynamic linker's own search. It returns
// the handle, the path opened and, on failure, every attempt's error.
func openLibrary(lib library, dirs []string) (uintptr, string, error) {
	var errs []string
	for _, name := range lib.names {
		for _, d := range dirs {
			matches, _ := filepath.Glob(filepath.Join(d, name))
			slices.Sort(matches)
			slices.Reverse(matches)
			for _, m := range matches {
				h, err := purego.Dlopen(m, purego.RTLD_NOW|purego.RTLD_GLOBAL)
				if err == nil {
					return h, m, nil
				}
				errs = append(errs, err.Error())
			}
		}
		if !strings.Contains(name, "*") {
			h, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_GLOBAL)
			if err == nil {
				return h, name, nil
			}
			errs = append(errs, err.Error())
		}
	}
	return 0, "", fmt.Errorf("%s not found (looked in %d directories; set %s to the folder holding it): %s",
		lib.names[0], len(dirs), EnvLibraryPath, strings.Join(errs, "; "))
}

// api holds the entry points of the driver, NVRTC, cuBLAS and cuDNN. Every
// call goes through the evaluator's one locked OS thread (see worker).
type api struct {
	paths []string // the libraries opened, for Describe and errors

	cuInit                    func(flags uint32) int32
	cuDeviceGet               func(dev *int32, ordinal int32) int32
	cuDeviceGetCount          func(n *int32) int32
	cuDeviceGetName           func(name *byte, n int32, dev int32) int32
	cuDeviceGetAttribute      func(v *int32, attr int32, dev int32) int32
	cuDevicePrimaryCtxRetain  func(ctx *uintptr, dev int32) int32
	cuDevicePrimaryCtxRelease func(dev int32) int32
	cuCtxSetCurrent           func(ctx uintptr) int32
	cuCtxSynchronize          func() int32
	cuMemGetInfo              func(free, total *uintptr) int32
	cuMemAlloc                func(p *uint64, bytes uintptr) int32
	cuMemFree                 func(p uint64) int32
	cuMemcpyHtoD              func(dst uint64, src unsafe.Pointer, bytes uintptr) int32
	cuMemcpyDtoH              func(dst unsafe.Pointer, src uint64, bytes uintptr) int32
	cuMemcpyDtoD              func(dst, src uint64, bytes uintptr) int32
	cuMemsetD8                func(dst uint64, v uint8, n uintptr) int32
	cuModuleLoadData          func(mod *uintptr, image unsafe.Pointer) int32
	cuModuleUnload            func(mod uintptr) int32
	cuModuleGetFunction       func(fn *uintptr, mod uintptr, name string) int32
	cuLaunchKernel            func(f uintptr, gx, gy, gz, bx, by, bz, smem uint32, stream uintptr, params, extra *unsafe.Pointer) int32
	cuGetErrorName            func(rc int32, s **byte) int32

	nvrtcVersion           func(major, minor *int32) int32
	nvrtcCreateProgram     func(p *uintptr, src, name string, nHeaders int32, headers, includeNames **byte) int32
	nvrtcCompileProgram    func(p uintptr, nOpts int32, opts **byte) int32
	nvrtcGetProgramLogSize func(p uintptr, n *uintptr) int32
	nvrtcGetProgramLog     func(p uintptr, log *byte) int32
	nvrtcGetPTXSize        func(p uintptr, n *uintptr) int32
	nvrtcGetPTX            func(p uintptr, ptx *byte) int32
	nvrtcDestroyProgram    func(p *uintptr) int32
	nvrtcGetErrorString    func(rc int32) string

	cublasCreate      func(h *uintptr) int32
	cublasDestroy     func(h uintptr) int32
	cublasGetVersion  func(h uintptr, v *int32) int32
	cublasSetMathMode func(h uintptr, mode int32) int32
	cublasSgemm       func(h uintptr, ta, tb, m, n, k int32, alpha *float32, a uint64, lda int32, b uint64, ldb int32, beta *float32, c uint64, ldc int32) int32
	// cublasSgemmBatched is cublasSgemm on batch matrices each, their
	// addresses in device arrays.
	cublasSgemmBatched func(h uintptr, ta, tb, m, n, k int32, alpha *float32, a uint64, lda int32, b uint64, ldb int32, beta *float32, c uint64, ldc int32, batch int32) int32
	// cublasSgemmStridedBatched is cublasSgemm on batch matrices each, each
	// operand's a fixed stride (in values) after the one before.
	cublasSgemmStridedBatched func(h uintptr, ta, tb, m, n, k int32, alpha *float32, a uint64, lda int32, sa int64, b uint64, ldb int32, sb int64, beta *float32, c uint64, ldc int32, sc int64, batch int32) int32

	cudnnGetVersion                         func() uintptr
	cudnnGetErrorString                     func(rc int32) string
	cudnnCreate                             func(h *uintptr) int32
	cudnnDestroy                            func(h uintptr) int32
	cudnnCreateTensorDescriptor             func(d *uintptr) int32
	cudnnSetTensor4dDescriptor              func(d uintptr, format, dtype, n, c, h, w int32) int32
	cudnnDestroyTensorDescriptor            func(d uintptr) int32
	cudnnCreateFilterDescriptor             func(d *uintptr) int32
	cudnnSetFilter4dDescriptor              func(d uintptr, dtype, format, k, c, h, w int32) int32
	cudnnDestroyFilterDescriptor            func(d uintptr) int32
	cudnnCreateConvolutionDescriptor        func(d *uintptr) int32
	cudnnSetConvolution2dDescriptor         func(d uintptr, padH, padW, strideH, strideW, dilH, dilW, mode, dtype int32) int32
	cudnnSetConvolutionMathType             func(d uintptr, math int32) int32
	cudnnSetConvolutionGroupCount           func(d uintptr, groups int32) int32
	cudnnDestroyConvolutionDescriptor       func(d uintptr) int32
	cudnnGetConvolution2dForwardOutputDim   func(conv, x, w uintptr, n, c, h, wd *int32) int32
	cudnnFindConvolutionForwardAlgorithm    func(h, x, w, conv, y uintptr, requested int32, returned *int32, perf *convAlgoPerf) int32
	cudnnGetConvolutionForwardAlgorithm     func(h, x, w, conv, y uintptr, requested int32, returned *int32, perf *convAlgoPerf) int32
	cudnnGetConvolutionForwardWorkspaceSize func(h, x, w, conv, y uintptr, algo int32, size *uintptr) int32
	cudnnConvolutionForward                 func(h uintptr, alpha *float32, xd uintptr, x uint64, wd uintptr, w uint64, conv uintptr, algo int32, ws uint64, wsSize uintptr, beta *float32, yd uintptr, y uint64) int32

	// The backward products, for the differentiator.
	cudnnGetConvolutionBackwardDataAlgorithm       func(h, w, dy, conv, dx uintptr, requested int32, returned *int32, perf *convAlgoPerf) int32
	cudnnGetConvolutionBackwardDataWorkspaceSize   func(h, w, dy, conv, dx uintptr, algo int32, size *uintptr) int32
	cudnnConvolutionBackwardData                   func(h uintptr, alpha *float32, wd uintptr, w uint64, dyd uintptr, dy uint64, conv uintptr, algo int32, ws uint64, wsSize uintptr, beta *float32, dxd uintptr, dx uint64) int32
	cudnnGetConvolutionBackwardFilterAlgorithm     func(h, x, dy, conv, dw uintptr, requested int32, returned *int32, perf *convAlgoPerf) int32
	cudnnGetConvolutionBackwardFilterWorkspaceSize func(h, x, dy, conv, dw uintptr, algo int32, size *uintptr) int32
	cudnnConvolutionBackwardFilter                 func(h uintptr, alpha *float32, xd uintptr, x uint64, dyd uintptr, dy uint64, conv uintptr, algo int32, ws uint64, wsSize uintptr, beta *float32, dwd uintptr, dw uint64) int32
}

// convAlgoPerf is cudnnConvolutionFwdAlgoPerf_t.
type convAlgoPerf struct {
	Algo        int32
	Status      int32
	Time        float32
	_           int32
	Memory      uint64
	Determinism int32
	MathType    int32
	_           [3]int32
	_           int32
}

var (
	apiOnce sync.Once
	apiErr  error
	theAPI  *api
)

// loadAPI opens the libraries and binds their entry points once per
// process.
func loadAPI() (*api, error) {
	apiOnce.Do(func() { theAPI, apiErr = openAPI() })
	return theAPI, apiErr
}

func openAPI() (*api, error) {
	a := &api{}
	drv, _, err := openLibrary(library{names: libcudaNames, required: true}, nil)
	if err != nil {
		return nil, fmt.Errorf("no NVIDIA driver: %w", err)
	}
	a.paths = append(a.paths, "libcuda.so.1")
	handles := map[string]uintptr{}
	dirs := libraryDirs()
	for _, lib := range libraries {
		h, path, err := openLibrary(lib, dirs)
		if err != nil {
			if lib.required {
				return nil, err
			}
			continue
		}
		handles[lib.names[0]] = h
		a.paths = append(a.paths, path)
	}
	var missing []string
	bind := func(h uintptr, fn any, name string) {
		if _, err := purego.Dlsym(h, name); err != nil {
			missing = append(missing, name)
			return
		}
		purego.RegisterLibFunc(fn, h, name)
	}
	bind(drv, &a.cuInit, "cuInit")
	bind(drv, &a.cuDeviceGet, "cuDeviceGet")
	bind(drv, &a.cuDeviceGetCount, "cuDeviceGetCount")
	bind(drv, &a.cuDeviceGetName, "cuDeviceGetName")
	bind(drv, &a.cuDeviceGetAttribute, "cuDeviceGetAttribute")
	bind(drv, &a.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain")
	bind(drv, &a.cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2")
	bind(drv, &a.cuCtxSetCurrent, "cuCtxSetCurrent")
	bind(drv, &a.cuCtxSynchronize, "cuCtxSynchronize")
	bind(drv, &a.cuMemGetInfo, "cuMemGetInfo_v2")
	bind(drv, &a.cuMemAlloc, "cuMemAlloc_v2")
	bind(drv, &a.cuMemFree, "cuMemFree_v2")
	bind(drv, &a.cuMemcpyHtoD, "cuMemcpyHtoD_v2")
	bind(drv, &a.cuMemcpyDtoH, "cuMemcpyDtoH_v2")
	bind(drv, &a.cuMemcpyDtoD, "cuMemcpyDtoD_v2")
	bind(drv, &a.cuMemsetD8, "cuMemsetD8_v2")
	bind(drv, &a.cuModuleLoadData, "cuModuleLoadData")
	bind(drv, &a.cuModuleUnload, "cuModuleUnload")
	bind(drv, &a.cuModuleGetFunction, "cuModuleGetFunction")
	bind(drv, &a.cuLaunchKernel, "cuLaunchKernel")
	bind(drv, &a.cuGetErrorName, "cuGetErrorName")

	nv := handles["libnvrtc.so.13"]
	bind(nv, &a.nvrtcVersion, "nvrtcVersion")
	bind(nv, &a.nvrtcCreateProgram, "nvrtcCreateProgram")
	bind(nv, &a.nvrtcCompileProgram, "nvrtcCompileProgram")
	bind(nv, &a.nvrtcGetProgramLogSize, "nvrtcGetProgramLogSize")
	bind(nv, &a.nvrtcGetProgramLog, "nvrtcGetProgramLog")
	bind(nv, &a.nvrtcGetPTXSize, "nvrtcGetPTXSize")
	bind(nv, &a.nvrtcGetPTX, "nvrtcGetPTX")
	bind(nv, &a.nvrtcDestroyProgram, "nvrtcDestroyProgram")
	bind(nv, &a.nvrtcGetErrorString, "nvrtcGetErrorString")

	bl := handles["libcublas.so.13"]
	bind(bl, &a.cublasCreate, "cublasCreate_v2")
	bind(bl, &a.cublasDestroy, "cublasDestroy_v2")
	bind(bl, &a.cublasGetVersion, "cublasGetVersion_v2")
	bind(bl, &a.cublasSetMathMode, "cublasSetMathMode")
	bind(bl, &a.cublasSgemm, "cublasSgemm_v2")
	bind(bl, &a.cublasSgemmBatched, "cublasSgemmBatched")
	bind(bl, &a.cublasSgemmStridedBatched, "cublasSgemmStridedBatched")

	dn := handles["libcudnn.so.9"]
	bind(dn, &a.cudnnGetVersion, "cudnnGetVersion")
	bind(dn, &a.cudnnGetErrorString, "cudnnGetErrorString")
	bind(dn, &a.cudnnCreate, "cudnnCreate")
	bind(dn, &a.cudnnDestroy, "cudnnDestroy")
	bind(dn, &a.cudnnCreateTensorDescriptor, "cudnnCreateTensorDescriptor")
	bind(dn, &a.cudnnSetTensor4dDescriptor, "cudnnSetTensor4dDescriptor")
	bind(dn, &a.cudnnDestroyTensorDescriptor, "cudnnDestroyTensorDescriptor")
	bind(dn, &a.cudnnCreateFilterDescriptor, "cudnnCreateFilterDescriptor")
	bind(dn, &a.cudnnSetFilter4dDescriptor, "cudnnSetFilter4dDescriptor")
	bind(dn, &a.cudnnDestroyFilterDescriptor, "cudnnDestroyFilterDescriptor")
	bind(dn, &a.cudnnCreateConvolutionDescriptor, "cudnnCreateConvolutionDescriptor")
	bind(dn, &a.cudnnSetConvolution2dDescriptor, "cudnnSetConvolution2dDescriptor")
	bind(dn, &a.cudnnSetConvolutionMathType, "cudnnSetConvolutionMathType")
	bind(dn, &a.cudnnSetConvolutionGroupCount, "cudnnSetConvolutionGroupCount")
	bind(dn, &a.cudnnDestroyConvolutionDescriptor, "cudnnDestroyConvolutionDescriptor")
	bind(dn, &a.cudnnGetConvolution2dForwardOutputDim, "cudnnGetConvolution2dForwardOutputDim")
	bind(dn, &a.cudnnFindConvolutionForwardAlgorithm, "cudnnFindConvolutionForwardAlgorithm")
	bind(dn, &a.cudnnGetConvolutionForwardAlgorithm, "cudnnGetConvolutionForwardAlgorithm_v7")
	bind(dn, &a.cudnnGetConvolutionForwardWorkspaceSize, "cudnnGetConvolutionForwardWorkspaceSize")
	bind(dn, &a.cudnnConvolutionForward, "cudnnConvolutionForward")
	bind(dn, &a.cudnnGetConvolutionBackwardDataAlgorithm, "cudnnGetConvolutionBackwardDataAlgorithm_v7")
	bind(dn, &a.cudnnGetConvolutionBackwardDataWorkspaceSize, "cudnnGetConvolutionBackwardDataWorkspaceSize")
	bind(dn, &a.cudnnConvolutionBackwardData, "cudnnConvolutionBackwardData")
	bind(dn, &a.cudnnGetConvolutionBackwardFilterAlgorithm, "cudnnGetConvolutionBackwardFilterAlgorithm_v7")
	bind(dn, &a.cudnnGetConvolutionBackwardFilterWorkspaceSize, "cudnnGetConvolutionBackwardFilterWorkspaceSize")
	bind(dn, &a.cudnnConvolutionBackwardFilter, "cudnnConvolutionBackwardFilter")
	if len(missing) > 0 {
		return nil, fmt.Errorf("the CUDA libraries lack %s (opened %s)", strings.Join(missing, ", "), strings.Join(a.paths, ", "))
	}
	return a, nil
}

// The status codes of the four libraries are told apart by the function
// that returned them; these turn a failed call into an error naming it.

func (a *api) cu(call string, rc int32) error {
	if rc == 0 {
		return nil
	}
	var p *byte
	name := fmt.Sprintf("CUresult %d", rc)
	if a.cuGetErrorName(rc, &p) == 0 && p != nil {
		name = goString(p)
	}
	return fmt.Errorf("cuda: %s: %s", call, name)
}

func (a *api) nvrtc(call string, rc int32) error {
	if rc == 0 {
		return nil
	}
	return fmt.Errorf("cuda: %s: %s", call, a.nvrtcGetErrorString(rc))
}

func (a *api) cublas(call string, rc int32) error {
	if rc == 0 {
		return nil
	}
	return fmt.Errorf("cuda: %s: cublasStatus %d", call, rc)
}

func (a *api) cudnn(call string, rc int32) error {
	if rc == 0 {
		return nil
	}
	return fmt.Errorf("cuda: %s: %s", call, a.cudnnGetErrorString(rc))
}

// goString copies the NUL-terminated C string at p.
func goString(p *byte) string {
	var b []byte
	for q := unsafe.Pointer(p); *(*byte)(q) != 0; q = unsafe.Add(q, 1) {
		b = append(b, *(*byte)(q))
	}
	return string(b)
}

// Libraries loads the libraries the evaluator needs, once, and says which
// were found, or why they cannot be used.
func Libraries() (string, error) {
	a, err := loadAPI()
	if err != nil {
		return "", err
	}
	var major, minor int32
	a.nvrtcVersion(&major, &minor)
	v := a.cudnnGetVersion()
	return fmt.Sprintf("NVRTC %d.%d, cuDNN %d.%d.%d; loaded %s", major, minor, v/10000, v%10000/100, v%100, strings.Join(a.paths, ", ")), nil
}
