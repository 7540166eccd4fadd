//go:build linux && !android && (amd64 || arm64)

package cuda

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/ebitengine/purego"
)

// The kernels of kernels.cu, diff.cu and graph.cu are CUDA C++ that a host C++
// compiler also takes, given the few CUDA built-ins they use (hostPrelude).
// These tests compile them with g++, load them with purego and run them on
// the CPU, one thread per block, the blocks one after another: the
// arithmetic and the indexing of every kernel are checked here, on any
// machine, and the GPU check runs the same source on a GPU.

// hostPrelude defines, for a host compiler, what the kernels take from
// CUDA. Shared memory is per block and a block has one thread, so
// __syncthreads has nothing to wait for.
const hostPrelude = `#include <cmath>
#include <cstring>
struct hostDim { unsigned x, y, z; };
static thread_local hostDim threadIdx, blockIdx, blockDim, gridDim;
#define __global__
#define __device__
#define __shared__ static thread_local
static inline void __syncthreads() {}
static inline float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }
static inline unsigned __float_as_uint(float f) { unsigned u; memcpy(&u, &f, 4); return u; }
static inline double __longlong_as_double(long long i) { double d; memcpy(&d, &i, 8); return d; }
static inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
extern "C" void host_block(unsigned block, unsigned blocks) {
	blockIdx.x = block; gridDim.x = blocks; threadIdx.x = 0; blockDim.x = 1;
}
`

// hostKernels is the kernels compiled for the host.
type hostKernels struct {
	lib   uintptr
	block func(block, blocks uint32)
	// names lists the kernels, each with a launcher taking its arguments
	// as cuLaunchKernel does (an array of pointers to their values) and
	// the grid's blocks and threads per block.
	names    []string
	launcher []func(params unsafe.Pointer, blocks, threads uint32)
}

// kernelSignature matches a kernel's name and parameter list.
var kernelSignature = regexp.MustCompile(`extern "C" __global__ void (\w+)\(([^)]*)\)`)

// launchers returns, for each kernel of src, a C++ function
// launch_NAME(void** a, unsigned blocks, unsigned threads) that runs it
// with the values a points to on every thread of the grid, one after
// another, and the kernels' names. A kernel with shared memory, whose
// threads wait for each other at __syncthreads, runs one thread per block
// instead: such kernels stride by blockDim, so one thread does the whole
// block's work.
func launchers(src string) (string, []string) {
	var b strings.Builder
	var names []string
	matches := kernelSignature.FindAllStringSubmatchIndex(src, -1)
	for i, m := range matches {
		name, params := src[m[2]:m[3]], src[m[4]:m[5]]
		end := len(src)
		if i+1 < len(matches) {
			end = matches[i+1][0]
		}
		barrier := strings.Contains(src[m[1]:end], "__shared__")
		names = append(names, name)
		var args []string
		for i, param := range strings.Split(params, ",") {
			fields := strings.Fields(param)
			typ := strings.Join(fields[:len(fields)-1], " ")
			args = append(args, fmt.Sprintf("*(%s*)a[%d]", typ, i))
		}
		fmt.Fprintf(&b, `extern "C" void launch_%s(void** a, unsigned blocks, unsigned threads) {
	if (%t) threads = 1;
	for (unsigned b = 0; b < blocks; b++) for (unsigned t = 0; t < threads; t++) {
		blockIdx.x = b; gridDim.x = blocks; threadIdx.x = t; blockDim.x = threads;
		%s(%s);
	}
}
`, name, barrier, name, strings.Join(args, ", "))
	}
	return b.String(), names
}

// compileHostKernels returns the kernels compiled for the host, built once
// per test binary.
func compileHostKernels(t *testing.T) *hostKernels {
	t.Helper()
	hostBuild.Do(func() { hostBuild.k, hostBuild.err = buildHostKernels() })
	if errors.Is(hostBuild.err, exec.ErrNotFound) && os.Getenv("LANDSCAPE_REQUIRE_CXX") == "" {
		t.Skip("no g++ to compile the kernels for the host (Debian: apt-get install g++)")
	}
	if hostBuild.err != nil {
		t.Fatal(hostBuild.err)
	}
	return hostBuild.k
}

var hostBuild struct {
	sync.Once
	k   *hostKernels
	err error
}

// buildHostKernels builds the kernels into a shared library
// with g++ (-ffp-contract=off, --fmad=false's counterpart: no multiply and
// add fuse) and opens it.
func buildHostKernels() (*hostKernels, error) {
	cxx, err := exec.LookPath("g++")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "landscape-kernels")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir) // an open library outlives its file
	src := filepath.Join(dir, "kernels.cpp")
	glue, names := launchers(source)
	if err := os.WriteFile(src, []byte(hostPrelude+source+glue), 0o644); err != nil {
		return nil, err
	}
	lib := filepath.Join(dir, "kernels.so")
	out, err := exec.Command(cxx, "-O2", "-ffp-contract=off", "-fno-fast-math", "-shared", "-fPIC", "-o", lib, src).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("g++: %v\n%s", err, out)
	}
	h, err := purego.Dlopen(lib, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return nil, err
	}
	k := &hostKernels{lib: h, names: names, launcher: make([]func(unsafe.Pointer, uint32, uint32), len(names))}
	purego.RegisterLibFunc(&k.block, h, "host_block")
	for i, name := range names {
		purego.RegisterLibFunc(&k.launcher[i], h, "launch_"+name)
	}
	return k, nil
}

// fn binds kernel name to the Go function pointed to by fptr.
func (k *hostKernels) fn(fptr any, name string) { purego.RegisterLibFunc(fptr, k.lib, name) }

// launch runs call, one kernel launch, over blocks blocks of one thread.
func (k *hostKernels) launch(blocks int, call func()) {
	runtime.LockOSThread() // the block index is thread-local
	defer runtime.UnlockOSThread()
	for b := range blocks {
		k.block(uint32(b), uint32(blocks))
		call()
	}
}

// at returns the address of s's first value, for a kernel argument; nil
// for an empty s (a null pointer).
func at[T any](s []T) unsafe.Pointer {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Pointer(&s[0])
}
