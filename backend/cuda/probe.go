//go:build !windows

package cuda

import (
	"bytes"
	"fmt"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// CUDA driver API result and attribute codes (cuda.h).
const (
	cudaSuccess            = 0
	attrComputeCapMajor    = 75
	attrComputeCapMinor    = 76
	maxDeviceNameBytes     = 256
	cudaErrorNoDevice      = 100
	cudaErrorInsufficientD = 35
)

var (
	probeOnce sync.Once
	report    Report
)

// libcudaNames are tried in order: the soname the driver installs, then the
// usual absolute paths (containers sometimes lack the ldconfig entry).
var libcudaNames = []string{
	"libcuda.so.1",
	"/usr/lib/x86_64-linux-gnu/libcuda.so.1",
	"/usr/lib64/libcuda.so.1",
	"/usr/lib/aarch64-linux-gnu/libcuda.so.1",
	"/usr/local/nvidia/lib64/libcuda.so.1",
}

// Probe loads the CUDA driver once per process and reports the devices.
func Probe() Report {
	probeOnce.Do(func() { report = probe() })
	return report
}

func probe() Report {
	var h uintptr
	var err, first error
	for _, name := range libcudaNames {
		if h, err = purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_GLOBAL); err == nil {
			break
		}
		if first == nil {
			first = err
		}
	}
	if err != nil {
		return Report{Why: fmt.Sprintf("no NVIDIA driver: %v", first)}
	}
	var (
		cuInit             func(flags uint32) int32
		cuDriverGetVersion func(v *int32) int32
		cuDeviceGetCount   func(n *int32) int32
		cuDeviceGet        func(dev *int32, ordinal int32) int32
		cuDeviceGetName    func(name *byte, n int32, dev int32) int32
		cuDeviceTotalMem   func(bytes *uint64, dev int32) int32
		cuDeviceGetAttr    func(v *int32, attr int32, dev int32) int32
	)
	for _, f := range []struct {
		fn   any
		name string
	}{
		{&cuInit, "cuInit"}, {&cuDriverGetVersion, "cuDriverGetVersion"}, {&cuDeviceGetCount, "cuDeviceGetCount"},
		{&cuDeviceGet, "cuDeviceGet"}, {&cuDeviceGetName, "cuDeviceGetName"}, {&cuDeviceTotalMem, "cuDeviceTotalMem_v2"},
		{&cuDeviceGetAttr, "cuDeviceGetAttribute"},
	} {
		if _, err := purego.Dlsym(h, f.name); err != nil {
			return Report{Why: fmt.Sprintf("libcuda.so.1 lacks %s: %v", f.name, err)}
		}
		purego.RegisterLibFunc(f.fn, h, f.name)
	}
	var r Report
	if rc := cuInit(0); rc != cudaSuccess {
		r.Why = fmt.Sprintf("cuInit failed: %s", resultString(rc))
		return r
	}
	var v int32
	if cuDriverGetVersion(&v) == cudaSuccess {
		r.Driver = fmt.Sprintf("CUDA driver %d.%d", v/1000, v%1000/10)
	}
	var n int32
	if rc := cuDeviceGetCount(&n); rc != cudaSuccess || n == 0 {
		r.Why = fmt.Sprintf("the driver sees no device (%s)", resultString(rc))
		return r
	}
	for i := range n {
		var dev int32
		if rc := cuDeviceGet(&dev, i); rc != cudaSuccess {
			r.Why = fmt.Sprintf("cuDeviceGet(%d): %s", i, resultString(rc))
			return r
		}
		name := make([]byte, maxDeviceNameBytes)
		cuDeviceGetName(unsafe.SliceData(name), int32(len(name)), dev)
		if k := bytes.IndexByte(name, 0); k >= 0 {
			name = name[:k]
		}
		d := Device{Index: int(i), Name: string(name)}
		var major, minor int32
		cuDeviceGetAttr(&major, attrComputeCapMajor, dev)
		cuDeviceGetAttr(&minor, attrComputeCapMinor, dev)
		d.Major, d.Minor = int(major), int(minor)
		cuDeviceTotalMem(&d.TotalMemory, dev)
		r.Devices = append(r.Devices, d)
	}
	return r
}

func resultString(rc int32) string {
	switch rc {
	case cudaSuccess:
		return "CUDA_SUCCESS"
	case cudaErrorNoDevice:
		return "CUDA_ERROR_NO_DEVICE"
	case cudaErrorInsufficientD:
		return "CUDA_ERROR_INSUFFICIENT_DRIVER"
	}
	return fmt.Sprintf("CUresult %d", rc)
}
